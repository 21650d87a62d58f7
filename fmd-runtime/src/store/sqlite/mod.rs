//! The embedded default: one SQLite file in WAL mode.

pub(crate) mod check;
mod deadline;
mod dictionaries;
mod identity;
mod issues;
mod read;
pub mod schema;
mod write;

pub(crate) use deadline::Deadline;
pub use read::SqliteReader;
pub use write::{SqliteStore, roll_up_request};

use super::StoreError;
use rusqlite::ErrorCode;

/// Maps a rusqlite error to a [`StoreError`], deciding whether it is worth retrying.
pub(crate) fn store_error(context: &str, e: rusqlite::Error) -> StoreError {
    StoreError {
        message: format!("{context}: {e}"),
        transient: is_transient(&e),
    }
}

/// `?` on a rusqlite error where a [`StoreError`] is returned (the read model): the same
/// transient classification as `store_error`, labelled with the place in the engine
/// that failed (`store/sqlite/read/dashboard.rs:212: ...`).
impl From<rusqlite::Error> for StoreError {
    #[track_caller]
    fn from(e: rusqlite::Error) -> StoreError {
        store_error(&super::caller(), e)
    }
}

/// The storage itself is unavailable (locked, read-only, full, gone): retrying may help.
fn is_transient(e: &rusqlite::Error) -> bool {
    match e {
        rusqlite::Error::SqliteFailure(f, _) => matches!(
            f.code,
            ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
                | ErrorCode::ReadOnly
                | ErrorCode::DiskFull
                | ErrorCode::SystemIoFailure
                | ErrorCode::CannotOpen
                | ErrorCode::FileLockingProtocolFailed
                | ErrorCode::NotADatabase
                | ErrorCode::DatabaseCorrupt
                | ErrorCode::PermissionDenied
                | ErrorCode::OutOfMemory
        ),
        _ => false,
    }
}

/// Whether `e` is a foreign-key failure (a cached id whose row was deleted meanwhile).
pub(crate) fn is_stale_reference(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.code == ErrorCode::ConstraintViolation
            && f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY)
}

/// The shared row mappers read a SQLite row through this.
impl crate::store::rows::Columns for rusqlite::Row<'_> {
    type Error = rusqlite::Error;

    fn int(&self, i: usize) -> rusqlite::Result<i64> {
        self.get(i)
    }

    fn opt_int(&self, i: usize) -> rusqlite::Result<Option<i64>> {
        self.get(i)
    }

    fn text(&self, i: usize) -> rusqlite::Result<String> {
        self.get(i)
    }

    fn opt_text(&self, i: usize) -> rusqlite::Result<Option<String>> {
        self.get(i)
    }

    fn flag(&self, i: usize) -> rusqlite::Result<bool> {
        self.get(i)
    }

    fn opt_flag(&self, i: usize) -> rusqlite::Result<Option<bool>> {
        self.get(i)
    }
}

#[cfg(test)]
mod tests {
    use crate::store::read::DashboardStore;

    #[test]
    fn a_read_error_names_the_place_in_the_engine_that_failed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut reader = super::SqliteReader::open(&dir.path().join("fmd.db")).expect("open");
        reader
            .connection()
            .execute_batch("DROP TABLE fmd_user")
            .expect("drop");
        let e = reader.count_users().expect_err("no table");
        assert!(
            e.message.starts_with("store/sqlite/read/dashboard.rs:")
                && e.message.contains("fmd_user"),
            "{}",
            e.message
        );
        assert!(!e.transient);
    }
}
