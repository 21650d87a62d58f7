//! Benchmarks of fmd, run with one command: `scripts/bench` (`--smoke` for a quick pass).
//!
//! Each measurement is a subcommand of the `fmd-bench` binary or a criterion bench; each
//! writes its figures as JSON under `target/bench-report/`, and `fmd-bench report` prints
//! them as one table with the goals met or missed.
//!
//! - [`hello`] — the hello-world service of the load benchmark, plain, under fmd, and
//!   under the peer instrumentation (P1); also driven in-process by the call benches (P2).
//! - [`load`] — P1: servers pinned to core 0, `wrk` pinned to core 1, interleaved rounds.
//! - [`events`] — realistic request events for the writer (P4).
//! - [`ingest`] — P4 and P6: events per second into SQLite by batch size; overload.
//! - [`generate`] and [`pages`] — P5: a 10 M-request database and the page latencies.
//! - [`micro`] — helpers of the criterion benches (P2, P3): fmd started on a scratch
//!   file, queued events stored between timed chunks, futures polled without a runtime.
//! - [`report`] — figures, goals, and the table.
//! - [`util`] — settings shared by the subcommands: data directory, quick mode, memory.

pub mod events;
pub mod generate;
pub mod hello;
pub mod ingest;
pub mod load;
pub mod micro;
pub mod pages;
pub mod report;
pub mod util;
