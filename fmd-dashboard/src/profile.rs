//! The grouped profiler: call trees of many requests merged by function path.
//!
//! A path is the chain of functions from a root of the call tree down to a node. For each
//! path over the profiled requests: in how many requests it ran (hits), its calls, the mean
//! and standard deviation of its inclusive time per request, its total, and its share of
//! the time those requests took.

use std::collections::HashMap;

use statrs::statistics::Statistics;

use fmd_runtime::store::read::ProfiledRequest;

/// One function path over the profiled requests.
#[derive(Debug, Clone, PartialEq)]
pub struct PathStats {
    /// `function_location.id` from the root down to this function.
    pub path: Vec<i64>,
    /// Module of the function.
    pub module: String,
    /// Function name.
    pub name: String,
    /// Index of the parent path in [`GroupedProfile::paths`]; `None` for a root.
    pub parent: Option<usize>,
    /// Requests in which the path ran.
    pub hits: u64,
    /// Calls over all those requests.
    pub calls: u64,
    /// Mean inclusive time per request that ran it (µs).
    pub mean_us: f64,
    /// Sample standard deviation of that time (µs); 0 for a single hit.
    pub std_us: f64,
    /// Sum of its inclusive times (µs).
    pub total_us: i64,
    /// `total_us` over the summed durations of the profiled requests, 0–1.
    pub share: f64,
}

impl PathStats {
    /// Depth in the tree, 0 for a root.
    pub fn depth(&self) -> usize {
        self.path.len().saturating_sub(1)
    }

    /// `module::name`.
    pub fn qualified(&self) -> String {
        if self.module.is_empty() {
            self.name.clone()
        } else {
            format!("{}::{}", self.module, self.name)
        }
    }
}

/// The merged tree: paths in pre-order, siblings by total time, largest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupedProfile {
    /// Requests merged.
    pub requests: usize,
    /// Sum of their durations (µs): the endpoint's time the shares refer to.
    pub request_us: i64,
    /// The paths.
    pub paths: Vec<PathStats>,
}

#[derive(Default)]
struct Acc {
    module: String,
    name: String,
    per_request: Vec<f64>,
    calls: u64,
}

/// Merges the call trees of `requests`.
pub fn group(requests: &[ProfiledRequest]) -> GroupedProfile {
    let mut acc: HashMap<Vec<i64>, Acc> = HashMap::new();
    for r in requests {
        let mut paths: HashMap<u32, Vec<i64>> = HashMap::new();
        let mut this_request: HashMap<Vec<i64>, f64> = HashMap::new();
        for n in &r.nodes {
            let mut path = n
                .parent
                .and_then(|p| paths.get(&p).cloned())
                .unwrap_or_default();
            path.push(n.location_id);
            paths.insert(n.position, path.clone());
            *this_request.entry(path.clone()).or_default() += n.total_us as f64;
            let a = acc.entry(path).or_default();
            a.calls += n.calls;
            if a.name.is_empty() {
                a.module.clone_from(&n.module);
                a.name.clone_from(&n.name);
            }
        }
        for (path, us) in this_request {
            if let Some(a) = acc.get_mut(&path) {
                a.per_request.push(us);
            }
        }
    }
    let request_us: i64 = requests.iter().map(|r| r.duration_us).sum();
    let mut children: HashMap<Vec<i64>, Vec<Vec<i64>>> = HashMap::new();
    for path in acc.keys() {
        children
            .entry(path[..path.len() - 1].to_vec())
            .or_default()
            .push(path.clone());
    }
    let total = |a: &Acc| a.per_request.iter().sum::<f64>();
    for list in children.values_mut() {
        list.sort_by(|x, y| {
            total(&acc[y])
                .total_cmp(&total(&acc[x]))
                .then_with(|| x.cmp(y))
        });
    }
    let mut paths = Vec::with_capacity(acc.len());
    let mut stack: Vec<(Vec<i64>, Option<usize>)> = children
        .get(&Vec::new())
        .map(|roots| roots.iter().rev().map(|p| (p.clone(), None)).collect())
        .unwrap_or_default();
    while let Some((path, parent)) = stack.pop() {
        let a = &acc[&path];
        let sum = total(a);
        let std = if a.per_request.len() > 1 {
            a.per_request.iter().std_dev()
        } else {
            0.0
        };
        let index = paths.len();
        paths.push(PathStats {
            module: a.module.clone(),
            name: a.name.clone(),
            parent,
            hits: a.per_request.len() as u64,
            calls: a.calls,
            mean_us: a.per_request.iter().mean(),
            std_us: std,
            total_us: sum.round() as i64,
            share: if request_us > 0 {
                sum / request_us as f64
            } else {
                0.0
            },
            path: path.clone(),
        });
        if let Some(kids) = children.get(&path) {
            stack.extend(kids.iter().rev().map(|k| (k.clone(), Some(index))));
        }
    }
    GroupedProfile {
        requests: requests.len(),
        request_us,
        paths,
    }
}
