//! What each batch keeps up to date besides its rows: `endpoint.last_requested`, the
//! hourly rollup `request_hourly`, and `app_version` — added up in memory over the batch,
//! then written as one statement each, in key order, last in the batch's transaction (so
//! the rows every instance shares stay locked only until the commit). Also custom graph
//! values.

use super::statements::Statements;
use super::{Writer, text};
use crate::event::{RequestEvent, Sample};
use crate::store::WriteOptions;
use crate::store::perf::HOUR_MS;
use postgres::Transaction;
use std::collections::BTreeMap;

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
        h.duration_us = h
            .duration_us
            .saturating_add(r.duration_us.min(i64::MAX as u64) as i64);
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
        tx: &mut Transaction<'_>,
        st: &Statements,
        options: &WriteOptions,
        first_batch: bool,
    ) -> Result<(), postgres::Error> {
        if !self.last_requested.is_empty() {
            let ids: Vec<i64> = self.last_requested.keys().copied().collect();
            let times: Vec<i64> = self.last_requested.values().copied().collect();
            tx.execute(&st.last_requested, &[&ids, &times])?;
        }
        let version = text(&options.version);
        if !self.hourly.is_empty() {
            let key = |f: fn(&(i64, i64)) -> i64| -> Vec<i64> { self.hourly.keys().map(f).collect() };
            let sum = |f: fn(&Hourly) -> i64| -> Vec<i64> { self.hourly.values().map(f).collect() };
            tx.execute(
                &st.upsert_hourly,
                &[
                    &key(|k| k.0),
                    &key(|k| k.1),
                    &&*version,
                    &sum(|h| h.hits),
                    &sum(|h| h.duration_us),
                    &sum(|h| h.client_errors),
                    &sum(|h| h.server_errors),
                    &sum(|h| h.cancelled),
                ],
            )?;
        }
        let seen = self.seen.or_else(|| {
            let now = crate::clock::now_ms();
            first_batch.then_some((now, now))
        });
        if let Some((first, last)) = seen {
            let commit = options.git_commit.as_deref().map(text);
            tx.execute(
                &st.upsert_version,
                &[&&*version, &commit.as_deref(), &first, &last],
            )?;
        }
        Ok(())
    }
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
            &[&self.graph, &self.time, &self.value, &&*text(&options.instance)],
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
