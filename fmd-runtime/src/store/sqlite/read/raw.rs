//! Raw retention on SQLite: the request rows older than a cutoff go, in steps (see
//! [`crate::store::prune`]), while the rollups and the exceptions stay; and the latency
//! samples of spans whose rows went, read from the daily histogram instead.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::store::histogram;
use crate::store::prune;
use crate::store::read::dashboard::{DAY_MS, PruneReport};
use crate::store::sql;
use crate::store::sql::sqlite;

/// One step of raw pruning before `cutoff` in `tx`: the oldest `n` requests with their
/// outliers and call trees; their occurrences stay, detached. `true` with the last.
pub(super) fn raw_step(
    tx: &Transaction<'_>,
    cutoff: i64,
    n: i64,
) -> rusqlite::Result<(PruneReport, bool)> {
    let oldest: Option<i64> = tx
        .query_row(
            sqlite!(sql::PRUNE_STEP_BOUND),
            params![cutoff, n - 1],
            |r| r.get(0),
        )
        .optional()?;
    let (bound, last) = prune::step_cutoff(oldest, cutoff);
    tx.execute(sqlite!(sql::RAW_DETACH_OCCURRENCES), [bound])?;
    let outliers = tx.execute(sqlite!(sql::PRUNE_OUTLIERS), [bound])?;
    let profile_nodes = tx.execute(sqlite!(sql::PRUNE_PROFILE_NODES), [bound])?;
    let requests = tx.execute(sqlite!(sql::PRUNE_REQUESTS), [bound])?;
    tx.execute(sqlite!(sql::SET_RAW_PRUNED_BEFORE), [bound.to_string()])?;
    if last {
        // Outliers held the only reference to some stack snapshots.
        tx.execute_batch(sql::CLEAN_ORPHANS)?;
    }
    let report = PruneReport {
        requests: requests as u64,
        outliers: outliers as u64,
        profile_nodes: profile_nodes as u64,
        ..PruneReport::default()
    };
    Ok((report, last))
}

/// Before when raw request rows were pruned, if ever.
pub(super) fn pruned_before(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    let text: Option<String> = conn
        .prepare_cached(sqlite!(sql::RAW_PRUNED_BEFORE))?
        .query_row([], |r| r.get(0))
        .optional()?;
    Ok(text.and_then(|t| t.parse().ok()))
}

/// Up to `limit` latency samples of an endpoint in `[from, to)` from its daily histogram
/// (whole days), when raw rows of the span were pruned; `None` when the raw rows still
/// cover it.
pub(super) fn pruned_span_samples(
    conn: &Connection,
    endpoint_id: i64,
    from: i64,
    to: i64,
    limit: u32,
) -> rusqlite::Result<Option<Vec<i64>>> {
    if pruned_before(conn)?.is_none_or(|p| from >= p) {
        return Ok(None);
    }
    let (first, last) = (from.div_euclid(DAY_MS), (to - 1).div_euclid(DAY_MS));
    let rows: Vec<(i64, i64, u64)> = conn
        .prepare_cached(sqlite!(sql::DAYS_HISTOGRAM))?
        .query_map(params![endpoint_id, first, last], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)?.max(0) as u64))
        })?
        .collect::<Result<_, _>>()?;
    Ok(Some(histogram::samples(&rows, limit as usize)))
}

/// Up to `limit` latency samples of `version` on an endpoint from the daily histogram (see
/// [`sql::VERSION_DAYS_HISTOGRAM`]), when raw rows of the version (served since `since`)
/// were pruned; `None` when the raw rows still cover it.
pub(super) fn pruned_version_samples(
    conn: &Connection,
    endpoint_id: i64,
    version: &str,
    since: i64,
    limit: u32,
) -> rusqlite::Result<Option<Vec<i64>>> {
    if pruned_before(conn)?.is_none_or(|p| since >= p) {
        return Ok(None);
    }
    let rows: Vec<(i64, i64, u64)> = conn
        .prepare_cached(sqlite!(sql::VERSION_DAYS_HISTOGRAM))?
        .query_map(params![endpoint_id, version], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)?.max(0) as u64))
        })?
        .collect::<Result<_, _>>()?;
    Ok(Some(histogram::samples(&rows, limit as usize)))
}
