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
//!
//! Beside the frames the stack holds the *modes* of the request being polled on this thread
//! (set by [`enter`](super::ctx::enter) for the duration of one poll): whether
//! its call tree is recorded (level 3), and the moment past which it is slow (level 2). The
//! first frame to exit after that moment hands a copy of the stack to the request: the
//! logical stack at the moment the request was found slow.

use super::profile::NO_NODE;
use crate::model::function::FnInfo;
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// One activation of an annotated function.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    /// The function.
    pub info: &'static FnInfo,
    /// Unique per activation.
    pub id: u64,
    /// Its node in the request's call tree (level 3), or [`NO_NODE`].
    pub(crate) node: u32,
}

impl Frame {
    /// A frame of `info` outside any call tree.
    pub(crate) fn new(info: &'static FnInfo, id: u64) -> Self {
        Frame {
            info,
            id,
            node: NO_NODE,
        }
    }
}

/// Stack depth past which frames are no longer recorded (deep recursion stays bounded).
pub const MAX_DEPTH: usize = 4096;

/// What the request being polled on this thread asks of its frames.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Modes {
    /// Record the call tree of `#[capture]` functions.
    pub profiling: bool,
    /// Copy the stack at the first frame exit after this moment.
    pub watch: Option<Instant>,
}

struct Stack {
    frames: Vec<Frame>,
    modes: Modes,
}

thread_local! {
    static STACK: RefCell<Stack> = const {
        RefCell::new(Stack {
            frames: Vec::new(),
            modes: Modes { profiling: false, watch: None },
        })
    };
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
            let depth = s.frames.len();
            if depth < MAX_DEPTH {
                s.frames.push(frame);
            }
            depth
        }
        Err(_) => usize::MAX,
    })
}

/// Pops back to `depth` (a no-op for `usize::MAX`). The first exit after the watched
/// moment returns the stack as it was before this pop (innermost first): the logical stack
/// when the request became slow, for the caller to hand to the request.
#[inline]
#[must_use]
pub(crate) fn truncate(depth: usize) -> Option<Vec<Frame>> {
    if depth == usize::MAX {
        return None;
    }
    STACK.with(|s| {
        let Ok(mut s) = s.try_borrow_mut() else {
            return None;
        };
        let slow = match s.modes.watch {
            Some(at) if depth < s.frames.len() && Instant::now() >= at => {
                s.modes.watch = None;
                Some(s.frames.iter().rev().copied().collect::<Vec<_>>())
            }
            _ => None,
        };
        s.frames.truncate(depth);
        slow
    })
}

/// Replaces the modes of this thread; returns the previous ones.
pub(crate) fn set_modes(modes: Modes) -> Modes {
    STACK.with(|s| match s.try_borrow_mut() {
        Ok(mut s) => std::mem::replace(&mut s.modes, modes),
        Err(_) => Modes::default(),
    })
}

/// When the call tree is recorded: the node of the innermost frame, the parent of a call
/// that starts now ([`NO_NODE`] for a root). `None` when it is not recorded.
#[inline]
pub(crate) fn profiling_parent() -> Option<u32> {
    STACK.with(|s| match s.try_borrow() {
        Ok(s) if s.modes.profiling => Some(s.frames.last().map_or(NO_NODE, |f| f.node)),
        _ => None,
    })
}

/// The innermost frame and the one below it.
#[inline]
pub(crate) fn top_two() -> (Option<Frame>, Option<Frame>) {
    STACK.with(|s| match s.try_borrow() {
        Ok(s) => {
            let n = s.frames.len();
            let top = n.checked_sub(1).map(|i| s.frames[i]);
            let below = n.checked_sub(2).map(|i| s.frames[i]);
            (top, below)
        }
        Err(_) => (None, None),
    })
}

/// A copy of the logical stack, innermost frame first.
pub fn snapshot() -> Vec<Frame> {
    STACK.with(|s| match s.try_borrow() {
        Ok(s) => s.frames.iter().rev().copied().collect(),
        Err(_) => Vec::new(),
    })
}

/// Whether any annotated function is running on this thread.
pub fn is_empty() -> bool {
    STACK.with(|s| s.try_borrow().map(|s| s.frames.is_empty()).unwrap_or(true))
}
