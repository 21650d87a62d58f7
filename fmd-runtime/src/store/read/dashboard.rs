//! The dashboard's read model: plain structs and the [`DashboardStore`] trait.
//!
//! Nothing here knows an SQL dialect. Each storage engine (`sqlite/read/dashboard.rs`,
//! `postgres/read/dashboard.rs`) implements [`DashboardStore`]; the dashboard pages only
//! see these structs. Times are Unix milliseconds (UTC), durations microseconds.

use serde::Serialize;
use std::time::Duration;

use crate::store::StoreError;
use crate::store::read::issue_filter::IssueKind;

/// Milliseconds in one day.
pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Milliseconds in one hour.
const HOUR: i64 = DAY_MS / 24;

/// Where the overview's spans begin, as UTC hour numbers (Unix ms / 3 600 000): the
/// viewer's midnights (see [`crate::store::read::overview_days`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverviewDays {
    /// The time the overview is read at (Unix ms).
    pub now: i64,
    /// The first hour of "today".
    pub today_hour: i64,
    /// The first hour of "last 7 days" (today and the six days before).
    pub week_hour: i64,
    /// How far the viewer's midnight today lies after `today_hour` (ms; 0 unless the
    /// zone's offset has minutes).
    pub rounded_by_ms: i64,
}

impl OverviewDays {
    /// The spans of a viewer in UTC.
    pub fn utc(now: i64) -> Self {
        let today_hour = now.div_euclid(DAY_MS) * 24;
        OverviewDays {
            now,
            today_hour,
            week_hour: today_hour - 6 * 24,
            rounded_by_ms: 0,
        }
    }

    /// The spans beginning at the local midnights `today_ms` and `week_ms` (Unix ms), each
    /// rounded down to its UTC hour.
    pub fn starting(now: i64, today_ms: i64, week_ms: i64) -> Self {
        OverviewDays {
            now,
            today_hour: today_ms.div_euclid(HOUR),
            week_hour: week_ms.div_euclid(HOUR),
            rounded_by_ms: today_ms.rem_euclid(HOUR),
        }
    }
}

/// An instance of the service (a process) that stored requests.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InstanceInfo {
    /// Its name (`FMD_INSTANCE`, else host name and pid).
    pub name: String,
    /// First request it stored.
    pub first_seen: i64,
    /// Latest request it stored.
    pub last_seen: i64,
}

/// Hits, median duration and errors of one endpoint over one span of time.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct SpanStats {
    /// Requests in the span.
    pub hits: u64,
    /// Median request duration in the span (µs), read from the duration histograms
    /// (within about 2 % of the exact median); `None` without requests.
    pub median_us: Option<i64>,
}

/// One row of the overview page.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EndpointOverview {
    /// `endpoint.id`.
    pub id: i64,
    /// The endpoint's name (handler path, route template, `(unmatched)`, `(background)`).
    pub name: String,
    /// Distinct route templates seen in the last 7 days (or ever, if none recently).
    pub routes: Vec<String>,
    /// The stored level override; `None` uses the macro's or the configured default.
    pub level: Option<u8>,
    /// When the endpoint was last requested.
    pub last_requested: Option<i64>,
    /// Since midnight today (the viewer's, see [`OverviewDays`]).
    pub today: SpanStats,
    /// The last 7 days: today and the six days before it.
    pub week: SpanStats,
    /// Everything stored.
    pub all: SpanStats,
    /// Responses with status 400–499 in the last 7 days (as `week`).
    pub client_errors_week: u64,
    /// Responses with status 500–599 in the last 7 days (panics count as 500).
    pub server_errors_week: u64,
    /// Exception groups on this endpoint, of server errors (client errors are listed
    /// apart, see [`IssueKind`]).
    pub exception_groups: u64,
}

/// Which groups a list shows: of one endpoint or all, and of which kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupQuery {
    /// Only this endpoint's groups.
    pub endpoint_id: Option<i64>,
    /// Only groups of server or client error issues.
    pub kind: IssueKind,
}

/// Sort keys of the exception-group list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub enum GroupSort {
    /// Most recently seen first (the default).
    #[default]
    LastSeen,
    /// Oldest first seen first.
    FirstSeen,
    /// Most occurrences first.
    Count,
    /// By endpoint name.
    Endpoint,
    /// By exception type name.
    Type,
}

/// One exception group as listed on the exception pages.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GroupSummary {
    /// `exception_group.id`.
    pub id: i64,
    /// The endpoint the group belongs to.
    pub endpoint_id: i64,
    /// The endpoint's name.
    pub endpoint: String,
    /// The error's type name.
    pub type_name: String,
    /// The latest message of the group.
    pub message: String,
    /// Occurrences (kept by the writer).
    pub count: u64,
    /// First occurrence.
    pub first_seen: i64,
    /// Latest occurrence.
    pub last_seen: i64,
    /// The issue it is a variant of (`None` only for rows written without one).
    pub issue_id: Option<i64>,
}

/// One page of a list plus the total number of rows.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Page<T> {
    /// The rows of this page.
    pub rows: Vec<T>,
    /// All rows that match, over every page.
    pub total: u64,
}

/// One line of a stack trace, resolved to its function.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StackFrame {
    /// `function_location.id`.
    pub location_id: i64,
    /// Module path of the function.
    pub module: String,
    /// Function name.
    pub name: String,
    /// Source file as recorded (relative to the workspace for members).
    pub file: String,
    /// The failing line in the file (absolute line number); 0 when unknown.
    pub line: u32,
    /// First line of the function in the file.
    pub start_line: u32,
    /// Last line of the function in the file.
    pub end_line: u32,
    /// `false` for library frames (collapsed by default).
    pub in_app: bool,
    /// The function's code; `None` for library frames or when source storage is off.
    pub code: Option<String>,
    /// `false` when the code was reconstructed from tokens (macro-generated functions).
    pub verbatim: bool,
    /// Consecutive repetitions (recursion); shown as "× N" when > 1.
    pub repeat: u32,
}

/// Occurrences of a group per time bucket, for the sparkline.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Histogram {
    /// Start of the first bucket.
    pub start: i64,
    /// Width of each bucket.
    pub bucket_ms: i64,
    /// Occurrences per bucket, oldest first.
    pub counts: Vec<u64>,
}

/// Everything the endpoint-exceptions page shows about one group.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GroupDetail {
    /// Type, message, counters.
    pub summary: GroupSummary,
    /// The `source()` chain of the latest occurrence, outermost first.
    pub source_chain: Vec<String>,
    /// Kind of the latest occurrence: 0 panic, 1 uncaught `Err`, 2 captured.
    pub kind: u8,
    /// The stack trace, innermost frame first.
    pub frames: Vec<StackFrame>,
    /// Occurrences over time.
    pub histogram: Histogram,
}

/// The endpoint header of the endpoint pages.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EndpointInfo {
    /// `endpoint.id`.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Stored level override.
    pub level: Option<u8>,
    /// Last request.
    pub last_requested: Option<i64>,
}

/// How long a step of pruning may run before it is stopped and rolled back (see
/// [`crate::store::prune`]).
pub const STEP_BUDGET: Duration = Duration::from_millis(200);

/// One step of a pruning run (see [`crate::store::prune`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepRecord {
    /// How many requests the step was asked to delete.
    pub requests: i64,
    /// How long it could run before being stopped; `None`: the minimum step that follows
    /// a stopped minimum step, run to its end.
    pub budget: Option<Duration>,
    /// How long it held the write lock: from getting it until its commit, or its
    /// rollback, was done.
    pub held: Duration,
    /// When (after getting the lock) it began to commit; `None`: it was stopped and
    /// rolled back, having changed nothing.
    pub committing_at: Option<Duration>,
}

impl StepRecord {
    /// Whether the step was stopped and rolled back.
    pub fn stopped(&self) -> bool {
        self.committing_at.is_none()
    }
}

/// What a pruning run removed.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct PruneReport {
    /// Requests deleted.
    pub requests: u64,
    /// Exception occurrences deleted.
    pub occurrences: u64,
    /// Exception groups left empty and deleted.
    pub groups: u64,
    /// Outlier rows of deleted requests.
    pub outliers: u64,
    /// Call-tree nodes of deleted requests.
    pub profile_nodes: u64,
    /// Hourly rollup rows of hours before the cutoff.
    pub hourly_rows: u64,
    /// Daily duration-histogram rows of days before the cutoff.
    pub duration_rows: u64,
    /// Custom-graph values before the cutoff.
    pub graph_values: u64,
}

impl PruneReport {
    /// Adds what another step of the same pruning removed.
    pub fn add(&mut self, other: &PruneReport) {
        self.requests += other.requests;
        self.occurrences += other.occurrences;
        self.groups += other.groups;
        self.outliers += other.outliers;
        self.profile_nodes += other.profile_nodes;
        self.hourly_rows += other.hourly_rows;
        self.duration_rows += other.duration_rows;
        self.graph_values += other.graph_values;
    }
}

/// Database totals for the configuration and retention pages.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct StoreTotals {
    /// Rows in `request`.
    pub requests: u64,
    /// Rows in `exception_occurrence`.
    pub occurrences: u64,
    /// Rows in `exception_group`.
    pub groups: u64,
    /// Rows in `endpoint`.
    pub endpoints: u64,
    /// Oldest request time.
    pub oldest_request: Option<i64>,
    /// The start of the oldest hour in the hourly rollup (kept until `FMD_RETENTION_WEEKS`
    /// deletes it).
    pub oldest_rollup: Option<i64>,
    /// Raw request rows before this time were pruned by raw retention
    /// ([`DashboardStore::prune_raw`]); `None`: never.
    pub raw_pruned_before: Option<i64>,
}

/// A dashboard account.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct User {
    /// `fmd_user.id`.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// PHC string of the argon2 hash (never the password).
    #[serde(skip)]
    pub password_hash: String,
    /// `"admin"` or `"viewer"`.
    pub role: String,
}

/// The read queries and admin operations behind the dashboard.
///
/// Implemented once per storage engine. Methods take `&mut self` because an implementation
/// may run admin operations inside a transaction on its own connection.
pub trait DashboardStore {
    /// Whether the connection should be reopened: its SQLite file was deleted, or
    /// another file was put at its path (PostgreSQL: never).
    fn needs_reopen(&self) -> bool {
        false
    }

    /// Every endpoint with its counters, "today" and "7 days" being UTC days ending at
    /// `now` (see [`DashboardStore::overview_in`]). With an `instance`, the counters cover
    /// only that instance's requests.
    fn overview(
        &mut self,
        now: i64,
        instance: Option<&str>,
    ) -> Result<Vec<EndpointOverview>, StoreError> {
        self.overview_in(OverviewDays::utc(now), instance)
    }

    /// Every endpoint with its counters, "today" and "7 days" beginning where `days`
    /// says (the viewer's local midnights). With an `instance`, the counters cover only
    /// that instance's requests.
    fn overview_in(
        &mut self,
        days: OverviewDays,
        instance: Option<&str>,
    ) -> Result<Vec<EndpointOverview>, StoreError>;

    /// Every instance that stored requests, most recently seen first.
    fn instances(&mut self) -> Result<Vec<InstanceInfo>, StoreError>;

    /// One endpoint by id.
    fn endpoint(&mut self, id: i64) -> Result<Option<EndpointInfo>, StoreError>;

    /// Exception groups, optionally of one endpoint, sorted and paginated.
    fn groups(
        &mut self,
        endpoint_id: Option<i64>,
        sort: GroupSort,
        descending: bool,
        offset: u64,
        limit: u64,
    ) -> Result<Page<GroupSummary>, StoreError> {
        let all = GroupQuery {
            endpoint_id,
            kind: IssueKind::All,
        };
        self.groups_of(all, sort, descending, offset, limit)
    }

    /// [`groups`](Self::groups) of one kind: a group is of its issue's kind (see
    /// [`IssueKind`]).
    fn groups_of(
        &mut self,
        which: GroupQuery,
        sort: GroupSort,
        descending: bool,
        offset: u64,
        limit: u64,
    ) -> Result<Page<GroupSummary>, StoreError>;

    /// The full detail of one group: trace, chain and a histogram of `buckets` buckets
    /// ending at `now`.
    fn group_detail(
        &mut self,
        group_id: i64,
        now: i64,
        buckets: u32,
    ) -> Result<Option<GroupDetail>, StoreError>;

    /// Row counts for the configuration and retention pages.
    fn totals(&mut self) -> Result<StoreTotals, StoreError>;

    /// Stores an endpoint's level override (`None` clears it). Returns the endpoint's name,
    /// or `None` when no endpoint has this id.
    fn set_endpoint_level(
        &mut self,
        endpoint_id: i64,
        level: Option<u8>,
    ) -> Result<Option<String>, StoreError>;

    /// Deletes one group on one endpoint with its occurrences and whatever is left
    /// orphaned. Returns `false` when the group does not belong to that endpoint.
    fn delete_group(&mut self, endpoint_id: i64, group_id: i64) -> Result<bool, StoreError>;

    /// Deletes requests (with their outlier and call-tree rows), occurrences, rollup rows
    /// and custom-graph values older than `cutoff`, groups left empty, orphans — in steps
    /// of at most [`STEP_REQUESTS`](crate::store::prune::STEP_REQUESTS) requests, one
    /// transaction each, each stopped and rolled back once it has run for
    /// [`STEP_BUDGET`] (see [`crate::store::prune`]).
    fn prune(&mut self, cutoff: i64) -> Result<PruneReport, StoreError> {
        self.prune_observed(cutoff, STEP_BUDGET, &mut |_| {})
    }

    /// [`DashboardStore::prune`] with each step's `budget` (the tests pass a tiny one to
    /// have steps stopped), telling `observe` about each step.
    fn prune_observed(
        &mut self,
        cutoff: i64,
        budget: Duration,
        observe: &mut dyn FnMut(&StepRecord),
    ) -> Result<PruneReport, StoreError>;

    /// Before when raw request rows were pruned by raw retention, if ever (one small
    /// read: the pages that list raw rows say that older ones are gone).
    fn raw_pruned_before(&mut self) -> Result<Option<i64>, StoreError>;

    /// Raw retention: deletes the request rows older than `cutoff` with their outlier and
    /// call-tree rows, in the same steps as [`DashboardStore::prune`]. The rollups
    /// (`request_hourly`, `duration_daily`, `app_version`, `instance`) and the exceptions
    /// stay: occurrences keep their group, time and trace, and lose only their request
    /// link. Records the cutoff (see [`StoreTotals::raw_pruned_before`]).
    fn prune_raw(&mut self, cutoff: i64) -> Result<PruneReport, StoreError> {
        self.prune_raw_observed(cutoff, STEP_BUDGET, &mut |_| {})
    }

    /// [`DashboardStore::prune_raw`] with each step's `budget`, telling `observe` about
    /// each step (as [`DashboardStore::prune_observed`]).
    fn prune_raw_observed(
        &mut self,
        cutoff: i64,
        budget: Duration,
        observe: &mut dyn FnMut(&StepRecord),
    ) -> Result<PruneReport, StoreError>;

    /// Number of dashboard accounts.
    fn count_users(&mut self) -> Result<u64, StoreError>;

    /// Every account, by name.
    fn users(&mut self) -> Result<Vec<User>, StoreError>;

    /// Looks up an account by login name.
    fn user(&mut self, username: &str) -> Result<Option<User>, StoreError>;

    /// Creates an account from an argon2 PHC hash. Returns `false` if the name is taken.
    fn create_user(
        &mut self,
        username: &str,
        password_hash: &str,
        role: &str,
        now: i64,
    ) -> Result<bool, StoreError>;

    /// Replaces an account's argon2 PHC hash. Returns `false` if there is no such account.
    fn set_password_hash(
        &mut self,
        username: &str,
        password_hash: &str,
    ) -> Result<bool, StoreError>;

    /// Deletes an account. Returns `false` if there was no such account.
    fn delete_user(&mut self, username: &str) -> Result<bool, StoreError>;
}
