//! Logging in and out, and the password checks every route shares.
//!
//! A password check (an argon2 verification: about 19 MiB and tens of milliseconds of one
//! core) is the most expensive thing an unauthenticated client can ask for. So:
//!
//! 1. the attempt passes the [`Throttle`](crate::auth::throttle::Throttle) of its client
//!    address and account, which counts it as a failure *before* the check;
//! 2. at most [`MAX_CONCURRENT_CHECKS`] checks run at once in the process; an attempt that
//!    finds them busy is answered 429 at once (and not counted);
//! 3. the account is read on the dashboard's own database threads ([`crate::pool`]), then
//!    the check runs on a blocking thread that holds its permit until argon2 is done, even
//!    if the client has gone away meanwhile (so at most [`MAX_CONCURRENT_CHECKS`] of the
//!    host's blocking threads are ever busy with it, and never wait for the database).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Form;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Extension, State};
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use once_cell::sync::Lazy;
use serde::Deserialize;
use tokio::sync::Semaphore;

use super::cookies::{LOGIN_COOKIE, SESSION_COOKIE, cookie, set_cookie};
use crate::app::{App, AppError};
use crate::auth::login_csrf::MAX_AGE_MS;
use crate::auth::session::Session;
use crate::auth::throttle::Client;
use crate::auth::{Role, password};
use crate::format::now_ms;
use crate::pages::{home, login::login_page};
use fmd_runtime::store::read::User;

/// Password checks (and hashes) that may run at once in this process.
pub const MAX_CONCURRENT_CHECKS: usize = 2;
/// Longest username accepted, in bytes (longer ones are refused, never stored).
pub const MAX_USERNAME: usize = 64;
/// Largest login form body read (username, password, token).
pub const MAX_LOGIN_FORM: usize = 16 * 1024;

/// The permits of argon2 work, process-wide (every dashboard of the process shares them).
static PASSWORD_WORK: Semaphore = Semaphore::const_new(MAX_CONCURRENT_CHECKS);

/// Verified against when the account does not exist, so both cases cost the same.
static DUMMY_HASH: Lazy<String> = Lazy::new(|| password::hash("fmd-dummy").unwrap_or_default());

/// The throttle bucket of a request: its peer address when the server was started with
/// `into_make_service_with_connect_info::<SocketAddr>()`, else the shared unknown bucket.
/// Forwarded headers are not trusted (any client could set them).
pub(super) fn client_of(extensions: &Extensions) -> Client {
    Client::of(
        extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip()),
    )
}

/// What a password check found.
pub(super) enum Checked {
    /// The password is right.
    Right(User),
    /// Unknown account or wrong password.
    Wrong,
    /// The client must wait this many milliseconds (throttled).
    Wait(i64),
    /// Too many checks are running; try again in a moment.
    Busy,
}

/// Checks `username`'s `password` within the throttle and the process-wide limit.
pub(super) async fn check_password(
    app: &Arc<App>,
    client: Client,
    username: &str,
    password: String,
) -> Result<Checked, AppError> {
    if let Err(wait) = app.throttle.begin(client, username, now_ms()) {
        return Ok(Checked::Wait(wait));
    }
    let Ok(permit) = PASSWORD_WORK.try_acquire() else {
        app.throttle.not_checked(client, username);
        return Ok(Checked::Busy);
    };
    let name = username.to_owned();
    let result = match app.with_store(move |s| s.user(&name)).await {
        Ok(user) => tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let phc = user
                .as_ref()
                .map_or_else(|| DUMMY_HASH.clone(), |u| u.password_hash.clone());
            let ok = password::verify(&password, &phc);
            Ok::<_, AppError>(user.filter(|_| ok))
        })
        .await
        .unwrap_or(Ok(None)),
        Err(e) => Err(e),
    };
    match result {
        Ok(Some(user)) => {
            app.throttle.succeeded(client, username);
            Ok(Checked::Right(user))
        }
        Ok(None) => Ok(Checked::Wrong),
        Err(e) => {
            app.throttle.not_checked(client, username);
            Err(e)
        }
    }
}

/// Hashes a new password under the same process-wide limit (waiting for a permit: only
/// logged-in accounts set passwords). `None` if hashing failed.
pub(super) async fn hash_password(password: String) -> Option<String> {
    let permit = PASSWORD_WORK.acquire().await.ok()?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        password::hash(&password)
    })
    .await
    .ok()
    .flatten()
}

/// The message and `Retry-After` of a throttled or busy attempt.
pub(super) fn too_many(checked: &Checked) -> (String, u64) {
    match checked {
        Checked::Wait(ms) => {
            let s = ((ms + 999) / 1000).max(1) as u64;
            (format!("Too many failed attempts; try again in {s} s."), s)
        }
        _ => (
            "The server is busy checking other passwords; try again in a moment.".to_owned(),
            1,
        ),
    }
}

fn with_cookie(mut res: Response, value: String) -> Response {
    if let Ok(v) = value.parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// The form, with a fresh pre-session CSRF pair: the cookie and, in a hidden field, the
/// token the server derived from it (see [`crate::auth::login_csrf`]).
fn render(app: &App, headers: &HeaderMap, status: StatusCode, error: Option<&str>) -> Response {
    let (cookie, token) = app.login_csrf.issue(now_ms());
    let res = (status, login_page(&app.base, &token, error)).into_response();
    let max_age = (MAX_AGE_MS / 1000) as u32;
    with_cookie(
        res,
        set_cookie(app, headers, LOGIN_COOKIE, &cookie, Some(max_age)),
    )
}

/// Whether the browser says the form was sent from another site (`Sec-Fetch-Site`).
fn cross_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"))
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

/// `POST /login`: check that the form's token is the one issued with its cookie (and that
/// the browser does not call the request cross-site) and the username's length,
/// check the password (throttled, bounded), then start a session under a new id.
pub async fn submit(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    extensions: Extensions,
    Form(c): Form<Credentials>,
) -> Result<Response, AppError> {
    let pre_session = cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    if cross_site(&headers) || !app.login_csrf.verify(pre_session, &c.csrf, now_ms()) {
        return Ok(render(
            &app,
            &headers,
            StatusCode::FORBIDDEN,
            Some("The form expired; please try again."),
        ));
    }
    if c.username.len() > MAX_USERNAME {
        let msg = format!("Usernames have at most {MAX_USERNAME} bytes.");
        return Ok(render(&app, &headers, StatusCode::BAD_REQUEST, Some(&msg)));
    }
    let client = client_of(&extensions);
    let user = match check_password(&app, client, &c.username, c.password).await? {
        Checked::Right(user) => user,
        Checked::Wrong => {
            return Ok(render(
                &app,
                &headers,
                StatusCode::UNAUTHORIZED,
                Some("Wrong username or password."),
            ));
        }
        busy => {
            let (msg, retry) = too_many(&busy);
            let mut res = render(&app, &headers, StatusCode::TOO_MANY_REQUESTS, Some(&msg));
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry));
            return Ok(res);
        }
    };
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

/// `POST /logout`: end the session and clear its cookie; with the field `everywhere=1`,
/// end every session of the account ("log out everywhere").
pub async fn logout(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let everywhere = form_urlencoded::parse(&body).any(|(k, v)| k == "everywhere" && v == "1");
    if everywhere {
        app.sessions.revoke_user(&session.username, None);
    } else if let Some(id) = cookie(&headers, SESSION_COOKIE) {
        app.sessions.remove(id);
    }
    let res = Redirect::to(&format!("{}/login", app.base)).into_response();
    with_cookie(res, set_cookie(&app, &headers, SESSION_COOKIE, "", Some(0)))
}
