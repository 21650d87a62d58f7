//! SQLite implementation of [`DashboardStore`]: every SQL statement the dashboard runs.
//!
//! Each query is written against an index of `schema.rs`: per-endpoint counts are range
//! scans of `request_endpoint_sample`, group lists read `exception_group` (whose
//! counters the writer keeps), histograms scan `exception_occurrence_group_time`. Orphan
//! clean-up uses non-correlated `NOT IN (SELECT ..)`, which SQLite materializes once per
//! statement.

use crate::store::rows;
use crate::store::sql;
use crate::store::sql::GROUP_SELECT;
use crate::store::sql::sqlite;
use foldhash::HashMap;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::store::StoreError;
use crate::store::prune;
use crate::store::read::dashboard::OverviewDays;
use crate::store::read::dashboard::{
    DAY_MS, DashboardStore, EndpointInfo, EndpointOverview, GroupDetail, GroupQuery, GroupSort,
    GroupSummary, Histogram, InstanceInfo, Page, PruneReport, StackFrame, StepRecord, StoreTotals,
    User,
};
use crate::store::read::overview_days::SpanSums;
use crate::store::sqlite::Deadline;
use crate::store::sqlite::identity::Opened;
use crate::store::sqlite::schema;

/// The dashboard's connection to an fmd SQLite file.
///
/// ```no_run
/// use fmd_runtime::store::read::DashboardStore;
/// use fmd_runtime::store::sqlite::SqliteReader;
///
/// let mut store = SqliteReader::open(std::path::Path::new("fmd.db"))?;
/// let endpoints = store.overview(0, None)?;
/// # Ok::<(), fmd_runtime::store::StoreError>(())
/// ```
pub struct SqliteReader {
    pub(super) conn: Connection,
    /// The file opened (to notice another one at the path); `None` when wrapped.
    opened: Option<Opened>,
    /// The deadline its progress handler enforces, once installed.
    deadline: Option<Deadline>,
}

impl SqliteReader {
    /// Opens (creating and migrating if needed) the database at `path`.
    pub fn open(path: &Path) -> rusqlite::Result<Self> {
        let mut conn = Connection::open(path)?;
        schema::configure(&conn)?;
        schema::migrate(&mut conn)?;
        Ok(SqliteReader {
            conn,
            opened: Some(Opened::now(path)),
            deadline: None,
        })
    }

    /// Wraps a connection that is already configured and migrated.
    pub fn from_connection(conn: Connection) -> Self {
        SqliteReader {
            conn,
            opened: None,
            deadline: None,
        }
    }

    /// The underlying connection (tests and fixtures).
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Prunes in steps of `step(tx, n)`, each bounded by `budget` (see
    /// [`super::prune::bounded_step`]).
    fn in_steps(
        &mut self,
        budget: Duration,
        observe: &mut dyn FnMut(&StepRecord),
        step: impl Fn(&rusqlite::Transaction<'_>, i64) -> rusqlite::Result<(PruneReport, bool)>,
    ) -> Result<PruneReport, StoreError> {
        let deadline = self.deadline()?;
        // Checkpoints run between the steps (see `bounded_step`), not in their commits.
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let conn = &mut self.conn;
        let pruned = prune::in_steps(budget, observe, |n, limit| {
            super::prune::bounded_step(conn, &deadline, limit, |tx| step(tx, n))
        });
        self.conn
            .pragma_update(None, "wal_autocheckpoint", super::prune::WAL_AUTOCHECKPOINT)?;
        Ok(pruned?)
    }

    /// The deadline of the connection's work, its progress handler installed on first use.
    pub(crate) fn deadline(&mut self) -> rusqlite::Result<Deadline> {
        if self.deadline.is_none() {
            self.deadline = Some(Deadline::install(&mut self.conn)?);
        }
        Ok(self.deadline.clone().expect("installed"))
    }

    fn group_summary(&self, group_id: i64) -> rusqlite::Result<Option<GroupSummary>> {
        self.conn
            .prepare_cached(&format!("{GROUP_SELECT} WHERE g.id = ?1"))?
            .query_row([group_id], |r| rows::group(r))
            .optional()
    }
}

impl Drop for SqliteReader {
    fn drop(&mut self) {
        if let Some(opened) = &self.opened {
            opened.let_go(&self.conn);
        }
    }
}

/// The frames of one stack-trace snapshot, innermost first, with their functions' code.
pub(super) fn snapshot_frames(
    conn: &Connection,
    snapshot_id: i64,
) -> rusqlite::Result<Vec<StackFrame>> {
    conn.prepare_cached(sqlite!(sql::SNAPSHOT_FRAMES))?
        .query_map([snapshot_id], |r| rows::stack_frame(r))?
        .collect()
}

/// Deletes everything no group, occurrence, outlier or profile refers to any more,
/// innermost tables last.
fn clean_orphans(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(sql::CLEAN_ORPHANS)
}

impl DashboardStore for SqliteReader {
    fn needs_reopen(&self) -> bool {
        self.opened.as_ref().is_some_and(Opened::replaced)
    }

    fn overview_in(
        &mut self,
        days: OverviewDays,
        instance: Option<&str>,
    ) -> Result<Vec<EndpointOverview>, StoreError> {
        let endpoints: Vec<EndpointInfo> = self
            .conn
            .prepare_cached(sql::ENDPOINTS)?
            .query_map([], |r| rows::endpoint(r))?
            .collect::<Result<_, _>>()?;
        // Hits and medians: one pass over the daily histogram (a few dozen rows per
        // endpoint and day, whatever the number of requests), and the hours of the spans'
        // first UTC days from the hourly one (see `overview_days`).
        let mut spans = SpanSums::new(days);
        {
            let mut stmt = self.conn.prepare_cached(
                "SELECT endpoint_id, day, bucket, hits FROM duration_daily
                 WHERE ?1 IS NULL OR instance = ?1",
            )?;
            let mut rows = stmt.query(params![instance])?;
            while let Some(r) = rows.next()? {
                spans.add_day(r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
            }
            let mut stmt = self.conn.prepare_cached(sqlite!(sql::HOURS_HISTOGRAM))?;
            for edge in spans.edges().into_iter().filter(|e| e.hours.0 < e.hours.1) {
                let mut rows = stmt.query(params![edge.hours.0, edge.hours.1, instance])?;
                while let Some(r) = rows.next()? {
                    spans.add_hour(r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
                }
            }
        }
        let errors: HashMap<i64, (i64, i64)> = self
            .conn
            .prepare_cached(
                "SELECT endpoint_id, sum(client_errors), sum(server_errors) FROM request_hourly
                 WHERE hour >= ?1 AND (?2 IS NULL OR instance = ?2) GROUP BY endpoint_id",
            )?
            .query_map(params![days.week_hour, instance], |r| {
                Ok((r.get(0)?, (r.get(1)?, r.get(2)?)))
            })?
            .collect::<Result<_, _>>()?;
        let groups: HashMap<i64, i64> = self
            .conn
            .prepare_cached(sql::GROUPS_PER_ENDPOINT)?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(endpoints.len());
        for e in endpoints {
            let id = e.id;
            // Routes of the latest requests: bounded, whatever the table size.
            let routes: Vec<String> = self
                .conn
                .prepare_cached(
                    "SELECT DISTINCT route FROM (SELECT route FROM request_text
                     WHERE endpoint_id = ?1 ORDER BY time DESC LIMIT 200) ORDER BY route",
                )?
                .query_map([id], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
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
            .conn
            .prepare_cached(sql::INSTANCES)?
            .query_map([], |r| rows::instance(r))?
            .collect::<Result<_, _>>()?)
    }

    fn endpoint(&mut self, id: i64) -> Result<Option<EndpointInfo>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(sqlite!(sql::ENDPOINT))?
            .query_row([id], |r| rows::endpoint(r))
            .optional()?)
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
        let endpoint_id = which.endpoint_id;
        let filter = if endpoint_id.is_some() {
            "WHERE g.endpoint_id = ?1"
        } else {
            "WHERE ?1 IS NULL"
        };
        let kind = which.kind.group_condition();
        let sql = format!(
            "{GROUP_SELECT} {filter}{kind} ORDER BY {key} {dir}, g.id {dir} LIMIT ?2 OFFSET ?3"
        );
        let rows = self
            .conn
            .prepare_cached(&sql)?
            .query_map(params![endpoint_id, limit as i64, offset as i64], |r| {
                rows::group(r)
            })?
            .collect::<Result<_, _>>()?;
        let total: i64 = self
            .conn
            .prepare_cached(&format!(
                "SELECT count(*) FROM exception_group g
                 WHERE (?1 IS NULL OR g.endpoint_id = ?1){kind}"
            ))?
            .query_row([endpoint_id], |r| r.get(0))?;
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
        let Some(summary) = self.group_summary(group_id)? else {
            return Ok(None);
        };
        let latest: Option<(i64, String)> = self
            .conn
            .prepare_cached(sqlite!(sql::LATEST_OCCURRENCE))?
            .query_row([group_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (kind, chain) = latest.unwrap_or((1, "[]".to_owned()));
        let source_chain: Vec<String> = serde_json::from_str(&chain).unwrap_or_default();
        let snapshot_id: i64 = self
            .conn
            .prepare_cached(sqlite!(sql::GROUP_SNAPSHOT))?
            .query_row([group_id], |r| r.get(0))?;
        let frames = snapshot_frames(&self.conn, snapshot_id)?;

        // Buckets cover the group's life within the last 30 days, at least a minute each.
        let buckets = buckets.max(1) as i64;
        let end = now + 1;
        let from = summary.first_seen.max(now - 30 * DAY_MS);
        let bucket_ms = ((end - from + buckets - 1) / buckets).max(60_000);
        let start = end - bucket_ms * buckets;
        let mut counts = vec![0u64; buckets as usize];
        let mut stmt = self.conn.prepare_cached(
            "SELECT (time - ?2) / ?3, count(*) FROM exception_occurrence
             WHERE group_id = ?1 AND time >= ?2 AND time < ?4 GROUP BY 1",
        )?;
        let mut rows = stmt.query(params![group_id, start, bucket_ms, end])?;
        while let Some(r) = rows.next()? {
            let b: i64 = r.get(0)?;
            if let Some(c) = counts.get_mut(b as usize) {
                *c = r.get::<_, i64>(1)? as u64;
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
        let count = |sql: &str| -> rusqlite::Result<u64> {
            self.conn
                .query_row(sql, [], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
        };
        Ok(StoreTotals {
            requests: count("SELECT count(*) FROM request")?,
            occurrences: count("SELECT count(*) FROM exception_occurrence")?,
            groups: count("SELECT count(*) FROM exception_group")?,
            endpoints: count("SELECT count(*) FROM endpoint")?,
            oldest_request: self
                .conn
                .query_row("SELECT min(time) FROM request", [], |r| r.get(0))?,
            oldest_rollup: self.conn.query_row(sql::OLDEST_ROLLUP, [], |r| r.get(0))?,
            raw_pruned_before: super::raw::pruned_before(&self.conn)?,
        })
    }

    fn set_endpoint_level(
        &mut self,
        endpoint_id: i64,
        level: Option<u8>,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(sqlite!(sql::SET_LEVEL))?
            .query_row(params![endpoint_id, level], |r| r.get(0))
            .optional()?)
    }

    fn delete_group(&mut self, endpoint_id: i64, group_id: i64) -> Result<bool, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found = tx
            .query_row(
                "SELECT 1 FROM exception_group WHERE id = ?1 AND endpoint_id = ?2",
                params![group_id, endpoint_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if !found {
            return Ok(false);
        }
        tx.execute(sqlite!(sql::DELETE_GROUP_OCCURRENCES), [group_id])?;
        tx.execute(sqlite!(sql::DELETE_GROUP_VERSIONS), [group_id])?;
        tx.execute(sqlite!(sql::DELETE_GROUP), [group_id])?;
        clean_orphans(&tx)?;
        tx.commit()?;
        Ok(true)
    }

    fn prune_observed(
        &mut self,
        cutoff: i64,
        budget: Duration,
        observe: &mut dyn FnMut(&StepRecord),
    ) -> Result<PruneReport, StoreError> {
        self.in_steps(budget, observe, |tx, n| {
            super::prune::prune_step(tx, cutoff, n)
        })
    }

    fn raw_pruned_before(&mut self) -> Result<Option<i64>, StoreError> {
        Ok(super::raw::pruned_before(&self.conn)?)
    }

    fn prune_raw_observed(
        &mut self,
        cutoff: i64,
        budget: Duration,
        observe: &mut dyn FnMut(&StepRecord),
    ) -> Result<PruneReport, StoreError> {
        self.in_steps(budget, observe, |tx, n| super::raw::raw_step(tx, cutoff, n))
    }

    fn count_users(&mut self) -> Result<u64, StoreError> {
        Ok(self
            .conn
            .query_row(sql::COUNT_USERS, [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)?)
    }

    fn users(&mut self) -> Result<Vec<User>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(sql::USERS)?
            .query_map([], |r| rows::user(r))?
            .collect::<Result<_, _>>()?)
    }

    fn user(&mut self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(sqlite!(sql::USER))?
            .query_row([username], |r| rows::user(r))
            .optional()?)
    }

    fn create_user(
        &mut self,
        username: &str,
        password_hash: &str,
        role: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            sqlite!(sql::CREATE_USER),
            params![username, password_hash, role, now],
        )?;
        Ok(n == 1)
    }

    fn set_password_hash(
        &mut self,
        username: &str,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            sqlite!(sql::SET_PASSWORD_HASH),
            params![username, password_hash],
        )?;
        Ok(n == 1)
    }

    fn delete_user(&mut self, username: &str) -> Result<bool, StoreError> {
        let n = self.conn.execute(sqlite!(sql::DELETE_USER), [username])?;
        Ok(n == 1)
    }
}
