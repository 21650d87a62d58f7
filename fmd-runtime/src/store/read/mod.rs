//! The dashboard's read model: the queries the pages need, as traits every engine
//! implements, and the plain structs they return.
//!
//! - [`dashboard`]: overview, endpoints, exception groups, users, pruning;
//!   [`overview_days`]: the overview's days in the viewer's zone.
//! - [`issues`]: issues, their variants and lifecycle actions; [`issue_filter`]: searching them;
//!   [`issue_rates`]: their error rates on two sides of a report.
//! - [`perf`]: utilization, per-endpoint performance, outliers, profiles, custom graphs.
//! - [`request_log`]: the request log and its time windows.
//! - [`check`]: what `fmd check` reports (schema version, size, row counts).
//! - [`AnyReader`]: one reader over whichever engine the configuration names.

mod any_reader;
pub mod check;
pub mod dashboard;
pub mod issue_filter;
pub mod issue_rates;
pub mod issues;
pub mod overview_days;
pub mod perf;
pub mod request_log;

pub use any_reader::{AnyReader, Reader};
pub use dashboard::*;
pub use issue_filter::{IssueFilter, IssueKind};
pub use issue_rates::{IssueRateCounts, IssueRates};
pub use issues::{IssueCounts, IssueDetail, IssueSort, IssueStore, IssueSummary, Variant};
pub use perf::*;
pub use request_log::*;
