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
//! | [`stats`] | box-plot summaries, Mood's median test, tests of two error rates |
//! | [`profile`] | the grouped profiler: call trees merged by function path |
//! | [`reporting`] | two periods or versions compared per endpoint and per issue's error rate |
//! | [`retention`] | the hourly pruning: everything after `FMD_RETENTION_WEEKS`, raw request rows after `FMD_RAW_RETENTION_DAYS` |
//! | [`issue_diff`] | what changed in the code between the variants of an issue (similar) |
//! | [`highlight`] | server-side syntax highlighting (syntect) split into numbered lines |
//! | [`format`](mod@format) | times (in the viewer's zone), durations, sizes, source paths |
//! | [`export`] | CSV rows of the downloads and of `fmd export` |
//! | [`host`] | what the dashboard asks of the running application |
//! | `adapter` | what the framework adapters share: how a request becomes a record |
//! | `axum` | the adapter that records requests and mounts the dashboard (feature `axum`) |
//! | `actix` | the same for actix-web: a middleware and the dashboard as a service (feature `actix`) |
//!
//! Everything but `axum` is the feature `pages` (on by default). Without it the crate is
//! only the recording layer: `axum::bind` adds the layer and mounts nothing, and none of
//! maud, syntect, plotters, argon2, utoipa or statrs is built.
//!
//! Queries live in `fmd_runtime::store::read` (the engine-independent read model) and
//! its SQLite implementation; this crate never writes SQL.
//!
//! ```no_run
//! # #[cfg(all(feature = "axum", feature = "pages"))] {
//! // Mount the dashboard of this process's monitor:
//! let app: axum::Router = axum::Router::new().nest("/dashboard", fmd_dashboard::router());
//! # }
//! ```

#[cfg(all(feature = "axum", feature = "pages"))]
pub(crate) mod app;
#[cfg(feature = "pages")]
pub mod auth;
#[cfg(feature = "pages")]
pub mod charts;
#[cfg(feature = "pages")]
pub mod export;
#[cfg(feature = "pages")]
pub mod format;
#[cfg(feature = "pages")]
pub mod highlight;
#[cfg(feature = "pages")]
pub mod host;
#[cfg(feature = "pages")]
pub mod issue_diff;
#[cfg(feature = "pages")]
pub mod pages;
#[cfg(feature = "pages")]
pub mod profile;
#[cfg(feature = "pages")]
pub mod reporting;
#[cfg(feature = "pages")]
pub mod retention;
#[cfg(feature = "pages")]
pub mod stats;

/// The dashboard's own database threads.
#[cfg(all(feature = "axum", feature = "pages"))]
pub(crate) mod pool;

#[cfg(all(feature = "axum", feature = "pages"))]
pub mod routes;

#[cfg(all(feature = "axum", feature = "pages"))]
pub mod api;

/// What the framework adapters share (the rules by which a request becomes a record).
#[cfg(any(feature = "axum", feature = "actix"))]
pub(crate) mod adapter;

#[cfg(feature = "axum")]
pub mod axum;

#[cfg(feature = "actix")]
pub mod actix;

#[cfg(all(feature = "axum", feature = "pages"))]
pub use routes::{Access, Dashboard, RouteInfo, Token, route_table, router};
