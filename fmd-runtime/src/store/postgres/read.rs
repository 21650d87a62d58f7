//! The dashboard's [`PgReader`]: the PostgreSQL engine's side of the read model, one file
//! per read trait (`dashboard`, `issues`, `perf`, `request_log`, as in `store/read/`), and `raw`:
//! raw retention.

mod dashboard;
mod issues;
mod perf;
mod raw;
mod request_log;

pub use dashboard::PgReader;
