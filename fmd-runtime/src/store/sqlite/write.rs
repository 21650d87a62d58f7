//! The writer's side of the SQLite store: one transaction per batch, each distinct thing
//! (endpoint, function version, location, frame, snapshot, type, message) stored once.
//!
//! Ids of stored things are cached in memory. The dashboard may delete rows (a group,
//! pruning); a cached id that no longer exists then fails a foreign key, and the batch is
//! retried once with empty caches.

use super::{is_stale_reference, schema, store_error};
use crate::event::{ErrorRecord, Event, RequestEvent, TraceFrame};
use crate::grouping;
use crate::request::UNMATCHED;
use crate::store::{Store, StoreError, WriteOptions};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Endpoint name of errors captured outside any request.
pub const BACKGROUND: &str = "(background)";

/// Most cached type names or messages.
const TEXT_CACHE: usize = 4096;

#[derive(Default)]
struct Cache {
    endpoints: HashMap<String, i64>,
    app_locations: HashMap<usize, i64>,
    other_locations: HashMap<(String, String), i64>,
    frames: HashMap<(i64, u32), i64>,
    snapshots: HashMap<i64, i64>,
    types: HashMap<String, i64>,
    messages: HashMap<String, i64>,
}

/// The SQLite store the writer thread writes to.
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    cache: Cache,
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
            path: path.to_owned(),
            cache: Cache::default(),
        })
    }

    fn write(&mut self, events: &[Event], options: &WriteOptions) -> rusqlite::Result<u64> {
        let tx = self.conn.transaction()?;
        let mut w = Writer {
            tx: &tx,
            cache: &mut self.cache,
            options,
            last_requested: HashMap::new(),
        };
        let mut stored = 0;
        for event in events {
            match event {
                Event::Request(r) => w.request(r)?,
                Event::Error(e) => {
                    let endpoint = w.endpoint(BACKGROUND)?;
                    w.error(None, endpoint, e)?;
                }
                Event::Flush(_) => continue,
            }
            stored += 1;
        }
        let last = std::mem::take(&mut w.last_requested);
        {
            let mut update = tx.prepare_cached(
                "UPDATE endpoint SET last_requested = max(coalesce(last_requested, 0), ?2)
                 WHERE id = ?1",
            )?;
            for (endpoint, time) in last {
                update.execute(params![endpoint, time])?;
            }
        }
        tx.commit()?;
        Ok(stored)
    }
}

impl Store for SqliteStore {
    fn write_batch(&mut self, events: &[Event], options: &WriteOptions) -> Result<u64, StoreError> {
        match self.write(events, options) {
            Err(e) if is_stale_reference(&e) => {
                self.cache = Cache::default();
                self.write(events, options)
                    .map_err(|e| store_error("write", e))
            }
            other => other.map_err(|e| store_error("write", e)),
        }
    }

    fn stored_levels(&mut self) -> Result<Vec<(String, u8)>, StoreError> {
        let read = || -> rusqlite::Result<Vec<(String, u8)>> {
            let mut stmt = self
                .conn
                .prepare("SELECT name, level FROM endpoint WHERE level IS NOT NULL")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        };
        read().map_err(|e| store_error("read levels", e))
    }

    fn needs_reopen(&self) -> bool {
        !self.path.exists()
    }
}

/// The id of `value` in a table of distinct texts (`upsert` returns it), cached in `cache`.
/// Texts are often unique (messages), so the cache is emptied when it is full.
fn intern(
    tx: &Transaction<'_>,
    cache: &mut HashMap<String, i64>,
    upsert: &str,
    value: &str,
) -> rusqlite::Result<i64> {
    if let Some(&id) = cache.get(value) {
        return Ok(id);
    }
    let id = tx
        .prepare_cached(upsert)?
        .query_row([value], |r| r.get(0))?;
    if cache.len() >= TEXT_CACHE {
        cache.clear();
    }
    cache.insert(value.to_owned(), id);
    Ok(id)
}

struct Writer<'a> {
    tx: &'a Transaction<'a>,
    cache: &'a mut Cache,
    options: &'a WriteOptions,
    last_requested: HashMap<i64, i64>,
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

    fn request(&mut self, r: &RequestEvent) -> rusqlite::Result<()> {
        let endpoint = self.endpoint(&r.endpoint)?;
        let last = self.last_requested.entry(endpoint).or_insert(r.time_ms);
        *last = (*last).max(r.time_ms);
        if r.level == 0 {
            return Ok(());
        }
        let route: &str = if r.route.is_empty() {
            UNMATCHED
        } else {
            &r.route
        };
        self.tx
            .prepare_cached(
                "INSERT INTO request(endpoint_id, route, method, time, duration_us, status,
                     cancelled, version, ip, group_by, instance)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                endpoint,
                route,
                &*r.method,
                r.time_ms,
                r.duration_us as i64,
                r.status,
                r.cancelled,
                self.options.version,
                r.ip,
                r.group_by,
                self.options.instance,
            ])?;
        let request_id = self.tx.last_insert_rowid();
        for e in &r.errors {
            self.error(Some(request_id), endpoint, e)?;
        }
        Ok(())
    }

    fn error(
        &mut self,
        request: Option<i64>,
        endpoint: i64,
        e: &ErrorRecord,
    ) -> rusqlite::Result<()> {
        let type_id = self.type_id(&e.type_name)?;
        let message_id = self.message_id(&e.message)?;
        let snapshot_id = self.snapshot(e)?;
        let group_hash = grouping::group_hash(e, self.options.normalize_messages);
        let group_id: i64 = self
            .tx
            .prepare_cached(
                "INSERT INTO exception_group(endpoint_id, hash, type_id, message_id, snapshot_id,
                     first_seen, last_seen, count)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 1)
                 ON CONFLICT(endpoint_id, hash) DO UPDATE SET
                     count = count + 1,
                     last_seen = max(last_seen, excluded.last_seen),
                     first_seen = min(first_seen, excluded.first_seen),
                     message_id = excluded.message_id,
                     snapshot_id = excluded.snapshot_id
                 RETURNING id",
            )?
            .query_row(
                params![
                    endpoint,
                    group_hash,
                    type_id,
                    message_id,
                    snapshot_id,
                    e.time_ms
                ],
                |r| r.get(0),
            )?;
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

    fn type_id(&mut self, name: &str) -> rusqlite::Result<i64> {
        intern(
            self.tx,
            &mut self.cache.types,
            "INSERT INTO exception_type(name) VALUES (?1)
             ON CONFLICT(name) DO UPDATE SET name = excluded.name RETURNING id",
            name,
        )
    }

    fn message_id(&mut self, message: &str) -> rusqlite::Result<i64> {
        intern(
            self.tx,
            &mut self.cache.messages,
            "INSERT INTO exception_message(message) VALUES (?1)
             ON CONFLICT(message) DO UPDATE SET message = excluded.message RETURNING id",
            message,
        )
    }

    fn snapshot(&mut self, e: &ErrorRecord) -> rusqlite::Result<i64> {
        let mut frames = Cow::Borrowed(e.frames.as_slice());
        if e.omitted_frames > 0 {
            frames.to_mut().push(TraceFrame::Other {
                name: format!("({} more frames not recorded)", e.omitted_frames).into(),
                file: "".into(),
                line: 0,
            });
        }
        let hash = grouping::snapshot_hash(&frames);
        if let Some(&id) = self.cache.snapshots.get(&hash) {
            return Ok(id);
        }
        let existing: Option<i64> = self
            .tx
            .prepare_cached("SELECT id FROM stack_trace_snapshot WHERE hash = ?1")?
            .query_row([hash], |r| r.get(0))
            .optional()?;
        let id = match existing {
            Some(id) => id,
            None => {
                self.tx
                    .prepare_cached(
                        "INSERT INTO stack_trace_snapshot(hash, depth) VALUES (?1, ?2)",
                    )?
                    .execute(params![hash, frames.len() as i64])?;
                let id = self.tx.last_insert_rowid();
                for (position, frame) in frames.iter().enumerate() {
                    let frame_id = self.frame(frame)?;
                    let repeat = match frame {
                        TraceFrame::App { repeat, .. } => *repeat,
                        TraceFrame::Other { .. } => 1,
                    };
                    self.tx
                        .prepare_cached(
                            "INSERT INTO exception_stackline(snapshot_id, position, frame_id, repeat)
                             VALUES (?1, ?2, ?3, ?4)",
                        )?
                        .execute(params![id, position as i64, frame_id, repeat])?;
                }
                id
            }
        };
        self.cache.snapshots.insert(hash, id);
        Ok(id)
    }

    fn frame(&mut self, frame: &TraceFrame) -> rusqlite::Result<i64> {
        let (location, line) = match frame {
            TraceFrame::App { info, line, .. } => (self.app_location(info)?, *line),
            TraceFrame::Other { name, file, line } => (self.other_location(name, file)?, *line),
        };
        if let Some(&id) = self.cache.frames.get(&(location, line)) {
            return Ok(id);
        }
        let id = self
            .tx
            .prepare_cached(
                "INSERT INTO exception_frame(location_id, line) VALUES (?1, ?2)
             ON CONFLICT(location_id, line) DO UPDATE SET line = excluded.line RETURNING id",
            )?
            .query_row(params![location, line], |r| r.get(0))?;
        self.cache.frames.insert((location, line), id);
        Ok(id)
    }

    fn app_location(&mut self, info: &'static crate::FnInfo) -> rusqlite::Result<i64> {
        let key = info as *const crate::FnInfo as usize;
        if let Some(&id) = self.cache.app_locations.get(&key) {
            return Ok(id);
        }
        let code = if self.options.store_source {
            info.source
        } else {
            ""
        };
        let definition: i64 = self
            .tx
            .prepare_cached(
                "INSERT INTO function_definition(code_hash, code, verbatim) VALUES (?1, ?2, ?3)
             ON CONFLICT(code_hash) DO UPDATE SET code_hash = excluded.code_hash RETURNING id",
            )?
            .query_row(params![info.code_hash as i64, code, info.verbatim], |r| {
                r.get(0)
            })?;
        let id = self.tx.prepare_cached(
            "INSERT INTO function_location(definition_id, module, name, file, start_line, end_line, in_app)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1)
             ON CONFLICT(definition_id, module, name, file, start_line)
             DO UPDATE SET end_line = excluded.end_line RETURNING id",
        )?
        .query_row(
            params![definition, info.module, info.name, info.file, info.start_line, info.end_line],
            |r| r.get(0),
        )?;
        self.cache.app_locations.insert(key, id);
        Ok(id)
    }

    fn other_location(&mut self, name: &str, file: &str) -> rusqlite::Result<i64> {
        let key = (name.to_owned(), file.to_owned());
        if let Some(&id) = self.cache.other_locations.get(&key) {
            return Ok(id);
        }
        let existing: Option<i64> = self
            .tx
            .prepare_cached(
                "SELECT id FROM function_location
                 WHERE definition_id IS NULL AND name = ?1 AND file = ?2 AND start_line = 0",
            )?
            .query_row(params![name, file], |r| r.get(0))
            .optional()?;
        let id = match existing {
            Some(id) => id,
            None => {
                self.tx
                    .prepare_cached(
                        "INSERT INTO function_location(definition_id, module, name, file,
                             start_line, end_line, in_app)
                         VALUES (NULL, '', ?1, ?2, 0, 0, 0)",
                    )?
                    .execute(params![name, file])?;
                self.tx.last_insert_rowid()
            }
        };
        self.cache.other_locations.insert(key, id);
        Ok(id)
    }
}
