//! A stored call tree (level 3) in the order the engines write and the pages read it.

use super::event::ProfileEvent;

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
