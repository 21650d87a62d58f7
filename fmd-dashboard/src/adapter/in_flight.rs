//! A request between its start and its answer, as an adapter's response future holds it.
//!
//! [`InFlight::poll`] makes the request current around one poll of the handler and catches
//! a panic there; [`InFlight::answered`] settles its final status once the framework has
//! an answer. Dropped before that (the client went away, a timeout layer gave up), it is
//! stored as cancelled.

use super::memo::{RouteMemo, end};
use super::{Pending, settle};
use fmd_runtime::request::{self, RequestCtx};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

/// A request in flight (or a skipped one: the dashboard's own, passed through untouched,
/// or one on a route left out by `Config::ignores_route`).
pub(crate) struct InFlight {
    ctx: Option<Box<RequestCtx>>,
    done: bool,
    // A route left out: polled with nothing recorded by the code it runs either.
    ignored: bool,
    memo: Option<Arc<RouteMemo>>,
    slot: usize,
}

impl InFlight {
    /// The request `ctx` on a route with `memo`, method slot `slot`.
    pub(crate) fn new(ctx: Box<RequestCtx>, memo: Arc<RouteMemo>, slot: usize) -> Self {
        InFlight {
            ctx: Some(ctx),
            done: false,
            ignored: false,
            memo: Some(memo),
            slot,
        }
    }

    /// A request that is not recorded (the dashboard's own).
    pub(crate) fn skipped() -> Self {
        InFlight {
            ctx: None,
            done: false,
            ignored: false,
            memo: None,
            slot: 0,
        }
    }

    /// A request on a route left out: not recorded, and neither is what its handler
    /// records (`capture!`, a panic, a spawned task).
    pub(crate) fn ignored() -> Self {
        InFlight {
            ctx: None,
            done: false,
            ignored: true,
            memo: None,
            slot: 0,
        }
    }

    /// Around one poll of a skipped request: for a route left out, the guard that keeps
    /// its handler from recording.
    pub(crate) fn pass_through(&self) -> Option<request::Ignoring> {
        self.ignored.then(request::ignore)
    }

    /// Whether the request is passed through unrecorded.
    pub(crate) fn is_skipped(&self) -> bool {
        self.ctx.is_none() && !self.done
    }

    /// Runs one poll of the handler with the request current; `Err` is its panic.
    pub(crate) fn poll<T>(&mut self, poll: impl FnOnce() -> T) -> std::thread::Result<T> {
        let _entered = request::enter(&mut self.ctx);
        catch_unwind(AssertUnwindSafe(poll))
    }

    /// The request, answered with `status`, and its settled final status (see
    /// [`settle`]); `None` once taken.
    pub(crate) fn answered(&mut self, status: u16) -> Option<(Box<RequestCtx>, u16)> {
        self.done = true;
        let mut ctx = self.ctx.take()?;
        let status = settle(&mut ctx, status, self.memo.as_deref(), self.slot);
        Some((ctx, status))
    }

    /// Stores the answered request now.
    pub(crate) fn end(&self, ctx: Box<RequestCtx>, status: u16) {
        end(ctx, Some(status), false, self.memo.as_deref(), self.slot);
    }

    /// The answered request, to store when its body ends (`keep_text`: with the body's
    /// first bytes as the answer's text).
    pub(crate) fn pending(&self, ctx: Box<RequestCtx>, status: u16, keep_text: bool) -> Pending {
        Pending::new(ctx, status, keep_text, self.memo.clone(), self.slot)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if !self.done
            && let Some(ctx) = self.ctx.take()
        {
            end(ctx, None, true, self.memo.as_deref(), self.slot);
        }
    }
}
