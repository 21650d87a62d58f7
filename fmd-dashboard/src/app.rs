//! The dashboard's state, below the routes and the API that use it: the store connection, sessions, throttling.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;

use crate::auth::login_csrf::LoginCsrf;
use crate::auth::{self, session::Sessions, throttle::Throttle, tokens::Tokens};
use crate::format::now_ms;
use crate::host::Host;
use fmd_runtime::Database;
use fmd_runtime::store::read::DAY_MS;
use fmd_runtime::store::{AnyReader, StoreError};

/// State behind every handler.
pub struct App {
    pub database: Database,
    pub base: String,
    username: Option<String>,
    password: Option<String>,
    pub retention_weeks: Option<u32>,
    pub host: Arc<dyn Host>,
    pub sessions: Sessions,
    pub throttle: Throttle,
    /// Issues and checks the login form's CSRF tokens (a key of this dashboard's own).
    pub login_csrf: LoginCsrf,
    /// Bearer tokens of `/metrics` and the JSON API.
    pub tokens: Tokens,
    /// One connection, opened on first use and reopened after a failure.
    store: Mutex<Option<AnyReader>>,
}

/// A failure a handler reports as a page.
#[derive(Debug)]
pub enum AppError {
    /// The database could not be opened or queried.
    Store(String),
    /// Nothing at this address.
    NotFound,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::NotFound => (StatusCode::NOT_FOUND, "Not found").into_response(),
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

impl App {
    pub fn new(
        database: Database,
        base: String,
        username: Option<String>,
        password: Option<String>,
        retention_weeks: Option<u32>,
        host: Arc<dyn Host>,
    ) -> Self {
        App {
            database,
            base,
            username,
            password,
            retention_weeks,
            host,
            sessions: Sessions::default(),
            throttle: Throttle::default(),
            login_csrf: LoginCsrf::default(),
            tokens: Tokens::default(),
            store: Mutex::new(None),
        }
    }

    /// Opens the database and creates the first admin now, so a generated password is
    /// printed at start-up rather than on the first visit. Failures are retried later.
    /// The router may be built inside an async runtime, where a blocking client (the
    /// PostgreSQL driver runs its own) must not run: the first connection is made on a
    /// thread of its own.
    pub fn warm_up(&self) {
        let result = std::thread::scope(|scope| {
            scope
                .spawn(|| self.run(|_| Ok(())))
                .join()
                .unwrap_or_else(|_| Err(AppError::Store("panic while connecting".into())))
        });
        if let Err(e) = result {
            eprintln!("fmd dashboard: cannot open {}: {e:?}", self.database);
        }
    }

    /// Runs `f` on the (lazily opened) connection, on the calling thread.
    pub fn run<T>(
        &self,
        f: impl FnOnce(&mut AnyReader) -> Result<T, StoreError>,
    ) -> Result<T, AppError> {
        let mut guard = self.store.lock();
        if guard.is_none() {
            let mut reader =
                AnyReader::open(&self.database).map_err(|e| AppError::Store(e.to_string()))?;
            auth::bootstrap_admin(
                &mut *reader,
                self.username.as_deref(),
                self.password.as_deref(),
                now_ms(),
            )
            .map_err(|e| AppError::Store(e.to_string()))?;
            *guard = Some(reader);
        }
        let Some(reader) = guard.as_mut() else {
            return Err(AppError::Store("no connection".into()));
        };
        f(reader).map_err(|e| {
            // A broken connection is reopened next time.
            *guard = None;
            AppError::Store(e.to_string())
        })
    }

    /// Runs `f` on the connection from a blocking thread.
    pub async fn with_store<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut AnyReader) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, AppError> {
        let app = self.clone();
        tokio::task::spawn_blocking(move || app.run(f))
            .await
            .map_err(|e| AppError::Store(e.to_string()))?
    }
}

/// Prunes data older than `weeks` one minute after start and then every hour, on its own
/// thread and connection (so it needs no async runtime).
pub fn start_retention(database: Database, weeks: u32) {
    let spawned = std::thread::Builder::new()
        .name("fmd-retention".into())
        .spawn(move || {
            std::thread::sleep(Duration::from_secs(60));
            loop {
                let cutoff = now_ms() - i64::from(weeks) * 7 * DAY_MS;
                match AnyReader::open(&database).and_then(|mut s| s.prune(cutoff)) {
                    Ok(r) if r.requests + r.occurrences > 0 => eprintln!(
                        "fmd: retention removed {} requests, {} exception occurrences, {} groups",
                        r.requests, r.occurrences, r.groups
                    ),
                    Ok(_) => {}
                    Err(e) => eprintln!("fmd: retention failed: {e}"),
                }
                std::thread::sleep(Duration::from_secs(3600));
            }
        });
    if let Err(e) = spawned {
        eprintln!("fmd: cannot start the retention thread: {e}");
    }
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
