//! What `fmd check` reports about a database: plain data, filled by each engine.

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
