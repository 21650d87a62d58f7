//! Looking at a database without changing it: what `fmd check` and `fmd prune --dry-run`
//! read. Nothing here migrates, creates or writes; a SQLite file is opened read-only.
//!
//! The SQL is in each engine's `check` module; this file only picks the engine.

use super::read::PruneReport;
use super::{AnyReader, StoreError};
use crate::config::Database;

pub use super::read::check::{CheckReport, TableCounts};

/// Reads the schema version, size and row counts of `database` without changing anything.
///
/// A SQLite file that does not exist is an error (it is not created).
pub fn check(database: &Database) -> Result<CheckReport, StoreError> {
    match database {
        Database::Sqlite(path) => super::sqlite::check::check(path),
        #[cfg(feature = "postgres")]
        Database::Postgres(url) => super::postgres::check::check(url),
        #[cfg(not(feature = "postgres"))]
        Database::Postgres(_) => Err(StoreError::without_postgres()),
    }
}

/// What [`DashboardStore::prune`](super::read::DashboardStore::prune) with this `cutoff`
/// would delete, counted without deleting anything. Counts of rows deleted only because
/// others were (orphaned frames, types, messages) are not part of a [`PruneReport`]; the
/// duration-histogram rows of the cutoff's own day, which pruning thins, are not counted.
pub fn prune_preview(database: &Database, cutoff: i64) -> Result<PruneReport, StoreError> {
    match database {
        Database::Sqlite(path) => super::sqlite::check::prune_preview(path, cutoff),
        #[cfg(feature = "postgres")]
        Database::Postgres(url) => super::postgres::check::prune_preview(url, cutoff),
        #[cfg(not(feature = "postgres"))]
        Database::Postgres(_) => Err(StoreError::without_postgres()),
    }
}

/// A reader that never migrates: a SQLite file opened read-only (its schema must be
/// current, see [`check`]), or a PostgreSQL connection in a read-only session.
pub fn open_read_only(database: &Database) -> Result<AnyReader, StoreError> {
    match database {
        Database::Sqlite(path) => super::sqlite::check::reader(path).map(AnyReader::from),
        #[cfg(feature = "postgres")]
        Database::Postgres(url) => super::postgres::check::reader(url).map(AnyReader::from),
        #[cfg(not(feature = "postgres"))]
        Database::Postgres(_) => Err(StoreError::without_postgres()),
    }
}
