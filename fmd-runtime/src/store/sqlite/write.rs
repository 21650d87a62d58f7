//! The writer's side of the SQLite store: one transaction per batch, each distinct thing
//! (endpoint, function version, location, frame, snapshot, type, message) stored once.
//!
//! Ids of stored things are cached in memory. The dashboard may delete rows (a group,
//! pruning), and SQLite gives a deleted largest rowid to the next row inserted: a cached
//! id could then name another message, type, frame or snapshot and nothing would fail.
//! So every deletion is counted in `fmd_meta` ([`sql::DELETIONS`]), and a batch whose
//! transaction sees a new count starts with empty caches. A cached id that no longer
//! exists otherwise fails a foreign key, and the batch is retried once with empty caches.
//!
//! - this file: the store, requests and errors;
//! - [`issues`]: the issue of a new group, and per batch the issues' counters and status;
//! - [`trace`]: the normalized trace model (types, messages, locations, frames, snapshots);
//! - [`outliers_and_profiles`]: level 2 outliers and level 3 call trees;
//! - [`rollup`]: what is kept up to date per batch — `last_requested`, the hourly rollup,
//!   the daily duration histogram, the version and instance seen — and custom graph values.

mod issues;
mod outliers_and_profiles;
mod rollup;
mod trace;

use super::identity::Opened;
use super::{is_stale_reference, schema, store_error};
use crate::model::event::UNMATCHED;
use crate::model::event::{ErrorRecord, Event, RequestEvent};
use crate::store::grouping;
use crate::store::id_cache::{Dictionary, IdCache};
use crate::store::issues::{IssueBatch, is_client};
use crate::store::rollup::{Rollup, Stamp};
use crate::store::sql;
use crate::store::twin::{self, Twins};
use crate::store::{BACKGROUND, Store, StoreError, WriteOptions};
pub use rollup::roll_up_request;
use rusqlite::{
    CachedStatement, Connection, OptionalExtension, Transaction, TransactionBehavior, params,
};
use std::path::Path;

/// The SQLite store the writer thread writes to.
pub struct SqliteStore {
    conn: Connection,
    /// The file opened (to notice another one at the path).
    opened: Opened,
    cache: IdCache,
    /// This process's version is in `app_version`.
    version_stored: bool,
    /// The dashboard's count of deletions when the cache was last known right.
    deletions: Option<String>,
    /// What the last committed batch did to its issues (for alerts).
    issue_changes: Vec<(i64, crate::store::issues::Change, u32)>,
    /// The routes checked for a twin endpoint (see [`crate::store::twin`]).
    twins: Twins,
    /// The hour before which `duration_hourly` was last trimmed (see
    /// [`Rollup::trim_recent`]).
    hourly_trimmed: i64,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates its schema.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        let mut conn = Connection::open(path).map_err(|e| store_error("open", e))?;
        schema::configure(&conn).map_err(|e| store_error("configure", e))?;
        schema::migrate(&mut conn).map_err(|e| store_error("migrate", e))?;
        Ok(SqliteStore {
            conn,
            opened: Opened::now(path),
            cache: IdCache::default(),
            version_stored: false,
            deletions: None,
            issue_changes: Vec::new(),
            twins: Twins::default(),
            hourly_trimmed: i64::MIN,
        })
    }

    fn write(&mut self, events: &[Event], options: &WriteOptions) -> rusqlite::Result<u64> {
        // Immediate: the count of deletions read below stays true until the commit.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let deletions: Option<String> =
            tx.query_row(sql::DELETIONS, [], |r| r.get(0)).optional()?;
        if deletions != self.deletions {
            self.cache = IdCache::default();
            self.deletions = deletions;
        }
        let mut w = Writer {
            tx: &tx,
            insert_request: tx.prepare_cached(INSERT_REQUEST)?,
            cache: &mut self.cache,
            options,
            rollup: Rollup::default(),
            issues: IssueBatch::default(),
            twins: &mut self.twins,
        };
        let mut stored = 0;
        for event in events {
            match event {
                Event::Request(r) => w.request(r)?,
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
        let mut rollup = std::mem::take(&mut w.rollup);
        rollup.trim_recent(crate::clock::now_ms(), &mut self.hourly_trimmed);
        let issue_batch = std::mem::take(&mut w.issues);
        drop(w);
        let changes = issues::store(&issue_batch, &tx, &options.version)?;
        rollup::store(&rollup, &tx, &Stamp::of(options), !self.version_stored)?;
        let due = self.twins.take_due();
        let committed = merge_twins(&tx, &due).and_then(|merged| tx.commit().map(|()| merged));
        if self.twins.settle(&due, committed)? {
            self.cache = IdCache::default(); // the twin's cached ids are gone
        }
        self.version_stored = true;
        self.issue_changes = issue_batch.alerting(changes);
        Ok(stored)
    }
}

impl Store for SqliteStore {
    fn write_batch(&mut self, events: &[Event], options: &WriteOptions) -> Result<u64, StoreError> {
        match self.write(events, options) {
            Err(e) if is_stale_reference(&e) => {
                self.cache = IdCache::default();
                self.write(events, options)
                    .map_err(|e| store_error("write", e))
            }
            other => other.map_err(|e| store_error("write", e)),
        }
    }

    fn take_due_digests(&mut self, now: i64) -> Vec<crate::store::issues::IssueChange> {
        issues::digests(&self.conn, now)
    }

    fn take_issue_changes(
        &mut self,
        rule: &crate::store::issues::AlertRule,
    ) -> Vec<crate::store::issues::IssueChange> {
        let changes = std::mem::take(&mut self.issue_changes);
        issues::alerts(&self.conn, changes, rule)
    }

    fn stored_levels(&mut self) -> Result<Vec<(String, u8)>, StoreError> {
        let read = || -> rusqlite::Result<Vec<(String, u8)>> {
            let mut stmt = self.conn.prepare(sql::STORED_LEVELS)?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        };
        read().map_err(|e| store_error("read levels", e))
    }

    fn needs_reopen(&self) -> bool {
        // Deleted, or another file renamed over it. An in-memory database (`:memory:`,
        // for an application's tests) has no file to lose; reopening it would start an
        // empty one.
        self.opened.replaced()
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.opened.let_go(&self.conn);
    }
}

/// The one statement every stored request runs, prepared once per batch.
const INSERT_REQUEST: &str = "INSERT INTO request(endpoint_id, route_id, time, duration_us,
        status, cancelled, version_id, ip_id, user_id, instance_id)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

/// The statements that find a text of `dictionary` and store a new one. Finding first:
/// most texts the cache misses are stored already (client addresses come back), and an
/// upsert would rewrite their row each time. The batch's transaction holds the write
/// lock, so nothing stores the text between the two.
const fn dictionary_sql(dictionary: Dictionary) -> (&'static str, &'static str) {
    match dictionary {
        Dictionary::Version => (
            "SELECT id FROM request_version WHERE version = ?1",
            "INSERT INTO request_version (version) VALUES (?1) RETURNING id",
        ),
        Dictionary::Address => (
            "SELECT id FROM request_address WHERE ip = ?1",
            "INSERT INTO request_address (ip) VALUES (?1) RETURNING id",
        ),
        Dictionary::User => (
            "SELECT id FROM request_user WHERE group_by = ?1",
            "INSERT INTO request_user (group_by) VALUES (?1) RETURNING id",
        ),
        Dictionary::Instance => (
            "SELECT id FROM request_instance WHERE instance = ?1",
            "INSERT INTO request_instance (instance) VALUES (?1) RETURNING id",
        ),
    }
}

/// The route key's statements, as [`dictionary_sql`]'s.
const ROUTE_SQL: (&str, &str) = (
    "SELECT id FROM request_route WHERE route = ?1 AND method = ?2",
    "INSERT INTO request_route (route, method) VALUES (?1, ?2) RETURNING id",
);

/// The id `find` gives for `params`, else the id of the row `store` adds.
fn find_or_store(
    tx: &Transaction<'_>,
    (find, store): (&str, &str),
    params: impl rusqlite::Params + Copy,
) -> rusqlite::Result<i64> {
    let found = tx
        .prepare_cached(find)?
        .query_row(params, |r| r.get(0))
        .optional()?;
    match found {
        Some(id) => Ok(id),
        None => tx.prepare_cached(store)?.query_row(params, |r| r.get(0)),
    }
}

struct Writer<'a> {
    tx: &'a Transaction<'a>,
    insert_request: CachedStatement<'a>,
    cache: &'a mut IdCache,
    options: &'a WriteOptions,
    rollup: Rollup,
    issues: IssueBatch,
    twins: &'a mut Twins,
}

/// Moves each route twin of `due` into its handler's endpoint (see
/// [`crate::store::twin`]); whether any was there. A merge that fails is undone alone
/// (the twin stays): it never costs the batch.
fn merge_twins(tx: &Transaction<'_>, due: &[twin::Due]) -> rusqlite::Result<bool> {
    let mut merged = false;
    for twin::Due {
        twin: route,
        into: endpoint,
        ..
    } in due
    {
        let find = twin::for_sqlite(twin::FIND);
        let ids: Option<(i64, i64)> = tx
            .query_row(&find, params![route, endpoint], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let Some(ids) = ids else { continue };
        tx.execute_batch("SAVEPOINT twin")?;
        match merge_twin(tx, ids) {
            Ok(()) => {
                tx.execute_batch("RELEASE twin")?;
                merged = true;
            }
            Err(e) => {
                eprintln!("fmd: could not move endpoint {route:?} into {endpoint:?}: {e}");
                tx.execute_batch("ROLLBACK TO twin; RELEASE twin")?;
            }
        }
    }
    Ok(merged)
}

fn merge_twin(tx: &Transaction<'_>, (twin_id, handler_id): (i64, i64)) -> rusqlite::Result<()> {
    let ids = [twin_id, handler_id];
    for stmt in twin::MERGE {
        let mut st = tx.prepare(&twin::for_sqlite(stmt))?;
        let n = st.parameter_count().min(ids.len());
        st.execute(rusqlite::params_from_iter(&ids[..n]))?;
    }
    Ok(())
}

impl Writer<'_> {
    fn endpoint(&mut self, name: &str) -> rusqlite::Result<i64> {
        if let Some(&id) = self.cache.endpoints.get(name) {
            return Ok(id);
        }
        let id = self
            .tx
            .prepare_cached(
                "INSERT INTO endpoint(name, created_at) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET name = excluded.name RETURNING id",
            )?
            .query_row(params![name, crate::clock::now_ms()], |r| r.get(0))?;
        self.cache.endpoints.insert(name.to_owned(), id);
        Ok(id)
    }

    /// The id of `text` in `dictionary`, stored if new.
    fn text_id(&mut self, dictionary: Dictionary, text: &str) -> rusqlite::Result<i64> {
        let tx = self.tx;
        self.cache.texts.id(dictionary, text, || {
            find_or_store(tx, dictionary_sql(dictionary), [text])
        })
    }

    fn request(&mut self, r: &RequestEvent) -> rusqlite::Result<()> {
        let endpoint = self.endpoint(&r.endpoint)?;
        self.rollup.requested(endpoint, r.time_ms);
        if r.level == 0 {
            return Ok(());
        }
        let route: &str = if r.route.is_empty() {
            UNMATCHED
        } else {
            &r.route
        };
        self.twins.seen(&r.route, &r.method, &r.endpoint, r.status);
        let tx = self.tx;
        let route_id = self.cache.texts.route(route, &r.method, || {
            find_or_store(tx, ROUTE_SQL, [route, &*r.method])
        })?;
        let options = self.options;
        let version_id = self.text_id(Dictionary::Version, &options.version)?;
        let instance_id = self.text_id(Dictionary::Instance, &options.instance)?;
        let (ip_id, user_id) = (r.ip.as_deref(), r.group_by.as_deref());
        let ip_id = ip_id
            .map(|t| self.text_id(Dictionary::Address, t))
            .transpose()?;
        let user_id = user_id
            .map(|t| self.text_id(Dictionary::User, t))
            .transpose()?;
        self.insert_request.execute(params![
            endpoint,
            route_id,
            r.time_ms,
            r.duration_us as i64,
            r.status,
            r.cancelled,
            version_id,
            ip_id,
            user_id,
            instance_id,
        ])?;
        let request_id = self.tx.last_insert_rowid();
        if let Some(link) = &r.link {
            link.set_row(request_id); // for its tasks' late records
        }
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

    /// Counts the occurrence `e` in its group, creating the group (in its issue) if it is
    /// new (most are, when messages carry ids); returns the group's id.
    fn group(
        &mut self,
        endpoint: i64,
        group_hash: i64,
        type_id: i64,
        message_id: i64,
        snapshot_id: i64,
        e: &ErrorRecord,
    ) -> rusqlite::Result<i64> {
        let issue = self.issue_of(endpoint, group_hash, e)?;
        let inserted = self
            .tx
            .prepare_cached(
                "INSERT INTO exception_group(endpoint_id, hash, type_id, message_id,
                     snapshot_id, first_seen, last_seen, count, issue_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 1, ?7)
                 ON CONFLICT(endpoint_id, hash) DO NOTHING",
            )?
            .execute(params![
                endpoint,
                group_hash,
                type_id,
                message_id,
                snapshot_id,
                e.time_ms,
                issue
            ])?;
        if inserted == 1 {
            let id = self.tx.last_insert_rowid();
            self.issues.add(issue, id, e.time_ms, !is_client(e));
            return Ok(id);
        }
        // An existing group stays in the issue it was created in.
        let (id, stored_issue): (i64, Option<i64>) = self
            .tx
            .prepare_cached(
                "SELECT id, issue_id FROM exception_group WHERE endpoint_id = ?1 AND hash = ?2",
            )?
            .query_row(params![endpoint, group_hash], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        let server = !is_client(e);
        self.issues
            .add(stored_issue.unwrap_or(issue), id, e.time_ms, server);
        self.tx
            .prepare_cached(
                "UPDATE exception_group SET count = count + 1,
                     last_seen = max(last_seen, ?2), first_seen = min(first_seen, ?2),
                     message_id = ?3, snapshot_id = ?4
                 WHERE id = ?1",
            )?
            .execute(params![id, e.time_ms, message_id, snapshot_id])?;
        Ok(id)
    }

    fn error(
        &mut self,
        request: Option<i64>,
        endpoint: i64,
        e: &ErrorRecord,
    ) -> rusqlite::Result<()> {
        let type_id = self.type_id(&e.type_name)?;
        let message_id = self.message_id(&e.message)?;
        let snapshot_id = self.snapshot(&e.frames, e.omitted_frames)?;
        let group_hash = grouping::group_hash(e, self.options.normalize_messages);
        let group_id = self.group(endpoint, group_hash, type_id, message_id, snapshot_id, e)?;
        let chain = serde_json::to_string(&e.sources).unwrap_or_else(|_| "[]".to_owned());
        self.tx
            .prepare_cached(
                "INSERT INTO exception_occurrence(group_id, request_id, type_id, message_id,
                     snapshot_id, kind, time, source_chain)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                group_id,
                request,
                type_id,
                message_id,
                snapshot_id,
                e.kind as u8,
                e.time_ms,
                chain
            ])?;
        Ok(())
    }
}
