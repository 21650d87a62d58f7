//! Dashboard authentication: accounts, sessions, CSRF tokens and login throttling.
//!
//! - [`login_csrf`]: the login form's CSRF token, an HMAC the server issued.
//! - [`password`]: argon2 hashes, generated first passwords.
//! - [`session`]: server-side sessions keyed by a random id in an HttpOnly cookie, each with
//!   its own CSRF token.
//! - [`throttle`]: failed logins per client address and per account at an address slow
//!   further attempts down, in bounded memory.
//! - [`tokens`]: the bearer tokens of `/metrics` and the JSON API.
//! - [`bootstrap_admin`]: the first admin account, never with a default password.

pub mod login_csrf;
pub mod password;
pub mod session;
pub mod throttle;
pub mod tokens;

use fmd_runtime::store::StoreError;
use fmd_runtime::store::read::DashboardStore;
use serde::Serialize;

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Role {
    /// Reads every page.
    Viewer,
    /// Also changes levels, deletes groups and prunes data.
    Admin,
}

impl Role {
    /// Parses the `fmd_user.role` column; anything unknown is a viewer.
    pub fn from_db(role: &str) -> Role {
        if role == "admin" {
            Role::Admin
        } else {
            Role::Viewer
        }
    }
}

/// Creates the first admin when there is no account yet.
///
/// Uses `username`/`password` when both are given (`FMD_USERNAME`/`FMD_PASSWORD`);
/// otherwise generates a password and prints it once on stderr. Only the argon2 hash is
/// stored. Returns the generated password, if one was made and stored.
pub fn bootstrap_admin<S: DashboardStore + ?Sized>(
    store: &mut S,
    username: Option<&str>,
    password: Option<&str>,
    now: i64,
) -> Result<Option<String>, StoreError> {
    if store.count_users()? > 0 {
        return Ok(None);
    }
    let username = username.unwrap_or("admin");
    let (secret, generated) = match password {
        Some(p) if !p.is_empty() => (p.to_owned(), false),
        _ => (password::generate(), true),
    };
    let Some(hash) = password::hash(&secret) else {
        return Ok(None);
    };
    let created = store.create_user(username, &hash, "admin", now)?;
    if created && generated {
        eprintln!(
            "fmd: created dashboard account '{username}' with password '{secret}' \
             (shown once; set FMD_USERNAME and FMD_PASSWORD to choose your own)"
        );
        return Ok(Some(secret));
    }
    Ok(None)
}
