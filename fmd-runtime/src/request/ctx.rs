//! The request in flight: where the framework layer and the `#[monitored]` wrapper meet.
//!
//! The layer (or, without one, the outermost `#[monitored]` function) owns a boxed
//! [`RequestCtx`] and moves it into a thread-local for the duration of each poll, so code
//! deeper in the same task (`#[monitored]`, `capture!`, the panic hook) finds it without a
//! lock. The box moves back out after the poll, also during unwinding.
//!
//! What a request collects follows its endpoint's level, decided by [`RequestCtx::resolve`]
//! when it starts and again once its handler is known: level 2 keeps the URI and headers
//! (scrubbed only if the request turns out slow) and watches for the moment it becomes
//! slow; level 3 records the call tree of its `#[capture]` functions.

use super::outlier;
use super::profile::Profile;
use super::stack::{self, Frame, Modes};
use crate::clock;
use crate::model::event::RequestLink;
use crate::model::event::{ErrorKind, ErrorRecord, RequestEvent, TraceFrame, UNMATCHED, twin_name};
use crate::model::function::FnInfo;
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

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
    /// The level decided by [`RequestCtx::resolve`].
    level: u8,
    /// The type the handler returned, when it returned (for a 4xx answer that was no `Err`).
    pub(crate) returned: Option<&'static str>,
    /// The body of a 4xx answer when it is short text (a rejection's reason), set by the
    /// framework layer; at most [`MAX_ANSWER`] bytes are kept.
    pub answer: Option<String>,
    /// The handler the level was decided for.
    resolved_for: Option<&'static FnInfo>,
    /// Level 2: the endpoint's typical duration and the threshold derived from it.
    typical_us: Option<u64>,
    threshold_us: u64,
    /// Level 2: URI and headers, scrubbed only if the request is an outlier.
    http: Option<Box<(http::Uri, http::HeaderMap)>>,
    /// Level 2: the logical stack when the request was found slow.
    slow_stack: Option<Vec<Frame>>,
    /// Level 3: the call tree.
    pub(crate) profile: Option<Box<Profile>>,
    /// Shared with the tasks that carry this request's context (`in_current_request`).
    pub(crate) link: Option<Arc<RequestLink>>,
    /// Counted, while no handler is known, for its route's per-method twin
    /// ([`twin_name`]) rather than for the route (see [`as_twin`](Self::as_twin)).
    twin: bool,
}

/// Most errors recorded for one request.
pub const MAX_ERRORS: usize = 64;

thread_local! {
    static CURRENT: RefCell<Option<Box<RequestCtx>>> = const { RefCell::new(None) };
    static IGNORING: Cell<bool> = const { Cell::new(false) };
    /// The box of the last request finished on this thread, emptied, for the next one:
    /// a request's context costs no allocation once a thread has served one.
    static SPARE: Cell<Option<Box<RequestCtx>>> = const { Cell::new(None) };
}

/// Keeps what runs on this thread unrecorded until it drops; see [`ignore`].
pub struct Ignoring {
    previous: bool,
}

/// Leaves what is polled until the guard drops unrecorded: a request on a route the
/// configuration leaves out ([`Config::ignores_route`](crate::Config::ignores_route)).
/// Its `#[monitored]` handler makes no request of its own, and its `capture!` and panics
/// are not queued.
pub fn ignore() -> Ignoring {
    let previous = IGNORING.try_with(|i| i.replace(true)).unwrap_or(false);
    Ignoring { previous }
}

impl Drop for Ignoring {
    fn drop(&mut self) {
        let _ = IGNORING.try_with(|i| i.set(self.previous));
    }
}

/// Whether a left-out request is being polled on this thread.
pub(crate) fn ignoring() -> bool {
    IGNORING.try_with(Cell::get).unwrap_or(false)
}

impl RequestCtx {
    /// A request that starts now. Call [`resolve`](Self::resolve) to apply its level.
    pub fn new(method: Cow<'static, str>, route: Option<Arc<str>>) -> Box<Self> {
        let start = Instant::now();
        let time_ms = clock::now_ms();
        if let Some(mut spare) = SPARE.try_with(Cell::take).ok().flatten() {
            spare.reuse(start, time_ms, method, route);
            return spare;
        }
        Box::new(RequestCtx {
            start,
            time_ms,
            route,
            method,
            handler: None,
            ip: None,
            group_by: None,
            errors: Vec::new(),
            panicked: false,
            errors_dropped: 0,
            level: 1,
            returned: None,
            answer: None,
            resolved_for: None,
            typical_us: None,
            threshold_us: 0,
            http: None,
            slow_stack: None,
            profile: None,
            link: None,
            twin: false,
        })
    }

    /// Makes a recycled box (see [`recycle`](Self::recycle)) the context of a request
    /// that starts now, field by field in place, as [`new`](Self::new) makes a fresh one.
    fn reuse(
        &mut self,
        start: Instant,
        time_ms: i64,
        method: Cow<'static, str>,
        route: Option<Arc<str>>,
    ) {
        // Every field named, so that a new one is decided here too.
        let RequestCtx {
            start: at,
            time_ms: wall,
            route: template,
            method: verb,
            handler,
            ip,
            group_by,
            errors,
            panicked,
            errors_dropped,
            level,
            returned,
            answer,
            resolved_for,
            typical_us,
            threshold_us,
            http,
            slow_stack,
            profile,
            link,
            twin,
        } = self;
        *at = start;
        *wall = time_ms;
        *template = route;
        *verb = method;
        *handler = None;
        *ip = None;
        *group_by = None;
        errors.clear();
        *panicked = false;
        *errors_dropped = 0;
        *level = 1;
        *returned = None;
        *answer = None;
        *resolved_for = None;
        *typical_us = None;
        *threshold_us = 0;
        *http = None;
        *slow_stack = None;
        *profile = None;
        *link = None;
        *twin = false;
    }

    /// The handler this request counts for: the one that ran, or the one expected for its
    /// route when none ran (an extractor rejected the request before it).
    fn counted_handler(&self) -> Option<&'static FnInfo> {
        self.handler.or(self.resolved_for)
    }

    /// Makes the request count for `info` when no handler ran (a rejection the framework
    /// answered before calling it): its endpoint and level become that handler's.
    pub fn stand_in(&mut self, info: &'static FnInfo) {
        if self.handler.is_none() {
            self.resolve(Some(info));
        }
    }

    /// Makes a request no handler saw, on a route whose handler for its method is not
    /// known yet (a rejection before the handler first ran), count for the route's
    /// per-method twin ([`twin_name`]): the writer moves it into the right handler's
    /// endpoint once it learns which handler serves the method, even when another method
    /// of the route has a handler of its own.
    pub fn as_twin(&mut self) {
        self.twin = true;
    }

    /// The endpoint this request counts for.
    pub fn endpoint(&self) -> Cow<'static, str> {
        match (self.counted_handler(), &self.route) {
            (Some(h), _) => Cow::Borrowed(h.endpoint_name()),
            (None, Some(route)) if self.twin => Cow::Owned(twin_name(&self.method, route)),
            (None, Some(route)) => Cow::Owned(route.to_string()),
            (None, None) => Cow::Borrowed(UNMATCHED),
        }
    }

    /// The endpoint's name, borrowed; `handler` stands in for an unknown handler.
    fn endpoint_name<'a>(&'a self, handler: Option<&'a FnInfo>) -> &'a str {
        match (handler, &self.route) {
            (Some(h), _) => h.endpoint_name(),
            (None, Some(route)) => route,
            (None, None) => UNMATCHED,
        }
    }

    /// Decides what the request collects from its endpoint's level and returns the level.
    /// `hint` is the handler expected for this route when it is not known yet (the layer
    /// remembers it per route). Cheap at levels 0 and 1.
    pub fn resolve(&mut self, hint: Option<&'static FnInfo>) -> u8 {
        let handler = self.handler.or(hint);
        self.resolved_for = handler;
        let monitor = crate::pipeline::monitor::monitor();
        let endpoint = self.endpoint_name(handler);
        let level = monitor.level_for(endpoint, handler);
        let typical = if level >= 2 {
            monitor.typical_us(endpoint)
        } else {
            None
        };
        if let Some(typical) = typical {
            self.threshold_us = outlier::threshold_us(typical, monitor.config().outlier_factor);
        }
        self.typical_us = typical;
        match (level >= 3, &self.profile) {
            (true, None) => self.profile = Some(Box::default()),
            (false, Some(_)) => self.profile = None,
            _ => {}
        }
        self.level = level;
        level
    }

    /// Keeps the URI and headers when the request's level is 2 or more (a no-op below).
    pub fn keep_http(&mut self, uri: &http::Uri, headers: &http::HeaderMap) {
        if self.level >= 2 {
            self.http = Some(Box::new((uri.clone(), headers.clone())));
        }
    }

    /// Records the handler (the first `#[monitored]` function that runs) and applies its
    /// level if it differs from the one guessed at the start. Returns whether it did
    /// (the request's modes may have changed).
    pub(crate) fn attach(&mut self, info: &'static FnInfo) -> bool {
        if self.handler.is_some() {
            return false;
        }
        self.handler = Some(info);
        if self.resolved_for.is_some_and(|r| std::ptr::eq(r, info)) {
            return false;
        }
        self.resolve(None);
        true
    }

    /// What the frames of this request are asked to do while it is polled.
    fn modes(&self) -> Modes {
        let watch = match (self.typical_us, &self.slow_stack) {
            (Some(_), None) => Some(self.start + Duration::from_micros(self.threshold_us)),
            _ => None,
        };
        Modes {
            profiling: self.profile.is_some(),
            watch,
        }
    }

    /// The stack when the request became slow (the first frame exit past the threshold).
    pub(crate) fn found_slow(&mut self, frames: Vec<Frame>) {
        if self.slow_stack.is_none() {
            self.slow_stack = Some(frames);
        }
    }

    /// The link its tasks share with it, made on first use.
    pub(crate) fn link(&mut self) -> Arc<RequestLink> {
        self.link.get_or_insert_with(Arc::default).clone()
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
    /// The level is the one [`resolve`](Self::resolve) decided (for the handler it counts
    /// for), read once when the request started or its handler became known. The emptied
    /// box is kept for this thread's next request.
    pub fn finish(mut self: Box<Self>, status: Option<u16>, cancelled: bool) -> RequestEvent {
        let duration_us = self.start.elapsed().as_micros() as u64;
        let monitor = crate::pipeline::monitor::monitor();
        let counted = self.counted_handler();
        let level = self.level;
        let endpoint = self.endpoint();
        let ctx = &mut *self;
        if let Some(link) = &ctx.link {
            // What its tasks recorded while it ran joins it.
            for record in link.close(endpoint.clone()) {
                ctx.push_error(record);
            }
        }
        if let Some(code @ 400..=499) = status {
            // The handler's outcome became the client's 4xx: a client error, or nothing.
            let keep = monitor.config().client_errors;
            ctx.errors.retain_mut(|e| {
                if e.kind == ErrorKind::Uncaught {
                    e.kind = ErrorKind::Client;
                    keep
                } else {
                    true
                }
            });
            let recorded = ctx.errors.iter().any(|e| e.kind == ErrorKind::Client);
            // A bare 4xx, a rejection or a layer's answer on a route: the same client error
            // an `Err` would have been. Unmatched paths (scanners' 404s) are not.
            if keep && !recorded && ctx.route.is_some() {
                let record = client_answer(ctx, counted, code);
                ctx.push_error(record);
            }
        }
        let outlier = match ctx.typical_us {
            Some(typical) if level >= 2 && duration_us > ctx.threshold_us => {
                let stack = ctx.slow_stack.take().unwrap_or_else(stack::snapshot);
                let http = ctx.http.as_deref().map(|(uri, headers)| (uri, headers));
                let event = outlier::event(http, typical, ctx.threshold_us, &stack);
                Some(Box::new(event))
            }
            _ => None,
        };
        let profile = match ctx.profile.take() {
            Some(p) if level >= 3 => Some(Box::new(p.into_event())),
            _ => None,
        };
        let route = ctx
            .route
            .take()
            .unwrap_or_else(|| fallback_route(ctx.handler.is_some()));
        let event = RequestEvent {
            endpoint,
            route,
            method: std::mem::replace(&mut ctx.method, Cow::Borrowed("")),
            time_ms: ctx.time_ms,
            duration_us,
            status,
            cancelled,
            level,
            ip: ctx.ip.take(),
            group_by: ctx.group_by.take(),
            errors: std::mem::take(&mut ctx.errors),
            outlier,
            profile,
            link: ctx.link.take(),
        };
        ctx.recycle();
        let _ = SPARE.try_with(|spare| spare.set(Some(self)));
        event
    }

    /// Lets go of what the request still holds (what [`finish`](Self::finish) did not
    /// move into its event), so its box can wait for the next request holding nothing.
    fn recycle(&mut self) {
        self.answer = None;
        self.http = None;
        self.slow_stack = None;
    }
}

/// Most bytes of a 4xx answer's body kept as its client error's message.
pub const MAX_ANSWER: usize = 1024;

/// The client error of a 4xx answer that was no `Err`: named after the type the handler
/// returned (`http::status::StatusCode`), or after who answered when it returned nothing;
/// its message is the answer's text, or the status line (`404 Not Found`).
fn client_answer(ctx: &RequestCtx, handler: Option<&'static FnInfo>, code: u16) -> ErrorRecord {
    let type_name = match (ctx.returned, ctx.handler) {
        (Some(returned), _) => returned,
        (None, Some(_)) => "(answered by a layer)",
        (None, None) => "(rejected before the handler)",
    };
    let message = match ctx.answer.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => super::error::cap_message(text),
        _ => http::StatusCode::from_u16(code)
            .map(|s| s.to_string())
            .unwrap_or_else(|_| code.to_string()),
    };
    let frames = handler
        .map(|info| TraceFrame::App {
            info,
            line: 0,
            repeat: 1,
        })
        .into_iter()
        .collect();
    ErrorRecord {
        kind: ErrorKind::Client,
        type_name: Cow::Borrowed(type_name),
        message,
        sources: Vec::new(),
        frames,
        omitted_frames: 0,
        time_ms: clock::now_ms(),
        native: None,
    }
}

/// The route of a request without a route template: `(no route)` for a `#[monitored]`
/// function called outside a framework, [`UNMATCHED`] otherwise. Shared, not allocated per
/// request.
fn fallback_route(handled: bool) -> Arc<str> {
    static NO_ROUTE: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from("(no route)"));
    static NO_MATCH: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from(UNMATCHED));
    let shared: &Arc<str> = if handled { &NO_ROUTE } else { &NO_MATCH };
    shared.clone()
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

/// Re-applies the current request's modes to this thread's frames (after its level
/// changed inside a poll).
pub(crate) fn refresh_modes() {
    if let Some(modes) = with_current(|ctx| ctx.modes()) {
        stack::set_modes(modes);
    }
}

/// Keeps a request current for the duration of one poll; see [`enter`].
pub struct Entered<'a> {
    slot: &'a mut Option<Box<RequestCtx>>,
    previous: Option<Box<RequestCtx>>,
    previous_modes: Modes,
}

/// Makes the request in `slot` current until the guard drops (which moves it back).
pub fn enter(slot: &mut Option<Box<RequestCtx>>) -> Entered<'_> {
    let ctx = slot.take();
    let modes = ctx.as_deref().map(RequestCtx::modes).unwrap_or_default();
    let previous_modes = stack::set_modes(modes);
    let previous = CURRENT
        .try_with(|c| match c.try_borrow_mut() {
            Ok(mut c) => std::mem::replace(&mut *c, ctx),
            Err(_) => None,
        })
        .ok()
        .flatten();
    Entered {
        slot,
        previous,
        previous_modes,
    }
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
        stack::set_modes(self.previous_modes);
        *self.slot = ctx;
    }
}
