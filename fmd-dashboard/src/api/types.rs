//! What the JSON API answers: the handlers return exactly these types, and the OpenAPI
//! document's schemas are derived from them, so the two cannot drift apart.
//!
//! They are built from the store's read model (`fmd_runtime::store`) by the `From`
//! conversions below, which keeps the API stable while the read model evolves. Times are
//! Unix milliseconds (UTC), durations microseconds.

use fmd_runtime::store::read::RequestRow;
use fmd_runtime::store::read::{
    EndpointOverview, GroupDetail, GroupSummary, Histogram, IssueKind, SpanStats, StackFrame,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Why a request failed; every non-2xx answer of the API has this body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiError {
    /// What went wrong, for a person to read.
    pub error: String,
}

/// Requests and median duration over one span of time.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Span {
    /// Requests in the span.
    pub hits: u64,
    /// Median duration (µs); null without requests.
    pub median_us: Option<i64>,
}

impl From<SpanStats> for Span {
    fn from(s: SpanStats) -> Self {
        Span {
            hits: s.hits,
            median_us: s.median_us,
        }
    }
}

/// One endpoint with its figures (what the dashboard's overview shows).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Endpoint {
    /// Endpoint id (stable within one database).
    pub id: i64,
    /// Handler path, route template, `(unmatched)` or `(background)`.
    pub name: String,
    /// Route templates of its recent requests.
    pub routes: Vec<String>,
    /// Monitoring level set from the dashboard; null: the default.
    pub level: Option<u8>,
    /// The level in force: the dashboard's, else the attribute's
    /// (`#[monitored(level = N)]`), else the configured one (`FMD_LEVEL`); null when no
    /// application runs behind the dashboard (`fmd serve`) and none is set.
    pub effective_level: Option<u8>,
    /// Where `effective_level` comes from; null with it.
    pub level_source: Option<LevelSource>,
    /// Last request (Unix ms); null if never requested.
    pub last_requested: Option<i64>,
    /// Since midnight UTC.
    pub today: Span,
    /// The last 7 days.
    pub week: Span,
    /// Everything stored.
    pub all: Span,
    /// Responses 400–499 in the last 7 days.
    pub client_errors_week: u64,
    /// Responses 500–599 in the last 7 days (panics count as 500).
    pub server_errors_week: u64,
    /// Exception groups of this endpoint that are server errors (panics, 5xx answers,
    /// captured errors); its client errors are listed with `kind=client`.
    pub exception_groups: u64,
}

/// Where an endpoint's level in force comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LevelSource {
    /// Set from the dashboard (or the API's store).
    Dashboard,
    /// `#[monitored(level = N)]`.
    Attribute,
    /// `FMD_LEVEL` / `level` in `fmd.toml`, or the built-in default.
    Configuration,
}

impl LevelSource {
    fn named(source: &str) -> Option<Self> {
        match source {
            "dashboard" => Some(LevelSource::Dashboard),
            "attribute" => Some(LevelSource::Attribute),
            "configuration" => Some(LevelSource::Configuration),
            _ => None,
        }
    }
}

impl Endpoint {
    /// The endpoint with its level in force, as the overview page names it.
    pub fn with_level(e: EndpointOverview, host: &dyn crate::host::Host) -> Self {
        let effective = crate::host::effective_level(host, &e.name, e.level);
        Endpoint {
            effective_level: effective.map(|(l, _)| l),
            level_source: effective.and_then(|(_, from)| LevelSource::named(from)),
            ..Endpoint::from(e)
        }
    }
}

impl From<EndpointOverview> for Endpoint {
    fn from(e: EndpointOverview) -> Self {
        Endpoint {
            id: e.id,
            name: e.name,
            routes: e.routes,
            level: e.level,
            effective_level: None,
            level_source: None,
            last_requested: e.last_requested,
            today: e.today.into(),
            week: e.week.into(),
            all: e.all.into(),
            client_errors_week: e.client_errors_week,
            server_errors_week: e.server_errors_week,
            exception_groups: e.exception_groups,
        }
    }
}

/// `GET /api/v1/endpoints`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EndpointList {
    /// The time "today" and "week" were computed at (Unix ms).
    pub now: i64,
    /// Every endpoint, by name.
    pub endpoints: Vec<Endpoint>,
}

/// One stored request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Request {
    /// Request id.
    pub id: i64,
    /// Its endpoint's id.
    pub endpoint_id: i64,
    /// Its endpoint's name.
    pub endpoint: String,
    /// Route template (never the raw URI).
    pub route: String,
    /// HTTP method.
    pub method: String,
    /// Start (Unix ms).
    pub time: i64,
    /// Duration (µs).
    pub duration_us: i64,
    /// Final status; null when the request was cancelled, or unknown (a `#[monitored]`
    /// function outside the framework layer: a route added after `bind`, a background job).
    pub status: Option<u16>,
    /// The client went away before the answer.
    pub cancelled: bool,
    /// Application version that served it.
    pub version: String,
    /// Process that served it.
    pub instance: String,
    /// Client address, if known.
    pub ip: Option<String>,
    /// Group-by value (e.g. a user id), if any.
    pub group_by: Option<String>,
}

impl From<RequestRow> for Request {
    fn from(r: RequestRow) -> Self {
        Request {
            id: r.id,
            endpoint_id: r.endpoint_id,
            endpoint: r.endpoint,
            route: r.route,
            method: r.method,
            time: r.time,
            duration_us: r.duration_us,
            status: r.status,
            cancelled: r.cancelled,
            version: r.version,
            instance: r.instance,
            ip: r.ip,
            group_by: r.group_by,
        }
    }
}

/// `GET /api/v1/requests`: one page of requests in a time window, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequestPage {
    /// Window start (inclusive, Unix ms).
    pub from: i64,
    /// Window end (exclusive, Unix ms).
    pub to: i64,
    /// The rows of this page.
    pub requests: Vec<Request>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// Raw request rows older than this (Unix ms) were deleted by raw retention
    /// (`FMD_RAW_RETENTION_DAYS`): a window starting earlier lists only the rows kept,
    /// while the rollups behind `/api/v1/endpoints` still count them. Null when no raw
    /// rows were ever pruned.
    pub raw_pruned_before: Option<i64>,
}

/// An exception group: one kind of failure on one endpoint.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExceptionGroup {
    /// Group id.
    pub id: i64,
    /// Its endpoint's id.
    pub endpoint_id: i64,
    /// Its endpoint's name.
    pub endpoint: String,
    /// The error's Rust type (or `panic`).
    pub type_name: String,
    /// The latest message.
    pub message: String,
    /// Occurrences.
    pub count: u64,
    /// First occurrence (Unix ms).
    pub first_seen: i64,
    /// Latest occurrence (Unix ms).
    pub last_seen: i64,
    /// The issue this group is a variant of (see `/api/v1/issues/{id}`).
    pub issue_id: Option<i64>,
}

impl From<GroupSummary> for ExceptionGroup {
    fn from(g: GroupSummary) -> Self {
        ExceptionGroup {
            id: g.id,
            endpoint_id: g.endpoint_id,
            endpoint: g.endpoint,
            type_name: g.type_name,
            message: g.message,
            count: g.count,
            first_seen: g.first_seen,
            last_seen: g.last_seen,
            issue_id: g.issue_id,
        }
    }
}

/// `GET /api/v1/exceptions`: one page of groups, most recently seen first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExceptionGroupPage {
    /// The groups of this page.
    pub groups: Vec<ExceptionGroup>,
    /// Groups over all pages.
    pub total: u64,
    /// This page, from 0.
    pub page: u64,
    /// Groups per page.
    pub per_page: u64,
}

/// How an error reached fmd.
#[derive(Debug, Clone, Copy, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ErrorKind {
    /// A panic (answered with a 500).
    Panic,
    /// An `Err` returned by a handler: it became the response.
    Uncaught,
    /// Recorded with `fmd::capture!` and handled by the application.
    Captured,
    /// A handler's `Err` that became a 4xx answer.
    Client,
}

impl ErrorKind {
    fn from_stored(kind: u8) -> Self {
        match kind {
            0 => ErrorKind::Panic,
            2 => ErrorKind::Captured,
            3 => ErrorKind::Client,
            _ => ErrorKind::Uncaught,
        }
    }
}

/// One frame of a trace, with its function's code.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Frame {
    /// Module path.
    pub module: String,
    /// Function name.
    pub name: String,
    /// Source file as recorded.
    pub file: String,
    /// The failing line (absolute in the file); 0 when unknown.
    pub line: u32,
    /// First line of the function.
    pub start_line: u32,
    /// Last line of the function.
    pub end_line: u32,
    /// False for library frames.
    pub in_app: bool,
    /// The whole function's source; null for library frames or with source storage off.
    pub code: Option<String>,
    /// False when the code was rebuilt from tokens (macro-generated functions).
    pub verbatim: bool,
    /// Consecutive repetitions (recursion).
    pub repeat: u32,
}

impl From<StackFrame> for Frame {
    fn from(f: StackFrame) -> Self {
        Frame {
            module: f.module,
            name: f.name,
            file: f.file,
            line: f.line,
            start_line: f.start_line,
            end_line: f.end_line,
            in_app: f.in_app,
            code: f.code,
            verbatim: f.verbatim,
            repeat: f.repeat,
        }
    }
}

/// Occurrences per time bucket.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Occurrences {
    /// Start of the first bucket (Unix ms).
    pub start: i64,
    /// Width of each bucket (ms).
    pub bucket_ms: i64,
    /// Occurrences per bucket, oldest first.
    pub counts: Vec<u64>,
}

impl From<Histogram> for Occurrences {
    fn from(h: Histogram) -> Self {
        Occurrences {
            start: h.start,
            bucket_ms: h.bucket_ms,
            counts: h.counts,
        }
    }
}

/// `GET /api/v1/exceptions/{id}`: a group with its trace and code.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExceptionDetail {
    /// The group.
    pub group: ExceptionGroup,
    /// Kind of the latest occurrence.
    pub kind: ErrorKind,
    /// The `source()` chain of the latest occurrence, outermost first.
    pub source_chain: Vec<String>,
    /// The stack trace, innermost frame first.
    pub frames: Vec<Frame>,
    /// Occurrences over the group's life (at most the last 30 days).
    pub occurrences: Occurrences,
}

impl From<GroupDetail> for ExceptionDetail {
    fn from(d: GroupDetail) -> Self {
        ExceptionDetail {
            group: d.summary.into(),
            kind: ErrorKind::from_stored(d.kind),
            source_chain: d.source_chain,
            frames: d.frames.into_iter().map(Frame::from).collect(),
            occurrences: d.histogram.into(),
        }
    }
}

/// Which issues by kind.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Server errors: panics, errors answered 5xx, captured errors (the default).
    #[default]
    Server,
    /// Client errors: every occurrence was a handler's outcome answered 4xx.
    Client,
    /// Both.
    All,
}

impl From<Kind> for IssueKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Server => IssueKind::Server,
            Kind::Client => IssueKind::Client,
            Kind::All => IssueKind::All,
        }
    }
}
