//! The runtime of fmd: from an annotated function to a row in SQLite.
//!
//! Most users never name this crate: they use the `fmd` facade. The modules follow the
//! data flow:
//!
//! 1. [`function`] — the compile-time descriptor of each annotated function (name, file,
//!    lines, verbatim source, code hash), registered with `inventory`.
//! 2. [`stack`] and [`trace`] — the logical stack of annotated frames (right across
//!    `.await`) and the error return trace recorded at every `?` / `Err(..)`.
//! 3. [`instrument`], [`request`], [`capture`](mod@capture), [`panic`](mod@panic) and [`error`] — the
//!    request path: wrappers, the request in flight, `capture!`, the panic hook, and
//!    turning errors into records. No I/O, no contended lock.
//! 4. [`event`] and [`monitor`](mod@monitor) — one event per request into a bounded queue (full queue:
//!    drop and count); configuration from [`config`]; [`metrics`] counted as events arrive
//!    on the writer thread.
//! 5. `writer` — the writer thread: batches into transactions, retries, reports.
//! 6. [`grouping`] and [`store`] — grouping hashes and the store interface with its SQLite
//!    engine; the dashboard reads through [`store::queries`].
//!
//! Levels 2 and 3 and the extras: [`outlier`] (typical durations, the slow-request rule),
//! [`scrub`] (secrets out of URLs and headers), [`profile`] (per-request call trees),
//! [`process`] (CPU and memory of the process), [`hooks`] (the group-by hook) and
//! [`graphs`] (custom graphs sampled on a background thread).
//!
//! ```no_run
//! // Start explicitly (optional: the first monitored call starts fmd with the defaults).
//! let monitor = fmd_runtime::init_from_env().expect("valid fmd configuration");
//! println!("storing in {}", monitor.config().database.display());
//! // ... serve ...
//! fmd_runtime::shutdown(); // store what is still queued
//! ```

#![warn(missing_docs)]

pub mod capture;
pub mod clock;
pub mod config;
pub mod error;
pub mod event;
pub mod function;
pub mod graphs;
pub mod grouping;
pub mod hooks;
pub mod instrument;
pub mod metrics;
pub mod monitor;
pub mod outlier;
pub mod panic;
pub mod process;
pub mod profile;
pub mod request;
pub mod scrub;
pub mod stack;
pub mod store;
pub mod symbolize;
pub mod trace;
mod version;
mod writer;

#[doc(hidden)]
pub mod private;

pub use config::{Config, ConfigError, Database};
pub use function::{FnInfo, FnKind, registry};
pub use graphs::add_graph;
pub use hooks::group_by;
pub use monitor::{InitError, Monitor, Stats, init, init_from_env, monitor, shutdown};
