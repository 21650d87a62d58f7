//! Credentials: one's own password, an admin's reset and removal of accounts.
//!
//! Every route here needs a session (the admin ones the admin role) and its CSRF token:
//! the route table says so. A password change or reset, and a removal, end the account's
//! other sessions at once.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Extension, Query, State};
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::cookies::{SESSION_COOKIE, cookie};
use super::handlers::{NoticeQuery, ctx};
use super::login::{Checked, check_password, client_of, hash_password, too_many};
use crate::app::{App, AppError};
use crate::auth::session::Session;
use crate::pages::account::{AccountView, account_page};
use crate::pages::config::MIN_PASSWORD;

fn config_notice(app: &App, key: &str) -> Response {
    Redirect::to(&format!("{}/config?notice={key}", app.base)).into_response()
}

/// The account page with `status` and a notice (for refused changes).
fn page(app: &App, s: &Session, status: StatusCode, notice: &str) -> Response {
    let t = app.sessions.timeouts();
    let view = AccountView {
        session_created: s.created,
        idle_ms: t.idle_ms,
        lifetime_ms: t.lifetime_ms,
    };
    let mut c = ctx(app, s, "");
    c.notice = Some(notice).filter(|n| !n.is_empty());
    (status, account_page(&c, &view)).into_response()
}

/// `GET /account`.
pub async fn account(
    State(app): State<Arc<App>>,
    Extension(s): Extension<Session>,
    Query(n): Query<NoticeQuery>,
) -> Response {
    let notice = super::handlers::notice(&n.notice).unwrap_or("");
    page(&app, &s, StatusCode::OK, notice)
}

/// The password form of the account page.
#[derive(Deserialize)]
pub struct PasswordChange {
    current: String,
    new: String,
    confirm: String,
}

/// `POST /account/password`: change one's own password. The current password is checked
/// like a login (throttled, within the process-wide limit of password checks).
pub async fn change_password(
    State(app): State<Arc<App>>,
    Extension(s): Extension<Session>,
    headers: HeaderMap,
    extensions: Extensions,
    Form(f): Form<PasswordChange>,
) -> Result<Response, AppError> {
    if f.new != f.confirm {
        let msg = "The new password and its repetition differ; nothing changed.";
        return Ok(page(&app, &s, StatusCode::BAD_REQUEST, msg));
    }
    if f.new.chars().count() < MIN_PASSWORD {
        let msg = "The new password needs at least 12 characters; nothing changed.";
        return Ok(page(&app, &s, StatusCode::BAD_REQUEST, msg));
    }
    let client = client_of(&extensions);
    match check_password(&app, client, &s.username, f.current).await? {
        Checked::Right(_) => {}
        Checked::Wrong => {
            let msg = "The current password is wrong; nothing changed.";
            return Ok(page(&app, &s, StatusCode::FORBIDDEN, msg));
        }
        busy => {
            let (msg, retry) = too_many(&busy);
            let mut res = page(&app, &s, StatusCode::TOO_MANY_REQUESTS, &msg);
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry));
            return Ok(res);
        }
    }
    let hash = hash_password(f.new)
        .await
        .ok_or_else(|| AppError::Store("password hashing failed".into()))?;
    let name = s.username.clone();
    let changed = app
        .with_store(move |st| st.set_password_hash(&name, &hash))
        .await?;
    if !changed {
        return Err(AppError::NotFound);
    }
    app.sessions
        .revoke_user(&s.username, cookie(&headers, SESSION_COOKIE));
    Ok(Redirect::to(&format!("{}/account?notice=password_changed", app.base)).into_response())
}

/// An admin's form naming an account (and, for a reset, its new password).
#[derive(Deserialize)]
pub struct AccountForm {
    username: String,
    #[serde(default)]
    password: String,
}

/// `POST /users/password`: an admin sets another account's password (or their own,
/// without the current one: they are logged in as admin). Its sessions end.
pub async fn reset_password(
    State(app): State<Arc<App>>,
    Extension(s): Extension<Session>,
    headers: HeaderMap,
    Form(f): Form<AccountForm>,
) -> Result<Response, AppError> {
    if f.password.chars().count() < MIN_PASSWORD {
        return Ok(config_notice(&app, "user_invalid"));
    }
    let hash = hash_password(f.password)
        .await
        .ok_or_else(|| AppError::Store("password hashing failed".into()))?;
    let name = f.username.clone();
    let changed = app
        .with_store(move |st| st.set_password_hash(&name, &hash))
        .await?;
    if !changed {
        return Ok(config_notice(&app, "user_missing"));
    }
    let keep = (f.username == s.username)
        .then(|| cookie(&headers, SESSION_COOKIE))
        .flatten();
    app.sessions.revoke_user(&f.username, keep);
    Ok(config_notice(&app, "password_reset"))
}

/// `POST /users/delete`: an admin removes another account and ends its sessions. Nobody
/// removes themselves, so an admin always remains.
pub async fn delete_user(
    State(app): State<Arc<App>>,
    Extension(s): Extension<Session>,
    Form(f): Form<AccountForm>,
) -> Result<Response, AppError> {
    if f.username == s.username {
        return Ok(config_notice(&app, "user_self"));
    }
    let name = f.username.clone();
    let deleted = app.with_store(move |st| st.delete_user(&name)).await?;
    // End the sessions even if another request removed the row first.
    app.sessions.revoke_user(&f.username, None);
    Ok(config_notice(
        &app,
        if deleted {
            "user_deleted"
        } else {
            "user_missing"
        },
    ))
}
