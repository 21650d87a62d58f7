//! The dashboard's engine-neutral reader: one trait object over whichever engine the
//! configuration names, so the pages never name an engine's crate.
//!
//! The read traits return [`StoreError`] themselves (each engine converts its driver's
//! error with `From`, in its own module), so nothing here forwards a query: a new query
//! is declared in its read trait and written in each engine, and [`AnyReader`] has it.

use super::dashboard::DashboardStore;
use super::issue_rates::IssueRates;
use super::issues::IssueStore;
use super::perf::PerfStore;
use super::request_log::RequestLog;
use crate::config::Database;
use crate::store::StoreError;
use crate::store::sqlite::Deadline;
use crate::store::sqlite::SqliteReader;
use std::any::Any;
use std::time::Duration;

/// Everything the dashboard reads: the five read traits of one engine's reader.
pub trait Reader:
    DashboardStore + PerfStore + RequestLog + IssueStore + IssueRates + Send + Any
{
}

impl<T: DashboardStore + PerfStore + RequestLog + IssueStore + IssueRates + Send + Any> Reader
    for T
{
}

/// A dashboard connection to whichever engine the configuration names: a boxed
/// [`Reader`], whose queries are called through it.
///
/// ```no_run
/// use fmd_runtime::Database;
/// use fmd_runtime::store::AnyReader;
/// use fmd_runtime::store::read::DashboardStore;
///
/// let mut store = AnyReader::open(&Database::parse("fmd.db"))?;
/// let endpoints = store.overview(0, None)?;
/// # Ok::<(), fmd_runtime::store::StoreError>(())
/// ```
pub struct AnyReader {
    reader: Box<dyn Reader>,
    /// The end of the current piece of work, for a SQLite connection opened with
    /// [`AnyReader::open_bounded`] (PostgreSQL bounds each statement on the server).
    deadline: Option<Deadline>,
}

impl AnyReader {
    /// Connects to `database`, creating and migrating its schema if needed.
    pub fn open(database: &Database) -> Result<AnyReader, StoreError> {
        match database {
            Database::Sqlite(path) => SqliteReader::open(path)
                .map(AnyReader::from)
                .map_err(|e| crate::store::sqlite::store_error("open", e)),
            #[cfg(feature = "postgres")]
            Database::Postgres(url) => {
                crate::store::postgres::PgReader::open(url).map(AnyReader::from)
            }
            #[cfg(not(feature = "postgres"))]
            Database::Postgres(_) => Err(StoreError::without_postgres()),
        }
    }

    /// Connects like [`AnyReader::open`], for a server whose threads must not wait long:
    /// a statement waits at most `limit` for a lock, and runs at most `limit` (PostgreSQL:
    /// `statement_timeout`; SQLite: the work begun with [`AnyReader::start_work`] is
    /// interrupted once `limit` has passed). A failure past it is a [`StoreError`].
    pub fn open_bounded(database: &Database, limit: Duration) -> Result<AnyReader, StoreError> {
        match database {
            Database::Sqlite(path) => {
                let mut reader = SqliteReader::open(path)
                    .map_err(|e| crate::store::sqlite::store_error("open", e))?;
                let wait = limit.min(Duration::from_secs(5));
                reader
                    .connection()
                    .busy_timeout(wait)
                    .map_err(|e| crate::store::sqlite::store_error("configure", e))?;
                let deadline = reader
                    .deadline()
                    .map_err(|e| crate::store::sqlite::store_error("configure", e))?;
                let mut reader = AnyReader::from(reader);
                reader.deadline = Some(deadline);
                Ok(reader)
            }
            #[cfg(feature = "postgres")]
            Database::Postgres(url) => {
                let mut reader = crate::store::postgres::PgReader::open(url)?;
                let ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX).max(1);
                reader
                    .client()
                    .batch_execute(&format!("SET statement_timeout = {ms}"))
                    .map_err(|e| crate::store::postgres::store_error("configure", e))?;
                Ok(AnyReader::from(reader))
            }
            #[cfg(not(feature = "postgres"))]
            Database::Postgres(_) => Err(StoreError::without_postgres()),
        }
    }

    /// Begins a piece of work (a page's queries) that may run for `limit` from now, on a
    /// connection opened with [`AnyReader::open_bounded`]; `None`: unbounded.
    pub fn start_work(&mut self, limit: Option<Duration>) {
        if let Some(d) = &self.deadline {
            d.start(limit);
        }
    }

    /// The engine's own reader, if it is an `R` (tests and fixtures that look at the
    /// database directly): `reader.downcast_mut::<SqliteReader>()`.
    pub fn downcast_mut<R: Reader>(&mut self) -> Option<&mut R> {
        let reader: &mut dyn Any = &mut *self.reader;
        reader.downcast_mut()
    }
}

impl<R: Reader + 'static> From<R> for AnyReader {
    fn from(reader: R) -> Self {
        AnyReader {
            reader: Box::new(reader),
            deadline: None,
        }
    }
}

impl std::ops::Deref for AnyReader {
    type Target = dyn Reader;

    fn deref(&self) -> &(dyn Reader + 'static) {
        &*self.reader
    }
}

impl std::ops::DerefMut for AnyReader {
    fn deref_mut(&mut self) -> &mut (dyn Reader + 'static) {
        &mut *self.reader
    }
}
