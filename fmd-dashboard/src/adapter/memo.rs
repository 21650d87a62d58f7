//! What a route's services remember of its handlers, and storing a finished request.
//!
//! The handler behind a route is only known once it runs. Each route's service remembers,
//! per method, the handler it saw ([`RouteMemo`]); a process-wide table ([`seen_handler`])
//! serves the route's other services (axum gives each method, and the 405 answer, one of
//! its own; actix one per worker). [`end`] stores a request and teaches both.

use fmd_runtime::FnInfo;
use fmd_runtime::request::RequestCtx;
use once_cell::sync::{Lazy, OnceCell};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::Arc;

/// What a route's service remembers across requests.
#[derive(Default)]
pub(crate) struct RouteMemo {
    /// The route template, shared to avoid an allocation per request.
    pub(crate) route: OnceCell<Arc<str>>,
    /// The `#[monitored]` handler seen per method (see [`method_slot`]).
    pub(crate) handlers: [OnceCell<&'static FnInfo>; 8],
    /// Set per method once a request was answered below 400 with no `#[monitored]`
    /// handler: the method's handler is not monitored, its rejections count for the route.
    pub(crate) unmonitored: [OnceCell<()>; 8],
}

/// The handlers seen per route and method, across the route's services: axum gives each
/// method of a route (and its 405 answer) a service of its own, so a request the handler
/// never saw looks here. Written once per route and method, read only on that rare path.
static SEEN: Lazy<RwLock<HashMap<Arc<str>, Handlers>>> = Lazy::new(RwLock::default);

/// A route's handlers, per [`method_slot`].
type Handlers = [Option<&'static FnInfo>; 8];

/// The handler a request its handler never saw counts for: the one seen for its route and
/// method, or for a 405 (no handler has the method) the route's first one.
pub(crate) fn seen_handler(route: &str, slot: usize, status: u16) -> Option<&'static FnInfo> {
    let seen = SEEN.read();
    let handlers = seen.get(route)?;
    match (handlers[slot], status) {
        (Some(h), _) => Some(h),
        (None, 405) => handlers.iter().flatten().next().copied(),
        (None, _) => None,
    }
}

/// A small index per common method (its name, as `http::Method::as_str` gives it), for
/// [`RouteMemo::handlers`].
pub(crate) fn method_slot(method: &str) -> usize {
    match method {
        "GET" => 0,
        "POST" => 1,
        "PUT" => 2,
        "DELETE" => 3,
        "PATCH" => 4,
        "HEAD" => 5,
        "OPTIONS" => 6,
        _ => 7,
    }
}

/// Stores the request and remembers its handler for the route's next request.
pub(crate) fn end(
    ctx: Box<RequestCtx>,
    status: Option<u16>,
    cancelled: bool,
    memo: Option<&RouteMemo>,
    slot: usize,
) {
    if let (Some(handler), Some(memo)) = (ctx.handler, memo)
        && memo.handlers[slot].set(handler).is_ok()
        && let Some(route) = &ctx.route
    {
        SEEN.write().entry(route.clone()).or_default()[slot] = Some(handler);
    }
    if let (None, Some(code), Some(memo)) = (ctx.handler, status, memo)
        && code < 400
        && ctx.route.is_some()
    {
        let _ = memo.unmonitored[slot].set(());
    }
    fmd_runtime::monitor().send_request(ctx.finish(status, cancelled));
}
