//! Traces and what they are made of, each stored once: exception types and messages,
//! function locations and definitions, frames, and stack-trace snapshots.

use super::Writer;
use crate::model::event::TraceFrame;
use crate::store::grouping;
use crate::store::id_cache::TEXT_CACHE;
use crate::store::sql;
use crate::store::sql::sqlite;
use foldhash::HashMap;
use rusqlite::{OptionalExtension, ToSql, Transaction, params};

/// The id of a row with a unique key: `insert` (which ends in `ON CONFLICT DO NOTHING`)
/// adds it if it is new, else `select` finds it; returns the id and whether it was new.
/// Plain statements: an upsert with `RETURNING` costs SQLite a temporary table per row.
pub(super) fn insert_or_find(
    tx: &Transaction<'_>,
    insert: &str,
    insert_values: &[&dyn ToSql],
    select: &str,
    select_values: &[&dyn ToSql],
) -> rusqlite::Result<(i64, bool)> {
    if tx.prepare_cached(insert)?.execute(insert_values)? == 1 {
        return Ok((tx.last_insert_rowid(), true));
    }
    let id = tx
        .prepare_cached(select)?
        .query_row(select_values, |r| r.get(0))?;
    Ok((id, false))
}

/// The id of `value` in `table`, a table of distinct texts in `column`, cached in `cache`.
/// Texts are often unique (messages), so the cache is emptied when it is full.
fn intern(
    tx: &Transaction<'_>,
    cache: &mut HashMap<String, i64>,
    (insert, select): (&str, &str),
    value: &str,
) -> rusqlite::Result<i64> {
    if let Some(&id) = cache.get(value) {
        return Ok(id);
    }
    let (id, _) = insert_or_find(tx, insert, &[&value], select, &[&value])?;
    if cache.len() >= TEXT_CACHE {
        cache.clear();
    }
    cache.insert(value.to_owned(), id);
    Ok(id)
}

impl Writer<'_> {
    pub(super) fn type_id(&mut self, name: &str) -> rusqlite::Result<i64> {
        intern(
            self.tx,
            &mut self.cache.types,
            (
                "INSERT INTO exception_type(name) VALUES (?1) ON CONFLICT(name) DO NOTHING",
                "SELECT id FROM exception_type WHERE name = ?1",
            ),
            name,
        )
    }

    pub(super) fn message_id(&mut self, message: &str) -> rusqlite::Result<i64> {
        intern(
            self.tx,
            &mut self.cache.messages,
            (
                "INSERT INTO exception_message(message) VALUES (?1)
                 ON CONFLICT(message) DO NOTHING",
                "SELECT id FROM exception_message WHERE message = ?1",
            ),
            message,
        )
    }

    /// The snapshot of a trace (innermost frame first), stored once per distinct trace.
    /// `omitted` frames left out of the middle are shown as one marker frame.
    pub(super) fn snapshot(
        &mut self,
        frames: &[TraceFrame],
        omitted: u32,
    ) -> rusqlite::Result<i64> {
        let frames = grouping::snapshot_frames(frames, omitted);
        let hash = grouping::snapshot_hash(&frames);
        if let Some(&id) = self.cache.snapshots.get(&hash) {
            return Ok(id);
        }
        let existing: Option<i64> = self
            .tx
            .prepare_cached(sqlite!(sql::SNAPSHOT_BY_HASH))?
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

    pub(super) fn app_location(&mut self, info: &'static crate::FnInfo) -> rusqlite::Result<i64> {
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
            params![definition, info.module, info.fn_name(), info.file, info.start_line, info.end_line],
            |r| r.get(0),
        )?;
        self.cache.app_locations.insert(key, id);
        Ok(id)
    }

    pub(super) fn other_location(&mut self, name: &str, file: &str) -> rusqlite::Result<i64> {
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
