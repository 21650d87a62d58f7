//! The writer's memory of what it already stored: the id of each distinct endpoint,
//! location, frame, snapshot, type, message, issue and graph, so a batch looks each up once.
//!
//! Both engines keep the same maps. The dashboard may delete rows (a group, pruning); a
//! cached id that no longer exists then fails a foreign key, and the engine retries the
//! batch with an empty cache.

use crate::model::event::ErrorRecord;
use foldhash::HashMap;

/// Most cached type names or messages (texts are often unique; a full map is emptied).
pub(crate) const TEXT_CACHE: usize = 4096;

/// Ids of stored things, by what identifies each.
#[derive(Default)]
pub(crate) struct IdCache {
    /// `endpoint.id` by name.
    pub(crate) endpoints: HashMap<String, i64>,
    /// `function_location.id` of an instrumented function, by its static `FnInfo` address.
    pub(crate) app_locations: HashMap<usize, i64>,
    /// `function_location.id` of another frame, by (name, file).
    pub(crate) other_locations: HashMap<(String, String), i64>,
    /// `exception_frame.id` by (location, line).
    pub(crate) frames: HashMap<(i64, u32), i64>,
    /// `stack_trace_snapshot.id` by the trace's hash.
    pub(crate) snapshots: HashMap<i64, i64>,
    /// `exception_type.id` by name.
    pub(crate) types: HashMap<String, i64>,
    /// `exception_message.id` by text.
    pub(crate) messages: HashMap<String, i64>,
    /// `issue.id` by fingerprint (issues are never deleted).
    pub(crate) issues: HashMap<i64, i64>,
    /// `issue.id` of a group, by (endpoint, group hash); emptied when full.
    pub(crate) group_issues: HashMap<(i64, i64), i64>,
    /// `custom_graph.id` by name.
    pub(crate) graphs: HashMap<String, i64>,
}

impl IdCache {
    /// The issue of the group `(endpoint, group hash)` of `e`: cached, else `store` finds
    /// or creates it from the error's fingerprint and normalized message.
    pub(crate) fn issue_of<E>(
        &mut self,
        group: (i64, i64),
        e: &ErrorRecord,
        store: impl FnOnce(i64, &str) -> Result<i64, E>,
    ) -> Result<i64, E> {
        if let Some(&id) = self.group_issues.get(&group) {
            return Ok(id);
        }
        let (fingerprint, message) = crate::store::issues::error_fingerprint(e);
        let id = match self.issues.get(&fingerprint) {
            Some(&id) => id,
            None => {
                let id = store(fingerprint, &message)?;
                self.issues.insert(fingerprint, id);
                id
            }
        };
        if self.group_issues.len() >= TEXT_CACHE {
            self.group_issues.clear();
        }
        self.group_issues.insert(group, id);
        Ok(id)
    }
}
