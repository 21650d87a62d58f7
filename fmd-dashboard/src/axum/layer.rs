//! The tower layer that records requests.
//!
//! Per request it creates the request record (route template from `MatchedPath`, method,
//! client address), makes it current while the handler is polled — so `#[monitored]`,
//! `capture!` and the panic hook add to it — and on completion stores the final status.
//! A panic in the handler is caught here, recorded as a 500, and answered with a 500 (the
//! connection is not dropped). A request whose future is dropped early is stored as
//! cancelled. Unmatched paths all count for one `(unmatched)` endpoint, never the raw URI;
//! what a `fallback_service` or `nest_service` answered other than 404 (static files: axum
//! gives no route template for them) counts for one `(fallback)` endpoint. A request on a
//! route the configuration leaves out (`FMD_IGNORE_ROUTES`, [`Config::ignores_route`]) is
//! not recorded at all: it is polled with [`request::ignore`] in force, so neither its
//! handler nor its `capture!` queues anything.
//!
//! [`Config::ignores_route`]: fmd_runtime::Config::ignores_route
//!
//! When a request starts, the layer calls the group-by hook (if one is set) and applies the
//! endpoint's level: at level 2 or more it keeps the URI and headers for a possible outlier
//! record. The handler behind a route is only known once it runs, so each route remembers,
//! per method, the handler it saw last ([`memo`](super::memo)) and uses it to pick the level
//! of the next request.
//! A request its handler never saw (an extractor's rejection, a 405 of the method router,
//! a 413 of the body limit, a timeout layer's answer) counts for that remembered handler,
//! not for an endpoint named after the route; a 4xx answer's short text is kept as its
//! client error's message, and a streamed body (SSE, chunked) makes the request last until
//! its last byte (see [`body`](super::body)).

use super::body::RecordedBody;
use super::memo::{RouteMemo, end, method_slot, seen_handler};
use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath};
use axum::http::{Method, Request, Response, StatusCode};
use fmd_runtime::request::{self, RequestCtx};
use once_cell::sync::Lazy;
use std::borrow::Cow;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower::{Layer, Service};

/// Records every request that passes through it. Added by [`bind`](super::bind).
#[derive(Clone, Default)]
pub struct FmdLayer {
    skip: Option<Arc<str>>,
}

impl FmdLayer {
    /// A layer that records every request.
    pub fn new() -> Self {
        FmdLayer::default()
    }

    /// Leaves requests under `prefix` (the dashboard's own) unrecorded.
    pub fn skip_prefix(mut self, prefix: &str) -> Self {
        self.skip = Some(Arc::from(prefix));
        self
    }
}

impl<S> Layer<S> for FmdLayer {
    type Service = FmdService<S>;

    fn layer(&self, inner: S) -> FmdService<S> {
        crate::axum::layer::warm_up();
        FmdService {
            inner,
            skip: self.skip.clone(),
            memo: Arc::default(),
            config: fmd_runtime::monitor().config(),
        }
    }
}

fn warm_up() {
    fmd_runtime::ensure_started();
}

/// The service [`FmdLayer`] produces.
#[derive(Clone)]
pub struct FmdService<S> {
    inner: S,
    skip: Option<Arc<str>>,
    memo: Arc<RouteMemo>,
    /// The monitor's configuration, read once when the layer is built (the monitor lives
    /// for the whole process), not per request.
    config: &'static fmd_runtime::Config,
}

fn method_name(method: &Method) -> Cow<'static, str> {
    Cow::Borrowed(match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        ref other => return Cow::Owned(other.as_str().chars().take(32).collect()),
    })
}

impl<S> FmdService<S> {
    fn route_of(&self, matched: Option<&MatchedPath>) -> Option<Arc<str>> {
        let path = matched?.as_str();
        let cached = self.memo.route.get_or_init(|| Arc::from(path));
        if &**cached == path {
            Some(cached.clone())
        } else {
            Some(Arc::from(path))
        }
    }
}

impl<S> Service<Request<Body>> for FmdService<S>
where
    S: Service<Request<Body>, Response = Response<Body>>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let skip = self
            .skip
            .as_deref()
            .is_some_and(|p| under(req.uri().path(), p));
        let matched = req.extensions().get::<MatchedPath>();
        let ignored = matched.is_some_and(|m| self.config.ignores_route(m.as_str()));
        if skip || ignored {
            return ResponseFuture {
                inner: self.inner.call(req),
                ctx: None,
                done: false,
                ignored,
                memo: None,
                slot: 0,
            };
        }
        let route = self.route_of(req.extensions().get::<MatchedPath>());
        let slot = method_slot(req.method());
        let mut ctx = RequestCtx::new(method_name(req.method()), route);
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        // Without trusted proxies this is the peer, without looking at any header.
        ctx.ip =
            fmd_runtime::request::client_address(peer, req.headers(), &self.config.trusted_proxies)
                .map(|ip| ip.to_string());
        ctx.resolve(self.memo.handlers[slot].get().copied());
        ctx.keep_http(req.uri(), req.headers());
        let req = if fmd_runtime::request::has_group_by() {
            let (parts, body) = req.into_parts();
            ctx.group_by = fmd_runtime::request::group_of(&parts);
            Request::from_parts(parts, body)
        } else {
            req
        };
        ResponseFuture {
            inner: self.inner.call(req),
            ctx: Some(ctx),
            done: false,
            ignored: false,
            memo: Some(self.memo.clone()),
            slot,
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`FmdService`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        ctx: Option<Box<RequestCtx>>,
        done: bool,
        // A route left out (`Config::ignores_route`): polled with nothing recorded.
        ignored: bool,
        memo: Option<Arc<RouteMemo>>,
        slot: usize,
    }

    impl<F> PinnedDrop for ResponseFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if !*this.done
                && let Some(ctx) = this.ctx.take()
            {
                end(ctx, None, true, this.memo.as_deref(), *this.slot);
            }
        }
    }
}

/// Whether a response's body is a stream (no known length: SSE, a chunked body): its
/// request lasts until the last byte, not until the head.
fn streams(response: &Response<Body>) -> bool {
    use axum::body::HttpBody;
    response.body().size_hint().exact().is_none()
}

/// Whether a response's text is worth keeping as its client error's message: a short 4xx
/// answer that is not a page.
fn wants_text(response: &Response<Body>, ctx: &RequestCtx) -> bool {
    use axum::body::HttpBody;
    let html = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    (400..500).contains(&response.status().as_u16())
        && ctx.route.is_some()
        && !html
        && response.body().size_hint().exact() != Some(0)
}

fn internal_error() -> Response<Body> {
    let mut response = Response::new(Body::from("Internal Server Error"));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}

impl<F, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<Body>, E>>,
{
    type Output = Result<Response<Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if this.ctx.is_none() && !*this.done {
            // A skipped (dashboard) request: pass through untouched; a route left out:
            // with nothing recorded by the code it runs either.
            let _ignoring = this.ignored.then(request::ignore);
            return this.inner.poll(cx);
        }
        let polled = {
            let _entered = request::enter(this.ctx);
            let inner = this.inner.as_mut();
            catch_unwind(AssertUnwindSafe(move || inner.poll(cx)))
        };
        let (output, status) = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(Ok(response))) => {
                let status = response.status().as_u16();
                (Ok(response), status)
            }
            Ok(Poll::Ready(Err(e))) => (Err(e), 500),
            Err(_panic) => (Ok(internal_error()), 500),
        };
        *this.done = true;
        let Some(mut ctx) = this.ctx.take() else {
            return Poll::Ready(output);
        };
        let status = if ctx.panicked { 500 } else { status };
        if ctx.route.is_none() && ctx.handler.is_none() && !matches!(status, 404 | 405) {
            // A fallback or nested service answered (static files): one shared route.
            static FALLBACK: Lazy<Arc<str>> =
                Lazy::new(|| Arc::from(fmd_runtime::model::event::FALLBACK));
            ctx.route = Some(FALLBACK.clone());
        }
        let memo = this.memo.as_deref();
        let remembered = memo.is_some_and(|m| m.handlers[*this.slot].get().is_some());
        if ctx.handler.is_none()
            && !remembered
            && status >= 400
            && let Some(info) = ctx
                .route
                .as_deref()
                .and_then(|route| seen_handler(route, *this.slot, status))
        {
            ctx.stand_in(info);
        }
        match output {
            Ok(response) if wants_text(&response, &ctx) || streams(&response) => {
                let keep_text = wants_text(&response, &ctx);
                let (memo, slot) = (this.memo.clone(), *this.slot);
                Poll::Ready(Ok(response.map(|body| {
                    Body::new(RecordedBody::new(body, ctx, status, keep_text, memo, slot))
                })))
            }
            output => {
                end(ctx, Some(status), false, memo, *this.slot);
                Poll::Ready(output)
            }
        }
    }
}

/// Whether `path` is `prefix` or below it (`/dashboard`, `/dashboard/..`; not `/dashboard-x`).
fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}
