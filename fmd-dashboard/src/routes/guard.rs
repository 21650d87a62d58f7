//! The guard in front of every route: session, role, CSRF token; and security headers.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::bearer;
use super::cookies::{SESSION_COOKIE, cookie, form_token};
use crate::app::App;
use crate::auth::Role;
use crate::auth::session::{Session, constant_time_eq};
use crate::auth::tokens::Token;
use crate::format::now_ms;

/// Largest form body the guard reads to find the CSRF token.
const MAX_FORM: usize = 64 * 1024;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (only the login form and its submission).
    Public,
    /// Any logged-in account.
    Viewer,
    /// Logged-in admins.
    Admin,
    /// A logged-in account, or the configured bearer token (`/metrics` for Prometheus).
    SessionOrBearer(Token),
    /// Only the configured bearer token (the JSON API; off while no token is configured).
    Bearer(Token),
}

/// The guard's per-route state.
#[derive(Clone)]
pub struct Guard {
    pub app: Arc<App>,
    pub access: Access,
}

/// Rejects requests without a session (GET: redirect to the login form), without the
/// admin role where needed, and state-changing requests without the session's CSRF token.
pub async fn guard(State(g): State<Guard>, req: Request, next: Next) -> Response {
    match g.access {
        Access::Public => return next.run(req).await,
        Access::SessionOrBearer(t) => return bearer::guard(&g.app, t, true, req, next).await,
        Access::Bearer(t) => return bearer::guard(&g.app, t, false, req, next).await,
        Access::Viewer | Access::Admin => {}
    }
    let session: Option<Session> =
        cookie(req.headers(), SESSION_COOKIE).and_then(|id| g.app.sessions.get(id, now_ms()));
    let Some(session) = session else {
        return if req.method() == Method::GET || req.method() == Method::HEAD {
            Redirect::to(&format!("{}/login", g.app.base)).into_response()
        } else {
            (StatusCode::UNAUTHORIZED, "Log in first.").into_response()
        };
    };
    if g.access == Access::Admin && session.role != Role::Admin {
        return (StatusCode::FORBIDDEN, "This needs an admin account.").into_response();
    }
    let mut req = req;
    if !(req.method() == Method::GET || req.method() == Method::HEAD) {
        let header_token = req
            .headers()
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let (parts, body) = req.into_parts();
        let Ok(bytes) = to_bytes(body, MAX_FORM).await else {
            return (StatusCode::PAYLOAD_TOO_LARGE, "Form too large.").into_response();
        };
        let token = header_token.or_else(|| form_token(&bytes));
        if !token.is_some_and(|t| constant_time_eq(&t, &session.csrf)) {
            return (
                StatusCode::FORBIDDEN,
                "Missing or wrong CSRF token; reload the page.",
            )
                .into_response();
        }
        req = Request::from_parts(parts, Body::from(bytes));
    }
    req.extensions_mut().insert(session);
    next.run(req).await
}

/// Headers on every dashboard response: a strict CSP (no inline script, nothing from
/// elsewhere), no framing, no sniffing, no caching of pages with data.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; \
         form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    );
    set(h, "x-frame-options", "DENY");
    set(h, "x-content-type-options", "nosniff");
    set(h, "referrer-policy", "same-origin");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
    res
}
