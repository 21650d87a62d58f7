//! fmd's own counters as the configuration page, `/metrics` and tests see them.

/// A snapshot of fmd's own counters, for the configuration page and tests.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Stats {
    /// Events accepted into the queue.
    pub events_queued: u64,
    /// Events written to the database.
    pub events_stored: u64,
    /// Events dropped: queue full, storage failing too long, or fmd not running.
    pub events_dropped: u64,
    /// Of the events dropped because the queue was full, requests whose raw row was lost
    /// but which still count in the hourly rollup and the duration histogram (the
    /// overview's hits, error counts and medians).
    pub dropped_requests_counted: u64,
    /// Requests dropped with the queue full that could not be counted either (the
    /// overflow table held other endpoint-hours, or the batch carrying their counts was
    /// given up).
    pub dropped_requests_uncounted: u64,
    /// The latest storage error, if storage has failed since start-up.
    pub last_storage_error: Option<String>,
    /// Whether storage is failing right now.
    pub storage_failing: bool,
    /// Annotated functions linked into the program.
    pub registered_functions: usize,
    /// Panics caught in user callbacks (the group-by hook, custom graphs); the request or
    /// the sampling went on without the value.
    pub callback_panics: u64,
    /// Panics caught inside fmd or in application code fmd ran (an error's `Display`),
    /// kept away from the host's requests.
    pub caught_panics: u64,
}
