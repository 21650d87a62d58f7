//! The batch's rollup sums ([`crate::store::rollup`]) written with one upsert per key, in
//! the batch's transaction; and custom graph values.

use super::Writer;
use crate::model::event::Sample;
use crate::store::RolledRequest;
use crate::store::rollup::{Rollup, Stamp};
use crate::store::sql;
use crate::store::sql::sqlite;
use rusqlite::{Connection, params};
use std::collections::BTreeMap;

/// Adds a duration histogram's counts, keyed `(a, b, bucket)`, one upsert per key with
/// `statement` (`?1` a, `?2` b, `?3` the instance, `?4` the bucket, `?5` the count): the
/// daily one by (endpoint, day), the recent hours' by (hour, endpoint).
fn add_histogram(
    conn: &Connection,
    statement: &str,
    histogram: &BTreeMap<(i64, i64, i64), i64>,
    instance: &str,
) -> rusqlite::Result<()> {
    let mut upsert = conn.prepare_cached(statement)?;
    for ((a, b, bucket), hits) in histogram {
        upsert.execute(params![a, b, instance, bucket, hits])?;
    }
    Ok(())
}

/// Writes a batch's sums. `first_batch`: record the version even without requests.
pub(super) fn store(
    rollup: &Rollup,
    conn: &Connection,
    stamp: &Stamp<'_>,
    first_batch: bool,
) -> rusqlite::Result<()> {
    {
        let mut update = conn.prepare_cached(
            "UPDATE endpoint SET last_requested = max(coalesce(last_requested, 0), ?2)
                 WHERE id = ?1",
        )?;
        for (endpoint, time) in &rollup.last_requested {
            update.execute(params![endpoint, time])?;
        }
    }
    {
        let mut upsert = conn.prepare_cached(
            "INSERT INTO request_hourly(endpoint_id, hour, version, instance, hits,
                     duration_us, client_errors, server_errors, cancelled)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT(endpoint_id, hour, version, instance) DO UPDATE SET
                     hits = hits + excluded.hits,
                     duration_us = duration_us + excluded.duration_us,
                     client_errors = client_errors + excluded.client_errors,
                     server_errors = server_errors + excluded.server_errors,
                     cancelled = cancelled + excluded.cancelled",
        )?;
        for ((endpoint, hour), h) in &rollup.hourly {
            upsert.execute(params![
                endpoint,
                hour,
                stamp.version,
                stamp.instance,
                h.hits,
                h.duration_us,
                h.client_errors,
                h.server_errors,
                h.cancelled
            ])?;
        }
    }
    add_histogram(
        conn,
        "INSERT INTO duration_daily(endpoint_id, day, instance, bucket, hits)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(endpoint_id, day, instance, bucket) DO UPDATE SET
                 hits = hits + excluded.hits",
        &rollup.daily,
        stamp.instance,
    )?;
    add_histogram(
        conn,
        "INSERT INTO duration_hourly(hour, endpoint_id, instance, bucket, hits)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(hour, endpoint_id, instance, bucket) DO UPDATE SET
                 hits = hits + excluded.hits",
        &rollup.hourly_durations,
        stamp.instance,
    )?;
    if let Some(hour) = rollup.trim_before_hour {
        conn.prepare_cached(sqlite!(sql::TRIM_HOURLY_DURATIONS))?
            .execute([hour])?;
    }
    if let Some((first, last)) = rollup.version_seen(first_batch) {
        conn.prepare_cached(
            "INSERT INTO app_version(version, git_commit, first_seen, last_seen)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(version) DO UPDATE SET
                     git_commit = coalesce(excluded.git_commit, git_commit),
                     first_seen = min(first_seen, excluded.first_seen),
                     last_seen = max(last_seen, excluded.last_seen)",
        )?
        .execute(params![stamp.version, stamp.git_commit, first, last])?;
    }
    if let Some((first, last)) = rollup.seen {
        conn.prepare_cached(
            "INSERT INTO instance(name, first_seen, last_seen) VALUES (?1, ?2, ?3)
                 ON CONFLICT(name) DO UPDATE SET
                     first_seen = min(first_seen, excluded.first_seen),
                     last_seen = max(last_seen, excluded.last_seen)",
        )?
        .execute(params![stamp.instance, first, last])?;
    }
    Ok(())
}

/// Adds one request row that was inserted by hand (fixtures, generated databases) to
/// every rollup, exactly as the writer does for its batches: `last_requested`,
/// `request_hourly`, `duration_daily`, `duration_hourly`, `app_version` and `instance`.
pub fn roll_up_request(
    conn: &Connection,
    r: &RolledRequest,
    version: &str,
    instance: &str,
) -> rusqlite::Result<()> {
    let stamp = Stamp {
        version,
        instance,
        git_commit: None,
    };
    store(&Rollup::of_one(r), conn, &stamp, false)
}

impl Writer<'_> {
    /// Stores one value of a custom graph.
    pub(super) fn sample(&mut self, s: &Sample) -> rusqlite::Result<()> {
        let graph = match self.cache.graphs.get(&*s.graph) {
            Some(&id) => id,
            None => {
                let id: i64 = self
                    .tx
                    .prepare_cached(
                        "INSERT INTO custom_graph(name, created_at) VALUES (?1, ?2)
                         ON CONFLICT(name) DO UPDATE SET name = excluded.name RETURNING id",
                    )?
                    .query_row(params![&*s.graph, s.time_ms], |r| r.get(0))?;
                self.cache.graphs.insert(s.graph.to_string(), id);
                id
            }
        };
        self.tx
            .prepare_cached(
                "INSERT INTO custom_graph_value(graph_id, time, value, instance)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![graph, s.time_ms, s.value, self.options.instance])?;
        Ok(())
    }
}
