//! What each batch keeps up to date besides its rows: `endpoint.last_requested`, the
//! hourly rollup `request_hourly`, the daily duration histogram `duration_daily`,
//! `app_version` and `instance`. Added up in memory over the batch, then written with one
//! upsert per key, in the batch's transaction — so the rollups always match the request
//! rows. Also custom graph values.

use super::Writer;
use crate::event::{RequestEvent, Sample};
use crate::store::histogram;
use crate::store::queries::DAY_MS;
use crate::store::{RolledRequest, WriteOptions};
use foldhash::HashMap;
use rusqlite::{Connection, params};

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

/// Who wrote a batch: stamped on its rollup rows.
pub(super) struct Stamp<'a> {
    pub version: &'a str,
    pub instance: &'a str,
    pub git_commit: Option<&'a str>,
}

/// The batch's sums.
#[derive(Default)]
pub(super) struct Rollup {
    last_requested: HashMap<i64, i64>,
    hourly: HashMap<(i64, i64), Hourly>,
    daily: HashMap<(i64, i64, i64), i64>,
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
        self.add(&RolledRequest {
            endpoint_id: endpoint,
            time_ms: r.time_ms,
            duration_us: r.duration_us as i64,
            status: r.status,
            cancelled: r.cancelled,
        });
    }

    fn add(&mut self, r: &RolledRequest) {
        let h = self
            .hourly
            .entry((r.endpoint_id, r.time_ms.div_euclid(HOUR_MS)))
            .or_default();
        h.hits += 1;
        h.duration_us = h.duration_us.saturating_add(r.duration_us);
        match r.status {
            Some(400..=499) => h.client_errors += 1,
            Some(500..=599) => h.server_errors += 1,
            _ => {}
        }
        h.cancelled += i64::from(r.cancelled);
        let day = r.time_ms.div_euclid(DAY_MS);
        *self
            .daily
            .entry((r.endpoint_id, day, histogram::bucket(r.duration_us)))
            .or_default() += 1;
    }

    /// Writes the sums. `first_batch`: record the version even without requests.
    pub(super) fn store(
        self,
        conn: &Connection,
        stamp: &Stamp<'_>,
        first_batch: bool,
    ) -> rusqlite::Result<()> {
        {
            let mut update = conn.prepare_cached(
                "UPDATE endpoint SET last_requested = max(coalesce(last_requested, 0), ?2)
                 WHERE id = ?1",
            )?;
            for (endpoint, time) in &self.last_requested {
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
            for ((endpoint, hour), h) in &self.hourly {
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
        {
            let mut upsert = conn.prepare_cached(
                "INSERT INTO duration_daily(endpoint_id, day, instance, bucket, hits)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(endpoint_id, day, instance, bucket) DO UPDATE SET
                     hits = hits + excluded.hits",
            )?;
            for ((endpoint, day, bucket), hits) in &self.daily {
                upsert.execute(params![endpoint, day, stamp.instance, bucket, hits])?;
            }
        }
        let seen = self.seen.or_else(|| {
            let now = crate::clock::now_ms();
            first_batch.then_some((now, now))
        });
        if let Some((first, last)) = seen {
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
        if let Some((first, last)) = self.seen {
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
}

impl<'a> Stamp<'a> {
    pub(super) fn of(options: &'a WriteOptions) -> Self {
        Stamp {
            version: &options.version,
            instance: &options.instance,
            git_commit: options.git_commit.as_deref(),
        }
    }
}

/// Adds one request row that was inserted by hand (fixtures, generated databases) to
/// every rollup, exactly as the writer does for its batches: `last_requested`,
/// `request_hourly`, `duration_daily`, `app_version` and `instance`.
pub fn roll_up_request(
    conn: &Connection,
    r: &RolledRequest,
    version: &str,
    instance: &str,
) -> rusqlite::Result<()> {
    let mut rollup = Rollup::default();
    rollup.requested(r.endpoint_id, r.time_ms);
    rollup.add(r);
    let stamp = Stamp {
        version,
        instance,
        git_commit: None,
    };
    rollup.store(conn, &stamp, false)
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
