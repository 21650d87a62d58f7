//! The runtime of fmd: from an annotated function to a row in the store.
//!
//! Most users never name this crate: they use the `fmd` facade. The folders follow the
//! data flow, and each file runs on one side of it:
//!
//! 1. [`model`] — plain data that flows: the compile-time descriptor of each annotated
//!    function ([`FnInfo`], registered with `inventory`) and the events handed to the
//!    writer. Imports nothing above it.
//! 2. [`request`] — the host's threads: the wrappers the macros generate, the request in
//!    flight, the logical stack (right across `.await`), the error return trace, `capture!`,
//!    the panic hook, the outlier threshold, the call tree. No I/O, no contended lock.
//! 3. [`pipeline`] — one event per request into a bounded queue (full: drop the row, count
//!    the request in a fixed overflow table that still feeds the rollups), the
//!    process-wide [`Monitor`], and the writer thread that batches events into the store,
//!    symbolizing panics and keeping typical durations and metrics on the way.
//! 4. [`store`] — the only place with SQL: the write contract, grouping hashes, rollups,
//!    the dashboard's read model, and the SQLite and PostgreSQL engines.
//!
//! Beside the flow: [`config`] (`fmd.toml`, `FMD_*`), [`start`] (the monitor and the panic
//! hook, started together by every entry point), [`fence`] (nothing of fmd's unwinds into
//! the host), [`secrets`] (what is scrubbed before anything is stored) and [`clock`].
//!
//! ```no_run
//! // Start explicitly (optional: the first monitored call starts fmd with the defaults).
//! let monitor = fmd_runtime::init_from_env().expect("valid fmd configuration");
//! println!("storing in {}", monitor.config().database.display());
//! // ... serve ...
//! fmd_runtime::shutdown(); // store what is still queued
//! ```

#![warn(missing_docs)]

pub mod clock;
pub mod config;
pub mod fence;
pub mod model;
pub mod pipeline;
pub mod request;
pub mod secrets;
pub mod start;
pub mod store;

#[doc(hidden)]
pub mod private;

pub use config::{Config, ConfigError, Database};
pub use model::function::{FnInfo, FnKind, registry};
pub use pipeline::{InitError, Monitor, Stats, add_graph, process, shutdown};
pub use request::group_by;
pub use start::{ensure_started, init, init_from_env, monitor};
