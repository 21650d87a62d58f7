//! Looking at a database without changing it: what `fmd check` and `fmd prune --dry-run`
//! read. Nothing here migrates, creates or writes; a SQLite file is opened read-only.
//!
//! The SQL is in each engine's `check` module; this file only picks the engine.

use super::read::PruneReport;
use super::{AnyReader, StoreError};
use crate::config::Database;

/// What `fmd check` reports about a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// The schema version stored in `fmd_meta`; 0 when there is none (not an fmd
    /// database yet, or a file no fmd ever migrated).
    pub schema_version: i64,
    /// The schema version this build writes (a migration is pending when the stored one
    /// is lower).
    pub expected_version: i64,
    /// Size on disk: the SQLite file (its `-wal` file not included), or the PostgreSQL
    /// database (`pg_database_size`).
    pub size_bytes: Option<u64>,
    /// Row counts of the main tables; `None` for a table that does not exist.
    pub counts: TableCounts,
}

impl CheckReport {
    /// A migration is pending: the next fmd that opens the database for writing upgrades it.
    pub fn migration_pending(&self) -> bool {
        self.schema_version < self.expected_version
    }
}

/// Rows in the main tables (`None`: the table is missing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableCounts {
    /// `request`.
    pub requests: Option<u64>,
    /// `endpoint`.
    pub endpoints: Option<u64>,
    /// `exception_group`.
    pub exception_groups: Option<u64>,
    /// `exception_occurrence`.
    pub occurrences: Option<u64>,
    /// `fmd_user`.
    pub users: Option<u64>,
}

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
        Database::Sqlite(path) => super::sqlite::check::reader(path).map(AnyReader::Sqlite),
        #[cfg(feature = "postgres")]
        Database::Postgres(url) => super::postgres::check::reader(url).map(AnyReader::Postgres),
        #[cfg(not(feature = "postgres"))]
        Database::Postgres(_) => Err(StoreError::without_postgres()),
    }
}
