//! PostgreSQL, for many instances of a service writing to one database (cargo feature
//! `postgres`). Chosen by a `postgres://` or `postgresql://` URL in `FMD_DATABASE`.
//!
//! The same schema semantics as the SQLite engine (times in Unix ms, durations in µs,
//! `BIGSERIAL` ids, each distinct thing stored once), the same read model. What differs is
//! how: migrations serialize on an advisory lock, each batch is a handful of set-based
//! statements over arrays (`INSERT .. SELECT FROM unnest(..)`) in one transaction, and
//! concurrent writers are expected (deadlocks and serialization failures are retried).
//!
//! - [`schema`]: tables, indexes and migrations;
//! - `write`: the writer's [`PgStore`];
//! - `read` (`dashboard`, `perf`, `request_log`, as in `store/read/`): the dashboard's
//!   [`PgReader`].

pub(crate) mod check;
mod dictionaries;
mod issues;
mod read;
pub mod schema;
mod tls;
mod write;

pub use read::PgReader;
pub use write::{PgStore, roll_up_request};

use super::StoreError;
use postgres::error::SqlState;
use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

/// Connects to `url` (a libpq-style `postgres://` URL) with the TLS its `sslmode` asks for
/// (see [`tls`]), as `application_name` `fmd` unless the URL names one, with JIT
/// compilation off.
pub(crate) fn connect(url: &str) -> Result<postgres::Client, StoreError> {
    let (url, tls) = tls::split(url)?;
    let mut config = postgres::Config::from_str(&url).map_err(|e| StoreError {
        message: format!("invalid PostgreSQL URL: {e}"),
        transient: false,
    })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(5));
    }
    if config.get_application_name().is_none() {
        config.application_name("fmd");
    }
    let connected = match tls.mode {
        tls::Mode::Disable => config.connect(postgres::NoTls),
        // As libpq: when the TLS handshake itself fails, try once more without TLS (the
        // driver falls back by itself only when the server declines TLS).
        tls::Mode::Prefer => config.connect(tls::connector(&tls)?).or_else(|e| {
            if tls::is_handshake_failure(&e) {
                config.connect(postgres::NoTls)
            } else {
                Err(e)
            }
        }),
        _ => config.connect(tls::connector(&tls)?),
    };
    let mut client = connected.map_err(|e| match tls.mode {
        tls::Mode::Disable | tls::Mode::Prefer => store_error("connect", e),
        mode => store_error(&format!("connect (sslmode={mode})"), e),
    })?;
    // fmd's statements are short; compiling one with JIT costs more than running it (an
    // overview at a million requests: 3 ms to run, 90 ms to compile). A server without
    // the setting refuses it, which changes nothing.
    let _ = client.batch_execute("SET jit = off");
    Ok(client)
}

/// Whether retrying the whole transaction at once may succeed (a concurrent writer won).
pub(crate) fn is_conflict(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE
    )
}

/// Whether `e` is a foreign-key failure (a cached id whose row was deleted meanwhile).
pub(crate) fn is_stale_reference(e: &postgres::Error) -> bool {
    e.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION)
}

/// Maps a driver error to a [`StoreError`]: transient when the server is unreachable,
/// gone, starting, shutting down, out of room or busy with a conflicting writer.
pub(crate) fn store_error(context: &str, e: postgres::Error) -> StoreError {
    let transient = match e.code() {
        // No SQLSTATE: the connection failed (refused, reset, closed, timed out) — or a
        // value did not convert, which no retry mends.
        None => {
            e.is_closed()
                || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>())
                || e.to_string().contains("timeout")
        }
        Some(code) => {
            let class = &code.code()[..2];
            // 08 connection exception, 53 insufficient resources, 57 operator
            // intervention (shutdown, cannot connect now), 58 system error (I/O),
            // 40 transaction rollback (deadlock, serialization), 25006 read-only.
            matches!(class, "08" | "53" | "57" | "58" | "40")
                || *code == SqlState::READ_ONLY_SQL_TRANSACTION
        }
    };
    let detail = match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        // The driver's own text is only the kind ("error performing TLS handshake"); the
        // why is in its sources ("certificate verify failed", "connection refused").
        None => {
            let mut detail = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                let text = cause.to_string();
                // Some errors print their own source as well.
                if !detail.contains(&text) {
                    detail.push_str(": ");
                    detail.push_str(&text);
                }
                source = cause.source();
            }
            detail
        }
    };
    StoreError {
        message: format!("{context}: {detail}"),
        transient,
    }
}

/// `?` on a driver error where a [`StoreError`] is returned (the read model): the same
/// transient classification as `store_error`, labelled with the place in the engine
/// that failed (`store/postgres/read/dashboard.rs:212: ...`).
impl From<postgres::Error> for StoreError {
    #[track_caller]
    fn from(e: postgres::Error) -> StoreError {
        store_error(&super::caller(), e)
    }
}

/// The shared row mappers read a PostgreSQL row through this (every integer column is
/// `BIGINT`).
impl crate::store::rows::Columns for postgres::Row {
    type Error = postgres::Error;

    fn int(&self, i: usize) -> Result<i64, postgres::Error> {
        self.try_get(i)
    }

    fn opt_int(&self, i: usize) -> Result<Option<i64>, postgres::Error> {
        self.try_get(i)
    }

    fn text(&self, i: usize) -> Result<String, postgres::Error> {
        self.try_get(i)
    }

    fn opt_text(&self, i: usize) -> Result<Option<String>, postgres::Error> {
        self.try_get(i)
    }

    fn flag(&self, i: usize) -> Result<bool, postgres::Error> {
        self.try_get(i)
    }

    fn opt_flag(&self, i: usize) -> Result<Option<bool>, postgres::Error> {
        self.try_get(i)
    }
}

/// PostgreSQL text cannot hold NUL characters; they are stored as U+FFFD.
pub(crate) fn text(s: &str) -> Cow<'_, str> {
    if s.contains('\0') {
        Cow::Owned(s.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// A client that is closed off any async runtime.
///
/// The driver blocks on a runtime of its own, also to close the connection when the client
/// is dropped, and tokio forbids that on a thread that drives async tasks. The dashboard's
/// reader may be dropped there (with the router), so closing happens on a short-lived
/// thread of its own.
pub(crate) struct Conn(Option<postgres::Client>);

impl Conn {
    pub(crate) fn new(client: postgres::Client) -> Conn {
        Conn(Some(client))
    }
}

impl std::ops::Deref for Conn {
    type Target = postgres::Client;

    fn deref(&self) -> &postgres::Client {
        self.0
            .as_ref()
            .expect("a Conn holds its client until it is dropped")
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut postgres::Client {
        self.0
            .as_mut()
            .expect("a Conn holds its client until it is dropped")
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            let closing = std::thread::Builder::new()
                .name("fmd-pg-close".to_owned())
                .spawn(move || drop(client));
            // Without a thread the closure, and so the client, is dropped right here.
            if let Err(e) = closing {
                eprintln!("fmd: cannot start a thread to close a PostgreSQL connection: {e}");
            }
        }
    }
}
