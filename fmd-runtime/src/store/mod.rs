//! Storage behind one interface: the writer writes batches, the dashboard reads.
//!
//! SQL specific to an engine stays inside that engine's module (`sqlite`, `postgres`
//! behind the cargo feature of that name); the writer thread and the dashboard only see
//! these traits, through [`open_store`] and [`AnyReader`], chosen by the configured
//! [`Database`](crate::Database).

pub mod check;
pub mod grouping;
pub mod histogram;
pub(crate) mod id_cache;
pub(crate) mod issue_backfill;
pub mod issues;
pub mod open;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod prune;
pub mod read;
pub(crate) mod rollup;
pub(crate) mod rows;
pub mod search;
pub(crate) mod sql;
pub mod sqlite;
pub(crate) mod twin;

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

/// Where the engine's `?` stood, as `store/<engine>/<file>.rs:<line>`: the label of an
/// error converted with `From` (the read model's queries).
#[track_caller]
fn caller() -> String {
    let at = std::panic::Location::caller();
    let file = at.file().replace('\\', "/");
    let file = file.rsplit_once("src/").map_or(file.as_str(), |(_, f)| f);
    format!("{file}:{}", at.line())
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

    /// The issues of the last successful batch that alert now under `rule`, with what the
    /// alert says of them (decided now, so only a writer with alerts pays for it). The
    /// decision is shared through the database: the rate rule counts every instance's
    /// stored occurrences, and each alert is claimed in the issue's row (one per issue
    /// per quiet hour over all instances; a claim that fails is counted, for the digest
    /// of [`Store::take_due_digests`] or the issue's next alert to tell as "and N more").
    fn take_issue_changes(&mut self, _rule: &issues::AlertRule) -> Vec<issues::IssueChange> {
        Vec::new()
    }

    /// The digests due at `now` (unix ms): issues whose quiet hour is over with alerts
    /// held back in it, each claimed as a new alert (so one instance sends it) that says
    /// "and N more".
    fn take_due_digests(&mut self, _now: i64) -> Vec<issues::IssueChange> {
        Vec::new()
    }
}
