//! Spawned tasks: [`FutureExt::in_current_request`] carries the current request into a
//! future that runs elsewhere (a `tokio::spawn`ed task, another executor).
//!
//! The future takes with it the request's [link](crate::model::link) and the logical stack
//! at the point it was made (the spawning frames). Each poll pushes those frames under the
//! task's own and makes a context of the task's current, so `capture!`, `#[monitored]`
//! returns and the panic hook record as inside the request, with the spawning frames on
//! their traces. After each poll what the task recorded goes to the request: it joins the
//! request's record while the request runs, and is stored as a record of its own on the
//! request's endpoint, linked to the request, once it ended.
//!
//! A panic is recorded by the panic hook, then continues out of the poll unchanged (a
//! tokio task ends with its `JoinError`). Nothing of this needs a particular runtime.

use super::ctx::{self as request, RequestCtx};
use super::stack::{self, Frame};
use super::wrappers::PollFrame;
use crate::model::event::RequestLink;
use std::borrow::Cow;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Carries the current request into a future: `fut.in_current_request()`.
///
/// Brought by `use fmd::prelude::*`. `fmd::spawn(fut)` is `tokio::spawn` of it.
///
/// ```
/// use fmd_runtime::request::FutureExt;
///
/// async fn send_receipt() {}
///
/// # fn spawn(_: impl std::future::Future + Send + 'static) {}
/// // Inside a monitored handler: a panic or `capture!` in the task is recorded on the
/// // handler's request, with the handler's frame on its trace.
/// spawn(send_receipt().in_current_request());
/// ```
pub trait FutureExt: Future + Sized {
    /// Wraps `self` so that what it records counts for the request current now (if any;
    /// outside a request it runs unchanged).
    fn in_current_request(self) -> InCurrentRequest<Self> {
        InCurrentRequest::new(self)
    }
}

impl<F: Future> FutureExt for F {}

/// What a task takes from the request it was made in.
struct Carried {
    link: Arc<RequestLink>,
    /// The spawning frames, outermost first (the order they are pushed in).
    frames: Vec<Frame>,
    /// The task's context, current while it is polled; what it collects is handed on.
    ctx: Option<Box<RequestCtx>>,
}

impl Carried {
    /// The current request's, if there is one.
    fn take() -> Option<Box<Carried>> {
        let link = request::with_current(RequestCtx::link)?;
        let mut frames = stack::snapshot();
        frames.reverse();
        let mut ctx = RequestCtx::new(Cow::Borrowed("TASK"), None);
        ctx.link = Some(link.clone()); // a task it spawns in turn shares the same link
        Some(Box::new(Carried {
            link,
            frames,
            ctx: Some(ctx),
        }))
    }

    /// Hands what the task recorded in its last poll to the request.
    fn hand_on(&mut self) {
        let Some(ctx) = self.ctx.as_deref_mut() else {
            return;
        };
        if ctx.errors.is_empty() {
            return;
        }
        let records = std::mem::take(&mut ctx.errors);
        if let Some((endpoint, late)) = self.link.offer(records) {
            crate::pipeline::monitor::monitor().send_late(&self.link, endpoint, late);
        }
    }
}

pin_project_lite::pin_project! {
    /// A future carrying a request's context; see [`FutureExt::in_current_request`].
    pub struct InCurrentRequest<F> {
        #[pin]
        inner: F,
        carried: Option<Box<Carried>>,
        // Made while a route left out was polled: stays unrecorded.
        ignored: bool,
    }
}

impl<F: Future> InCurrentRequest<F> {
    /// Wraps `inner` with the request current now (none: it runs unchanged).
    pub fn new(inner: F) -> Self {
        InCurrentRequest {
            inner,
            carried: Carried::take(),
            ignored: request::ignoring(),
        }
    }
}

impl<F: Future> Future for InCurrentRequest<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _ignoring = this.ignored.then(request::ignore);
        let Some(carried) = this.carried.as_deref_mut() else {
            return this.inner.poll(cx);
        };
        let polled = {
            let _entered = request::enter(&mut carried.ctx);
            // Dropped first (reverse order): the frames go before the context does.
            let _frames: Vec<PollFrame> = carried
                .frames
                .iter()
                .map(|f| PollFrame::enter(*f))
                .collect();
            let inner = this.inner;
            catch_unwind(AssertUnwindSafe(move || inner.poll(cx)))
        };
        carried.hand_on();
        match polled {
            Ok(poll) => poll,
            // Recorded by the panic hook already; the panic goes on to the executor.
            Err(panic) => resume_unwind(panic),
        }
    }
}
