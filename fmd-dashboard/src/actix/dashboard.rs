//! The dashboard in an actix app: `.service(fmd_dashboard::actix::dashboard())`.
//!
//! The dashboard is an axum router; no page is built twice. An actix scope at the
//! dashboard's path (`FMD_DASHBOARD_PATH`, `/dashboard`) hands every request below it to
//! that router, called as a tower service: the method, the path below the mount point with
//! its query, the headers, the body (read in full first, up to [`MAX_BODY`]: actix's body
//! stays on its worker's thread) and the peer's address (axum's `ConnectInfo`, which the
//! login throttle reads). The answer goes back with its status and every header (each
//! `Set-Cookie` too); a body of known length as it is, any other (the live page's
//! server-sent events) streamed chunk by chunk. Cookies, redirects, forms and their CSRF
//! tokens work as under axum, because it is the same code.
//!
//! The router is built once per process, whatever the number of workers: one session
//! table, one login throttle, one pool of database threads.

use super::convert;
use super::monitor::MOUNTED;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, Scope, web};
use axum::body::{Body, HttpBody};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::OnceLock;
use tower::ServiceExt;

/// The largest request body handed to the dashboard (its forms are a few hundred bytes;
/// axum's default limit).
pub const MAX_BODY: usize = 2 << 20;

/// The dashboard's router, built by the first call of [`try_dashboard`].
static ROUTER: OnceLock<axum::Router> = OnceLock::new();

/// The dashboard, its login and its JSON API as an actix service at the configured path
/// (`/dashboard`), for `App::service`.
///
/// Starts fmd from `fmd.toml` / `FMD_*` if it is not running yet. The dashboard's own
/// requests are not recorded by [`Monitor`](super::Monitor).
///
/// # Panics
///
/// At start-up, if the configuration is malformed (say `FMD_LEVEL=7`): the message names
/// the option and what it accepts. Use [`try_dashboard`] to handle that yourself.
///
/// ```no_run
/// use actix_web::{App, HttpServer};
///
/// # async fn run() -> std::io::Result<()> {
/// HttpServer::new(|| {
///     App::new()
///         .wrap(fmd_dashboard::actix::Monitor::default())
///         .service(fmd_dashboard::actix::dashboard())
/// })
/// .bind(("127.0.0.1", 8080))?
/// .run()
/// .await
/// # }
/// ```
pub fn dashboard() -> Scope {
    match try_dashboard() {
        Ok(scope) => scope,
        Err(e) => panic!("{e}"),
    }
}

/// Like [`dashboard`], returning a malformed configuration as an error.
pub fn try_dashboard() -> Result<Scope, fmd_runtime::ConfigError> {
    let monitor = fmd_runtime::init_from_env()?;
    let path = crate::adapter::dashboard_path(monitor)?;
    let base = MOUNTED.get_or_init(|| path.as_str().into()).clone();
    ROUTER.get_or_init(|| crate::router().with_state(()));
    Ok(web::scope(&base).default_service(web::to(bridge)))
}

/// Answers one request below the mount point with the dashboard's router.
async fn bridge(req: HttpRequest, payload: web::Payload) -> HttpResponse {
    let (Some(router), Some(base)) = (ROUTER.get(), MOUNTED.get()) else {
        return HttpResponse::NotFound().finish();
    };
    let rest = req.path().strip_prefix(&**base).unwrap_or_default();
    if rest == "/" {
        // `/dashboard/` is what people type: send it to the dashboard's home.
        return HttpResponse::SeeOther()
            .insert_header((actix_web::http::header::LOCATION, &**base))
            .finish();
    }
    let path = if rest.is_empty() { "/" } else { rest };
    let uri = match req.query_string() {
        "" => path.to_owned(),
        query => format!("{path}?{query}"),
    };
    let body = match payload.to_bytes_limited(MAX_BODY).await {
        Ok(Ok(body)) => body,
        Ok(Err(e)) => return HttpResponse::BadRequest().body(e.to_string()),
        Err(_) => return HttpResponse::PayloadTooLarge().finish(),
    };
    let method = http::Method::from_bytes(req.method().as_str().as_bytes()).unwrap_or_default();
    let Ok(mut request) = http::Request::builder()
        .method(method)
        .uri(uri)
        .version(convert::version(req.version()))
        .body(Body::from(body))
    else {
        return HttpResponse::BadRequest().finish();
    };
    *request.headers_mut() = convert::headers(req.headers());
    if let Some(peer) = req.peer_addr() {
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo::<SocketAddr>(peer));
    }
    let response: Result<_, Infallible> = router.clone().oneshot(request).await;
    match response {
        Ok(response) => into_actix(response).await,
        Err(never) => match never {},
    }
}

/// The router's answer as an actix response.
async fn into_actix(response: http::Response<Body>) -> HttpResponse {
    let (parts, body) = response.into_parts();
    let status =
        StatusCode::from_u16(parts.status.as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut builder = HttpResponse::build(status);
    let mut out = if body.size_hint().exact().is_some() {
        match axum::body::to_bytes(body, usize::MAX).await {
            Ok(bytes) => builder.body(bytes),
            Err(_) => return HttpResponse::InternalServerError().finish(),
        }
    } else {
        builder.streaming(body.into_data_stream())
    };
    for (name, value) in &parts.headers {
        // actix writes the framing headers itself, from the body it sends.
        if matches!(
            *name,
            http::header::CONTENT_LENGTH
                | http::header::TRANSFER_ENCODING
                | http::header::CONNECTION
        ) {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_str().as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            out.headers_mut().append(name, value);
        }
    }
    out
}
