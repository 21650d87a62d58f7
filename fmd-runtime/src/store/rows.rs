//! Row mappers both engines share: one function per read-model struct, reading a row of
//! the statement it names through [`Columns`], which each engine implements for its
//! driver's row type (in its own module).
//!
//! Integers are read as `i64` (SQLite's INTEGER, PostgreSQL's BIGINT) and narrowed here,
//! the same way on both engines: counts below zero read as 0, line numbers and positions
//! are clamped to `u32`, levels and statuses out of range read as unset.

use crate::store::read::dashboard::{
    EndpointInfo, EndpointOverview, GroupSummary, InstanceInfo, SpanStats, StackFrame, User,
};
use crate::store::read::perf::{
    AppVersion, CustomGraph, DailyHits, FailedRequest, ProfileNode, RequestSample, VersionDay,
};
use crate::store::read::request_log::{OutlierFacts, RequestError, RequestRow};

/// The columns of one result row, by position, as the types the read model needs.
pub(crate) trait Columns {
    /// The driver's error (a NULL or a value of another type where one is not expected).
    type Error;

    /// An integer column.
    fn int(&self, i: usize) -> Result<i64, Self::Error>;
    /// A nullable integer column.
    fn opt_int(&self, i: usize) -> Result<Option<i64>, Self::Error>;
    /// A text column.
    fn text(&self, i: usize) -> Result<String, Self::Error>;
    /// A nullable text column.
    fn opt_text(&self, i: usize) -> Result<Option<String>, Self::Error>;
    /// A boolean column (SQLite stores 0 or 1).
    fn flag(&self, i: usize) -> Result<bool, Self::Error>;
    /// A nullable boolean column.
    fn opt_flag(&self, i: usize) -> Result<Option<bool>, Self::Error>;
}

/// A count: never below zero.
pub(crate) fn count(v: i64) -> u64 {
    v.max(0) as u64
}

/// A non-negative count or line number as `u32`.
pub(crate) fn small(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

/// A stored level (0–3), unset when NULL or out of range.
pub(crate) fn level(v: Option<i64>) -> Option<u8> {
    v.and_then(|l| u8::try_from(l).ok())
}

/// A stored HTTP status, unset when NULL (cancelled) or out of range.
pub(crate) fn status(v: Option<i64>) -> Option<u16> {
    v.and_then(|s| u16::try_from(s).ok())
}

/// [`sql::ENDPOINTS`](crate::store::sql::ENDPOINTS): `id, name, level, last_requested`.
pub(crate) fn endpoint<R: Columns>(r: &R) -> Result<EndpointInfo, R::Error> {
    Ok(EndpointInfo {
        id: r.int(0)?,
        name: r.text(1)?,
        level: level(r.opt_int(2)?),
        last_requested: r.opt_int(3)?,
    })
}

/// [`sql::GROUP_SELECT`](crate::store::sql::GROUP_SELECT).
pub(crate) fn group<R: Columns>(r: &R) -> Result<GroupSummary, R::Error> {
    Ok(GroupSummary {
        id: r.int(0)?,
        endpoint_id: r.int(1)?,
        endpoint: r.text(2)?,
        type_name: r.text(3)?,
        message: r.text(4)?,
        count: count(r.int(5)?),
        first_seen: r.int(6)?,
        last_seen: r.int(7)?,
        issue_id: r.opt_int(8)?,
    })
}

/// [`sql::USERS`](crate::store::sql::USERS): `id, username, password_hash, role`.
pub(crate) fn user<R: Columns>(r: &R) -> Result<User, R::Error> {
    Ok(User {
        id: r.int(0)?,
        username: r.text(1)?,
        password_hash: r.text(2)?,
        role: r.text(3)?,
    })
}

/// [`sql::INSTANCES`](crate::store::sql::INSTANCES): `name, first_seen, last_seen`.
pub(crate) fn instance<R: Columns>(r: &R) -> Result<InstanceInfo, R::Error> {
    Ok(InstanceInfo {
        name: r.text(0)?,
        first_seen: r.int(1)?,
        last_seen: r.int(2)?,
    })
}

/// [`sql::SNAPSHOT_FRAMES`](crate::store::sql::SNAPSHOT_FRAMES).
pub(crate) fn stack_frame<R: Columns>(r: &R) -> Result<StackFrame, R::Error> {
    Ok(StackFrame {
        location_id: r.int(0)?,
        module: r.text(1)?,
        name: r.text(2)?,
        file: r.text(3)?,
        line: small(r.int(4)?),
        start_line: small(r.int(5)?),
        end_line: small(r.int(6)?),
        in_app: r.flag(7)?,
        code: r.opt_text(8)?.filter(|c| !c.is_empty()),
        verbatim: r.opt_flag(9)?.unwrap_or(false),
        repeat: small(r.int(10)?).max(1),
    })
}

/// [`sql::VERSIONS`](crate::store::sql::VERSIONS).
pub(crate) fn app_version<R: Columns>(r: &R) -> Result<AppVersion, R::Error> {
    Ok(AppVersion {
        version: r.text(0)?,
        git_commit: r.opt_text(1)?,
        first_seen: r.int(2)?,
        last_seen: r.int(3)?,
    })
}

/// `day, endpoint_id, name, hits`.
pub(crate) fn daily_hits<R: Columns>(r: &R) -> Result<DailyHits, R::Error> {
    Ok(DailyHits {
        day: r.int(0)?,
        endpoint_id: r.int(1)?,
        endpoint: r.text(2)?,
        hits: count(r.int(3)?),
    })
}

/// `day, version, hits`.
pub(crate) fn version_day<R: Columns>(r: &R) -> Result<VersionDay, R::Error> {
    Ok(VersionDay {
        day: r.int(0)?,
        version: r.text(1)?,
        hits: count(r.int(2)?),
    })
}

/// `id, time, duration_us, status, cancelled, version, group_by, ip` of `request`.
pub(crate) fn request_sample<R: Columns>(r: &R) -> Result<RequestSample, R::Error> {
    Ok(RequestSample {
        id: r.int(0)?,
        time: r.int(1)?,
        duration_us: r.int(2)?,
        status: status(r.opt_int(3)?),
        cancelled: r.flag(4)?,
        version: r.text(5)?,
        group_by: r.opt_text(6)?,
        ip: r.opt_text(7)?,
    })
}

/// `id, time, method, route, status, cancelled, duration_us, group_id`.
pub(crate) fn failed_request<R: Columns>(r: &R) -> Result<FailedRequest, R::Error> {
    Ok(FailedRequest {
        id: r.int(0)?,
        time: r.int(1)?,
        method: r.text(2)?,
        route: r.text(3)?,
        status: status(r.opt_int(4)?),
        cancelled: r.flag(5)?,
        duration_us: r.int(6)?,
        group_id: r.opt_int(7)?,
    })
}

/// [`sql::PROFILE_NODES`](crate::store::sql::PROFILE_NODES).
pub(crate) fn profile_node<R: Columns>(r: &R) -> Result<ProfileNode, R::Error> {
    Ok(ProfileNode {
        position: small(r.int(0)?),
        parent: r.opt_int(1)?.map(small),
        depth: small(r.int(2)?),
        location_id: r.int(3)?,
        module: r.text(4)?,
        name: r.text(5)?,
        calls: count(r.int(6)?),
        total_us: r.int(7)?,
        self_us: r.int(8)?,
    })
}

/// [`sql::CUSTOM_GRAPHS`](crate::store::sql::CUSTOM_GRAPHS): `id, name, created_at`.
pub(crate) fn custom_graph<R: Columns>(r: &R) -> Result<CustomGraph, R::Error> {
    Ok(CustomGraph {
        id: r.int(0)?,
        name: r.text(1)?,
        created_at: r.int(2)?,
    })
}

/// The request log's row: `r.id, r.endpoint_id, e.name, r.route, r.method, r.time,
/// r.duration_us, r.status, r.cancelled, r.version, r.instance, r.ip, r.group_by`.
pub(crate) fn request_row<R: Columns>(r: &R) -> Result<RequestRow, R::Error> {
    Ok(RequestRow {
        id: r.int(0)?,
        endpoint_id: r.int(1)?,
        endpoint: r.text(2)?,
        route: r.text(3)?,
        method: r.text(4)?,
        time: r.int(5)?,
        duration_us: r.int(6)?,
        status: status(r.opt_int(7)?),
        cancelled: r.flag(8)?,
        version: r.text(9)?,
        instance: r.text(10)?,
        ip: r.opt_text(11)?,
        group_by: r.opt_text(12)?,
    })
}

/// One endpoint's row of the overview, from what the engine read for it: the routes of its
/// latest requests, its spans `[today, last 7 days, all time]`, its `(client, server)`
/// errors of the last 7 days and its number of exception groups.
pub(crate) fn overview(
    e: EndpointInfo,
    routes: Vec<String>,
    [today, week, all]: [SpanStats; 3],
    (client_errors, server_errors): (i64, i64),
    groups: i64,
) -> EndpointOverview {
    EndpointOverview {
        id: e.id,
        name: e.name,
        routes,
        level: e.level,
        last_requested: e.last_requested,
        today,
        week,
        all,
        client_errors_week: count(client_errors),
        server_errors_week: count(server_errors),
        exception_groups: count(groups),
    }
}

/// [`sql::REQUEST_ERRORS`](crate::store::sql::REQUEST_ERRORS):
/// `group_id, endpoint_id, type, message, kind, time`.
pub(crate) fn request_error<R: Columns>(r: &R) -> Result<RequestError, R::Error> {
    Ok(RequestError {
        group_id: r.int(0)?,
        endpoint_id: r.int(1)?,
        type_name: r.text(2)?,
        message: r.text(3)?,
        kind: u8::try_from(r.int(4)?).unwrap_or(1),
        time: r.int(5)?,
    })
}

/// [`sql::REQUEST_OUTLIER`](crate::store::sql::REQUEST_OUTLIER):
/// `url, headers (JSON), typical_us, threshold_us`.
pub(crate) fn outlier_facts<R: Columns>(r: &R) -> Result<OutlierFacts, R::Error> {
    Ok(OutlierFacts {
        url: r.text(0)?,
        headers: serde_json::from_str(&r.text(1)?).unwrap_or_default(),
        typical_us: r.int(2)?,
        threshold_us: r.int(3)?,
    })
}
