//! PostgreSQL implementation of [`DashboardStore`]: every SQL statement the dashboard runs.
//!
//! The queries follow the SQLite engine's, index for index: per-endpoint counts are range
//! scans of `request_endpoint_sample`, medians read the `duration_daily` histogram,
//! group lists read `exception_group` (whose counters the writer keeps). Differences are
//! PostgreSQL's: `sum` over `BIGINT` is `NUMERIC` (cast back), `FILTER` counts, typed
//! parameters.

use crate::store::rows;
use crate::store::sql;
use crate::store::sql::GROUP_SELECT;
use std::collections::HashMap;
use std::time::Duration;

use postgres::GenericClient;

use crate::store::StoreError;
use crate::store::histogram;
use crate::store::postgres::{Conn, connect, schema, store_error};
use crate::store::prune;
use crate::store::read::dashboard::OverviewDays;
use crate::store::read::dashboard::{
    DAY_MS, DashboardStore, EndpointInfo, EndpointOverview, GroupDetail, GroupQuery, GroupSort,
    GroupSummary, Histogram, InstanceInfo, Page, PruneReport, StackFrame, StepRecord, StoreTotals,
    User,
};
use crate::store::read::overview_days::SpanSums;
use crate::store::read::perf::HOUR_MS;

use super::prune::{Budgeted, bounded_step};

/// The dashboard's connection to an fmd PostgreSQL database.
///
/// ```no_run
/// use fmd_runtime::store::postgres::PgReader;
/// use fmd_runtime::store::read::DashboardStore;
///
/// let mut store = PgReader::open("postgres://fmd@127.0.0.1/fmd")?;
/// let endpoints = store.overview(0, None).map_err(|e| e.to_string());
/// # Ok::<(), fmd_runtime::store::StoreError>(())
/// ```
pub struct PgReader {
    pub(in crate::store::postgres) client: Conn,
}

impl PgReader {
    /// Connects to `url`, creating and migrating the schema if needed.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let mut client = connect(url)?;
        schema::migrate(&mut client).map_err(|e| store_error("migrate", e))?;
        Ok(PgReader {
            client: Conn::new(client),
        })
    }

    /// The underlying connection (tests and fixtures).
    pub fn client(&mut self) -> &mut postgres::Client {
        &mut self.client
    }
}

/// The frames of one stack-trace snapshot, innermost first, with their functions' code.
pub(super) fn snapshot_frames(
    client: &mut impl GenericClient,
    snapshot_id: i64,
) -> Result<Vec<StackFrame>, postgres::Error> {
    client
        .query(sql::SNAPSHOT_FRAMES, &[&snapshot_id])?
        .iter()
        .map(rows::stack_frame)
        .collect()
}

/// Deletes everything no group, occurrence, outlier or profile refers to any more,
/// innermost tables last.
fn clean_orphans(tx: &mut postgres::Transaction<'_>) -> Result<(), postgres::Error> {
    tx.batch_execute(sql::CLEAN_ORPHANS)
}

/// One step of pruning before `cutoff` in `tx`: the oldest `n` requests and what hangs
/// off them (see [`crate::store::prune`]); `true` with the last.
fn prune_step(
    tx: &mut Budgeted<'_>,
    cutoff: i64,
    n: i64,
) -> Result<(PruneReport, bool), postgres::Error> {
    let oldest: Option<i64> = tx
        .query_one(sql::PRUNE_STEP_BOUND_ALL, &[&cutoff, &(n - 1)])?
        .get(0);
    let (bound, last) = prune::step_cutoff(oldest, cutoff);
    tx.execute(sql::PRUNE_UNCOUNT_OCCURRENCES, &[&bound])?;
    let mut occurrences = tx.execute(sql::PRUNE_OCCURRENCES, &[&bound])?;
    // An occurrence recorded late for an old request still hangs off that request.
    tx.execute(sql::PRUNE_UNCOUNT_LATE_OCCURRENCES, &[&bound])?;
    occurrences += tx.execute(sql::PRUNE_LATE_OCCURRENCES, &[&bound])?;
    tx.execute(sql::PRUNE_FIRST_SEEN, &[&bound])?;
    let outliers = tx.execute(sql::PRUNE_OUTLIERS, &[&bound])?;
    let profile_nodes = tx.execute(sql::PRUNE_PROFILE_NODES, &[&bound])?;
    // The bound's own day keeps its histogram rows, less the requests deleted from it.
    let bound_day = bound.div_euclid(DAY_MS);
    // So does the bound's hour in the recent hours' histogram.
    let bound_hour = bound.div_euclid(HOUR_MS);
    let mut partial: HashMap<(i64, String, i64), i64> = HashMap::new();
    let mut partial_hour: HashMap<(i64, String, i64), i64> = HashMap::new();
    for r in tx.query(sql::PRUNE_PARTIAL_DAY, &[&(bound_day * DAY_MS), &bound])? {
        let key: (i64, String, i64) = (r.get(0), r.get(1), histogram::bucket(r.get(2)));
        if r.get::<_, i64>(3).div_euclid(HOUR_MS) == bound_hour {
            *partial_hour.entry(key.clone()).or_default() += 1;
        }
        *partial.entry(key).or_default() += 1;
    }
    for ((endpoint, instance, bucket), n) in partial {
        tx.execute(
            "UPDATE duration_daily SET hits = greatest(hits - $5, 0)
             WHERE endpoint_id = $1 AND day = $2 AND instance = $3 AND bucket = $4",
            &[&endpoint, &bound_day, &instance, &bucket, &n],
        )?;
    }
    for ((endpoint, instance, bucket), n) in partial_hour {
        tx.execute(
            sql::PRUNE_PARTIAL_HOUR,
            &[&bound_hour, &endpoint, &instance, &bucket, &n],
        )?;
    }
    tx.execute(sql::TRIM_HOURLY_DURATIONS, &[&bound_hour])?;
    let duration_rows = tx.execute(sql::PRUNE_DURATIONS, &[&bound_day])?;
    let requests = tx.execute(sql::PRUNE_REQUESTS, &[&bound])?;
    // Whole hours before the bound; the hour holding it stays.
    let hourly_rows = tx.execute(sql::PRUNE_HOURS, &[&bound.div_euclid(HOUR_MS)])?;
    let graph_values = tx.execute("DELETE FROM custom_graph_value WHERE time < $1", &[&bound])?;
    let mut groups = 0;
    if last {
        tx.execute(sql::PRUNE_EMPTY_GROUP_VERSIONS, &[])?;
        groups = tx.execute(sql::PRUNE_EMPTY_GROUPS, &[])?;
        tx.batch_execute(sql::CLEAN_ORPHANS)?;
    }
    let report = PruneReport {
        requests,
        occurrences,
        groups,
        outliers,
        profile_nodes,
        hourly_rows,
        duration_rows,
        graph_values,
    };
    Ok((report, last))
}

impl DashboardStore for PgReader {
    fn overview_in(
        &mut self,
        days: OverviewDays,
        instance: Option<&str>,
    ) -> Result<Vec<EndpointOverview>, StoreError> {
        let endpoints: Vec<EndpointInfo> = self
            .client
            .query(sql::ENDPOINTS, &[])?
            .iter()
            .map(rows::endpoint)
            .collect::<Result<_, _>>()?;
        // Hits per duration bucket of each endpoint over the three spans, summed by the
        // server from the daily histogram (a few dozen rows per endpoint and day), and the
        // hours of the spans' first UTC days from the hourly one (see `overview_days`).
        let mut spans = SpanSums::new(days);
        let [today, week] = spans.edges();
        for r in self.client.query(
            "SELECT endpoint_id, bucket,
                    coalesce(sum(hits) FILTER (WHERE day >= $3), 0)::bigint,
                    coalesce(sum(hits) FILTER (WHERE day >= $2), 0)::bigint,
                    sum(hits)::bigint
             FROM duration_daily WHERE $1::text IS NULL OR instance = $1
             GROUP BY endpoint_id, bucket",
            &[&instance, &week.whole_from, &today.whole_from],
        )? {
            spans.add_sums(r.get(0), r.get(1), [r.get(2), r.get(3), r.get(4)]);
        }
        for edge in [today, week].into_iter().filter(|e| e.hours.0 < e.hours.1) {
            for r in self.client.query(
                sql::HOURS_HISTOGRAM,
                &[&edge.hours.0, &edge.hours.1, &instance],
            )? {
                spans.add_hour(r.get(0), r.get(1), r.get(2), r.get(3));
            }
        }
        let errors: HashMap<i64, (i64, i64)> = self
            .client
            .query(
                "SELECT endpoint_id, sum(client_errors)::bigint, sum(server_errors)::bigint
                 FROM request_hourly WHERE hour >= $1 AND ($2::text IS NULL OR instance = $2)
                 GROUP BY endpoint_id",
                &[&days.week_hour, &instance],
            )?
            .iter()
            .map(|r| (r.get(0), (r.get(1), r.get(2))))
            .collect();
        let groups: HashMap<i64, i64> = self
            .client
            .query(sql::GROUPS_PER_ENDPOINT, &[])?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        // Routes of each endpoint's latest requests (bounded, whatever the table size), for
        // every endpoint in one statement.
        let mut routes: HashMap<i64, Vec<String>> = HashMap::new();
        for r in self.client.query(
            "SELECT e.id, r.route FROM endpoint e CROSS JOIN LATERAL (
                 SELECT DISTINCT route FROM (SELECT route FROM request_text
                     WHERE endpoint_id = e.id ORDER BY time DESC LIMIT 200) latest) r
             ORDER BY e.id, r.route",
            &[],
        )? {
            routes.entry(r.get(0)).or_default().push(r.get(1));
        }
        let mut out = Vec::with_capacity(endpoints.len());
        for e in endpoints {
            let id = e.id;
            let routes = routes.remove(&id).unwrap_or_default();
            out.push(rows::overview(
                e,
                routes,
                spans.take(id),
                errors.get(&id).copied().unwrap_or_default(),
                groups.get(&id).copied().unwrap_or(0),
            ));
        }
        Ok(out)
    }

    fn instances(&mut self) -> Result<Vec<InstanceInfo>, StoreError> {
        Ok(self
            .client
            .query(sql::INSTANCES, &[])?
            .iter()
            .map(rows::instance)
            .collect::<Result<_, _>>()?)
    }

    fn endpoint(&mut self, id: i64) -> Result<Option<EndpointInfo>, StoreError> {
        Ok(self
            .client
            .query_opt(sql::ENDPOINT, &[&id])?
            .as_ref()
            .map(rows::endpoint)
            .transpose()?)
    }

    fn groups_of(
        &mut self,
        which: GroupQuery,
        sort: GroupSort,
        descending: bool,
        offset: u64,
        limit: u64,
    ) -> Result<Page<GroupSummary>, StoreError> {
        let (key, dir) = sql::group_order(sort, descending);
        let (endpoint_id, kind) = (which.endpoint_id, which.kind.group_condition());
        let sql = format!(
            "{GROUP_SELECT} WHERE ($1::bigint IS NULL OR g.endpoint_id = $1){kind}
             ORDER BY {key} {dir}, g.id {dir} LIMIT $2 OFFSET $3"
        );
        let (limit, offset) = (
            limit.min(i64::MAX as u64) as i64,
            offset.min(i64::MAX as u64) as i64,
        );
        let rows = self
            .client
            .query(&sql, &[&endpoint_id, &limit, &offset])?
            .iter()
            .map(rows::group)
            .collect::<Result<_, _>>()?;
        let total: i64 = self
            .client
            .query_one(
                &format!(
                    "SELECT count(*) FROM exception_group g
                     WHERE ($1::bigint IS NULL OR g.endpoint_id = $1){kind}"
                ),
                &[&endpoint_id],
            )?
            .get(0);
        Ok(Page {
            rows,
            total: total as u64,
        })
    }

    fn group_detail(
        &mut self,
        group_id: i64,
        now: i64,
        buckets: u32,
    ) -> Result<Option<GroupDetail>, StoreError> {
        let Some(row) = self
            .client
            .query_opt(&format!("{GROUP_SELECT} WHERE g.id = $1"), &[&group_id])?
        else {
            return Ok(None);
        };
        let summary = rows::group(&row)?;
        let latest = self
            .client
            .query_opt(sql::LATEST_OCCURRENCE, &[&group_id])?;
        let (kind, chain): (i64, String) =
            latest.map_or((1, "[]".to_owned()), |r| (r.get(0), r.get(1)));
        let source_chain: Vec<String> = serde_json::from_str(&chain).unwrap_or_default();
        let snapshot_id: i64 = self
            .client
            .query_one(sql::GROUP_SNAPSHOT, &[&group_id])?
            .get(0);
        let frames = snapshot_frames(&mut *self.client, snapshot_id)?;

        // Buckets cover the group's life within the last 30 days, at least a minute each.
        let buckets = buckets.max(1) as i64;
        let end = now + 1;
        let from = summary.first_seen.max(now - 30 * DAY_MS);
        let bucket_ms = ((end - from + buckets - 1) / buckets).max(60_000);
        let start = end - bucket_ms * buckets;
        let mut counts = vec![0u64; buckets as usize];
        for r in self.client.query(
            "SELECT (time - $2) / $3::bigint AS b, count(*) FROM exception_occurrence
             WHERE group_id = $1 AND time >= $2 AND time < $4 GROUP BY b",
            &[&group_id, &start, &bucket_ms, &end],
        )? {
            let b: i64 = r.get(0);
            if let Some(c) = usize::try_from(b).ok().and_then(|b| counts.get_mut(b)) {
                *c = r.get::<_, i64>(1) as u64;
            }
        }
        Ok(Some(GroupDetail {
            summary,
            source_chain,
            kind: kind as u8,
            frames,
            histogram: Histogram {
                start,
                bucket_ms,
                counts,
            },
        }))
    }

    fn totals(&mut self) -> Result<StoreTotals, StoreError> {
        let r = self.client.query_one(
            "SELECT (SELECT count(*) FROM request), (SELECT count(*) FROM exception_occurrence),
                    (SELECT count(*) FROM exception_group), (SELECT count(*) FROM endpoint),
                    (SELECT min(time) FROM request),
                    (SELECT min(hour) * 3600000 FROM request_hourly)",
            &[],
        )?;
        let n = |i: usize| r.get::<_, i64>(i) as u64;
        Ok(StoreTotals {
            requests: n(0),
            occurrences: n(1),
            groups: n(2),
            endpoints: n(3),
            oldest_request: r.get(4),
            oldest_rollup: r.get(5),
            raw_pruned_before: super::raw::raw_pruned_before(&mut self.client)?,
        })
    }

    fn set_endpoint_level(
        &mut self,
        endpoint_id: i64,
        level: Option<u8>,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .client
            .query_opt(sql::SET_LEVEL, &[&endpoint_id, &level.map(i64::from)])?
            .map(|r| r.get(0)))
    }

    fn delete_group(&mut self, endpoint_id: i64, group_id: i64) -> Result<bool, StoreError> {
        let mut tx = self.client.transaction()?;
        let found = tx
            .query_opt(
                "SELECT 1 FROM exception_group WHERE id = $1 AND endpoint_id = $2 FOR UPDATE",
                &[&group_id, &endpoint_id],
            )?
            .is_some();
        if !found {
            return Ok(false);
        }
        tx.execute(sql::DELETE_GROUP_OCCURRENCES, &[&group_id])?;
        tx.execute(sql::DELETE_GROUP_VERSIONS, &[&group_id])?;
        tx.execute(sql::DELETE_GROUP, &[&group_id])?;
        clean_orphans(&mut tx)?;
        tx.commit()?;
        Ok(true)
    }

    fn prune_observed(
        &mut self,
        cutoff: i64,
        budget: Duration,
        observe: &mut dyn FnMut(&StepRecord),
    ) -> Result<PruneReport, StoreError> {
        let client = &mut self.client;
        Ok(prune::in_steps(budget, observe, |n, limit| {
            bounded_step(client, limit, |tx| prune_step(tx, cutoff, n))
        })?)
    }

    fn raw_pruned_before(&mut self) -> Result<Option<i64>, StoreError> {
        Ok(super::raw::raw_pruned_before(&mut self.client)?)
    }

    fn prune_raw_observed(
        &mut self,
        cutoff: i64,
        budget: Duration,
        observe: &mut dyn FnMut(&StepRecord),
    ) -> Result<PruneReport, StoreError> {
        let client = &mut self.client;
        Ok(prune::in_steps(budget, observe, |n, limit| {
            bounded_step(client, limit, |tx| super::raw::raw_step(tx, cutoff, n))
        })?)
    }

    fn count_users(&mut self) -> Result<u64, StoreError> {
        let n: i64 = self.client.query_one(sql::COUNT_USERS, &[])?.get(0);
        Ok(n as u64)
    }

    fn users(&mut self) -> Result<Vec<User>, StoreError> {
        Ok(self
            .client
            .query(sql::USERS, &[])?
            .iter()
            .map(rows::user)
            .collect::<Result<_, _>>()?)
    }

    fn user(&mut self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(self
            .client
            .query_opt(sql::USER, &[&username])?
            .as_ref()
            .map(rows::user)
            .transpose()?)
    }

    fn create_user(
        &mut self,
        username: &str,
        password_hash: &str,
        role: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = self
            .client
            .execute(sql::CREATE_USER, &[&username, &password_hash, &role, &now])?;
        Ok(n == 1)
    }

    fn set_password_hash(
        &mut self,
        username: &str,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        let n = self
            .client
            .execute(sql::SET_PASSWORD_HASH, &[&username, &password_hash])?;
        Ok(n == 1)
    }

    fn delete_user(&mut self, username: &str) -> Result<bool, StoreError> {
        let n = self.client.execute(sql::DELETE_USER, &[&username])?;
        Ok(n == 1)
    }
}
