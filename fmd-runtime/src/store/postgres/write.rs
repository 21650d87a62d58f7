//! The writer's side of the PostgreSQL store: one transaction per batch, a handful of
//! set-based statements in it.
//!
//! Each batch is taken in two steps. First every event is turned into rows held in memory:
//! ids of distinct things (endpoints, types, messages, locations, frames, snapshots,
//! graphs) are found or stored once — all uncached texts of the batch in one statement —
//! and cached; request ids are drawn from the sequence in one query, so errors, outliers
//! and call trees can refer to their request before it is written. Then the rows go in:
//! the requests with `COPY .. FROM STDIN BINARY`, the other tables with one
//! `INSERT .. SELECT FROM unnest(..)` each, exception groups and the rollups as one upsert
//! each of the batch's sums, sorted by key so concurrent instances lock shared rows in one
//! order. The statements are prepared once per connection.
//!
//! A failed transaction empties the caches (an id stored in it was rolled back). Deadlocks
//! and serialization failures — another instance won a race — retry the batch at once; a
//! foreign-key failure (the dashboard deleted a cached row) retries it with empty caches.
//!
//! - this file: the store, requests and errors;
//! - [`issues`]: the issue of a new group, and per batch the issues' counters and status;
//! - [`dictionaries`]: the request texts' ids (route key, version, address, user, instance);
//! - [`trace`]: the normalized trace model (types, messages, locations, frames, snapshots);
//! - [`outliers_and_profiles`]: level 2 outliers and level 3 call trees;
//! - [`rollup`]: `last_requested`, the hourly rollup, the daily duration histogram, the
//!   version and instance seen, graph values;
//! - [`twin`]: a route's twin endpoint moved into its handler's.

mod dictionaries;
mod issues;
mod outliers_and_profiles;
mod rollup;
mod statements;
mod trace;
mod twin;

use super::{connect, is_conflict, is_stale_reference, schema, store_error, text};
use crate::model::event::UNMATCHED;
use crate::model::event::{ErrorRecord, Event, RequestEvent};
use crate::store::BACKGROUND;
use crate::store::grouping;
use crate::store::id_cache::{Dictionary, IdCache};
use crate::store::issues::{IssueBatch, Sums};
use crate::store::rollup::{Rollup, Stamp};
use crate::store::sql;
use crate::store::twin::Twins;
use crate::store::{Store, StoreError, WriteOptions};
use outliers_and_profiles::{OutlierRows, ProfileRows};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::Type;
use postgres::{Client, Transaction};
use rollup::GraphRows;
pub use rollup::roll_up_request;
use statements::Statements;
use std::collections::HashMap;

/// Immediate retries of a batch that lost a race with another writer.
const CONFLICT_RETRIES: u32 = 5;

/// The PostgreSQL store the writer thread writes to.
pub struct PgStore {
    client: Client,
    statements: Statements,
    cache: IdCache,
    /// This process's version is in `app_version`.
    version_stored: bool,
    /// A transient failure: the connection is gone or unusable, make a new one.
    lost: bool,
    /// What the last committed batch did to its issues (for alerts).
    issue_changes: Vec<(i64, crate::store::issues::Change, u32)>,
    /// The routes checked for a twin endpoint (see [`crate::store::twin`]).
    twins: Twins,
    /// The hour before which `duration_hourly` was last trimmed (see
    /// [`Rollup::trim_recent`]).
    hourly_trimmed: i64,
}

impl PgStore {
    /// Connects to `url`, migrates the schema and prepares the writer's statements.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let mut client = connect(url)?;
        schema::migrate(&mut client).map_err(|e| store_error("migrate", e))?;
        let statements = Statements::prepare(&mut client).map_err(|e| store_error("prepare", e))?;
        Ok(PgStore {
            client,
            statements,
            cache: IdCache::default(),
            version_stored: false,
            lost: false,
            issue_changes: Vec::new(),
            twins: Twins::default(),
            hourly_trimmed: i64::MIN,
        })
    }

    fn write(&mut self, events: &[Event], options: &WriteOptions) -> Result<u64, postgres::Error> {
        let mut tx = self.client.transaction()?;
        let mut w = Writer {
            tx: &mut tx,
            st: &self.statements,
            cache: &mut self.cache,
            options,
            rollup: Rollup::default(),
            rows: Rows::default(),
            twins: &mut self.twins,
        };
        w.intern_texts(events)?;
        w.intern_request_texts(events)?;
        let stored_requests = events
            .iter()
            .filter(|e| matches!(e, Event::Request(r) if r.level > 0))
            .count();
        let mut ids = w.request_ids(stored_requests)?.into_iter();
        let mut stored = 0;
        for event in events {
            match event {
                Event::Request(r) => {
                    let id = if r.level > 0 { ids.next() } else { None };
                    w.request(r, id)?;
                }
                Event::Error(e) => {
                    let endpoint = w.endpoint(BACKGROUND)?;
                    w.error(None, endpoint, e)?;
                }
                Event::Late(l) => {
                    let endpoint = w.endpoint(&l.endpoint)?;
                    w.error(l.link.row(), endpoint, &l.record)?;
                }
                Event::Sample(s) => w.sample(s)?,
                Event::Counted(c) => {
                    for ((name, hour), sums) in &c.hours {
                        let endpoint = w.endpoint(name)?;
                        w.rollup.counted(endpoint, *hour, sums);
                    }
                    continue; // their rows are counted as dropped, not stored
                }
                Event::Flush(_) => continue,
            }
            stored += 1;
        }
        let (rows, mut rollup) = (std::mem::take(&mut w.rows), std::mem::take(&mut w.rollup));
        rollup.trim_recent(crate::clock::now_ms(), &mut self.hourly_trimmed);
        let issue_batch = rows.insert(w.tx, w.st, options)?;
        let changes = issues::store(&issue_batch, w.tx, w.st, &options.version)?;
        rollup::store(
            &rollup,
            w.tx,
            &w.st.rollup(),
            &Stamp::of(options),
            !self.version_stored,
        )?;
        let due = self.twins.take_due();
        let committed = twin::merge(&mut tx, &due).and_then(|merged| tx.commit().map(|()| merged));
        if self.twins.settle(&due, committed)? {
            self.cache = IdCache::default(); // the twin's cached ids are gone
        }
        self.version_stored = true;
        self.issue_changes = issue_batch.alerting(changes);
        Ok(stored)
    }
}

impl Store for PgStore {
    fn take_due_digests(&mut self, now: i64) -> Vec<crate::store::issues::IssueChange> {
        issues::digests(&mut self.client, now)
    }

    fn take_issue_changes(
        &mut self,
        rule: &crate::store::issues::AlertRule,
    ) -> Vec<crate::store::issues::IssueChange> {
        let changes = std::mem::take(&mut self.issue_changes);
        issues::alerts(&mut self.client, changes, rule)
    }

    fn write_batch(&mut self, events: &[Event], options: &WriteOptions) -> Result<u64, StoreError> {
        let mut conflicts = 0;
        let mut cleared = false;
        loop {
            match self.write(events, options) {
                Ok(n) => return Ok(n),
                Err(e) => {
                    // Ids cached during the failed transaction were rolled back with it.
                    self.cache = IdCache::default();
                    if is_conflict(&e) && conflicts < CONFLICT_RETRIES {
                        conflicts += 1;
                        std::thread::sleep(std::time::Duration::from_millis(
                            5 * u64::from(conflicts),
                        ));
                    } else if is_stale_reference(&e) && !cleared {
                        cleared = true;
                    } else {
                        let e = store_error("write", e);
                        self.lost = e.transient;
                        return Err(e);
                    }
                }
            }
        }
    }

    fn stored_levels(&mut self) -> Result<Vec<(String, u8)>, StoreError> {
        let rows = self
            .client
            .query(sql::STORED_LEVELS, &[])
            .map_err(|e| store_error("read levels", e))?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                let level: i64 = r.get(1);
                Some((r.get(0), u8::try_from(level).ok()?))
            })
            .collect())
    }

    fn needs_reopen(&self) -> bool {
        self.lost || self.client.is_closed()
    }
}

/// The batch's rows of the tables that grow with traffic, column by column.
#[derive(Default)]
struct Rows {
    requests: RequestRows,
    groups: Vec<GroupSums>,
    group_index: HashMap<(i64, i64), usize>,
    occurrences: OccurrenceRows,
    outliers: OutlierRows,
    profile: ProfileRows,
    graphs: GraphRows,
}

#[derive(Default)]
struct RequestRows {
    id: Vec<i64>,
    endpoint: Vec<i64>,
    /// `request_route` ids (the dictionaries of schema version 10).
    route: Vec<i64>,
    time: Vec<i64>,
    duration_us: Vec<i64>,
    status: Vec<Option<i64>>,
    cancelled: Vec<bool>,
    ip: Vec<Option<i64>>,
    user: Vec<Option<i64>>,
    version: Vec<i64>,
    instance: Vec<i64>,
}

impl RequestRows {
    /// Streams the rows with `COPY .. FROM STDIN BINARY`: the request table takes most
    /// rows of a batch, and COPY stores them faster than any `INSERT`.
    fn copy(&self, tx: &mut Transaction<'_>, st: &Statements) -> Result<(), postgres::Error> {
        if self.id.is_empty() {
            return Ok(());
        }
        let mut w = BinaryCopyInWriter::new(tx.copy_in(&st.copy_requests)?, &REQUEST_COLUMNS);
        for i in 0..self.id.len() {
            w.write(&[
                &self.id[i],
                &self.endpoint[i],
                &self.route[i],
                &self.time[i],
                &self.duration_us[i],
                &self.status[i],
                &self.cancelled[i],
                &self.ip[i],
                &self.user[i],
                &self.version[i],
                &self.instance[i],
            ])?;
        }
        w.finish()?;
        Ok(())
    }
}

/// The types of `Statements::copy_requests`' columns, in order.
const REQUEST_COLUMNS: [Type; 11] = [
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::BOOL,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::INT8,
];

/// One exception group's occurrences in the batch; the latest message and trace win.
struct GroupSums {
    endpoint: i64,
    hash: i64,
    type_id: i64,
    message_id: i64,
    snapshot_id: i64,
    first_seen: i64,
    last_seen: i64,
    count: i64,
    /// The issue it is created in when it is new.
    issue: i64,
    /// One of its occurrences is no client error.
    server: bool,
}

#[derive(Default)]
struct OccurrenceRows {
    /// Index into `Rows::groups` (the id is known once the groups are stored).
    group: Vec<usize>,
    request: Vec<Option<i64>>,
    type_id: Vec<i64>,
    message_id: Vec<i64>,
    snapshot_id: Vec<i64>,
    kind: Vec<i64>,
    time: Vec<i64>,
    chain: Vec<String>,
}

impl Rows {
    /// Writes the rows, referenced tables first; returns what the groups' occurrences add
    /// to their issues.
    fn insert(
        mut self,
        tx: &mut Transaction<'_>,
        st: &Statements,
        options: &WriteOptions,
    ) -> Result<IssueBatch, postgres::Error> {
        self.requests.copy(tx, st)?;
        let mut issue_batch = IssueBatch::default();
        if !self.groups.is_empty() {
            let (group_ids, issue_ids) = self.upsert_groups(tx, st)?;
            for (i, g) in self.groups.iter().enumerate() {
                issue_batch.add_sums(
                    issue_ids[i],
                    group_ids[i],
                    Sums {
                        count: g.count,
                        first_seen: g.first_seen,
                        last_seen: g.last_seen,
                    },
                );
                if g.server {
                    issue_batch.server.insert(issue_ids[i]);
                }
            }
            let o = &self.occurrences;
            let ids: Vec<i64> = o.group.iter().map(|&g| group_ids[g]).collect();
            tx.execute(
                &st.insert_occurrences,
                &[
                    &ids,
                    &o.request,
                    &o.type_id,
                    &o.message_id,
                    &o.snapshot_id,
                    &o.kind,
                    &o.time,
                    &o.chain,
                ],
            )?;
        }
        self.outliers.insert(tx, st)?;
        self.profile.insert(tx, st)?;
        self.graphs.insert(tx, st, options)?;
        Ok(issue_batch)
    }

    /// Upserts the batch's groups in key order; returns their ids and their issues' ids
    /// by index.
    fn upsert_groups(
        &mut self,
        tx: &mut Transaction<'_>,
        st: &Statements,
    ) -> Result<(Vec<i64>, Vec<i64>), postgres::Error> {
        let mut order: Vec<usize> = (0..self.groups.len()).collect();
        order.sort_by_key(|&i| (self.groups[i].endpoint, self.groups[i].hash));
        let col = |f: fn(&GroupSums) -> i64| -> Vec<i64> {
            order.iter().map(|&i| f(&self.groups[i])).collect()
        };
        let rows = tx.query(
            &st.upsert_groups,
            &[
                &col(|g| g.endpoint),
                &col(|g| g.hash),
                &col(|g| g.type_id),
                &col(|g| g.message_id),
                &col(|g| g.snapshot_id),
                &col(|g| g.first_seen),
                &col(|g| g.last_seen),
                &col(|g| g.count),
                &col(|g| g.issue),
            ],
        )?;
        let mut ids = vec![0; self.groups.len()];
        let mut issue_ids: Vec<i64> = self.groups.iter().map(|g| g.issue).collect();
        for row in rows {
            let key: (i64, i64) = (row.get(1), row.get(2));
            if let Some(&i) = self.group_index.get(&key) {
                ids[i] = row.get(0);
                // An existing group stays in the issue it was created in.
                if let Some(issue) = row.get::<_, Option<i64>>(3) {
                    issue_ids[i] = issue;
                }
            }
        }
        Ok((ids, issue_ids))
    }
}

struct Writer<'a, 't> {
    tx: &'a mut Transaction<'t>,
    st: &'a Statements,
    cache: &'a mut IdCache,
    options: &'a WriteOptions,
    rollup: Rollup,
    rows: Rows,
    twins: &'a mut Twins,
}

impl Writer<'_, '_> {
    /// Finds or stores the id of `st_insert`'s row: the insert returns it when it stored
    /// the row, else the select finds the row someone stored before.
    fn insert_or_select(
        &mut self,
        insert: (
            &postgres::Statement,
            &[&(dyn postgres::types::ToSql + Sync)],
        ),
        select: (
            &postgres::Statement,
            &[&(dyn postgres::types::ToSql + Sync)],
        ),
    ) -> Result<i64, postgres::Error> {
        if let Some(row) = self.tx.query_opt(insert.0, insert.1)? {
            return Ok(row.get(0));
        }
        Ok(self.tx.query_one(select.0, select.1)?.get(0))
    }

    fn endpoint(&mut self, name: &str) -> Result<i64, postgres::Error> {
        if let Some(&id) = self.cache.endpoints.get(name) {
            return Ok(id);
        }
        let clean = text(name);
        let now = crate::clock::now_ms();
        let st = self.st;
        let id = self.insert_or_select(
            (&st.insert_endpoint, &[&clean, &now]),
            (&st.select_endpoint, &[&clean]),
        )?;
        self.cache.endpoints.insert(name.to_owned(), id);
        Ok(id)
    }

    /// `count` fresh request ids from the table's sequence.
    fn request_ids(&mut self, count: usize) -> Result<Vec<i64>, postgres::Error> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let rows = self.tx.query(&self.st.request_ids, &[&(count as i64)])?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn request(&mut self, r: &RequestEvent, id: Option<i64>) -> Result<(), postgres::Error> {
        let endpoint = self.endpoint(&r.endpoint)?;
        self.rollup.requested(endpoint, r.time_ms);
        let Some(request_id) = id else {
            return Ok(()); // level 0: only "last requested"
        };
        if let Some(link) = &r.link {
            link.set_row(request_id); // for its tasks' late records
        }
        let route: &str = if r.route.is_empty() {
            UNMATCHED
        } else {
            &r.route
        };
        self.twins.seen(&r.route, &r.method, &r.endpoint, r.status);
        let route = self.route_id(route, &r.method)?;
        let options = self.options;
        let version = self.text_id(Dictionary::Version, &options.version)?;
        let instance = self.text_id(Dictionary::Instance, &options.instance)?;
        let (ip, user) = (r.ip.as_deref(), r.group_by.as_deref());
        let ip = ip
            .map(|t| self.text_id(Dictionary::Address, t))
            .transpose()?;
        let user = user
            .map(|t| self.text_id(Dictionary::User, t))
            .transpose()?;
        let rows = &mut self.rows.requests;
        rows.id.push(request_id);
        rows.endpoint.push(endpoint);
        rows.route.push(route);
        rows.version.push(version);
        rows.instance.push(instance);
        rows.time.push(r.time_ms);
        rows.duration_us
            .push(r.duration_us.min(i64::MAX as u64) as i64);
        rows.status.push(r.status.map(i64::from));
        rows.cancelled.push(r.cancelled);
        rows.ip.push(ip);
        rows.user.push(user);
        self.rollup.stored(endpoint, r);
        for e in &r.errors {
            self.error(Some(request_id), endpoint, e)?;
        }
        if let Some(outlier) = &r.outlier {
            self.outlier(request_id, endpoint, r.time_ms, outlier)?;
        }
        if let Some(profile) = &r.profile {
            self.profile(request_id, endpoint, profile)?;
        }
        Ok(())
    }

    fn error(
        &mut self,
        request: Option<i64>,
        endpoint: i64,
        e: &ErrorRecord,
    ) -> Result<(), postgres::Error> {
        let type_id = self.type_id(&e.type_name)?;
        let message_id = self.message_id(&e.message)?;
        let snapshot_id = self.snapshot(&e.frames, e.omitted_frames)?;
        let hash = grouping::group_hash(e, self.options.normalize_messages);
        let next = self.rows.groups.len();
        let group = *self
            .rows
            .group_index
            .entry((endpoint, hash))
            .or_insert(next);
        let rows = if group == next {
            let issue = self.issue_of(endpoint, hash, e)?;
            let rows = &mut self.rows;
            rows.groups.push(GroupSums {
                endpoint,
                hash,
                type_id,
                message_id,
                snapshot_id,
                first_seen: e.time_ms,
                last_seen: e.time_ms,
                count: 0,
                issue,
                server: false,
            });
            rows
        } else {
            &mut self.rows
        };
        let sums = &mut rows.groups[group];
        sums.count += 1;
        sums.server |= !crate::store::issues::is_client(e);
        sums.first_seen = sums.first_seen.min(e.time_ms);
        sums.last_seen = sums.last_seen.max(e.time_ms);
        sums.message_id = message_id;
        sums.snapshot_id = snapshot_id;
        let chain = serde_json::to_string(&e.sources).unwrap_or_else(|_| "[]".to_owned());
        let o = &mut rows.occurrences;
        o.group.push(group);
        o.request.push(request);
        o.type_id.push(type_id);
        o.message_id.push(message_id);
        o.snapshot_id.push(snapshot_id);
        o.kind.push(e.kind as u8 as i64);
        o.time.push(e.time_ms);
        o.chain.push(text(&chain).into_owned());
        Ok(())
    }
}
