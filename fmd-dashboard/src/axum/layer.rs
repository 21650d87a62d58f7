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
//! per method, the handler it saw last (`RouteMemo`, shared with the other adapters in
//! `crate::adapter`) and uses it to pick the level
//! of the next request.
//! A request its handler never saw (an extractor's rejection, a 405 of the method router,
//! a 413 of the body limit, a timeout layer's answer) counts for that remembered handler,
//! not for an endpoint named after the route; a 4xx answer's short text is kept as its
//! client error's message, and a streamed body (SSE, chunked) makes the request last until
//! its last byte (see [`body`](super::body)).

use super::body::RecordedBody;
use crate::adapter::{self, InFlight, RouteMemo, method_slot};
use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath};
use axum::http::{Request, Response, StatusCode};
use fmd_runtime::request::RequestCtx;
use std::future::Future;
use std::net::SocketAddr;
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
            .is_some_and(|p| adapter::under(req.uri().path(), p));
        let matched = req.extensions().get::<MatchedPath>();
        let ignored = matched.is_some_and(|m| self.config.ignores_route(m.as_str()));
        if skip || ignored {
            return ResponseFuture {
                inner: self.inner.call(req),
                flight: if ignored {
                    InFlight::ignored()
                } else {
                    InFlight::skipped()
                },
            };
        }
        let route = self.route_of(matched);
        let slot = method_slot(req.method().as_str());
        let (mut ctx, _level) = adapter::begin(req.method().as_str(), route, &self.memo, slot);
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        // Without trusted proxies this is the peer, without looking at any header.
        ctx.ip =
            fmd_runtime::request::client_address(peer, req.headers(), &self.config.trusted_proxies)
                .map(|ip| ip.to_string());
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
            flight: InFlight::new(ctx, self.memo.clone(), slot),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`FmdService`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        flight: InFlight,
    }
}

/// Whether a response's body is a stream (no known length: SSE, a chunked body): its
/// request lasts until the last byte, not until the head.
fn streams(response: &Response<Body>) -> bool {
    use axum::body::HttpBody;
    response.body().size_hint().exact().is_none()
}

/// Whether a response's text is worth keeping as its client error's message: a short 4xx
/// answer that is not a page. Any other status is decided without looking at a header.
fn wants_text(response: &Response<Body>, ctx: &RequestCtx) -> bool {
    use axum::body::HttpBody;
    if !adapter::is_client_error(response.status().as_u16()) {
        return false;
    }
    let content_type = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    adapter::wants_text(
        response.status().as_u16(),
        ctx,
        content_type,
        response.body().size_hint().exact(),
    )
}

fn internal_error() -> Response<Body> {
    let mut response = Response::new(Body::from(adapter::INTERNAL_ERROR));
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
        if this.flight.is_skipped() {
            // A skipped (dashboard) request: pass through untouched; a route left out:
            // with nothing recorded by the code it runs either.
            let _ignoring = this.flight.pass_through();
            return this.inner.poll(cx);
        }
        let inner = this.inner.as_mut();
        let (output, status) = match this.flight.poll(move || inner.poll(cx)) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(Ok(response))) => {
                let status = response.status().as_u16();
                (Ok(response), status)
            }
            Ok(Poll::Ready(Err(e))) => (Err(e), 500),
            Err(_panic) => (Ok(internal_error()), 500),
        };
        let Some((ctx, status)) = this.flight.answered(status) else {
            return Poll::Ready(output);
        };
        if let Ok(response) = &output {
            let keep_text = wants_text(response, &ctx);
            if keep_text || streams(response) {
                let pending = this.flight.pending(ctx, status, keep_text);
                return Poll::Ready(output.map(|response| {
                    response.map(|body| Body::new(RecordedBody::new(body, pending)))
                }));
            }
        }
        this.flight.end(ctx, status);
        Poll::Ready(output)
    }
}
