//! Raw retention on PostgreSQL, as on SQLite (`sqlite/read/raw.rs`): the request rows
//! older than a cutoff go, in steps (see [`crate::store::prune`]), while the rollups and
//! the exceptions stay; and the latency samples of spans whose rows went, read from the
//! daily histogram instead.

use crate::store::histogram;
use crate::store::prune;
use crate::store::read::dashboard::{DAY_MS, PruneReport};
use crate::store::sql;

use super::prune::Budgeted;

/// One step of raw pruning before `cutoff` in `tx`: the oldest `n` requests with their
/// outliers and call trees; their occurrences stay, detached. `true` with the last.
pub(super) fn raw_step(
    tx: &mut Budgeted<'_>,
    cutoff: i64,
    n: i64,
) -> Result<(PruneReport, bool), postgres::Error> {
    let oldest: Option<i64> = tx
        .query_opt(sql::PRUNE_STEP_BOUND, &[&cutoff, &(n - 1)])?
        .map(|r| r.get(0));
    let (bound, last) = prune::step_cutoff(oldest, cutoff);
    tx.execute(sql::RAW_DETACH_OCCURRENCES, &[&bound])?;
    let outliers = tx.execute(sql::PRUNE_OUTLIERS, &[&bound])?;
    let profile_nodes = tx.execute(sql::PRUNE_PROFILE_NODES, &[&bound])?;
    let requests = tx.execute(sql::PRUNE_REQUESTS, &[&bound])?;
    tx.execute(sql::SET_RAW_PRUNED_BEFORE, &[&bound.to_string()])?;
    if last {
        // Outliers held the only reference to some stack snapshots.
        tx.batch_execute(sql::CLEAN_ORPHANS)?;
    }
    let report = PruneReport {
        requests,
        outliers,
        profile_nodes,
        ..PruneReport::default()
    };
    Ok((report, last))
}

/// Before when raw request rows were pruned, if ever.
pub(super) fn raw_pruned_before(
    client: &mut postgres::Client,
) -> Result<Option<i64>, postgres::Error> {
    Ok(client
        .query_opt(sql::RAW_PRUNED_BEFORE, &[])?
        .and_then(|r| r.get::<_, String>(0).parse().ok()))
}

/// Up to `limit` latency samples of an endpoint in `[from, to)` from its daily histogram
/// (whole days), when raw rows of the span were pruned; `None` when the raw rows still
/// cover it.
pub(super) fn pruned_span_samples(
    client: &mut postgres::Client,
    endpoint_id: i64,
    from: i64,
    to: i64,
    limit: u32,
) -> Result<Option<Vec<i64>>, postgres::Error> {
    if raw_pruned_before(client)?.is_none_or(|p| from >= p) {
        return Ok(None);
    }
    let (first, last) = (from.div_euclid(DAY_MS), (to - 1).div_euclid(DAY_MS));
    let rows: Vec<(i64, i64, u64)> = client
        .query(sql::DAYS_HISTOGRAM, &[&endpoint_id, &first, &last])?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get::<_, i64>(2).max(0) as u64))
        .collect();
    Ok(Some(histogram::samples(&rows, limit as usize)))
}

/// Up to `limit` latency samples of `version` on an endpoint from the daily histogram (see
/// [`sql::VERSION_DAYS_HISTOGRAM`]), when raw rows of the version (served since `since`)
/// were pruned; `None` when the raw rows still cover it.
pub(super) fn pruned_version_samples(
    client: &mut postgres::Client,
    endpoint_id: i64,
    version: &str,
    since: i64,
    limit: u32,
) -> Result<Option<Vec<i64>>, postgres::Error> {
    if raw_pruned_before(client)?.is_none_or(|p| since >= p) {
        return Ok(None);
    }
    let rows: Vec<(i64, i64, u64)> = client
        .query(sql::VERSION_DAYS_HISTOGRAM, &[&endpoint_id, &version])?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get::<_, i64>(2).max(0) as u64))
        .collect();
    Ok(Some(histogram::samples(&rows, limit as usize)))
}
