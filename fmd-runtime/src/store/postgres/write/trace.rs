//! Traces and what they are made of, each stored once: exception types and messages (all
//! uncached ones of a batch in one statement), function locations and definitions,
//! frames, and stack-trace snapshots.

use super::{Writer, text};
use crate::model::event::{Event, TraceFrame};
use crate::store::grouping;
use crate::store::id_cache::{IdCache, TEXT_CACHE};
use postgres::Statement;
use std::borrow::Cow;
use std::collections::HashMap;

impl Writer<'_, '_> {
    /// Stores the batch's exception types and messages that are not cached yet.
    pub(super) fn intern_texts(&mut self, events: &[Event]) -> Result<(), postgres::Error> {
        let mut types: Vec<&str> = Vec::new();
        let mut messages: Vec<&str> = Vec::new();
        for event in events {
            let errors = match event {
                Event::Request(r) if r.level > 0 => &r.errors[..],
                Event::Error(e) => std::slice::from_ref(&**e),
                Event::Late(l) => std::slice::from_ref(&l.record),
                _ => continue,
            };
            for e in errors {
                if !self.cache.types.contains_key(&*e.type_name) {
                    types.push(&e.type_name);
                }
                if !self.cache.messages.contains_key(&e.message) {
                    messages.push(&e.message);
                }
            }
        }
        let st = self.st;
        intern(
            self,
            &st.intern_types,
            &st.select_types,
            types,
            TEXT_CACHE,
            |c| &mut c.types,
        )?;
        intern(
            self,
            &st.intern_messages,
            &st.select_messages,
            messages,
            TEXT_CACHE,
            |c| &mut c.messages,
        )
    }

    pub(super) fn type_id(&mut self, name: &str) -> Result<i64, postgres::Error> {
        match self.cache.types.get(name) {
            Some(&id) => Ok(id),
            None => {
                let st = self.st;
                intern(
                    self,
                    &st.intern_types,
                    &st.select_types,
                    vec![name],
                    TEXT_CACHE,
                    |c| &mut c.types,
                )?;
                Ok(self.cache.types.get(name).copied().unwrap_or_default())
            }
        }
    }

    pub(super) fn message_id(&mut self, message: &str) -> Result<i64, postgres::Error> {
        match self.cache.messages.get(message) {
            Some(&id) => Ok(id),
            None => {
                let st = self.st;
                intern(
                    self,
                    &st.intern_messages,
                    &st.select_messages,
                    vec![message],
                    TEXT_CACHE,
                    |c| &mut c.messages,
                )?;
                Ok(self
                    .cache
                    .messages
                    .get(message)
                    .copied()
                    .unwrap_or_default())
            }
        }
    }

    /// The snapshot of a trace (innermost frame first), stored once per distinct trace.
    /// `omitted` frames left out of the middle are shown as one marker frame.
    pub(super) fn snapshot(
        &mut self,
        frames: &[TraceFrame],
        omitted: u32,
    ) -> Result<i64, postgres::Error> {
        let frames = grouping::snapshot_frames(frames, omitted);
        let hash = grouping::snapshot_hash(&frames);
        if let Some(&id) = self.cache.snapshots.get(&hash) {
            return Ok(id);
        }
        let st = self.st;
        let depth = frames.len() as i64;
        let id = match self.tx.query_opt(&st.insert_snapshot, &[&hash, &depth])? {
            Some(row) => {
                // Stored now: its lines too, in the same transaction.
                let id: i64 = row.get(0);
                let (mut positions, mut frame_ids, mut repeats) = (vec![], vec![], vec![]);
                for (position, frame) in frames.iter().enumerate() {
                    positions.push(position as i64);
                    frame_ids.push(self.frame(frame)?);
                    repeats.push(match frame {
                        TraceFrame::App { repeat, .. } => i64::from(*repeat),
                        TraceFrame::Other { .. } => 1,
                    });
                }
                self.tx.execute(
                    &st.insert_stacklines,
                    &[&id, &positions, &frame_ids, &repeats],
                )?;
                id
            }
            None => self.tx.query_one(&st.select_snapshot, &[&hash])?.get(0),
        };
        self.cache.snapshots.insert(hash, id);
        Ok(id)
    }

    fn frame(&mut self, frame: &TraceFrame) -> Result<i64, postgres::Error> {
        let (location, line) = match frame {
            TraceFrame::App { info, line, .. } => (self.app_location(info)?, *line),
            TraceFrame::Other { name, file, line } => (self.other_location(name, file)?, *line),
        };
        if let Some(&id) = self.cache.frames.get(&(location, line)) {
            return Ok(id);
        }
        let st = self.st;
        let line_sql = i64::from(line);
        let id = self.insert_or_select(
            (&st.insert_frame, &[&location, &line_sql]),
            (&st.select_frame, &[&location, &line_sql]),
        )?;
        self.cache.frames.insert((location, line), id);
        Ok(id)
    }

    pub(super) fn app_location(
        &mut self,
        info: &'static crate::FnInfo,
    ) -> Result<i64, postgres::Error> {
        let key = info as *const crate::FnInfo as usize;
        if let Some(&id) = self.cache.app_locations.get(&key) {
            return Ok(id);
        }
        let code = if self.options.store_source {
            text(info.source)
        } else {
            Cow::Borrowed("")
        };
        let st = self.st;
        let code_hash = info.code_hash as i64;
        let definition = self.insert_or_select(
            (
                &st.insert_definition,
                &[&code_hash, &&*code, &info.verbatim],
            ),
            (&st.select_definition, &[&code_hash]),
        )?;
        let (module, name, file) = (text(info.module), text(info.fn_name()), text(info.file));
        let (start, end) = (i64::from(info.start_line), i64::from(info.end_line));
        let id = self.insert_or_select(
            (
                &st.insert_app_location,
                &[&definition, &&*module, &&*name, &&*file, &start, &end],
            ),
            (
                &st.select_app_location,
                &[&definition, &&*module, &&*name, &&*file, &start],
            ),
        )?;
        self.cache.app_locations.insert(key, id);
        Ok(id)
    }

    pub(super) fn other_location(
        &mut self,
        name: &str,
        file: &str,
    ) -> Result<i64, postgres::Error> {
        let key = (name.to_owned(), file.to_owned());
        if let Some(&id) = self.cache.other_locations.get(&key) {
            return Ok(id);
        }
        let st = self.st;
        let (n, f) = (text(name), text(file));
        let id = self.insert_or_select(
            (&st.insert_other_location, &[&&*n, &&*f]),
            (&st.select_other_location, &[&&*n, &&*f]),
        )?;
        self.cache.other_locations.insert(key, id);
        Ok(id)
    }
}

/// Finds or stores the ids of `values` in a table of distinct texts and caches them, at
/// most `limit`: texts are often unique (messages), so a full cache is emptied first.
pub(super) fn intern(
    w: &mut Writer<'_, '_>,
    insert: &Statement,
    select: &Statement,
    mut values: Vec<&str>,
    limit: usize,
    cache: impl Fn(&mut IdCache) -> &mut foldhash::HashMap<String, i64>,
) -> Result<(), postgres::Error> {
    values.sort_unstable();
    values.dedup();
    if values.is_empty() {
        return Ok(());
    }
    let clean: Vec<Cow<'_, str>> = values.iter().map(|v| text(v)).collect();
    let params: Vec<&str> = clean.iter().map(|c| &**c).collect();
    let mut found: HashMap<String, i64> =
        w.tx.query(insert, &[&params])?
            .iter()
            .map(|r| (r.get(1), r.get(0)))
            .collect();
    if found.len() < params.len() {
        // Stored by another writer after this statement's snapshot: visible now.
        for r in w.tx.query(select, &[&params])? {
            found.insert(r.get(1), r.get(0));
        }
    }
    let cache = cache(w.cache);
    if cache.len() + values.len() > limit {
        cache.clear();
    }
    for (value, clean) in values.iter().zip(&clean) {
        if let Some(&id) = found.get(&**clean) {
            cache.insert((*value).to_owned(), id);
        }
    }
    Ok(())
}
