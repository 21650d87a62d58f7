//! Route twins: the endpoint named after a route template that a rejection (bad JSON, a
//! 405, a layer's timeout) made before the route's `#[monitored]` handler ever ran in a
//! process — the layer only learns a route's handler when it first runs. When a writer
//! stores the first request of a route whose handler is known and an endpoint of the
//! route's name exists, it moves that twin's rows into the handler's endpoint and deletes
//! the twin ([`MERGE`], both engines, in the batch's transaction). A route shared by
//! several methods has one twin: it joins the first handler learned. Only an endpoint
//! whose every answer was an error is taken for a twin (see [`FIND`]).
//!
//! Per-request cost: one look-up of the route in the set of routes already checked.

use std::collections::HashSet;

/// Which routes this writer already checked for a twin (routes are templates: few).
#[derive(Default)]
pub(crate) struct Twins {
    checked: HashSet<String>,
    due: Vec<(String, String)>,
}

impl Twins {
    /// Notes a stored request of `route` counted for `endpoint`: the first with a known
    /// handler (an endpoint not named after the route) makes the route due for a check.
    pub(crate) fn seen(&mut self, route: &str, endpoint: &str) {
        if route.is_empty() || route == endpoint || self.checked.contains(route) {
            return;
        }
        self.checked.insert(route.to_owned());
        self.due.push((route.to_owned(), endpoint.to_owned()));
    }

    /// The `(route, handler endpoint)` pairs to check at the end of the batch.
    pub(crate) fn take_due(&mut self) -> Vec<(String, String)> {
        std::mem::take(&mut self.due)
    }

    /// Whether the batch that checked `due` merged a twin (its writer forgets its cached
    /// ids then); a batch that did not commit forgets its checks, so that its retry makes
    /// them again.
    pub(crate) fn settle<E>(
        &mut self,
        due: &[(String, String)],
        committed: Result<bool, E>,
    ) -> Result<bool, E> {
        if committed.is_err() {
            for (route, _) in due {
                self.checked.remove(route);
            }
        }
        committed
    }
}

/// The id of the twin endpoint named `$1` (the route) and of the handler's endpoint `$2`.
/// An endpoint of the route's name with an answer below 400 is no twin but an
/// unmonitored handler's (of another method of the route): it stays.
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
