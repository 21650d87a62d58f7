//! Pruning on SQLite: how a step of pruning holds the write lock at most its budget
//! (plus its commit or rollback), and one step of
//! [`DashboardStore::prune`](crate::store::read::DashboardStore::prune) (see
//! [`crate::store::prune`]); raw retention's step is in `raw.rs`.

use std::time::{Duration, Instant};

use foldhash::HashMap;
use rusqlite::{Connection, ErrorCode, Transaction, TransactionBehavior, params};

use crate::store::histogram;
use crate::store::prune;
use crate::store::read::dashboard::{DAY_MS, PruneReport};
use crate::store::read::perf::HOUR_MS;
use crate::store::sql;
use crate::store::sql::sqlite;
use crate::store::sqlite::Deadline;

/// SQLite's default WAL size (in pages) that triggers a checkpoint at commit.
pub(super) const WAL_AUTOCHECKPOINT: i64 = 1000;

/// Runs one step: `body` in an immediate transaction (holding the write lock), the
/// connection's `deadline` set to `budget` from the moment the lock is got, so the
/// progress handler interrupts a statement running past it. The step commits only if
/// the budget has not run out when its commit begins; otherwise, or when interrupted,
/// it is rolled back (it changed nothing) and reported stopped once the rollback is
/// done. `body` returns what it removed and whether it was the last step.
pub(super) fn bounded_step(
    conn: &mut Connection,
    deadline: &Deadline,
    budget: Option<Duration>,
    body: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<(PruneReport, bool)>,
) -> rusqlite::Result<prune::Attempt> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let locked = Instant::now();
    deadline.start(budget);
    let done = body(&tx);
    // Commit and rollback run to their end.
    deadline.start(None);
    let committing_at = locked.elapsed();
    let attempt = match done {
        Ok((report, last)) if prune::Attempt::may_commit(budget, committing_at) => {
            tx.commit()?;
            prune::Attempt::Committed {
                report,
                last,
                committing_at,
                held: locked.elapsed(),
            }
        }
        Ok(_) => roll_back(tx, locked)?,
        Err(e) if budget.is_some() && interrupted(&e) => roll_back(tx, locked)?,
        Err(e) => return Err(e),
    };
    // The WAL grows by every deleted page: copy it back now, outside the write lock
    // (a passive checkpoint never blocks the writer), instead of in the next commit.
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
    Ok(attempt)
}

/// Rolls a stopped step back (SQLite may have done so itself when it interrupted a
/// statement), reporting when that was done.
fn roll_back(tx: Transaction<'_>, locked: Instant) -> rusqlite::Result<prune::Attempt> {
    if tx.is_autocommit() {
        drop(tx);
    } else {
        tx.rollback()?;
    }
    Ok(prune::Attempt::Stopped {
        held: locked.elapsed(),
    })
}

/// Whether a statement failed because the progress handler interrupted it.
fn interrupted(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::OperationInterrupted)
}

/// One step of pruning before `cutoff` in `tx`: the oldest `n` requests and what hangs
/// off them (see [`crate::store::prune`]); `true` with the last.
pub(super) fn prune_step(
    tx: &Transaction<'_>,
    cutoff: i64,
    n: i64,
) -> rusqlite::Result<(PruneReport, bool)> {
    let oldest: Option<i64> = tx.query_row(
        sqlite!(sql::PRUNE_STEP_BOUND_ALL),
        params![cutoff, n - 1],
        |r| r.get(0),
    )?;
    let (bound, last) = prune::step_cutoff(oldest, cutoff);
    tx.execute(sqlite!(sql::PRUNE_UNCOUNT_OCCURRENCES), [bound])?;
    let mut occurrences = tx.execute(sqlite!(sql::PRUNE_OCCURRENCES), [bound])?;
    // An occurrence recorded late for an old request still hangs off that request.
    tx.execute(sqlite!(sql::PRUNE_UNCOUNT_LATE_OCCURRENCES), [bound])?;
    occurrences += tx.execute(sqlite!(sql::PRUNE_LATE_OCCURRENCES), [bound])?;
    tx.execute(sqlite!(sql::PRUNE_FIRST_SEEN), [bound])?;
    // Rows that reference old requests go first (foreign keys are on).
    let outliers = tx.execute(sqlite!(sql::PRUNE_OUTLIERS), [bound])?;
    let profile_nodes = tx.execute(sqlite!(sql::PRUNE_PROFILE_NODES), [bound])?;
    // The bound's own day keeps its histogram row, less the requests deleted from it.
    let bound_day = bound.div_euclid(DAY_MS);
    // So does the bound's hour in the recent hours' histogram.
    let bound_hour = bound.div_euclid(HOUR_MS);
    let mut partial: HashMap<(i64, String, i64), i64> = HashMap::default();
    let mut partial_hour: HashMap<(i64, String, i64), i64> = HashMap::default();
    {
        let mut stmt = tx.prepare(sqlite!(sql::PRUNE_PARTIAL_DAY))?;
        let mut rows = stmt.query(params![bound_day * DAY_MS, bound])?;
        while let Some(r) = rows.next()? {
            let key = (r.get(0)?, r.get(1)?, histogram::bucket(r.get(2)?));
            if r.get::<_, i64>(3)?.div_euclid(HOUR_MS) == bound_hour {
                *partial_hour.entry(key.clone()).or_default() += 1;
            }
            *partial.entry(key).or_default() += 1;
        }
    }
    for ((endpoint, instance, bucket), n) in partial {
        tx.execute(
            "UPDATE duration_daily SET hits = max(hits - ?5, 0)
             WHERE endpoint_id = ?1 AND day = ?2 AND instance = ?3 AND bucket = ?4",
            params![endpoint, bound_day, instance, bucket, n],
        )?;
    }
    for ((endpoint, instance, bucket), n) in partial_hour {
        tx.execute(
            sqlite!(sql::PRUNE_PARTIAL_HOUR),
            params![bound_hour, endpoint, instance, bucket, n],
        )?;
    }
    tx.execute(sqlite!(sql::TRIM_HOURLY_DURATIONS), [bound_hour])?;
    let duration_rows = tx.execute(sqlite!(sql::PRUNE_DURATIONS), [bound_day])?;
    let requests = tx.execute(sqlite!(sql::PRUNE_REQUESTS), [bound])?;
    // Whole hours before the bound; the hour holding it stays.
    let hourly_rows = tx.execute(sqlite!(sql::PRUNE_HOURS), [bound.div_euclid(HOUR_MS)])?;
    let graph_values = tx.execute(
        "DELETE FROM custom_graph_value
         WHERE graph_id IN (SELECT id FROM custom_graph) AND time < ?1",
        [bound],
    )?;
    let mut groups = 0;
    if last {
        tx.execute(sql::PRUNE_EMPTY_GROUP_VERSIONS, [])?;
        groups = tx.execute(sql::PRUNE_EMPTY_GROUPS, [])?;
        tx.execute_batch(sql::CLEAN_ORPHANS)?;
    }
    let report = PruneReport {
        requests: requests as u64,
        occurrences: occurrences as u64,
        groups: groups as u64,
        outliers: outliers as u64,
        profile_nodes: profile_nodes as u64,
        hourly_rows: hourly_rows as u64,
        duration_rows: duration_rows as u64,
        graph_values: graph_values as u64,
    };
    Ok((report, last))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteReader;

    /// A step's statements find the rows before its bound through an index: none scans
    /// a whole large table, whose size would be paid at every step however small.
    #[test]
    fn no_step_statement_scans_a_large_table() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = SqliteReader::open(&dir.path().join("fmd.db")).expect("open");
        let conn = store.connection();
        let statements = [
            (sqlite!(sql::PRUNE_STEP_BOUND_ALL), 2),
            (sqlite!(sql::PRUNE_STEP_BOUND), 2),
            (sqlite!(sql::PRUNE_UNCOUNT_OCCURRENCES), 1),
            (sqlite!(sql::PRUNE_OCCURRENCES), 1),
            (sqlite!(sql::PRUNE_UNCOUNT_LATE_OCCURRENCES), 1),
            (sqlite!(sql::PRUNE_LATE_OCCURRENCES), 1),
            (sqlite!(sql::PRUNE_FIRST_SEEN), 1),
            (sqlite!(sql::PRUNE_OUTLIERS), 1),
            (sqlite!(sql::PRUNE_PROFILE_NODES), 1),
            (sqlite!(sql::PRUNE_PARTIAL_DAY), 2),
            (sqlite!(sql::PRUNE_REQUESTS), 1),
            (sqlite!(sql::RAW_DETACH_OCCURRENCES), 1),
        ];
        for (statement, params) in statements {
            let values = [0_i64; 2];
            let plan: Vec<String> = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {statement}"))
                .expect("plan")
                .query_map(rusqlite::params_from_iter(&values[..params]), |r| r.get(3))
                .expect("rows")
                .collect::<Result<_, _>>()
                .expect("plan rows");
            let plan = plan.join("\n");
            for table in ["exception_occurrence", "request", "outlier", "profile_node"] {
                let scan = plan.lines().any(|l| {
                    l.starts_with(&format!("SCAN {table} ")) || l == format!("SCAN {table}")
                });
                assert!(!scan, "{statement}\nscans {table}:\n{plan}");
            }
        }
    }
}
