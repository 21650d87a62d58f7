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

/// Most cached ids of one request dictionary's texts. Client addresses are many and come
/// back, and a miss costs a lookup in the batch: a map this size holds a busy service's
/// recent clients in about 2 MiB, and is emptied when full (bounded memory, whatever
/// addresses clients present).
pub(crate) const REQUEST_TEXT_CACHE: usize = 32_768;

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
    /// The ids of the request dictionaries' texts.
    pub(crate) texts: RequestTexts,
}

/// A dictionary of one request text (schema version 10): a stored request holds the id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dictionary {
    /// `request_version`: the application's version.
    Version,
    /// `request_address`: the client address.
    Address,
    /// `request_user`: the `group_by` value (user or tenant).
    User,
    /// `request_instance`: the instance that stored the request.
    Instance,
}

impl Dictionary {
    /// Every dictionary, in order.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) const ALL: [Dictionary; 4] = [
        Dictionary::Version,
        Dictionary::Address,
        Dictionary::User,
        Dictionary::Instance,
    ];

    /// Stores `$1` unless it is there; returns its id (the same statement on both engines).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) const fn intern(self) -> &'static str {
        match self {
            Dictionary::Version => crate::store::sql::INTERN_VERSION,
            Dictionary::Address => crate::store::sql::INTERN_ADDRESS,
            Dictionary::User => crate::store::sql::INTERN_USER,
            Dictionary::Instance => crate::store::sql::INTERN_INSTANCE,
        }
    }
}

/// The ids of request texts already stored in their dictionaries. Dictionaries are never
/// pruned, so a cached id stays right; each map is emptied when full (bounded memory).
#[derive(Default)]
pub(crate) struct RequestTexts {
    /// `request_route.id` by route, then method (looked up without allocating).
    routes: HashMap<String, Vec<(String, i64)>>,
    /// The other dictionaries' ids by text, in [`Dictionary`] order.
    texts: [HashMap<String, i64>; 4],
}

#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
impl RequestTexts {
    /// Whether the id of `(route, method)` is cached.
    pub(crate) fn has_route(&self, route: &str, method: &str) -> bool {
        self.routes
            .get(route)
            .is_some_and(|methods| methods.iter().any(|(m, _)| m == method))
    }

    /// Whether the id of `text` in `dictionary` is cached.
    pub(crate) fn has(&self, dictionary: Dictionary, text: &str) -> bool {
        self.texts[dictionary as usize].contains_key(text)
    }

    /// The cached ids of `dictionary`, by text.
    pub(crate) fn map(&mut self, dictionary: Dictionary) -> &mut HashMap<String, i64> {
        &mut self.texts[dictionary as usize]
    }

    /// The id of `(route, method)`: cached, else `store` finds or adds it.
    pub(crate) fn route<E>(
        &mut self,
        route: &str,
        method: &str,
        store: impl FnOnce() -> Result<i64, E>,
    ) -> Result<i64, E> {
        if let Some(methods) = self.routes.get(route)
            && let Some(&(_, id)) = methods.iter().find(|(m, _)| m == method)
        {
            return Ok(id);
        }
        let id = store()?;
        if self.routes.len() >= TEXT_CACHE {
            self.routes.clear();
        }
        self.routes
            .entry(route.to_owned())
            .or_default()
            .push((method.to_owned(), id));
        Ok(id)
    }

    /// The id of `text` in `dictionary`: cached, else `store` finds or adds it.
    pub(crate) fn id<E>(
        &mut self,
        dictionary: Dictionary,
        text: &str,
        store: impl FnOnce() -> Result<i64, E>,
    ) -> Result<i64, E> {
        let map = &mut self.texts[dictionary as usize];
        if let Some(&id) = map.get(text) {
            return Ok(id);
        }
        let id = store()?;
        if map.len() >= REQUEST_TEXT_CACHE {
            map.clear();
        }
        map.insert(text.to_owned(), id);
        Ok(id)
    }
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
