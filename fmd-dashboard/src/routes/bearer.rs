//! Bearer tokens for machines: Prometheus scraping `/metrics`, scripts reading the JSON API.
//!
//! A request that carries an `Authorization` header is judged by it alone: the right token
//! passes, anything else is a 401 (a session cookie beside a wrong token does not rescue
//! it). Without the header, `/metrics` also accepts a dashboard session, so a person can
//! look at it in the browser; the API never does. With no API token configured the API is
//! switched off and says so with a 404.

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::cookies::{SESSION_COOKIE, cookie};
use crate::api::types::ApiError;
use crate::app::App;
use crate::auth::session::constant_time_eq;
use crate::auth::tokens::Token;
use crate::format::now_ms;

/// What the `Authorization` header says: `None` without one, `Some(None)` when it is not
/// a bearer credential.
fn presented(headers: &HeaderMap) -> Option<Option<&str>> {
    let value = headers.get(header::AUTHORIZATION)?;
    let credential = value.to_str().ok().and_then(|v| {
        let (scheme, token) = v.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    });
    Some(credential)
}

/// A refusal in the route's own format: JSON for the API, text for `/metrics`.
fn refuse(token: Token, status: StatusCode, message: &str, invalid: bool) -> Response {
    let mut res = match token {
        Token::Api => (
            status,
            Json(ApiError {
                error: message.to_owned(),
            }),
        )
            .into_response(),
        Token::Metrics => (status, message.to_owned()).into_response(),
    };
    if status == StatusCode::UNAUTHORIZED {
        let challenge = if invalid {
            r#"Bearer realm="fmd", error="invalid_token""#
        } else {
            r#"Bearer realm="fmd""#
        };
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(challenge),
        );
    }
    res
}

/// The guard of routes that take a bearer token (`session_too`: or a dashboard session).
pub async fn guard(
    app: &App,
    token: Token,
    session_too: bool,
    req: Request,
    next: Next,
) -> Response {
    let configured = app.tokens.get(token);
    if token == Token::Api && configured.is_none() {
        return refuse(
            token,
            StatusCode::NOT_FOUND,
            "The JSON API is switched off: set FMD_API_TOKEN (or api_token in fmd.toml) to \
             a secret of at least 16 characters and send it as `Authorization: Bearer <token>`.",
            false,
        );
    }
    match presented(req.headers()) {
        Some(Some(sent)) if configured.is_some_and(|c| constant_time_eq(sent, c)) => {
            next.run(req).await
        }
        Some(_) => refuse(
            token,
            StatusCode::UNAUTHORIZED,
            "Wrong or malformed bearer token.",
            true,
        ),
        None => {
            let session =
                cookie(req.headers(), SESSION_COOKIE).and_then(|id| app.sessions.get(id, now_ms()));
            match session {
                Some(session) if session_too => {
                    let mut req = req;
                    req.extensions_mut().insert(session);
                    next.run(req).await
                }
                _ => refuse(
                    token,
                    StatusCode::UNAUTHORIZED,
                    if session_too {
                        "Log in to the dashboard or send `Authorization: Bearer <metrics token>`."
                    } else {
                        "Send `Authorization: Bearer <api token>`."
                    },
                    false,
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bearer_credentials_are_read() {
        let mut h = HeaderMap::new();
        assert_eq!(presented(&h), None);
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(presented(&h), Some(Some("abc")));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer  abc "),
        );
        assert_eq!(presented(&h), Some(Some("abc")));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic YTpi"),
        );
        assert_eq!(presented(&h), Some(None));
    }
}
