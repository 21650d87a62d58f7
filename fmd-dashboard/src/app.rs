//! The dashboard's state, below the routes and the API that use it: the store connection, sessions, throttling.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;

use crate::auth::login_csrf::LoginCsrf;
use crate::auth::{self, session::Sessions, throttle::Throttle, tokens::Tokens};
use crate::format::now_ms;
use crate::host::Host;
use crate::pool::{Opener, Pool, PoolError, STATEMENT_LIMIT};
use fmd_runtime::Database;
use fmd_runtime::store::{AnyReader, StoreError};

/// The longest building the router waits for the database (a locked file, an
/// unreachable server) before going on.
pub const WARM_UP_WAIT: Duration = Duration::from_secs(5);

/// State behind every handler.
pub struct App {
    pub database: Database,
    pub base: String,
    pub retention: crate::retention::Retention,
    pub host: Arc<dyn Host>,
    pub sessions: Sessions,
    pub throttle: Throttle,
    /// Issues and checks the login form's CSRF tokens (a key of this dashboard's own).
    pub login_csrf: LoginCsrf,
    /// Bearer tokens of `/metrics` and the JSON API.
    pub tokens: Tokens,
    /// The dashboard's own database threads and their connections.
    pool: Pool,
}

/// A failure a handler reports as a page.
#[derive(Debug)]
pub enum AppError {
    /// The database could not be opened or queried.
    Store(String),
    /// Nothing at this address.
    NotFound,
    /// The database threads are all busy (or the database answers too slowly).
    Busy,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::NotFound => (StatusCode::NOT_FOUND, "Not found").into_response(),
            AppError::Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "5")],
                crate::pool::BUSY,
            )
                .into_response(),
            AppError::Store(e) => {
                eprintln!("fmd dashboard: database error: {e}");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The fmd database is unavailable; see the application's log.",
                )
                    .into_response()
            }
        }
    }
}

impl From<PoolError> for AppError {
    fn from(e: PoolError) -> Self {
        match e {
            PoolError::Store(e) => AppError::Store(e),
            PoolError::Busy => AppError::Busy,
        }
    }
}

impl App {
    pub fn new(
        database: Database,
        base: String,
        username: Option<String>,
        password: Option<String>,
        retention: crate::retention::Retention,
        host: Arc<dyn Host>,
    ) -> Self {
        let pool = Pool::start(opener(database.clone(), username, password));
        App {
            database,
            base,
            retention,
            host,
            sessions: Sessions::default(),
            throttle: Throttle::default(),
            login_csrf: LoginCsrf::default(),
            tokens: Tokens::default(),
            pool,
        }
    }

    /// Waits (at most [`WARM_UP_WAIT`]) until the database is open and the first admin
    /// exists, so a generated password is printed at start-up rather than on the first
    /// visit. Failures are retried later. The work runs on the dashboard's own threads
    /// (the router may be built inside an async runtime, where the PostgreSQL driver's
    /// blocking client must not run); they go on opening if the wait runs out, and run
    /// no page's queries before.
    pub fn warm_up(&self) {
        if let Err(e) = self.pool.run_blocking(WARM_UP_WAIT, |_| Ok(())) {
            eprintln!("fmd dashboard: cannot open {}: {e:?}", self.database);
        }
    }

    /// Runs a page's queries `f` on the dashboard's own threads (see [`crate::pool`]).
    pub async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut AnyReader) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, AppError> {
        Ok(self.pool.run(Some(STATEMENT_LIMIT), f).await?)
    }

    /// Like [`App::with_store`] for maintenance an admin asked for (pruning), which may
    /// run longer than a page's queries: only each statement is bounded (PostgreSQL).
    pub async fn with_store_unbounded<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut AnyReader) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, AppError> {
        Ok(self.pool.run(None, f).await?)
    }
}

/// Opens a connection for a database thread and creates the first admin if the database
/// has no account (a new file, also one that replaced a deleted file), one thread at a
/// time, so two threads never both create it.
fn opener(database: Database, username: Option<String>, password: Option<String>) -> Arc<Opener> {
    let one_at_a_time = Mutex::new(());
    Arc::new(move || {
        let mut reader = AnyReader::open_bounded(&database, STATEMENT_LIMIT)?;
        let _turn = one_at_a_time.lock();
        auth::bootstrap_admin(
            &mut *reader,
            username.as_deref(),
            password.as_deref(),
            now_ms(),
        )?;
        Ok(reader)
    })
}

/// The largest `?page=` the pages accept: far past any real list, and small enough that
/// `page × rows per page` never overflows.
pub const MAX_PAGE_NO: u64 = 1 << 32;

/// Reads a `?page=` number; above [`MAX_PAGE_NO`] the query is refused with a 400, like
/// any other malformed query.
pub fn page_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let page = <u64 as serde::Deserialize>::deserialize(d)?;
    if page > MAX_PAGE_NO {
        return Err(serde::de::Error::custom(format!(
            "page must be at most {MAX_PAGE_NO}"
        )));
    }
    Ok(page)
}
