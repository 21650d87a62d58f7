//! The error return trace: where an `Err` passed through annotated functions.
//!
//! The macros rewrite every `?`, `return Err(..)` and tail `Err(..)` in an annotated body to
//! call one of three hops. On the `Ok` path that is one branch; on the `Err` path the site
//! (function, line, frame id, a process-wide sequence number) is appended to a thread-local
//! buffer. Whether the site continues the current chain or starts a new one depends on where
//! the error came from, as far as the code tells:
//!
//! - [`hop_try`] (`expr?`): the error came out of `expr`. It continues the chain only if the
//!   chain's last hop was made by a function this frame called directly *while `expr` was
//!   evaluated* (its sequence number is past the [`mark`] taken just before): `f()?` and
//!   `f().map_err(..)?` continue `f`'s chain; a `?` after `let _ = f();` does not.
//! - [`hop`] (`return Err(e)`, tail `Err(e)` of a variable): the value may be what a callee
//!   returned; it continues a chain last extended by a direct callee.
//! - [`hop_new`] (`Err(AppError(..))`, any other constructed value): a new error, a new chain.
//!
//! So an ignored or replaced error never lends its frames to the next one, and an error
//! crossing an `.await` stays on its task (a callee's completion is observed within the
//! caller's poll).

use super::stack;
use crate::model::function::FnInfo;
use std::cell::RefCell;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;

/// Numbers every recorded hop, process-wide: a hop made while an expression was evaluated
/// has a number past the [`mark`] taken before it, on whichever thread it ran.
static SEQ: AtomicU64 = AtomicU64::new(0);

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
    seq: u64,
}

/// How a new hop relates to the chain so far.
#[derive(Debug, Clone, Copy)]
enum Link {
    /// `expr?`: continue only hops a direct callee made after the mark.
    Since(u64),
    /// `return Err(e)`: continue a direct callee's chain.
    Callee,
    /// A constructed error: start a new chain.
    New,
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
#[diagnostic::on_unimplemented(
    message = "fmd cannot follow `{Self}` through `?` or `Err(..)` in a #[monitored] or #[capture] function",
    note = "fmd records the sites of `Result`, `Option`, `Poll` and `ControlFlow` values; \
            move this code into a function without the attribute"
)]
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

/// The sequence number now: taken just before the operand of a `?` is evaluated.
#[inline(always)]
pub fn mark() -> u64 {
    SEQ.load(Ordering::Relaxed)
}

/// `expr?`: records `value` passing the site `(info, line)` if it is an error, continuing
/// only a chain that `expr` itself extended (since `mark`); returns it unchanged.
#[inline(always)]
pub fn hop_try<T: Hopping>(mark: u64, value: T, info: &'static FnInfo, line: u32) -> T {
    if value.is_break() {
        record(info, line, Link::Since(mark));
    }
    value
}

/// `return Err(e)` / tail `Err(e)` of a value that may have come from a callee: records the
/// site if it is an error, continuing a direct callee's chain; returns it unchanged.
#[inline(always)]
pub fn hop<T: Hopping>(value: T, info: &'static FnInfo, line: u32) -> T {
    if value.is_break() {
        record(info, line, Link::Callee);
    }
    value
}

/// `Err(<a new value>)`: records the site of a new error, starting a new chain.
#[inline(always)]
pub fn hop_new<T: Hopping>(value: T, info: &'static FnInfo, line: u32) -> T {
    if value.is_break() {
        record(info, line, Link::New);
    }
    value
}

#[cold]
#[inline(never)]
fn record(info: &'static FnInfo, line: u32, link: Link) {
    let (top, below) = stack::top_two();
    let frame_id = top.map_or(0, |f| f.id);
    let parent_id = below.map_or(0, |f| f.id);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed) + 1;
    let _ = CHAIN.try_with(|c| {
        let Ok(mut c) = c.try_borrow_mut() else {
            return;
        };
        let continues = c.hops.last().is_some_and(|last| {
            let from_callee = frame_id != 0 && last.parent_id == frame_id;
            match link {
                Link::Since(mark) => from_callee && last.seq > mark,
                Link::Callee => from_callee,
                Link::New => false,
            }
        });
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
            last.seq = seq;
            return;
        }
        if c.hops.len() >= MAX_HOPS {
            c.omitted = c.omitted.saturating_add(1);
            if let Some(last) = c.hops.last_mut() {
                last.frame_id = frame_id;
                last.parent_id = parent_id;
                last.seq = seq;
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
            seq,
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

/// Like [`take_for`], but leaves the chain in place: `capture!(e)` records the chain and
/// the same error may still be returned (`capture!(e); return Err(e)`).
pub(crate) fn peek_for<R>(frame_id: u64, f: impl FnOnce(&[Hop], u32) -> R) -> Option<R> {
    CHAIN
        .try_with(|c| {
            let c = c.try_borrow().ok()?;
            let last = *c.hops.last()?;
            let ours = frame_id != 0 && (last.frame_id == frame_id || last.parent_id == frame_id);
            ours.then(|| f(&c.hops, c.omitted))
        })
        .ok()
        .flatten()
}

/// Whether the chain's last hop was made in `frame_id` itself.
pub(crate) fn ends_in(hops: &[Hop], frame_id: u64) -> bool {
    hops.last().is_some_and(|h| h.frame_id == frame_id)
}
