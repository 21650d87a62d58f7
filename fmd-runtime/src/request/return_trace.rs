//! The error return trace: where an `Err` passed through annotated functions.
//!
//! The macros rewrite every `?`, `return Err(..)` and tail `Err(..)` in an annotated body to
//! call [`hop`]. On the `Ok` path that is one branch; on the `Err` path the site (function,
//! line, frame id) is appended to a thread-local buffer. A hop continues the current chain
//! when the previous hop was made by the frame directly called by the current one (the error
//! came up from our callee); anything else starts a new chain. So a handled error followed
//! by a different one never mixes traces, and an error crossing an `.await` stays on its task
//! (a callee's completion is observed within the caller's poll).

use super::stack;
use crate::model::function::FnInfo;
use std::cell::RefCell;
use std::ops::ControlFlow;
use std::task::Poll;

/// Longest chain kept; deeper recursion is collapsed into repeats first.
pub const MAX_HOPS: usize = 512;

/// One site an error passed through.
#[derive(Debug, Clone, Copy)]
pub struct Hop {
    /// The function the site is in.
    pub info: &'static FnInfo,
    /// The line of the `?` or `Err(..)`.
    pub line: u32,
    /// How many times in a row this same site was passed (recursion).
    pub repeat: u32,
    frame_id: u64,
    parent_id: u64,
}

#[derive(Default)]
struct Chain {
    hops: Vec<Hop>,
    omitted: u32,
}

thread_local! {
    static CHAIN: RefCell<Chain> = const { RefCell::new(Chain { hops: Vec::new(), omitted: 0 }) };
}

/// A value that `?` can short-circuit on: the standard library's `Try` types.
pub trait Hopping {
    /// Whether `?` would return early with this value.
    fn is_break(&self) -> bool;
}

impl<T, E> Hopping for Result<T, E> {
    #[inline(always)]
    fn is_break(&self) -> bool {
        self.is_err()
    }
}
impl<T> Hopping for Option<T> {
    #[inline(always)]
    fn is_break(&self) -> bool {
        false // `None` is absence, not an error
    }
}
impl<T, E> Hopping for Poll<Result<T, E>> {
    #[inline(always)]
    fn is_break(&self) -> bool {
        matches!(self, Poll::Ready(Err(_)))
    }
}
impl<T, E> Hopping for Poll<Option<Result<T, E>>> {
    #[inline(always)]
    fn is_break(&self) -> bool {
        matches!(self, Poll::Ready(Some(Err(_))))
    }
}
impl<B, C> Hopping for ControlFlow<B, C> {
    #[inline(always)]
    fn is_break(&self) -> bool {
        false
    }
}

/// Records `value` passing the site `(info, line)` if it is an error; returns it unchanged.
#[inline(always)]
pub fn hop<T: Hopping>(value: T, info: &'static FnInfo, line: u32) -> T {
    if value.is_break() {
        record(info, line);
    }
    value
}

#[cold]
#[inline(never)]
fn record(info: &'static FnInfo, line: u32) {
    let (top, below) = stack::top_two();
    let frame_id = top.map_or(0, |f| f.id);
    let parent_id = below.map_or(0, |f| f.id);
    let _ = CHAIN.try_with(|c| {
        let Ok(mut c) = c.try_borrow_mut() else {
            return;
        };
        let continues = c
            .hops
            .last()
            .is_some_and(|last| frame_id != 0 && last.parent_id == frame_id);
        if !continues {
            c.hops.clear();
            c.omitted = 0;
        }
        if let Some(last) = c.hops.last_mut()
            && std::ptr::eq(last.info, info)
            && last.line == line
        {
            last.repeat = last.repeat.saturating_add(1);
            last.frame_id = frame_id;
            last.parent_id = parent_id;
            return;
        }
        if c.hops.len() >= MAX_HOPS {
            c.omitted = c.omitted.saturating_add(1);
            if let Some(last) = c.hops.last_mut() {
                last.frame_id = frame_id;
                last.parent_id = parent_id;
            }
            return;
        }
        if c.hops.capacity() == 0 {
            c.hops.reserve(8); // most chains are short: one allocation per thread
        }
        c.hops.push(Hop {
            info,
            line,
            repeat: 1,
            frame_id,
            parent_id,
        });
    });
}

/// Hands the chain and its count of omitted hops to `f` if it belongs to the frame
/// `frame_id`: its last hop was made in that frame or in a function that frame called
/// directly. The buffer is emptied either way; it keeps its capacity for the next error.
pub(crate) fn take_for<R>(frame_id: u64, f: impl FnOnce(&[Hop], u32) -> R) -> Option<R> {
    CHAIN
        .try_with(|c| {
            let mut c = c.try_borrow_mut().ok()?;
            let last = *c.hops.last()?;
            let omitted = std::mem::replace(&mut c.omitted, 0);
            let ours = frame_id != 0 && (last.frame_id == frame_id || last.parent_id == frame_id);
            let out = ours.then(|| f(&c.hops, omitted));
            c.hops.clear();
            out
        })
        .ok()
        .flatten()
}

/// Whether the chain's last hop was made in `frame_id` itself.
pub(crate) fn ends_in(hops: &[Hop], frame_id: u64) -> bool {
    hops.last().is_some_and(|h| h.frame_id == frame_id)
}
