//! From the queue to the store: the process-wide monitor, the bounded queue and the writer
//! thread, with what the writer computes on the way (symbols, typical durations, metrics,
//! process figures) and the custom graphs' sampling thread.
//!
//! | file | holds |
//! |---|---|
//! | [`alerts`] | alerts: the rules (one per issue per hour, the rate rule) and delivery, on their own thread |
//! | `monitor` | the [`Monitor`]: configuration, version, the queue's sending side, levels |
//! | `queue` | the bounded queue: full means drop and count, never block |
//! | `overflow` | requests the full queue dropped, still counted: a fixed table the writer drains into the rollups |
//! | `state` | what the request path, the writer and the dashboard share: counters, run-time levels, published typicals |
//! | `stats` | [`Stats`], fmd's own counters as a snapshot |
//! | `writer` | the writer thread: batches, transactions, retries, reopening |
//! | `symbolize` | native backtraces of panics resolved, cached per address |
//! | `typicals` | level 2: each endpoint's typical duration, kept by the writer |
//! | `metrics` | Prometheus series counted as events arrive |
//! | `graphs` | custom graphs sampled on a background thread |
//! | `process` | CPU and memory of the process |
//! | `version` | the application version and git commit |

pub mod alerts;
pub(crate) mod graphs;
pub(crate) mod metrics;
pub(crate) mod monitor;
mod overflow;
pub mod process;
mod queue;
mod state;
mod stats;
mod symbolize;
pub use symbolize::symbols_loaded;
mod typicals;
mod version;
mod writer;

pub use graphs::add_graph;
pub use metrics::Metrics;
pub use monitor::{InitError, Monitor, shutdown};
pub use stats::Stats;
#[doc(hidden)]
pub use writer::panic_in_writer_on;
