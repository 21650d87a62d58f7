//! The batch's rollup sums ([`crate::store::rollup`]) written as one statement each, in key
//! order, last in the batch's transaction (so the rows every instance shares stay locked
//! only until the commit); and custom graph values.

use super::statements::{
    LAST_REQUESTED, Statements, UPSERT_DAILY, UPSERT_HOURLY, UPSERT_HOURLY_DURATIONS,
    UPSERT_INSTANCE, UPSERT_VERSION,
};
use super::{Writer, text};
use crate::model::event::Sample;
use crate::store::rollup::{Hourly, Rollup, Stamp};
use crate::store::{RolledRequest, WriteOptions};
use postgres::{GenericClient, ToStatement, Transaction};
use std::collections::BTreeMap;

/// The rollup statements: prepared ones for the writer, SQL text for one-off calls.
pub(super) struct RollupSql<'a, S: ?Sized> {
    pub last_requested: &'a S,
    pub hourly: &'a S,
    pub daily: &'a S,
    pub hourly_durations: &'a S,
    pub version: &'a S,
    pub instance: &'a S,
}

/// The rollup statements as text (each is prepared when it runs).
const TEXT: RollupSql<'static, str> = RollupSql {
    last_requested: LAST_REQUESTED,
    hourly: UPSERT_HOURLY,
    daily: UPSERT_DAILY,
    hourly_durations: UPSERT_HOURLY_DURATIONS,
    version: UPSERT_VERSION,
    instance: UPSERT_INSTANCE,
};

/// Adds a duration histogram's counts, keyed `(a, b, bucket)`, with `statement` (`$1` a,
/// `$2` b, `$3` the instance, `$4` the bucket, `$5` the count): the daily one by
/// (endpoint, day), the recent hours' by (hour, endpoint).
fn add_histogram<S: ToStatement + ?Sized>(
    db: &mut impl GenericClient,
    statement: &S,
    histogram: &BTreeMap<(i64, i64, i64), i64>,
    instance: &str,
) -> Result<(), postgres::Error> {
    if histogram.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&(i64, i64, i64)) -> i64| -> Vec<i64> { histogram.keys().map(f).collect() };
    let hits: Vec<i64> = histogram.values().copied().collect();
    db.execute(
        statement,
        &[
            &column(|k| k.0),
            &column(|k| k.1),
            &instance,
            &column(|k| k.2),
            &hits,
        ],
    )?;
    Ok(())
}

/// Writes a batch's sums. `first_batch`: record the version even without requests.
pub(super) fn store<S: ToStatement + ?Sized>(
    rollup: &Rollup,
    db: &mut impl GenericClient,
    sql: &RollupSql<'_, S>,
    stamp: &Stamp<'_>,
    first_batch: bool,
) -> Result<(), postgres::Error> {
    if !rollup.last_requested.is_empty() {
        let ids: Vec<i64> = rollup.last_requested.keys().copied().collect();
        let times: Vec<i64> = rollup.last_requested.values().copied().collect();
        db.execute(sql.last_requested, &[&ids, &times])?;
    }
    let (version, instance) = (text(stamp.version), text(stamp.instance));
    if !rollup.hourly.is_empty() {
        let key = |f: fn(&(i64, i64)) -> i64| -> Vec<i64> { rollup.hourly.keys().map(f).collect() };
        let sum = |f: fn(&Hourly) -> i64| -> Vec<i64> { rollup.hourly.values().map(f).collect() };
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
    add_histogram(db, sql.daily, &rollup.daily, &instance)?;
    add_histogram(
        db,
        sql.hourly_durations,
        &rollup.hourly_durations,
        &instance,
    )?;
    if let Some(hour) = rollup.trim_before_hour {
        db.execute(crate::store::sql::TRIM_HOURLY_DURATIONS, &[&hour])?;
    }
    if let Some((first, last)) = rollup.version_seen(first_batch) {
        let commit = stamp.git_commit.map(text);
        db.execute(
            sql.version,
            &[&&*version, &commit.as_deref(), &first, &last],
        )?;
    }
    if let Some((first, last)) = rollup.seen {
        db.execute(sql.instance, &[&&*instance, &first, &last])?;
    }
    Ok(())
}

impl Statements {
    /// The prepared rollup statements.
    pub(super) fn rollup(&self) -> RollupSql<'_, postgres::Statement> {
        RollupSql {
            last_requested: &self.last_requested,
            hourly: &self.upsert_hourly,
            daily: &self.upsert_daily,
            hourly_durations: &self.upsert_hourly_durations,
            version: &self.upsert_version,
            instance: &self.upsert_instance,
        }
    }
}

/// Adds one request row that was inserted by hand (fixtures, generated databases) to
/// every rollup, exactly as the writer does for its batches: `last_requested`,
/// `request_hourly`, `duration_daily`, `duration_hourly`, `app_version` and `instance`.
pub fn roll_up_request(
    client: &mut postgres::Client,
    r: &RolledRequest,
    version: &str,
    instance: &str,
) -> Result<(), postgres::Error> {
    let stamp = Stamp {
        version,
        instance,
        git_commit: None,
    };
    store(&Rollup::of_one(r), client, &TEXT, &stamp, false)
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
