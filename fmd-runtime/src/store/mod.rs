//! Storage behind one interface: the writer writes batches, the dashboard reads.
//!
//! SQL specific to an engine stays inside that engine's module (`sqlite`, `postgres`
//! behind the cargo feature of that name); the writer thread and the dashboard only see
//! these traits, through [`open_store`] and [`AnyReader`], chosen by the configured
//! [`Database`](crate::Database).

pub mod check;
pub mod grouping;
pub mod histogram;
pub mod open;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod read;
pub(crate) mod rollup;
pub mod sqlite;

pub use open::open_store;
pub use read::AnyReader;

use crate::model::event::Event;
use std::fmt;

pub use crate::model::event::{BACKGROUND, CUT_NODE};

/// One stored request as the rollups see it.
#[derive(Debug, Clone, Copy)]
pub struct RolledRequest {
    /// `endpoint.id`.
    pub endpoint_id: i64,
    /// Start of the request (Unix ms).
    pub time_ms: i64,
    /// Its duration (µs).
    pub duration_us: i64,
    /// Response status; `None` when cancelled.
    pub status: Option<u16>,
    /// Dropped before it finished.
    pub cancelled: bool,
}

/// Deletes everything no group, occurrence, outlier or profile refers to any more,
/// innermost tables last. Plain SQL that every engine runs as it is (after deleting a
/// group, and at the end of pruning).
pub(crate) const CLEAN_ORPHANS: &str = "DELETE FROM exception_stackline WHERE snapshot_id NOT IN (
             SELECT snapshot_id FROM exception_group
             UNION SELECT snapshot_id FROM exception_occurrence
             UNION SELECT stack_id FROM outlier WHERE stack_id IS NOT NULL);
         DELETE FROM stack_trace_snapshot WHERE id NOT IN (
             SELECT snapshot_id FROM exception_group
             UNION SELECT snapshot_id FROM exception_occurrence
             UNION SELECT stack_id FROM outlier WHERE stack_id IS NOT NULL);
         DELETE FROM exception_frame WHERE id NOT IN (SELECT frame_id FROM exception_stackline);
         DELETE FROM function_location WHERE id NOT IN (
             SELECT location_id FROM exception_frame UNION SELECT location_id FROM profile_node);
         DELETE FROM function_definition WHERE id NOT IN (
             SELECT definition_id FROM function_location WHERE definition_id IS NOT NULL);
         DELETE FROM exception_type WHERE id NOT IN (
             SELECT type_id FROM exception_group UNION SELECT type_id FROM exception_occurrence);
         DELETE FROM exception_message WHERE id NOT IN (
             SELECT message_id FROM exception_group
             UNION SELECT message_id FROM exception_occurrence);";

/// What a store needs to know besides the events themselves.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// Stamped on every request row.
    pub version: String,
    /// Stamped on every request row.
    pub instance: String,
    /// Store function source text.
    pub store_source: bool,
    /// Group by normalized message.
    pub normalize_messages: bool,
    /// The git commit of the running build, if known (stored with the version).
    pub git_commit: Option<String>,
}

/// A storage failure, with whether retrying later may help.
#[derive(Debug)]
pub struct StoreError {
    /// What went wrong.
    pub message: String,
    /// The storage itself is unavailable (locked, read-only, full, gone): retry the batch.
    pub transient: bool,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StoreError {}

impl StoreError {
    /// A PostgreSQL URL given to a build without the `postgres` feature.
    #[cfg_attr(feature = "postgres", allow(dead_code))]
    pub(crate) fn without_postgres() -> StoreError {
        StoreError {
            message: "this build of fmd has no PostgreSQL support: enable the cargo feature \
                      `postgres`"
                .to_owned(),
            transient: false,
        }
    }
}

/// The writer's side of a store.
pub trait Store: Send {
    /// Writes the events of one batch in one transaction; `Flush` events are ignored.
    /// Returns how many events were stored.
    fn write_batch(&mut self, events: &[Event], options: &WriteOptions) -> Result<u64, StoreError>;

    /// Levels set from the dashboard, to apply at start-up: (endpoint name, level).
    fn stored_levels(&mut self) -> Result<Vec<(String, u8)>, StoreError>;

    /// Whether the store should be reopened (e.g. its file was deleted).
    fn needs_reopen(&self) -> bool {
        false
    }
}
