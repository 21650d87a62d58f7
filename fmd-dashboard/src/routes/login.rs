//! Logging in and out.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use once_cell::sync::Lazy;
use serde::Deserialize;

use super::cookies::{LOGIN_COOKIE, SESSION_COOKIE, cookie, set_cookie};
use crate::app::App;
use crate::auth::session::{Session, constant_time_eq, random_token};
use crate::auth::{Role, password};
use crate::format::now_ms;
use crate::pages::{home, login::login_page};

/// Verified against when the account does not exist, so both cases cost the same.
static DUMMY_HASH: Lazy<String> = Lazy::new(|| password::hash("fmd-dummy").unwrap_or_default());

fn with_cookie(mut res: Response, value: String) -> Response {
    if let Ok(v) = value.parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// The form, with a fresh pre-session CSRF token in a cookie and a hidden field.
fn render(app: &App, headers: &HeaderMap, status: StatusCode, error: Option<&str>) -> Response {
    let token = random_token();
    let res = (status, login_page(&app.base, &token, error)).into_response();
    with_cookie(
        res,
        set_cookie(app, headers, LOGIN_COOKIE, &token, Some(3600)),
    )
}

/// `GET /login`.
pub async fn form(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    render(&app, &headers, StatusCode::OK, None)
}

/// The login form's fields.
#[derive(Deserialize)]
pub struct Credentials {
    username: String,
    password: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /login`: check the form's token against its cookie, throttle, verify the
/// password, then start a session under a new id.
pub async fn submit(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(c): Form<Credentials>,
) -> Result<Response, crate::app::AppError> {
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    if expected.is_empty() || !constant_time_eq(expected, &c.csrf) {
        return Ok(render(
            &app,
            &headers,
            StatusCode::FORBIDDEN,
            Some("The form expired; please try again."),
        ));
    }
    let wait = app.throttle.wait(&c.username, now_ms());
    if wait > 0 {
        let msg = format!(
            "Too many failed attempts; try again in {} s.",
            (wait + 999) / 1000
        );
        return Ok(render(
            &app,
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            Some(&msg),
        ));
    }
    let username = c.username.clone();
    let user = app.with_store(move |s| s.user(&username)).await?;
    let secret = c.password;
    let phc = user
        .as_ref()
        .map_or_else(|| DUMMY_HASH.clone(), |u| u.password_hash.clone());
    let ok = tokio::task::spawn_blocking(move || password::verify(&secret, &phc))
        .await
        .unwrap_or(false);
    let Some(user) = user.filter(|_| ok) else {
        app.throttle.failed(&c.username, now_ms());
        return Ok(render(
            &app,
            &headers,
            StatusCode::UNAUTHORIZED,
            Some("Wrong username or password."),
        ));
    };
    app.throttle.succeeded(&user.username);
    if let Some(old) = cookie(&headers, SESSION_COOKIE) {
        app.sessions.remove(old);
    }
    let id = app
        .sessions
        .create(&user.username, Role::from_db(&user.role), now_ms());
    let res = Redirect::to(&home(&app.base, "")).into_response();
    let res = with_cookie(res, set_cookie(&app, &headers, SESSION_COOKIE, &id, None));
    Ok(with_cookie(
        res,
        set_cookie(&app, &headers, LOGIN_COOKIE, "", Some(0)),
    ))
}

/// `POST /logout`: end the session and clear its cookie.
pub async fn logout(
    State(app): State<Arc<App>>,
    Extension(_session): Extension<Session>,
    headers: HeaderMap,
) -> Response {
    if let Some(id) = cookie(&headers, SESSION_COOKIE) {
        app.sessions.remove(id);
    }
    let res = Redirect::to(&format!("{}/login", app.base)).into_response();
    with_cookie(res, set_cookie(&app, &headers, SESSION_COOKIE, "", Some(0)))
}
