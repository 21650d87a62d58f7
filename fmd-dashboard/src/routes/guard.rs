//! The guard in front of every route: session, role, CSRF token; and security headers.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::bearer::{self, Token};
use super::state::App;
use crate::auth::Role;
use crate::auth::session::{Session, constant_time_eq};
use crate::format::now_ms;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "fmd_session";
/// Name of the pre-login CSRF cookie.
pub const LOGIN_COOKIE: &str = "fmd_login";
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

/// A cookie's value from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether the browser reached us over https (directly or through a proxy).
pub fn is_https(headers: &HeaderMap) -> bool {
    let forwarded = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    forwarded("x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https"))
        || forwarded("forwarded").is_some_and(|f| f.to_ascii_lowercase().contains("proto=https"))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, scoped to the dashboard, Secure
/// behind https. `max_age` 0 deletes the cookie.
pub fn set_cookie(
    app: &App,
    headers: &HeaderMap,
    name: &str,
    value: &str,
    max_age: Option<u32>,
) -> String {
    let path = if app.base.is_empty() { "/" } else { &app.base };
    let mut c = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if is_https(headers) {
        c.push_str("; Secure");
    }
    c
}

/// Finds the `csrf` field of a urlencoded form.
pub fn form_token(body: &[u8]) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned())
}

/// Rejects requests without a session (GET: redirect to the login form), without the
/// admin role where needed, and state-changing requests without the session's CSRF token.
pub async fn guard(State(g): State<Guard>, req: Request, next: Next) -> Response {
    match g.access {
        Access::Public => return next.run(req).await,
        Access::SessionOrBearer(t) => return bearer::guard(&g, t, true, req, next).await,
        Access::Bearer(t) => return bearer::guard(&g, t, false, req, next).await,
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
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; \
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; fmd_session=abc; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn the_csrf_field_is_read_from_a_form() {
        assert_eq!(form_token(b"level=2&csrf=t0k"), Some("t0k".into()));
        assert_eq!(form_token(b"level=2"), None);
    }
}
