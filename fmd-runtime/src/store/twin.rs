//! Route twins: an endpoint named after a route that a rejection (bad JSON, a 405, a
//! layer's timeout) made before the route's `#[monitored]` handler ever ran in a process —
//! the layer only learns a route's handlers when they first run. A rejection of one method
//! is stored under the route's twin for that method (`POST /items`, see
//! [`twin_name`]); a 405 (no handler has its method), and any rejection of a database
//! written before per-method twins, under the route itself (`/items`).
//!
//! A writer learns route and method → handler from the requests it stores. The first time
//! it stores a request of a route and method whose handler is known, it moves the
//! method's twin (if one exists) into that handler's endpoint, and the first time for the
//! route, the route-named twin into it too (so a route's 405s join its first handler
//! learned); the first time a method of a route answers below 400 without a handler (not
//! monitored), the method's twin joins the route's endpoint. Each move is [`MERGE`], both
//! engines, in the batch's transaction. Only an endpoint whose every answer was an error
//! is taken for a twin (see [`FIND`]).
//!
//! Per-request cost: one look-up of the route and method in the set of those already
//! checked.

use crate::model::event::twin_name;
use std::collections::{HashMap, HashSet};

/// A move to check at the end of a batch: the twin endpoint's name and the endpoint it
/// joins, with the check it came from (forgotten again if the batch does not commit).
pub(crate) struct Due {
    /// The twin endpoint's name.
    pub(crate) twin: String,
    /// The endpoint it joins (a handler's, or the route's).
    pub(crate) into: String,
    route: String,
    /// The method checked; `None` for the route-named twin's check.
    method: Option<String>,
}

/// Which routes and methods this writer already checked for a twin (routes are
/// templates: few).
#[derive(Default)]
pub(crate) struct Twins {
    /// Per route, the methods checked.
    checked: HashMap<String, HashSet<String>>,
    /// The routes whose route-named twin was checked.
    routes: HashSet<String>,
    due: Vec<Due>,
}

impl Twins {
    /// Notes a stored request of `method` on `route` counted for `endpoint` with
    /// `status`: the first with a known handler (an endpoint named neither after the
    /// route nor after its twin) makes the method's twin and the route's twin due for a
    /// move into the handler's endpoint; the first answered below 400 without a handler
    /// makes the method's twin due for a move into the route's endpoint.
    pub(crate) fn seen(&mut self, route: &str, method: &str, endpoint: &str, status: Option<u16>) {
        let unmonitored = endpoint == route;
        if route.is_empty()
            || (unmonitored && status.is_none_or(|s| s >= 400))
            || self.checked.get(route).is_some_and(|m| m.contains(method))
        {
            return;
        }
        let twin = twin_name(method, route);
        if endpoint == twin {
            return;
        }
        self.checked
            .entry(route.to_owned())
            .or_default()
            .insert(method.to_owned());
        if !unmonitored && self.routes.insert(route.to_owned()) {
            self.due.push(Due {
                twin: route.to_owned(),
                into: endpoint.to_owned(),
                route: route.to_owned(),
                method: None,
            });
        }
        self.due.push(Due {
            twin,
            into: endpoint.to_owned(),
            route: route.to_owned(),
            method: Some(method.to_owned()),
        });
    }

    /// The moves to check at the end of the batch.
    pub(crate) fn take_due(&mut self) -> Vec<Due> {
        std::mem::take(&mut self.due)
    }

    /// Whether the batch that checked `due` merged a twin (its writer forgets its cached
    /// ids then); a batch that did not commit forgets its checks, so that its retry makes
    /// them again.
    pub(crate) fn settle<E>(&mut self, due: &[Due], committed: Result<bool, E>) -> Result<bool, E> {
        if committed.is_err() {
            for d in due {
                match &d.method {
                    None => {
                        self.routes.remove(&d.route);
                    }
                    Some(m) => {
                        if let Some(methods) = self.checked.get_mut(&d.route) {
                            methods.remove(m);
                        }
                    }
                }
            }
        }
        committed
    }
}

/// The id of the twin endpoint named `$1` and of the endpoint `$2` it joins. An endpoint
/// of the twin's name with an answer below 400 is no twin but an unmonitored handler's
/// (of another method of the route): it stays.
pub(crate) const FIND: &str = "SELECT t.id, h.id FROM endpoint t, endpoint h
    WHERE t.name = $1 AND h.name = $2 AND t.id <> h.id
      AND NOT EXISTS (SELECT 1 FROM request_hourly r
                      WHERE r.endpoint_id = t.id AND r.hits > r.client_errors + r.server_errors)";

/// Moves everything of endpoint `$1` (the twin) into endpoint `$2` (the handler's) and
/// deletes `$1`, in order: rollup rows added to the handler's of the same key or moved,
/// requests and their outliers and call trees moved, exception groups of a hash the
/// handler has merged into its group (occurrences, counts, per-version counts), the others
/// moved; then the twin, and a deletion counted so that other writers forget cached ids.
pub(crate) const MERGE: [&str; 22] = [
    // The hourly rollup.
    "UPDATE request_hourly SET hits = request_hourly.hits + t.hits,
         duration_us = request_hourly.duration_us + t.duration_us,
         client_errors = request_hourly.client_errors + t.client_errors,
         server_errors = request_hourly.server_errors + t.server_errors,
         cancelled = request_hourly.cancelled + t.cancelled
     FROM request_hourly t
     WHERE t.endpoint_id = $1 AND request_hourly.endpoint_id = $2
       AND t.hour = request_hourly.hour AND t.version = request_hourly.version
       AND t.instance = request_hourly.instance",
    "UPDATE request_hourly SET endpoint_id = $2 WHERE endpoint_id = $1
       AND NOT EXISTS (SELECT 1 FROM request_hourly h WHERE h.endpoint_id = $2
           AND h.hour = request_hourly.hour AND h.version = request_hourly.version
           AND h.instance = request_hourly.instance)",
    "DELETE FROM request_hourly WHERE endpoint_id = $1",
    // The per-day duration histogram.
    "UPDATE duration_daily SET hits = duration_daily.hits + t.hits
     FROM duration_daily t
     WHERE t.endpoint_id = $1 AND duration_daily.endpoint_id = $2
       AND t.day = duration_daily.day AND t.instance = duration_daily.instance
       AND t.bucket = duration_daily.bucket",
    "UPDATE duration_daily SET endpoint_id = $2 WHERE endpoint_id = $1
       AND NOT EXISTS (SELECT 1 FROM duration_daily h WHERE h.endpoint_id = $2
           AND h.day = duration_daily.day AND h.instance = duration_daily.instance
           AND h.bucket = duration_daily.bucket)",
    "DELETE FROM duration_daily WHERE endpoint_id = $1",
    // The recent hours' duration histogram.
    "UPDATE duration_hourly SET hits = duration_hourly.hits + t.hits
     FROM duration_hourly t
     WHERE t.endpoint_id = $1 AND duration_hourly.endpoint_id = $2
       AND t.hour = duration_hourly.hour AND t.instance = duration_hourly.instance
       AND t.bucket = duration_hourly.bucket",
    "UPDATE duration_hourly SET endpoint_id = $2 WHERE endpoint_id = $1
       AND NOT EXISTS (SELECT 1 FROM duration_hourly h WHERE h.endpoint_id = $2
           AND h.hour = duration_hourly.hour AND h.instance = duration_hourly.instance
           AND h.bucket = duration_hourly.bucket)",
    "DELETE FROM duration_hourly WHERE endpoint_id = $1",
    // Requests, outliers, call trees.
    "UPDATE request SET endpoint_id = $2 WHERE endpoint_id = $1",
    "UPDATE outlier SET endpoint_id = $2 WHERE endpoint_id = $1",
    "UPDATE profile_node SET endpoint_id = $2 WHERE endpoint_id = $1",
    // Groups of a hash both have: the twin's occurrences, counts and versions join the
    // handler's group.
    "UPDATE exception_occurrence SET group_id = (
         SELECT h.id FROM exception_group t JOIN exception_group h
             ON h.endpoint_id = $2 AND h.hash = t.hash
         WHERE t.id = exception_occurrence.group_id)
     WHERE group_id IN (SELECT t.id FROM exception_group t JOIN exception_group h
             ON h.endpoint_id = $2 AND h.hash = t.hash WHERE t.endpoint_id = $1)",
    "UPDATE exception_group SET count = exception_group.count + t.count,
         first_seen = CASE WHEN t.first_seen < exception_group.first_seen
             THEN t.first_seen ELSE exception_group.first_seen END,
         last_seen = CASE WHEN t.last_seen > exception_group.last_seen
             THEN t.last_seen ELSE exception_group.last_seen END
     FROM exception_group t
     WHERE t.endpoint_id = $1 AND exception_group.endpoint_id = $2
       AND t.hash = exception_group.hash",
    "UPDATE exception_group_version SET count = exception_group_version.count + tv.count,
         first_seen = CASE WHEN tv.first_seen < exception_group_version.first_seen
             THEN tv.first_seen ELSE exception_group_version.first_seen END,
         last_seen = CASE WHEN tv.last_seen > exception_group_version.last_seen
             THEN tv.last_seen ELSE exception_group_version.last_seen END
     FROM exception_group_version tv
     JOIN exception_group t ON t.id = tv.group_id AND t.endpoint_id = $1
     JOIN exception_group h ON h.endpoint_id = $2 AND h.hash = t.hash
     WHERE exception_group_version.group_id = h.id
       AND exception_group_version.version = tv.version",
    "UPDATE exception_group_version SET group_id = (
         SELECT h.id FROM exception_group t JOIN exception_group h
             ON h.endpoint_id = $2 AND h.hash = t.hash
         WHERE t.id = exception_group_version.group_id)
     WHERE group_id IN (SELECT t.id FROM exception_group t JOIN exception_group h
             ON h.endpoint_id = $2 AND h.hash = t.hash WHERE t.endpoint_id = $1)
       AND NOT EXISTS (SELECT 1 FROM exception_group t
             JOIN exception_group h ON h.endpoint_id = $2 AND h.hash = t.hash
             JOIN exception_group_version hv ON hv.group_id = h.id
             WHERE t.id = exception_group_version.group_id
               AND hv.version = exception_group_version.version)",
    "DELETE FROM exception_group_version WHERE group_id IN (
         SELECT t.id FROM exception_group t JOIN exception_group h
             ON h.endpoint_id = $2 AND h.hash = t.hash WHERE t.endpoint_id = $1)",
    "DELETE FROM exception_group WHERE endpoint_id = $1
       AND hash IN (SELECT hash FROM exception_group WHERE endpoint_id = $2)",
    // The other groups move as they are (their issues with them).
    "UPDATE exception_group SET endpoint_id = $2 WHERE endpoint_id = $1",
    // The twin goes; its last request time is the handler's if later.
    "UPDATE endpoint SET last_requested = (SELECT t.last_requested FROM endpoint t
         WHERE t.id = $1)
     WHERE id = $2 AND (last_requested IS NULL OR last_requested < (
         SELECT t.last_requested FROM endpoint t WHERE t.id = $1))",
    "DELETE FROM endpoint WHERE id = $1",
    "INSERT INTO fmd_meta (key, value) VALUES ('deletions', '1')
         ON CONFLICT (key) DO UPDATE
         SET value = CAST(CAST(fmd_meta.value AS BIGINT) + 1 AS TEXT)",
];

/// A statement of [`MERGE`] or [`FIND`] for SQLite (`?N` for `$N`; made only when a twin
/// is merged or looked for, a few times per process).
pub(crate) fn for_sqlite(stmt: &str) -> String {
    stmt.replace("$1", "?1").replace("$2", "?2")
}
