//! Storage behind one interface: the writer writes batches, the dashboard reads.
//!
//! SQL specific to an engine stays inside that engine's module (`sqlite`, later
//! `postgres`); the writer thread and the dashboard only see these traits.

pub mod histogram;
pub mod perf;
pub mod queries;
pub mod request_log;
pub mod sqlite;

use crate::event::Event;
use std::fmt;

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
