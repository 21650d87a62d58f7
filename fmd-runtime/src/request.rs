//! The request in flight: where the framework layer and the `#[monitored]` wrapper meet.
//!
//! The layer (or, without one, the outermost `#[monitored]` function) owns a boxed
//! [`RequestCtx`] and moves it into a thread-local for the duration of each poll, so code
//! deeper in the same task (`#[monitored]`, `capture!`, the panic hook) finds it without a
//! lock. The box moves back out after the poll, also during unwinding.

use crate::clock;
use crate::event::{ErrorRecord, RequestEvent};
use crate::function::FnInfo;
use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::Arc;
use std::time::Instant;

/// Endpoint name of requests that matched no route.
pub const UNMATCHED: &str = "(unmatched)";

/// Everything known about a request while it runs.
#[derive(Debug)]
pub struct RequestCtx {
    start: Instant,
    time_ms: i64,
    /// The route template, if the framework matched one.
    pub route: Option<Arc<str>>,
    /// The HTTP method, or `CALL` for a `#[monitored]` function outside any request.
    pub method: Cow<'static, str>,
    /// The `#[monitored]` function that handled it.
    pub handler: Option<&'static FnInfo>,
    /// Client address.
    pub ip: Option<String>,
    /// The group-by value.
    pub group_by: Option<String>,
    /// Errors and panics so far.
    pub errors: Vec<ErrorRecord>,
    /// A panic happened inside the request.
    pub panicked: bool,
    /// Errors beyond [`MAX_ERRORS`].
    pub errors_dropped: u32,
}

/// Most errors recorded for one request.
pub const MAX_ERRORS: usize = 64;

thread_local! {
    static CURRENT: RefCell<Option<Box<RequestCtx>>> = const { RefCell::new(None) };
}

impl RequestCtx {
    /// A request that starts now.
    pub fn new(method: Cow<'static, str>, route: Option<Arc<str>>) -> Box<Self> {
        Box::new(RequestCtx {
            start: Instant::now(),
            time_ms: clock::now_ms(),
            route,
            method,
            handler: None,
            ip: None,
            group_by: None,
            errors: Vec::new(),
            panicked: false,
            errors_dropped: 0,
        })
    }

    /// The endpoint this request counts for.
    pub fn endpoint(&self) -> Cow<'static, str> {
        match (self.handler, &self.route) {
            (Some(h), _) => Cow::Borrowed(h.endpoint_name()),
            (None, Some(route)) => Cow::Owned(route.to_string()),
            (None, None) => Cow::Borrowed(UNMATCHED),
        }
    }

    /// Adds an error; past [`MAX_ERRORS`] per request further ones are only counted.
    pub fn push_error(&mut self, record: ErrorRecord) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(record);
        } else {
            self.errors_dropped = self.errors_dropped.saturating_add(1);
        }
    }

    /// Ends the request and builds its event. `status` is `None` for a cancelled request.
    #[allow(clippy::boxed_local)] // the request lives boxed for its whole life
    pub fn finish(self: Box<Self>, status: Option<u16>, cancelled: bool) -> RequestEvent {
        let monitor = crate::monitor();
        let endpoint = self.endpoint();
        let level = monitor.level_for(&endpoint, self.handler);
        let ctx = *self;
        let route = ctx
            .route
            .unwrap_or_else(|| Arc::from(ctx.handler.map_or(UNMATCHED, |_| "(no route)")));
        RequestEvent {
            endpoint,
            route,
            method: ctx.method,
            time_ms: ctx.time_ms,
            duration_us: ctx.start.elapsed().as_micros() as u64,
            status,
            cancelled,
            level,
            ip: ctx.ip,
            group_by: ctx.group_by,
            errors: ctx.errors,
        }
    }
}

/// Runs `f` on the current request, if there is one on this thread.
pub fn with_current<R>(f: impl FnOnce(&mut RequestCtx) -> R) -> Option<R> {
    CURRENT
        .try_with(|c| match c.try_borrow_mut() {
            Ok(mut c) => c.as_deref_mut().map(f),
            Err(_) => None,
        })
        .ok()
        .flatten()
}

/// Whether a request is in flight on this thread.
pub fn in_request() -> bool {
    with_current(|_| ()).is_some()
}

/// Keeps a request current for the duration of one poll; see [`enter`].
pub struct Entered<'a> {
    slot: &'a mut Option<Box<RequestCtx>>,
    previous: Option<Box<RequestCtx>>,
}

/// Makes the request in `slot` current until the guard drops (which moves it back).
pub fn enter(slot: &mut Option<Box<RequestCtx>>) -> Entered<'_> {
    let ctx = slot.take();
    let previous = CURRENT
        .try_with(|c| match c.try_borrow_mut() {
            Ok(mut c) => std::mem::replace(&mut *c, ctx),
            Err(_) => None,
        })
        .ok()
        .flatten();
    Entered { slot, previous }
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let ctx = CURRENT
            .try_with(|c| match c.try_borrow_mut() {
                Ok(mut c) => std::mem::replace(&mut *c, previous),
                Err(_) => None,
            })
            .ok()
            .flatten();
        *self.slot = ctx;
    }
}
