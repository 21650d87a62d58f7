//! The performance pages' read model: plain structs and the [`PerfStore`] trait.
//!
//! The utilization queries read the hourly rollup (`request_hourly`), never the request
//! rows; the per-endpoint distributions read a bounded number of recent requests through
//! the endpoint's time index. Times are Unix milliseconds (UTC), durations microseconds.

use serde::Serialize;

use crate::store::StoreError;

use super::dashboard::{DashboardStore, EndpointInfo, Page, StackFrame};

/// Milliseconds in one hour (the rollup's granularity).
pub const HOUR_MS: i64 = 60 * 60 * 1000;

/// Requests in one hour of one UTC day: a heatmap cell.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HourCell {
    /// UTC day number (Unix ms / 86 400 000).
    pub day: i64,
    /// Hour of the day, 0–23 (UTC).
    pub hour: u8,
    /// Requests in that hour.
    pub hits: u64,
    /// Sum of their durations (µs).
    pub duration_us: i64,
}

/// Requests of one endpoint on one UTC day.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DailyHits {
    /// UTC day number.
    pub day: i64,
    /// `endpoint.id`.
    pub endpoint_id: i64,
    /// The endpoint's name.
    pub endpoint: String,
    /// Requests that day.
    pub hits: u64,
}

/// Requests served by one application version on one UTC day.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VersionDay {
    /// UTC day number.
    pub day: i64,
    /// The version string stamped on the requests.
    pub version: String,
    /// Requests that day.
    pub hits: u64,
}

/// An application version seen by the writer.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AppVersion {
    /// The version string.
    pub version: String,
    /// Its git commit, when known.
    pub git_commit: Option<String>,
    /// First request with this version.
    pub first_seen: i64,
    /// Latest request with this version.
    pub last_seen: i64,
}

/// One stored request, as the per-endpoint distributions use it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RequestSample {
    /// `request.id`.
    pub id: i64,
    /// Start of the request.
    pub time: i64,
    /// Duration (µs).
    pub duration_us: i64,
    /// Response status; `None` when cancelled.
    pub status: Option<u16>,
    /// The request's future was dropped before it finished.
    pub cancelled: bool,
    /// Application version that served it.
    pub version: String,
    /// The group-by value (user), if the application set one.
    pub group_by: Option<String>,
    /// Client IP, if known.
    pub ip: Option<String>,
}

/// A request that failed: status 400 or more, or cancelled.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FailedRequest {
    /// `request.id`.
    pub id: i64,
    /// Start of the request.
    pub time: i64,
    /// HTTP method.
    pub method: String,
    /// Route template.
    pub route: String,
    /// Response status; `None` when cancelled.
    pub status: Option<u16>,
    /// Cancelled before it finished.
    pub cancelled: bool,
    /// Duration (µs).
    pub duration_us: i64,
    /// The exception group of an error recorded during the request, if any.
    pub group_id: Option<i64>,
}

/// A request flagged as an outlier (level 2).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Outlier {
    /// `request.id`.
    pub request_id: i64,
    /// Start of the request.
    pub time: i64,
    /// Path and query, secrets scrubbed.
    pub url: String,
    /// Request headers, secrets scrubbed.
    pub headers: Vec<(String, String)>,
    /// The request's duration (µs).
    pub duration_us: i64,
    /// Its status; `None` when cancelled.
    pub status: Option<u16>,
    /// The endpoint's typical duration when it was judged (µs).
    pub typical_us: i64,
    /// The threshold it crossed (µs).
    pub threshold_us: i64,
    /// Process CPU use over the last second, if known.
    pub cpu_percent: Option<f64>,
    /// Process resident memory, if known.
    pub memory_bytes: Option<i64>,
    /// The logical stack when it was flagged, innermost first.
    pub stack: Vec<StackFrame>,
}

/// One node of a request's call tree (level 3).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProfileNode {
    /// Pre-order index in the tree.
    pub position: u32,
    /// Position of the parent; `None` for a root.
    pub parent: Option<u32>,
    /// 0 for a root.
    pub depth: u32,
    /// `function_location.id`.
    pub location_id: i64,
    /// Module path of the function.
    pub module: String,
    /// Function name.
    pub name: String,
    /// Calls merged into this node.
    pub calls: u64,
    /// Inclusive time (µs).
    pub total_us: i64,
    /// Own time (µs): inclusive minus the children's.
    pub self_us: i64,
}

/// A profiled request with its call tree.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProfiledRequest {
    /// `request.id`.
    pub request_id: i64,
    /// Start of the request.
    pub time: i64,
    /// The whole request's duration (µs).
    pub duration_us: i64,
    /// The call tree in pre-order.
    pub nodes: Vec<ProfileNode>,
}

/// A user-registered custom graph.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CustomGraph {
    /// `custom_graph.id`.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// When it was registered.
    pub created_at: i64,
}

/// Values of a custom graph in one time bucket (all instances together).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GraphPoint {
    /// Start of the bucket.
    pub time: i64,
    /// Mean of the values.
    pub mean: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Values in the bucket.
    pub samples: u64,
}

/// Which requests of an endpoint a comparison side covers.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub enum Selection {
    /// Requests that started in `[from, to)`.
    Period {
        /// Start (inclusive).
        from: i64,
        /// End (exclusive).
        to: i64,
    },
    /// Requests served by this version.
    Version(String),
}

/// Responses by class over a selection (from the hourly rollup).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct StatusMix {
    /// All requests.
    pub hits: u64,
    /// Status 400–499.
    pub client_errors: u64,
    /// Status 500–599 (panics included).
    pub server_errors: u64,
    /// Cancelled before finishing.
    pub cancelled: u64,
}

impl StatusMix {
    /// Requests that neither failed nor were cancelled.
    pub fn ok(&self) -> u64 {
        self.hits
            .saturating_sub(self.client_errors + self.server_errors + self.cancelled)
    }
}

/// The queries behind the utilization, endpoint-performance, custom-graph and reporting
/// pages. Implemented once per storage engine, next to its [`DashboardStore`].
pub trait PerfStore: DashboardStore {
    /// Every endpoint, by name.
    fn endpoint_list(&mut self) -> Result<Vec<EndpointInfo>, StoreError>;

    /// Requests per UTC day and hour in `[from, to)`, of one endpoint or of all, of one
    /// instance or of all.
    fn hourly_load(
        &mut self,
        endpoint_id: Option<i64>,
        from: i64,
        to: i64,
        instance: Option<&str>,
    ) -> Result<Vec<HourCell>, StoreError>;

    /// Requests per UTC day and endpoint in `[from, to)`, oldest day first.
    fn daily_hits(&mut self, from: i64, to: i64) -> Result<Vec<DailyHits>, StoreError>;

    /// Requests per UTC day and version in `[from, to)`, of one endpoint or of all, of
    /// one instance or of all.
    fn version_usage(
        &mut self,
        endpoint_id: Option<i64>,
        from: i64,
        to: i64,
        instance: Option<&str>,
    ) -> Result<Vec<VersionDay>, StoreError>;

    /// Every version seen, newest first.
    fn versions(&mut self) -> Result<Vec<AppVersion>, StoreError>;

    /// At most `limit` of the endpoint's requests since `since`, newest first (of one
    /// instance, or of all).
    fn recent_requests(
        &mut self,
        endpoint_id: i64,
        since: i64,
        limit: u32,
        instance: Option<&str>,
    ) -> Result<Vec<RequestSample>, StoreError>;

    /// Durations (µs) of at most `limit` of the latest requests in a selection.
    fn durations(
        &mut self,
        endpoint_id: i64,
        selection: &Selection,
        limit: u32,
    ) -> Result<Vec<i64>, StoreError>;

    /// Responses by class over a selection.
    fn status_mix(
        &mut self,
        endpoint_id: i64,
        selection: &Selection,
    ) -> Result<StatusMix, StoreError>;

    /// Failed requests (status ≥ 400 or cancelled), newest first (of one instance, or of
    /// all).
    fn failed_requests(
        &mut self,
        endpoint_id: i64,
        offset: u64,
        limit: u64,
        instance: Option<&str>,
    ) -> Result<Page<FailedRequest>, StoreError>;

    /// Outliers, newest first, each with its stack (of one instance, or of all).
    fn outliers(
        &mut self,
        endpoint_id: i64,
        offset: u64,
        limit: u64,
        instance: Option<&str>,
    ) -> Result<Page<Outlier>, StoreError>;

    /// The call trees of the endpoint's last `limit` profiled requests, newest first (of
    /// one instance, or of all).
    fn profiled_requests(
        &mut self,
        endpoint_id: i64,
        limit: u32,
        instance: Option<&str>,
    ) -> Result<Vec<ProfiledRequest>, StoreError>;

    /// Every custom graph, by name.
    fn custom_graphs(&mut self) -> Result<Vec<CustomGraph>, StoreError>;

    /// A graph's values in `[from, to)` averaged into `buckets` equal buckets; empty
    /// buckets are left out.
    fn graph_points(
        &mut self,
        graph_id: i64,
        from: i64,
        to: i64,
        buckets: u32,
    ) -> Result<Vec<GraphPoint>, StoreError>;
}
