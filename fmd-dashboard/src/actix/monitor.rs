//! The middleware that records requests: `App::new().wrap(Monitor::default())`.
//!
//! Per request it creates the request record (route template from actix's match pattern,
//! method, client address), makes it current while the inner service is polled — so
//! `#[monitored]`, `capture!` and the panic hook add to it — and on completion stores the
//! final status. A panic in the handler is caught here, recorded as a 500, and answered
//! with a 500 (the connection stays up). A request whose future is dropped early is stored
//! as cancelled. Unmatched paths all count for one `(unmatched)` endpoint; what a default
//! service answered other than 404/405 counts for one `(fallback)` endpoint.
//!
//! The level and the handler a route's request counts for come from what the route
//! remembers (the crate's `adapter::RouteMemo`), one memo per match pattern and worker:
//! actix runs each worker's services on one thread, so the table needs no lock.

use super::body::RecordedBody;
use super::convert;
use crate::adapter::{self, InFlight, RouteMemo, method_slot};
use actix_web::Error;
use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use fmd_runtime::request::{self, RequestCtx};
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

/// Where [`dashboard`](super::dashboard()) was mounted: its own requests are not recorded.
pub(super) static MOUNTED: OnceLock<Arc<str>> = OnceLock::new();

/// Records every request of an actix `App`: the middleware given to `App::wrap`.
///
/// Starts fmd from `fmd.toml` / `FMD_*` if it is not running yet. Requests to the
/// dashboard mounted by [`dashboard`](super::dashboard()) are not recorded.
///
/// ```no_run
/// use actix_web::{App, web};
///
/// let app = App::new()
///     .wrap(fmd_dashboard::actix::Monitor::default())
///     .route("/", web::get().to(|| async { "hello" }));
/// ```
#[derive(Clone, Default)]
pub struct Monitor {
    skip: Option<Arc<str>>,
}

impl Monitor {
    /// A middleware that records every request.
    pub fn new() -> Self {
        Monitor::default()
    }

    /// Leaves requests under `prefix` unrecorded (say, a path served by another tool).
    pub fn skip_prefix(mut self, prefix: &str) -> Self {
        self.skip = Some(Arc::from(prefix.trim_end_matches('/')));
        self
    }
}

impl<S, B> Transform<S, ServiceRequest> for Monitor
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<RecordedBody<B>>;
    type Error = Error;
    type Transform = MonitorService<S>;
    type InitError = ();
    type Future = Ready<Result<MonitorService<S>, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        fmd_runtime::ensure_started();
        ready(Ok(MonitorService {
            service,
            skip: self.skip.clone(),
            routes: RefCell::default(),
            unmatched: Arc::default(),
            config: fmd_runtime::monitor().config(),
        }))
    }
}

/// The service [`Monitor`] wraps around an `App` (one per worker).
pub struct MonitorService<S> {
    service: S,
    skip: Option<Arc<str>>,
    /// What each match pattern remembers (its template too); as many entries as the app
    /// has patterns.
    routes: RefCell<HashMap<Box<str>, Arc<RouteMemo>>>,
    /// What the unmatched requests remember.
    unmatched: Arc<RouteMemo>,
    /// The monitor's configuration, read once when the app is built, not per request.
    config: &'static fmd_runtime::Config,
}

impl<S> MonitorService<S> {
    /// Whether the request is one of the dashboard's (or under a skipped prefix).
    fn skips(&self, path: &str) -> bool {
        let skipped = |prefix: &str| adapter::under(path, prefix);
        self.skip.as_deref().is_some_and(skipped) || MOUNTED.get().is_some_and(|p| skipped(p))
    }

    /// The route template and memo of a request with match pattern `pattern`.
    fn memo_of(&self, pattern: Option<String>) -> (Option<Arc<str>>, Arc<RouteMemo>) {
        let Some(pattern) = pattern else {
            return (None, self.unmatched.clone());
        };
        let found = self.routes.borrow().get(pattern.as_str()).cloned();
        let memo = found.unwrap_or_else(|| {
            let memo = Arc::<RouteMemo>::default();
            self.routes
                .borrow_mut()
                .insert(pattern.as_str().into(), memo.clone());
            memo
        });
        let route = memo.route.get_or_init(|| Arc::from(pattern)).clone();
        (Some(route), memo)
    }

    /// The record of a request that starts now.
    fn begin(
        &self,
        req: &ServiceRequest,
        pattern: Option<String>,
    ) -> (Box<RequestCtx>, Arc<RouteMemo>, usize) {
        let (route, memo) = self.memo_of(pattern);
        let method = req.method().as_str();
        let slot = method_slot(method);
        let (mut ctx, level) = adapter::begin(method, route, &memo, slot);
        let trusted = &self.config.trusted_proxies;
        // The request's head in `http` 1 terms, copied only when something reads it.
        let parts = (level >= 2 || request::has_group_by() || !trusted.is_empty())
            .then(|| convert::parts(req));
        let empty = http::HeaderMap::new();
        let headers = parts.as_ref().map_or(&empty, |p| &p.headers);
        // Without trusted proxies this is the peer, without looking at any header.
        ctx.ip = request::client_address(req.peer_addr().map(|a| a.ip()), headers, trusted)
            .map(|ip| ip.to_string());
        if let Some(parts) = &parts {
            ctx.keep_http(&parts.uri, &parts.headers);
            if request::has_group_by() {
                ctx.group_by = request::group_of(parts);
            }
        }
        (ctx, memo, slot)
    }
}

impl<S, B> Service<ServiceRequest> for MonitorService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<RecordedBody<B>>;
    type Error = Error;
    type Future = MonitorFuture<S::Future>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        if self.skips(req.path()) {
            return MonitorFuture {
                inner: self.service.call(req),
                flight: InFlight::skipped(),
            };
        }
        let pattern = req.match_pattern();
        if pattern
            .as_deref()
            .is_some_and(|p| self.config.ignores_route(p))
        {
            return MonitorFuture {
                inner: self.service.call(req),
                flight: InFlight::ignored(),
            };
        }
        let (ctx, memo, slot) = self.begin(&req, pattern);
        MonitorFuture {
            inner: self.service.call(req),
            flight: InFlight::new(ctx, memo, slot),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`MonitorService`].
    pub struct MonitorFuture<F> {
        #[pin]
        inner: F,
        flight: InFlight,
    }
}

/// The body's length when it is known (`None`: a stream).
fn exact_size(size: BodySize) -> Option<u64> {
    match size {
        BodySize::None => Some(0),
        BodySize::Sized(n) => Some(n),
        BodySize::Stream => None,
    }
}

impl<F, B> Future for MonitorFuture<F>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
    B: MessageBody,
{
    type Output = Result<ServiceResponse<RecordedBody<B>>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if this.flight.is_skipped() {
            // A skipped (dashboard) request: pass through untouched; a route left out:
            // with nothing recorded by the code it runs either.
            let _ignoring = this.flight.pass_through();
            return this
                .inner
                .poll(cx)
                .map_ok(|res| res.map_body(|_, body| RecordedBody::plain(body)));
        }
        let inner = this.inner.as_mut();
        let (output, status) = match this.flight.poll(move || inner.poll(cx)) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(Ok(response))) => {
                let status = response.status().as_u16();
                (Ok(response), status)
            }
            Ok(Poll::Ready(Err(e))) => {
                let status = e.as_response_error().status_code().as_u16();
                (Err(e), status)
            }
            // The request cannot be rebuilt for a response here (it moved into the
            // handler): an error answers it, which actix turns into a 500 response.
            Err(_panic) => (
                Err(actix_web::error::ErrorInternalServerError(
                    adapter::INTERNAL_ERROR,
                )),
                500,
            ),
        };
        let Some((ctx, status)) = this.flight.answered(status) else {
            return Poll::Ready(output.map(|res| res.map_body(|_, b| RecordedBody::plain(b))));
        };
        let response = match output {
            Ok(response) => response,
            Err(e) => {
                this.flight.end(ctx, status);
                return Poll::Ready(Err(e));
            }
        };
        // Only a 4xx answer's text may be kept: no header lookup for the others.
        let content_type = adapter::is_client_error(status)
            .then(|| {
                response
                    .headers()
                    .get(actix_web::http::header::CONTENT_TYPE)
            })
            .flatten()
            .and_then(|v| v.to_str().ok());
        let size = exact_size(response.response().body().size());
        let keep_text = adapter::wants_text(status, &ctx, content_type, size);
        if keep_text || size.is_none() {
            let pending = this.flight.pending(ctx, status, keep_text);
            Poll::Ready(Ok(
                response.map_body(|_, body| RecordedBody::waiting(body, pending))
            ))
        } else {
            this.flight.end(ctx, status);
            Poll::Ready(Ok(response.map_body(|_, body| RecordedBody::plain(body))))
        }
    }
}
