//! The fmd dashboard: server-rendered pages over the fmd database, behind a login.
//!
//! The crate reads like the request path through it:
//!
//! | module | holds |
//! |---|---|
//! | [`routes`] | the route table, the guard (session, role, CSRF, bearer token) and the handlers (feature `axum`) |
//! | [`api`] | the read-only JSON API and its OpenAPI document (feature `axum`) |
//! | [`auth`] | argon2 passwords, sessions, login throttling, the first admin |
//! | [`pages`] | pure functions from query results to `maud::Markup`: layout, tables, traces |
//! | [`charts`] | server-side SVG charts (plotters) with tooltips |
//! | [`stats`] | box-plot summaries and Mood's median test |
//! | [`profile`] | the grouped profiler: call trees merged by function path |
//! | [`reporting`] | two periods or versions compared per endpoint |
//! | [`issue_diff`] | what changed in the code between the variants of an issue (similar) |
//! | [`highlight`] | server-side syntax highlighting (syntect) split into numbered lines |
//! | [`format`](mod@format) | times (in the viewer's zone), durations, sizes, source paths |
//! | [`export`] | CSV rows of the downloads and of `fmd export` |
//! | [`host`] | what the dashboard asks of the running application |
//! | `axum` | the adapter that records requests and mounts the dashboard (feature `axum`) |
//!
//! Queries live in `fmd_runtime::store::read` (the engine-independent read model) and
//! its SQLite implementation; this crate never writes SQL.
//!
//! ```no_run
//! # #[cfg(feature = "axum")] {
//! // Mount the dashboard of this process's monitor:
//! let app: axum::Router = axum::Router::new().nest("/dashboard", fmd_dashboard::router());
//! # }
//! ```

#[cfg(feature = "axum")]
pub(crate) mod app;
pub mod auth;
pub mod charts;
pub mod export;
pub mod format;
pub mod highlight;
pub mod host;
pub mod issue_diff;
pub mod pages;
pub mod profile;
pub mod reporting;
pub mod stats;

/// The dashboard's own database threads.
#[cfg(feature = "axum")]
pub(crate) mod pool;

#[cfg(feature = "axum")]
pub mod routes;

#[cfg(feature = "axum")]
pub mod api;

#[cfg(feature = "axum")]
pub mod axum;

#[cfg(feature = "axum")]
pub use routes::{Access, Dashboard, RouteInfo, Token, route_table, router};
