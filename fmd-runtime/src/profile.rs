//! Level 3: the call tree of the `#[capture]` functions one request ran.
//!
//! A call opens a node under the node of the innermost frame on the logical stack (its
//! caller), so the tree follows the logical stack — right across `.await` and per task,
//! however requests interleave on the worker threads. Calls of one function under one
//! parent share a node: `calls` counts them, `total` adds their inclusive times (first poll
//! to completion for an async function). The tree lives in the request and travels with
//! it; the writer thread orders it and computes own times ([`pre_order`]).

use crate::event::{ProfileCall, ProfileEvent};
use crate::function::FnInfo;
use crate::request;
use foldhash::HashMap;
use std::time::Instant;

/// Node id of a frame that is not in a call tree; as a parent: "a root".
pub const NO_NODE: u32 = u32::MAX;
/// Node id of a call left out because the tree is full.
pub const CUT: u32 = u32::MAX - 1;
/// Most nodes in one request's tree; further calls are counted in [`ProfileEvent::cut`].
pub const MAX_NODES: usize = 1000;

struct Node {
    parent: u32,
    info: &'static FnInfo,
    calls: u32,
    total_ns: u64,
}

/// The call tree of one request while it runs.
#[derive(Default)]
pub struct Profile {
    nodes: Vec<Node>,
    index: HashMap<(u32, usize), u32>,
    cut: u32,
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("nodes", &self.nodes.len())
            .field("cut", &self.cut)
            .finish()
    }
}

impl Profile {
    /// Counts a call of `info` under `parent`; returns its node (or [`CUT`]).
    fn open(&mut self, parent: u32, info: &'static FnInfo) -> u32 {
        if parent == CUT {
            self.cut = self.cut.saturating_add(1);
            return CUT;
        }
        let key = (parent, info as *const FnInfo as usize);
        if let Some(&node) = self.index.get(&key) {
            let n = &mut self.nodes[node as usize];
            n.calls = n.calls.saturating_add(1);
            return node;
        }
        if self.nodes.len() >= MAX_NODES {
            self.cut = self.cut.saturating_add(1);
            return CUT;
        }
        let node = self.nodes.len() as u32;
        self.nodes.push(Node {
            parent,
            info,
            calls: 1,
            total_ns: 0,
        });
        self.index.insert(key, node);
        node
    }

    /// Adds the inclusive time of one call of `node`.
    fn close(&mut self, node: u32, ns: u64) {
        if let Some(n) = self.nodes.get_mut(node as usize) {
            n.total_ns = n.total_ns.saturating_add(ns);
        }
    }

    /// The tree as sent to the writer: nodes in the order they were first called (a
    /// parent always before its children).
    pub(crate) fn into_event(self) -> ProfileEvent {
        ProfileEvent {
            calls: self
                .nodes
                .into_iter()
                .map(|n| ProfileCall {
                    parent: (n.parent != NO_NODE).then_some(n.parent),
                    info: n.info,
                    calls: n.calls,
                    total_us: n.total_ns / 1000,
                })
                .collect(),
            cut: self.cut,
        }
    }
}

/// One call being timed for the current request's tree.
pub(crate) struct Call {
    node: u32,
    start: Instant,
}

impl Call {
    /// Opens a call of `info` under `parent` in the current request's tree.
    pub(crate) fn open(parent: u32, info: &'static FnInfo) -> Call {
        let node = request::with_current(|ctx| ctx.profile.as_mut().map(|p| p.open(parent, info)))
            .flatten()
            .unwrap_or(NO_NODE);
        Call {
            node,
            start: Instant::now(),
        }
    }

    /// The node of this call, for its frame.
    pub(crate) fn node(&self) -> u32 {
        self.node
    }

    /// Adds the time since the call opened to its node.
    pub(crate) fn close(self) {
        if self.node >= CUT {
            return;
        }
        let ns = self.start.elapsed().as_nanos().min(u128::from(u64::MAX)) as u64;
        request::with_current(|ctx| {
            if let Some(p) = ctx.profile.as_mut() {
                p.close(self.node, ns);
            }
        });
    }
}

/// One node of a stored call tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeNode {
    /// Pre-order index, 0 = the first root.
    pub position: u32,
    /// Position of the parent, `None` for a root.
    pub parent: Option<u32>,
    /// 0 for a root.
    pub depth: u32,
    /// Index of the call in [`ProfileEvent::calls`].
    pub call: usize,
    /// Inclusive time (µs).
    pub total_us: u64,
    /// Own time: inclusive minus the children's inclusive times, at least 0 (µs).
    pub self_us: u64,
}

/// The tree in pre-order (each node before its children, siblings in call order), with
/// depths and own times.
pub fn pre_order(event: &ProfileEvent) -> Vec<TreeNode> {
    let n = event.calls.len();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut roots = Vec::new();
    let mut child_total = vec![0u64; n];
    for (i, call) in event.calls.iter().enumerate() {
        match call.parent.map(|p| p as usize).filter(|&p| p < i) {
            Some(p) => {
                children[p].push(i);
                child_total[p] = child_total[p].saturating_add(call.total_us);
            }
            None => roots.push(i),
        }
    }
    let mut out = Vec::with_capacity(n);
    // (call, parent position, depth); reversed so that the first sibling comes out first.
    let mut todo: Vec<(usize, Option<u32>, u32)> =
        roots.iter().rev().map(|&r| (r, None, 0)).collect();
    while let Some((call, parent, depth)) = todo.pop() {
        let position = out.len() as u32;
        let total = event.calls[call].total_us;
        out.push(TreeNode {
            position,
            parent,
            depth,
            call,
            total_us: total,
            self_us: total.saturating_sub(child_total[call]),
        });
        todo.extend(
            children[call]
                .iter()
                .rev()
                .map(|&c| (c, Some(position), depth + 1)),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::function::FnKind;

    static A: FnInfo = FnInfo::new(
        "a",
        None,
        "m",
        "f.rs",
        (1, 2),
        "",
        true,
        0,
        FnKind::Capture,
        ("c", "1"),
        ("", ""),
    );
    static B: FnInfo = FnInfo::new(
        "b",
        None,
        "m",
        "f.rs",
        (3, 4),
        "",
        true,
        0,
        FnKind::Capture,
        ("c", "1"),
        ("", ""),
    );

    #[test]
    fn calls_merge_per_parent_and_function() {
        let mut p = Profile::default();
        let a = p.open(NO_NODE, &A);
        let b1 = p.open(a, &B);
        let b2 = p.open(a, &B);
        let top_b = p.open(NO_NODE, &B);
        assert_eq!(b1, b2);
        assert_ne!(b1, top_b);
        p.close(a, 10_000);
        p.close(b1, 3_000);
        p.close(b2, 4_000);
        let e = p.into_event();
        assert_eq!(e.calls.len(), 3);
        assert_eq!((e.calls[1].calls, e.calls[1].total_us), (2, 7));
        let tree = pre_order(&e);
        let shape: Vec<_> = tree
            .iter()
            .map(|n| (n.position, n.parent, n.depth, n.total_us, n.self_us))
            .collect();
        assert_eq!(
            shape,
            [
                (0, None, 0, 10, 3),
                (1, Some(0), 1, 7, 7),
                (2, None, 0, 0, 0)
            ]
        );
    }

    #[test]
    fn own_time_never_negative_and_tree_is_bounded() {
        let mut p = Profile::default();
        let a = p.open(NO_NODE, &A);
        let b = p.open(a, &B);
        p.close(a, 1_000);
        p.close(b, 5_000); // concurrent children can add up to more than the parent
        assert_eq!(pre_order(&p.into_event())[0].self_us, 0);

        let mut p = Profile::default();
        let mut parent = NO_NODE;
        for i in 0..MAX_NODES + 5 {
            parent = p.open(parent, if i % 2 == 0 { &A } else { &B });
        }
        let e = p.into_event();
        assert_eq!((e.calls.len(), e.cut), (MAX_NODES, 5));
    }
}
