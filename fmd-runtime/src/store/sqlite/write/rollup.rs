//! What each batch keeps up to date besides its rows: `endpoint.last_requested`, the
//! hourly rollup `request_hourly`, and `app_version`. Added up in memory over the batch,
//! then written with one upsert per key, in the batch's transaction — so the rollup always
//! matches the request rows. Also custom graph values.

use super::Writer;
use crate::event::{RequestEvent, Sample};
use crate::store::WriteOptions;
use rusqlite::{Transaction, params};
use std::collections::HashMap;

/// Milliseconds in an hour: `request_hourly.hour` is `time / HOUR_MS`.
pub const HOUR_MS: i64 = 3_600_000;

#[derive(Default)]
struct Hourly {
    hits: i64,
    duration_us: i64,
    client_errors: i64,
    server_errors: i64,
    cancelled: i64,
}

/// The batch's sums.
#[derive(Default)]
pub(super) struct Rollup {
    last_requested: HashMap<i64, i64>,
    hourly: HashMap<(i64, i64), Hourly>,
    seen: Option<(i64, i64)>,
}

impl Rollup {
    /// A request of `endpoint` at `time_ms`, stored or not (level 0).
    pub(super) fn requested(&mut self, endpoint: i64, time_ms: i64) {
        let last = self.last_requested.entry(endpoint).or_insert(time_ms);
        *last = (*last).max(time_ms);
        self.seen = Some(match self.seen {
            Some((first, last)) => (first.min(time_ms), last.max(time_ms)),
            None => (time_ms, time_ms),
        });
    }

    /// A request row stored for `endpoint`.
    pub(super) fn stored(&mut self, endpoint: i64, r: &RequestEvent) {
        let h = self
            .hourly
            .entry((endpoint, r.time_ms.div_euclid(HOUR_MS)))
            .or_default();
        h.hits += 1;
        h.duration_us = h.duration_us.saturating_add(r.duration_us as i64);
        match r.status {
            Some(400..=499) => h.client_errors += 1,
            Some(500..=599) => h.server_errors += 1,
            _ => {}
        }
        h.cancelled += i64::from(r.cancelled);
    }

    /// Writes the sums. `first_batch`: record the version even without requests.
    pub(super) fn store(
        self,
        tx: &Transaction<'_>,
        options: &WriteOptions,
        first_batch: bool,
    ) -> rusqlite::Result<()> {
        {
            let mut update = tx.prepare_cached(
                "UPDATE endpoint SET last_requested = max(coalesce(last_requested, 0), ?2)
                 WHERE id = ?1",
            )?;
            for (endpoint, time) in &self.last_requested {
                update.execute(params![endpoint, time])?;
            }
        }
        let mut upsert = tx.prepare_cached(
            "INSERT INTO request_hourly(endpoint_id, hour, version, hits, duration_us,
                 client_errors, server_errors, cancelled)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT(endpoint_id, hour, version) DO UPDATE SET
                 hits = hits + excluded.hits,
                 duration_us = duration_us + excluded.duration_us,
                 client_errors = client_errors + excluded.client_errors,
                 server_errors = server_errors + excluded.server_errors,
                 cancelled = cancelled + excluded.cancelled",
        )?;
        for ((endpoint, hour), h) in &self.hourly {
            upsert.execute(params![
                endpoint,
                hour,
                options.version,
                h.hits,
                h.duration_us,
                h.client_errors,
                h.server_errors,
                h.cancelled
            ])?;
        }
        let seen = self.seen.or_else(|| {
            let now = crate::clock::now_ms();
            first_batch.then_some((now, now))
        });
        if let Some((first, last)) = seen {
            tx.prepare_cached(
                "INSERT INTO app_version(version, git_commit, first_seen, last_seen)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(version) DO UPDATE SET
                     git_commit = coalesce(excluded.git_commit, git_commit),
                     first_seen = min(first_seen, excluded.first_seen),
                     last_seen = max(last_seen, excluded.last_seen)",
            )?
            .execute(params![options.version, options.git_commit, first, last])?;
        }
        Ok(())
    }
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
