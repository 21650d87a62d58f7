//! The dashboard's engine-neutral reader: one type over every compiled-in engine, with one
//! error type ([`StoreError`]), so the pages never name an engine's crate.

use super::dashboard::{
    DashboardStore, EndpointInfo, EndpointOverview, GroupDetail, GroupSort, GroupSummary,
    InstanceInfo, Page, PruneReport, StoreTotals, User,
};
use super::perf::{
    AppVersion, CustomGraph, DailyHits, FailedRequest, GraphPoint, HourCell, Outlier, PerfStore,
    ProfiledRequest, RequestSample, Selection, StatusMix, VersionDay,
};
use super::request_log::{RequestLog, RequestRow, RequestWindow};
use crate::config::Database;
use crate::store::StoreError;
use crate::store::sqlite::{self, SqliteReader};

/// A dashboard connection to whichever engine the configuration names.
///
/// ```no_run
/// use fmd_runtime::Database;
/// use fmd_runtime::store::AnyReader;
/// use fmd_runtime::store::read::DashboardStore;
///
/// let mut store = AnyReader::open(&Database::parse("fmd.db"))?;
/// let endpoints = store.overview(0, None)?;
/// # Ok::<(), fmd_runtime::store::StoreError>(())
/// ```
pub enum AnyReader {
    /// A SQLite file.
    Sqlite(SqliteReader),
    /// A PostgreSQL database.
    #[cfg(feature = "postgres")]
    Postgres(crate::store::postgres::PgReader),
}

impl AnyReader {
    /// Connects to `database`, creating and migrating its schema if needed.
    pub fn open(database: &Database) -> Result<AnyReader, StoreError> {
        match database {
            Database::Sqlite(path) => SqliteReader::open(path)
                .map(AnyReader::Sqlite)
                .map_err(|e| sqlite::store_error("open", e)),
            #[cfg(feature = "postgres")]
            Database::Postgres(url) => {
                crate::store::postgres::PgReader::open(url).map(AnyReader::Postgres)
            }
            #[cfg(not(feature = "postgres"))]
            Database::Postgres(_) => Err(StoreError::without_postgres()),
        }
    }
}

impl From<SqliteReader> for AnyReader {
    fn from(reader: SqliteReader) -> Self {
        AnyReader::Sqlite(reader)
    }
}

/// Runs `$call` on the engine's reader and maps its error to a [`StoreError`].
macro_rules! each_engine {
    ($self:ident, $what:literal, |$r:ident| $call:expr) => {
        match $self {
            AnyReader::Sqlite($r) => $call.map_err(|e| sqlite::store_error($what, e)),
            #[cfg(feature = "postgres")]
            AnyReader::Postgres($r) => {
                $call.map_err(|e| crate::store::postgres::store_error($what, e))
            }
        }
    };
}

impl DashboardStore for AnyReader {
    type Error = StoreError;

    fn overview(
        &mut self,
        now: i64,
        instance: Option<&str>,
    ) -> Result<Vec<EndpointOverview>, StoreError> {
        each_engine!(self, "overview", |r| r.overview(now, instance))
    }

    fn instances(&mut self) -> Result<Vec<InstanceInfo>, StoreError> {
        each_engine!(self, "instances", |r| r.instances())
    }

    fn endpoint(&mut self, id: i64) -> Result<Option<EndpointInfo>, StoreError> {
        each_engine!(self, "endpoint", |r| r.endpoint(id))
    }

    fn groups(
        &mut self,
        endpoint_id: Option<i64>,
        sort: GroupSort,
        descending: bool,
        offset: u64,
        limit: u64,
    ) -> Result<Page<GroupSummary>, StoreError> {
        each_engine!(self, "groups", |r| r.groups(
            endpoint_id,
            sort,
            descending,
            offset,
            limit
        ))
    }

    fn group_detail(
        &mut self,
        group_id: i64,
        now: i64,
        buckets: u32,
    ) -> Result<Option<GroupDetail>, StoreError> {
        each_engine!(self, "group detail", |r| r
            .group_detail(group_id, now, buckets))
    }

    fn totals(&mut self) -> Result<StoreTotals, StoreError> {
        each_engine!(self, "totals", |r| r.totals())
    }

    fn set_endpoint_level(
        &mut self,
        endpoint_id: i64,
        level: Option<u8>,
    ) -> Result<Option<String>, StoreError> {
        each_engine!(self, "set level", |r| r
            .set_endpoint_level(endpoint_id, level))
    }

    fn delete_group(&mut self, endpoint_id: i64, group_id: i64) -> Result<bool, StoreError> {
        each_engine!(self, "delete group", |r| r
            .delete_group(endpoint_id, group_id))
    }

    fn prune(&mut self, cutoff: i64) -> Result<PruneReport, StoreError> {
        each_engine!(self, "prune", |r| r.prune(cutoff))
    }

    fn count_users(&mut self) -> Result<u64, StoreError> {
        each_engine!(self, "count users", |r| r.count_users())
    }

    fn users(&mut self) -> Result<Vec<User>, StoreError> {
        each_engine!(self, "users", |r| r.users())
    }

    fn user(&mut self, username: &str) -> Result<Option<User>, StoreError> {
        each_engine!(self, "user", |r| r.user(username))
    }

    fn create_user(
        &mut self,
        username: &str,
        password_hash: &str,
        role: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        each_engine!(self, "create user", |r| r.create_user(
            username,
            password_hash,
            role,
            now
        ))
    }

    fn set_password_hash(
        &mut self,
        username: &str,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        each_engine!(self, "set password", |r| r
            .set_password_hash(username, password_hash))
    }

    fn delete_user(&mut self, username: &str) -> Result<bool, StoreError> {
        each_engine!(self, "delete user", |r| r.delete_user(username))
    }
}

impl PerfStore for AnyReader {
    fn endpoint_list(&mut self) -> Result<Vec<EndpointInfo>, StoreError> {
        each_engine!(self, "endpoints", |r| r.endpoint_list())
    }

    fn hourly_load(
        &mut self,
        endpoint_id: Option<i64>,
        from: i64,
        to: i64,
        instance: Option<&str>,
    ) -> Result<Vec<HourCell>, StoreError> {
        each_engine!(self, "hourly load", |r| r.hourly_load(
            endpoint_id,
            from,
            to,
            instance
        ))
    }

    fn daily_hits(&mut self, from: i64, to: i64) -> Result<Vec<DailyHits>, StoreError> {
        each_engine!(self, "daily hits", |r| r.daily_hits(from, to))
    }

    fn version_usage(
        &mut self,
        endpoint_id: Option<i64>,
        from: i64,
        to: i64,
        instance: Option<&str>,
    ) -> Result<Vec<VersionDay>, StoreError> {
        each_engine!(self, "version usage", |r| r.version_usage(
            endpoint_id,
            from,
            to,
            instance
        ))
    }

    fn versions(&mut self) -> Result<Vec<AppVersion>, StoreError> {
        each_engine!(self, "versions", |r| r.versions())
    }

    fn recent_requests(
        &mut self,
        endpoint_id: i64,
        since: i64,
        limit: u32,
        instance: Option<&str>,
    ) -> Result<Vec<RequestSample>, StoreError> {
        each_engine!(self, "recent requests", |r| r.recent_requests(
            endpoint_id,
            since,
            limit,
            instance
        ))
    }

    fn durations(
        &mut self,
        endpoint_id: i64,
        selection: &Selection,
        limit: u32,
    ) -> Result<Vec<i64>, StoreError> {
        each_engine!(self, "durations", |r| r.durations(
            endpoint_id,
            selection,
            limit
        ))
    }

    fn status_mix(
        &mut self,
        endpoint_id: i64,
        selection: &Selection,
    ) -> Result<StatusMix, StoreError> {
        each_engine!(self, "status mix", |r| r.status_mix(endpoint_id, selection))
    }

    fn failed_requests(
        &mut self,
        endpoint_id: i64,
        offset: u64,
        limit: u64,
        instance: Option<&str>,
    ) -> Result<Page<FailedRequest>, StoreError> {
        each_engine!(self, "failed requests", |r| r.failed_requests(
            endpoint_id,
            offset,
            limit,
            instance
        ))
    }

    fn outliers(
        &mut self,
        endpoint_id: i64,
        offset: u64,
        limit: u64,
        instance: Option<&str>,
    ) -> Result<Page<Outlier>, StoreError> {
        each_engine!(self, "outliers", |r| r.outliers(
            endpoint_id,
            offset,
            limit,
            instance
        ))
    }

    fn profiled_requests(
        &mut self,
        endpoint_id: i64,
        limit: u32,
        instance: Option<&str>,
    ) -> Result<Vec<ProfiledRequest>, StoreError> {
        each_engine!(self, "profiled requests", |r| r.profiled_requests(
            endpoint_id,
            limit,
            instance
        ))
    }

    fn custom_graphs(&mut self) -> Result<Vec<CustomGraph>, StoreError> {
        each_engine!(self, "custom graphs", |r| r.custom_graphs())
    }

    fn graph_points(
        &mut self,
        graph_id: i64,
        from: i64,
        to: i64,
        buckets: u32,
    ) -> Result<Vec<GraphPoint>, StoreError> {
        each_engine!(self, "graph points", |r| r
            .graph_points(graph_id, from, to, buckets))
    }
}

impl RequestLog for AnyReader {
    type Error = StoreError;

    fn requests_in_window(
        &mut self,
        window: &RequestWindow,
    ) -> Result<Vec<RequestRow>, StoreError> {
        each_engine!(self, "request log", |r| r.requests_in_window(window))
    }
}
