//! The embedded default: one SQLite file in WAL mode.

pub(crate) mod check;
mod perf_queries;
pub mod queries;
mod request_log;
pub mod schema;
mod write;

pub use queries::SqliteReader;
pub use write::{SqliteStore, roll_up_request};

use super::StoreError;
use rusqlite::ErrorCode;

/// Maps a rusqlite error to a [`StoreError`], deciding whether it is worth retrying.
pub(crate) fn store_error(context: &str, e: rusqlite::Error) -> StoreError {
    let transient = match &e {
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
    };
    StoreError {
        message: format!("{context}: {e}"),
        transient,
    }
}

/// Whether `e` is a foreign-key failure (a cached id whose row was deleted meanwhile).
pub(crate) fn is_stale_reference(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.code == ErrorCode::ConstraintViolation
            && f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY)
}
