//! Level 3: the call tree of the `#[capture]` functions one request ran.
//!
//! A call opens a node under the node of the innermost frame on the logical stack (its
//! caller), so the tree follows the logical stack — right across `.await` and per task,
//! however requests interleave on the worker threads. Calls of one function under one
//! parent share a node: `calls` counts them, `total` adds their inclusive times (first poll
//! to completion for an async function). The tree lives in the request and travels with
//! it; the writer thread orders it and computes own times
//! ([`pre_order`](crate::model::call_tree::pre_order)).

use crate::model::event::{ProfileCall, ProfileEvent};
use crate::model::function::FnInfo;
use foldhash::HashMap;

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
    pub(crate) fn open(&mut self, parent: u32, info: &'static FnInfo) -> u32 {
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
    pub(crate) fn close(&mut self, node: u32, ns: u64) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::call_tree::pre_order;
    use crate::model::function::{FnKind, FnSite};

    static A: FnInfo = FnInfo::new(FnSite {
        name: "a",
        endpoint: None,
        module: "m",
        file: "f.rs",
        start_line: 1,
        end_line: 2,
        source: "",
        verbatim: true,
        code_hash: 0,
        kind: FnKind::Capture,
        crate_name: "c",
        crate_version: "1",
        manifest_dir: "",
        build_commit: "",
        method: false,
    });
    static B: FnInfo = FnInfo::new(FnSite {
        name: "b",
        endpoint: None,
        module: "m",
        file: "f.rs",
        start_line: 3,
        end_line: 4,
        source: "",
        verbatim: true,
        code_hash: 0,
        kind: FnKind::Capture,
        crate_name: "c",
        crate_version: "1",
        manifest_dir: "",
        build_commit: "",
        method: false,
    });

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
