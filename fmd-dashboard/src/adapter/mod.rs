//! What the framework adapters (axum, actix-web) share: the rules by which a request
//! becomes a record, independent of the framework's types.
//!
//! | file | holds |
//! |---|---|
//! | `in_flight` | a request between its start and its answer ([`InFlight`]) |
//! | `memo` | what a route remembers of its handlers, and storing a finished request ([`end`]) |
//! | `pending` | a request whose record waits for its response body ([`Pending`]) |
//!
//! An adapter starts a request with [`begin`] and keeps it in an [`InFlight`], which makes
//! it current around each poll of the handler, settles its final status ([`settle`]) and
//! stores it — or hands it to a [`Pending`] when the body decides (a streamed body, a 4xx
//! answer whose text is kept, see [`wants_text`]).

mod in_flight;
mod memo;
mod pending;

pub(crate) use in_flight::InFlight;
pub(crate) use memo::{RouteMemo, method_slot, seen_handler};
pub(crate) use pending::Pending;

use fmd_runtime::request::RequestCtx;
use once_cell::sync::Lazy;
use std::borrow::Cow;
use std::sync::Arc;

/// The text of the 500 answer that replaces a handler's panic.
pub(crate) const INTERNAL_ERROR: &str = "Internal Server Error";

/// The method's name as stored: the common ones without an allocation, any other cut to
/// 32 characters.
pub(crate) fn method_name(method: &str) -> Cow<'static, str> {
    Cow::Borrowed(match method {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        "TRACE" => "TRACE",
        "CONNECT" => "CONNECT",
        other => return Cow::Owned(other.chars().take(32).collect()),
    })
}

/// A request that starts now on `route` (`None`: unmatched), its level decided from the
/// handler the route's memo remembers for the method; returns it with that level.
pub(crate) fn begin(
    method: &str,
    route: Option<Arc<str>>,
    memo: &RouteMemo,
    slot: usize,
) -> (Box<RequestCtx>, u8) {
    let mut ctx = RequestCtx::new(method_name(method), route);
    let level = ctx.resolve(memo.handlers[slot].get().copied());
    (ctx, level)
}

/// The final status of a request the framework answered with `status`, and what it
/// counts for: a panic is a 500; a fallback (or nested) service that answered other than
/// 404/405 counts for one `(fallback)` endpoint; a request its handler never saw (a
/// rejection, a 405) counts for the handler seen on its route, and while none was seen for
/// its method, a rejection other than a 405 counts for the route's per-method twin
/// (`POST /items`, see [`RequestCtx::as_twin`]) unless the method is known to have no
/// `#[monitored]` handler.
pub(crate) fn settle(
    ctx: &mut RequestCtx,
    status: u16,
    memo: Option<&RouteMemo>,
    slot: usize,
) -> u16 {
    let status = if ctx.panicked { 500 } else { status };
    let matched = ctx.route.is_some();
    if ctx.route.is_none() && ctx.handler.is_none() && !matches!(status, 404 | 405) {
        // A fallback or nested service answered (static files): one shared route.
        static FALLBACK: Lazy<Arc<str>> =
            Lazy::new(|| Arc::from(fmd_runtime::model::event::FALLBACK));
        ctx.route = Some(FALLBACK.clone());
    }
    let remembered = memo.is_some_and(|m| m.handlers[slot].get().is_some());
    if ctx.handler.is_none()
        && !remembered
        && status >= 400
        && let Some(info) = ctx
            .route
            .as_deref()
            .and_then(|route| seen_handler(route, slot, status))
    {
        ctx.stand_in(info);
    } else if ctx.handler.is_none()
        && !remembered
        && matched
        && status >= 400
        && status != 405
        && memo.is_none_or(|m| m.unmonitored[slot].get().is_none())
    {
        // A rejection before the method's handler ever ran here: its own twin per
        // method, so that it joins the right one of the route's handlers. (A 405 has no
        // handler of its method: it stays on the route, for the first handler learned.)
        ctx.as_twin();
    }
    status
}

/// Whether a response's text is worth keeping as its client error's message: a short 4xx
/// answer (`content_type`, `exact_size`: its header and known length) that is not a page.
pub(crate) fn wants_text(
    status: u16,
    ctx: &RequestCtx,
    content_type: Option<&str>,
    exact_size: Option<u64>,
) -> bool {
    let html = content_type.is_some_and(|v| v.starts_with("text/html"));
    is_client_error(status) && ctx.route.is_some() && !html && exact_size != Some(0)
}

/// Whether `status` is a 4xx: the only answers whose text [`wants_text`] may keep, so an
/// adapter asks this before it looks up any header.
pub(crate) fn is_client_error(status: u16) -> bool {
    (400..500).contains(&status)
}

/// Whether `path` is `prefix` or below it (`/dashboard`, `/dashboard/..`; not `/dashboard-x`).
pub(crate) fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The path the dashboard is mounted at (`FMD_DASHBOARD_PATH`, without a trailing `/`),
/// once the configuration's time zone is known to be valid.
#[cfg(all(feature = "axum", feature = "pages"))]
pub(crate) fn dashboard_path(
    monitor: &fmd_runtime::Monitor,
) -> Result<String, fmd_runtime::ConfigError> {
    if let Some(zone) = &monitor.config().timezone
        && crate::format::parse_zone(zone).is_none()
    {
        return Err(fmd_runtime::ConfigError {
            source: format!("FMD_TIMEZONE={zone:?}"),
            problem: crate::routes::unknown_zone(zone),
        });
    }
    Ok(monitor
        .config()
        .dashboard_path
        .trim_end_matches('/')
        .to_owned())
}
