//! The dashboard's [`PgReader`]: the PostgreSQL engine's side of the read model, one file
//! per read trait (`dashboard`, `issues`, `perf`, `request_log`, as in `store/read/`), `prune`: how
//! a step of pruning is bounded, and `raw`: raw retention.

mod dashboard;
mod issues;
mod perf;
mod prune;
mod raw;
mod request_log;

pub use dashboard::PgReader;
