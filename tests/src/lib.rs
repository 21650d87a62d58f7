//! Shared helpers for fmd's end-to-end tests.
pub mod a11y;
pub mod actix;
pub mod browser;
pub mod dashboard_fixture;
pub mod engines;
pub mod host;
pub mod http;
pub mod issue_fixture;
pub mod levels;
pub mod overload;
pub mod perf_demo;
pub mod perf_fixture;
pub mod request_rows;
pub mod spine;
pub mod spine_fns;
pub mod webhook;
