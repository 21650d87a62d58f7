//! The dashboard's engine-neutral reader: one trait object over whichever engine the
//! configuration names, so the pages never name an engine's crate.
//!
//! The read traits return [`StoreError`] themselves (each engine converts its driver's
//! error with `From`, in its own module), so nothing here forwards a query: a new query
//! is declared in its read trait and written in each engine, and [`AnyReader`] has it.

use super::dashboard::DashboardStore;
use super::issues::IssueStore;
use super::perf::PerfStore;
use super::request_log::RequestLog;
use crate::config::Database;
use crate::store::StoreError;
use crate::store::sqlite::SqliteReader;
use std::any::Any;

/// Everything the dashboard reads: the four read traits of one engine's reader.
pub trait Reader: DashboardStore + PerfStore + RequestLog + IssueStore + Send + Any {}

impl<T: DashboardStore + PerfStore + RequestLog + IssueStore + Send + Any> Reader for T {}

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
pub struct AnyReader(Box<dyn Reader>);

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

    /// The engine's own reader, if it is an `R` (tests and fixtures that look at the
    /// database directly): `reader.downcast_mut::<SqliteReader>()`.
    pub fn downcast_mut<R: Reader>(&mut self) -> Option<&mut R> {
        let reader: &mut dyn Any = &mut *self.0;
        reader.downcast_mut()
    }
}

impl<R: Reader + 'static> From<R> for AnyReader {
    fn from(reader: R) -> Self {
        AnyReader(Box::new(reader))
    }
}

impl std::ops::Deref for AnyReader {
    type Target = dyn Reader;

    fn deref(&self) -> &(dyn Reader + 'static) {
        &*self.0
    }
}

impl std::ops::DerefMut for AnyReader {
    fn deref_mut(&mut self) -> &mut (dyn Reader + 'static) {
        &mut *self.0
    }
}
