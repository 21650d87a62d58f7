//! What each batch keeps up to date besides its rows: `endpoint.last_requested`, the
//! hourly rollup `request_hourly`, the daily duration histogram `duration_daily`,
//! `app_version` and `instance` — added up in memory over the batch, then written as one
//! statement each, in key order, last in the batch's transaction (so the rows every
//! instance shares stay locked only until the commit). Also custom graph values.

use super::statements::Statements;
use super::{Writer, text};
use crate::event::{RequestEvent, Sample};
use crate::store::RolledRequest;
use crate::store::WriteOptions;
use crate::store::histogram;
use crate::store::perf::HOUR_MS;
use crate::store::queries::DAY_MS;
use postgres::{GenericClient, ToStatement, Transaction};
use std::collections::BTreeMap;

pub(super) const LAST_REQUESTED: &str = "UPDATE endpoint AS e
     SET last_requested = greatest(coalesce(e.last_requested, 0), u.t)
     FROM unnest($1::bigint[], $2::bigint[]) AS u(id, t) WHERE e.id = u.id";

pub(super) const UPSERT_HOURLY: &str = "INSERT INTO request_hourly AS h(endpoint_id, hour,
         version, instance, hits, duration_us, client_errors, server_errors, cancelled)
     SELECT u.endpoint_id, u.hour, $3::text, $4::text, u.hits, u.duration_us,
            u.client_errors, u.server_errors, u.cancelled
     FROM unnest($1::bigint[], $2::bigint[], $5::bigint[], $6::bigint[], $7::bigint[],
         $8::bigint[], $9::bigint[])
         AS u(endpoint_id, hour, hits, duration_us, client_errors, server_errors, cancelled)
     ON CONFLICT (endpoint_id, hour, version, instance) DO UPDATE SET
         hits = h.hits + excluded.hits,
         duration_us = h.duration_us + excluded.duration_us,
         client_errors = h.client_errors + excluded.client_errors,
         server_errors = h.server_errors + excluded.server_errors,
         cancelled = h.cancelled + excluded.cancelled";

pub(super) const UPSERT_DAILY: &str = "INSERT INTO duration_daily AS d(endpoint_id, day,
         instance, bucket, hits)
     SELECT u.endpoint_id, u.day, $3::text, u.bucket, u.hits
     FROM unnest($1::bigint[], $2::bigint[], $4::bigint[], $5::bigint[])
         AS u(endpoint_id, day, bucket, hits)
     ON CONFLICT (endpoint_id, day, instance, bucket) DO UPDATE SET
         hits = d.hits + excluded.hits";

pub(super) const UPSERT_VERSION: &str = "INSERT INTO app_version AS v(version, git_commit,
         first_seen, last_seen)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (version) DO UPDATE SET
         git_commit = coalesce(excluded.git_commit, v.git_commit),
         first_seen = least(v.first_seen, excluded.first_seen),
         last_seen = greatest(v.last_seen, excluded.last_seen)";

pub(super) const UPSERT_INSTANCE: &str = "INSERT INTO instance AS i(name, first_seen, last_seen)
     VALUES ($1, $2, $3)
     ON CONFLICT (name) DO UPDATE SET
         first_seen = least(i.first_seen, excluded.first_seen),
         last_seen = greatest(i.last_seen, excluded.last_seen)";

/// The rollup statements: prepared ones for the writer, SQL text for one-off calls.
pub(super) struct RollupSql<'a, S: ?Sized> {
    pub last_requested: &'a S,
    pub hourly: &'a S,
    pub daily: &'a S,
    pub version: &'a S,
    pub instance: &'a S,
}

/// The rollup statements as text (each is prepared when it runs).
const TEXT: RollupSql<'static, str> = RollupSql {
    last_requested: LAST_REQUESTED,
    hourly: UPSERT_HOURLY,
    daily: UPSERT_DAILY,
    version: UPSERT_VERSION,
    instance: UPSERT_INSTANCE,
};

#[derive(Default)]
struct Hourly {
    hits: i64,
    duration_us: i64,
    client_errors: i64,
    server_errors: i64,
    cancelled: i64,
}

/// The batch's sums, ordered by key.
#[derive(Default)]
pub(super) struct Rollup {
    last_requested: BTreeMap<i64, i64>,
    hourly: BTreeMap<(i64, i64), Hourly>,
    daily: BTreeMap<(i64, i64, i64), i64>,
    seen: Option<(i64, i64)>,
}

/// Who wrote a batch: stamped on its rollup rows.
pub(super) struct Stamp<'a> {
    pub version: &'a str,
    pub instance: &'a str,
    pub git_commit: Option<&'a str>,
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
            duration_us: r.duration_us.min(i64::MAX as u64) as i64,
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
    pub(super) fn store<S: ToStatement + ?Sized>(
        self,
        db: &mut impl GenericClient,
        sql: &RollupSql<'_, S>,
        stamp: &Stamp<'_>,
        first_batch: bool,
    ) -> Result<(), postgres::Error> {
        if !self.last_requested.is_empty() {
            let ids: Vec<i64> = self.last_requested.keys().copied().collect();
            let times: Vec<i64> = self.last_requested.values().copied().collect();
            db.execute(sql.last_requested, &[&ids, &times])?;
        }
        let (version, instance) = (text(stamp.version), text(stamp.instance));
        if !self.hourly.is_empty() {
            let key =
                |f: fn(&(i64, i64)) -> i64| -> Vec<i64> { self.hourly.keys().map(f).collect() };
            let sum = |f: fn(&Hourly) -> i64| -> Vec<i64> { self.hourly.values().map(f).collect() };
            db.execute(
                sql.hourly,
                &[
                    &key(|k| k.0),
                    &key(|k| k.1),
                    &&*version,
                    &&*instance,
                    &sum(|h| h.hits),
                    &sum(|h| h.duration_us),
                    &sum(|h| h.client_errors),
                    &sum(|h| h.server_errors),
                    &sum(|h| h.cancelled),
                ],
            )?;
        }
        if !self.daily.is_empty() {
            let key =
                |f: fn(&(i64, i64, i64)) -> i64| -> Vec<i64> { self.daily.keys().map(f).collect() };
            let hits: Vec<i64> = self.daily.values().copied().collect();
            db.execute(
                sql.daily,
                &[
                    &key(|k| k.0),
                    &key(|k| k.1),
                    &&*instance,
                    &key(|k| k.2),
                    &hits,
                ],
            )?;
        }
        let seen = self.seen.or_else(|| {
            let now = crate::clock::now_ms();
            first_batch.then_some((now, now))
        });
        if let Some((first, last)) = seen {
            let commit = stamp.git_commit.map(text);
            db.execute(
                sql.version,
                &[&&*version, &commit.as_deref(), &first, &last],
            )?;
        }
        if let Some((first, last)) = self.seen {
            db.execute(sql.instance, &[&&*instance, &first, &last])?;
        }
        Ok(())
    }
}

impl Statements {
    /// The prepared rollup statements.
    pub(super) fn rollup(&self) -> RollupSql<'_, postgres::Statement> {
        RollupSql {
            last_requested: &self.last_requested,
            hourly: &self.upsert_hourly,
            daily: &self.upsert_daily,
            version: &self.upsert_version,
            instance: &self.upsert_instance,
        }
    }
}

/// Adds one request row that was inserted by hand (fixtures, generated databases) to
/// every rollup, exactly as the writer does for its batches: `last_requested`,
/// `request_hourly`, `duration_daily`, `app_version` and `instance`.
pub fn roll_up_request(
    client: &mut postgres::Client,
    r: &RolledRequest,
    version: &str,
    instance: &str,
) -> Result<(), postgres::Error> {
    let mut rollup = Rollup::default();
    rollup.requested(r.endpoint_id, r.time_ms);
    rollup.add(r);
    let stamp = Stamp {
        version,
        instance,
        git_commit: None,
    };
    rollup.store(client, &TEXT, &stamp, false)
}

/// Custom graph values of the batch.
#[derive(Default)]
pub(super) struct GraphRows {
    graph: Vec<i64>,
    time: Vec<i64>,
    value: Vec<f64>,
}

impl GraphRows {
    pub(super) fn insert(
        &self,
        tx: &mut Transaction<'_>,
        st: &Statements,
        options: &WriteOptions,
    ) -> Result<(), postgres::Error> {
        if self.graph.is_empty() {
            return Ok(());
        }
        tx.execute(
            &st.insert_graph_values,
            &[
                &self.graph,
                &self.time,
                &self.value,
                &&*text(&options.instance),
            ],
        )?;
        Ok(())
    }
}

impl Writer<'_, '_> {
    /// Takes one value of a custom graph.
    pub(super) fn sample(&mut self, s: &Sample) -> Result<(), postgres::Error> {
        let graph = match self.cache.graphs.get(&*s.graph) {
            Some(&id) => id,
            None => {
                let st = self.st;
                let name = text(&s.graph);
                let id = self.insert_or_select(
                    (&st.insert_graph, &[&&*name, &s.time_ms]),
                    (&st.select_graph, &[&&*name]),
                )?;
                self.cache.graphs.insert(s.graph.to_string(), id);
                id
            }
        };
        let rows = &mut self.rows.graphs;
        rows.graph.push(graph);
        rows.time.push(s.time_ms);
        rows.value.push(s.value);
        Ok(())
    }
}
