//! The logical stack: which annotated functions the current task is inside.
//!
//! A thread-local vector of frames. A sync function pushes its frame on entry and pops it
//! when its guard drops (also while unwinding). An async function pushes its frame at the
//! start of every poll and pops it after, so between polls the stack is empty and a task
//! that resumes on another worker thread rebuilds exactly its own frames there: the stack is
//! right across `.await` on a multi-thread runtime.
//!
//! Each activation of a function gets a frame id, unique in the process, kept across polls;
//! the error return trace uses it to tell a propagating error from a new one.

use crate::function::FnInfo;
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU64, Ordering};

/// One activation of an annotated function.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    /// The function.
    pub info: &'static FnInfo,
    /// Unique per activation.
    pub id: u64,
}

/// Stack depth past which frames are no longer recorded (deep recursion stays bounded).
pub const MAX_DEPTH: usize = 4096;

thread_local! {
    static STACK: RefCell<Vec<Frame>> = const { RefCell::new(Vec::new()) };
    static NEXT_ID: Cell<u64> = const { Cell::new(0) };
}

static THREADS: AtomicU64 = AtomicU64::new(1);

/// A fresh frame id: a per-thread counter with the thread's number in the high bits.
#[inline]
pub fn next_frame_id() -> u64 {
    NEXT_ID.with(|next| {
        let mut id = next.get();
        if id == 0 {
            id = THREADS.fetch_add(1, Ordering::Relaxed) << 40;
        }
        id += 1;
        next.set(id);
        id
    })
}

/// Pushes a frame; returns the depth to truncate back to.
#[inline]
pub(crate) fn push(frame: Frame) -> usize {
    STACK.with(|s| match s.try_borrow_mut() {
        Ok(mut s) => {
            let depth = s.len();
            if depth < MAX_DEPTH {
                s.push(frame);
            }
            depth
        }
        Err(_) => usize::MAX,
    })
}

/// Pops back to `depth` (a no-op for `usize::MAX`).
#[inline]
pub(crate) fn truncate(depth: usize) {
    if depth == usize::MAX {
        return;
    }
    STACK.with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            s.truncate(depth);
        }
    });
}

/// The innermost frame and the one below it.
#[inline]
pub(crate) fn top_two() -> (Option<Frame>, Option<Frame>) {
    STACK.with(|s| match s.try_borrow() {
        Ok(s) => {
            let n = s.len();
            let top = n.checked_sub(1).map(|i| s[i]);
            let below = n.checked_sub(2).map(|i| s[i]);
            (top, below)
        }
        Err(_) => (None, None),
    })
}

/// A copy of the logical stack, innermost frame first.
pub fn snapshot() -> Vec<Frame> {
    STACK.with(|s| match s.try_borrow() {
        Ok(s) => s.iter().rev().copied().collect(),
        Err(_) => Vec::new(),
    })
}

/// Whether any annotated function is running on this thread.
pub fn is_empty() -> bool {
    STACK.with(|s| s.try_borrow().map(|s| s.is_empty()).unwrap_or(true))
}

/// Keeps a sync function's frame on the stack while it lives.
#[must_use]
pub struct SyncFrame {
    depth: usize,
}

impl SyncFrame {
    /// Pushes the frame of `info`.
    #[inline]
    pub fn enter(info: &'static FnInfo) -> Self {
        let depth = push(Frame {
            info,
            id: next_frame_id(),
        });
        SyncFrame { depth }
    }
}

impl Drop for SyncFrame {
    #[inline]
    fn drop(&mut self) {
        truncate(self.depth);
    }
}

/// Pushes a frame for the duration of one poll.
pub(crate) struct PollFrame {
    depth: usize,
}

impl PollFrame {
    #[inline]
    pub(crate) fn enter(frame: Frame) -> Self {
        PollFrame { depth: push(frame) }
    }
}

impl Drop for PollFrame {
    #[inline]
    fn drop(&mut self) {
        truncate(self.depth);
    }
}
