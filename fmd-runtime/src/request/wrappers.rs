//! The wrappers the macros put around function bodies.
//!
//! - [`Framed`] / [`SyncFrame`]: keep the function's frame on
//!   the logical stack (per poll for async functions).
//! - [`Monitored`] / [`monitored_sync`]: the same, plus the handler's part of the request
//!   record: which function handled it, and the `Err` it returned. Without a framework layer
//!   around it, a `#[monitored]` function is a request of its own (e.g. a background job).

use super::ctx::{self as request, RequestCtx};
use super::error::{self, Described};
use super::profile::{CUT, NO_NODE};
use super::stack::{self, Frame};
use crate::model::event::ErrorKind;
use crate::model::function::FnInfo;
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

pin_project_lite::pin_project! {
    /// An async `#[capture]` function: its frame is on the stack while it is polled; at
    /// level 3 the call is timed from its first poll to its completion.
    pub struct Framed<F> {
        #[pin]
        inner: F,
        frame: Frame,
        started: bool,
        call: Option<Call>,
    }

    impl<F> PinnedDrop for Framed<F> {
        fn drop(this: Pin<&mut Self>) {
            // Dropped before completion (cancelled): its time so far still counts.
            if let Some(call) = this.project().call.take() {
                call.close();
            }
        }
    }
}

impl<F: Future> Framed<F> {
    /// Wraps the body of `info`.
    #[inline]
    pub fn new(info: &'static FnInfo, inner: F) -> Self {
        Framed {
            inner,
            frame: Frame::new(info, stack::next_frame_id()),
            started: false,
            call: None,
        }
    }
}

impl<F: Future> Future for Framed<F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        if !*this.started {
            *this.started = true;
            if let Some(parent) = stack::profiling_parent() {
                let call = Call::open(parent, this.frame.info);
                this.frame.node = call.node();
                *this.call = Some(call);
            }
        }
        let frame = PollFrame::enter(*this.frame);
        let out = this.inner.poll(cx);
        drop(frame);
        if out.is_ready()
            && let Some(call) = this.call.take()
        {
            call.close();
        }
        out
    }
}

/// Records the handler's share of the request when it starts; returns the request it owns
/// when there is no request in flight (it then is the request).
fn begin(info: &'static FnInfo) -> Option<Box<RequestCtx>> {
    if request::ignoring() {
        return None; // a route left out: no request of its own either
    }
    if let Some(changed) = request::with_current(|ctx| ctx.attach(info)) {
        if changed {
            request::refresh_modes(); // its level changed with the handler
        }
        return None;
    }
    let mut own = RequestCtx::new(Cow::Borrowed("CALL"), None);
    own.handler = Some(info);
    own.resolve(None);
    Some(own)
}

/// Records an `Err` the handler returned, with its error return trace.
fn record_return(frame: Frame, described: Described) {
    let (frames, omitted) = error::trace_of_return(frame);
    let record = described.into_record(ErrorKind::Uncaught, frames, omitted);
    let mut record = Some(record);
    request::with_current(|ctx| {
        if let Some(r) = record.take() {
            ctx.push_error(r);
        }
    });
}

/// Notes the type the handler `info` returned without an `Err`: a 4xx answer it made is
/// then a client error named after it (`http::status::StatusCode`).
fn note_returned<T>(info: &'static FnInfo) {
    request::with_current(|ctx| {
        if ctx.handler.is_some_and(|h| std::ptr::eq(h, info)) {
            ctx.returned = Some(std::any::type_name::<T>());
        }
    });
}

/// Ends a request the handler owned. Its status is unknown: outside a framework layer the
/// output has not become an answer yet (a handler's `Err(StatusCode::CONFLICT)` is a 409,
/// not a 500), so none is stored rather than a guess.
fn end_own(own: Box<RequestCtx>, cancelled: bool) {
    let cancelled = cancelled && !own.panicked && !std::thread::panicking();
    crate::pipeline::monitor::monitor().send_request(own.finish(None, cancelled));
}

pin_project_lite::pin_project! {
    /// An async `#[monitored]` function.
    pub struct Monitored<F, I> {
        #[pin]
        inner: F,
        frame: Frame,
        inspect: Option<I>,
        own: Option<Box<RequestCtx>>,
        state: u8, // 0 new, 1 running, 2 done
    }

    impl<F, I> PinnedDrop for Monitored<F, I> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if *this.state == 1
                && let Some(own) = this.own.take()
            {
                end_own(own, true);
            }
        }
    }
}

impl<F, I> Monitored<F, I>
where
    F: Future,
    I: FnOnce(&F::Output) -> Option<Described>,
{
    /// Wraps the body of `info`; `inspect` tells an `Err` output apart.
    #[inline]
    pub fn new(info: &'static FnInfo, inner: F, inspect: I) -> Self {
        Monitored {
            inner,
            frame: Frame::new(info, 0),
            inspect: Some(inspect),
            own: None,
            state: 0,
        }
    }
}

impl<F, I> Future for Monitored<F, I>
where
    F: Future,
    I: FnOnce(&F::Output) -> Option<Described>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        if *this.state == 0 {
            *this.state = 1;
            this.frame.id = stack::next_frame_id();
            crate::start::ensure_started();
            *this.own = begin(this.frame.info);
        }
        let entered = this.own.is_some().then(|| request::enter(this.own));
        let frame = PollFrame::enter(*this.frame);
        let out = match this.inner.poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(out) => out,
        };
        *this.state = 2;
        let described = this.inspect.take().and_then(|inspect| inspect(&out));
        match described {
            Some(described) => record_return(*this.frame, described),
            None => note_returned::<F::Output>(this.frame.info),
        }
        drop(frame);
        drop(entered);
        if let Some(own) = this.own.take() {
            end_own(own, false);
        }
        Poll::Ready(out)
    }
}

/// Owns the request of a sync `#[monitored]` function; ending it on drop covers panics.
struct Owner(Option<Box<RequestCtx>>);

impl Drop for Owner {
    fn drop(&mut self) {
        if let Some(own) = self.0.take() {
            end_own(own, false);
        }
    }
}

/// A sync `#[monitored]` function: runs `body` as the handler.
#[inline]
pub fn monitored_sync<R>(
    info: &'static FnInfo,
    body: impl FnOnce() -> R,
    inspect: impl FnOnce(&R) -> Option<Described>,
) -> R {
    crate::start::ensure_started();
    let frame = Frame::new(info, stack::next_frame_id());
    let mut owner = Owner(begin(info));
    let out = {
        let _entered = owner.0.is_some().then(|| request::enter(&mut owner.0));
        let _frame = PollFrame::enter(frame);
        let out = body();
        match inspect(&out) {
            Some(described) => record_return(frame, described),
            None => note_returned::<R>(info),
        }
        out
    };
    drop(owner);
    out
}

/// Pops a frame guard's frame; the first exit past the request's slow moment hands the
/// stack to the request.
#[inline]
fn pop(depth: usize) {
    if let Some(frames) = stack::truncate(depth) {
        request::with_current(|ctx| ctx.found_slow(frames));
    }
}

/// Keeps a sync function's frame on the stack while it lives; at level 3 it also times
/// the call for the request's call tree.
#[must_use]
pub struct SyncFrame {
    depth: usize,
    call: Option<Call>,
}

impl SyncFrame {
    /// Pushes the frame of `info`.
    #[inline]
    pub fn enter(info: &'static FnInfo) -> Self {
        let mut frame = Frame::new(info, stack::next_frame_id());
        let call = stack::profiling_parent().map(|parent| Call::open(parent, info));
        if let Some(call) = &call {
            frame.node = call.node();
        }
        SyncFrame {
            depth: stack::push(frame),
            call,
        }
    }
}

impl Drop for SyncFrame {
    #[inline]
    fn drop(&mut self) {
        pop(self.depth);
        if let Some(call) = self.call.take() {
            call.close();
        }
    }
}

/// Pushes a frame for the duration of one poll.
pub(crate) struct PollFrame {
    depth: usize,
}

impl PollFrame {
    #[inline]
    pub(crate) fn enter(frame: Frame) -> Self {
        PollFrame {
            depth: stack::push(frame),
        }
    }
}

impl Drop for PollFrame {
    #[inline]
    fn drop(&mut self) {
        pop(self.depth);
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
