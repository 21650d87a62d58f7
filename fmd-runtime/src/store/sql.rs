//! SQL text that every engine runs as it is: each statement written once, here.
//!
//! Statements are written with PostgreSQL's `$N` placeholders, which the PostgreSQL engine
//! passes on unchanged. SQLite reads `$N` as a *named* parameter and numbers it by first
//! appearance (`SET level = $2 WHERE id = $1` would bind the id first), so the SQLite
//! engine takes them through [`sqlite!`](crate::store::sql::sqlite), which rewrites `$N`
//! to `?N` at compile time: the statement is a `&'static str` constant either way, and the
//! hot path (prepared, cached statements) pays nothing.
//!
//! Only statements that are the same on both engines belong here. What differs stays in
//! each engine: casts (`$1::text IS NULL`), `FILTER`, `greatest` vs `max`, boolean vs
//! integer columns, `unnest` batches and COPY, `FOR UPDATE`, migrations.

/// `stmt` with every `$N` placeholder (a `$` before a digit) turned into SQLite's `?N`;
/// `N` is `stmt.len()` (the rewrite keeps the length). Evaluated at compile time through
/// [`sqlite!`](crate::store::sql::sqlite).
pub(crate) const fn question_marks<const N: usize>(stmt: &str) -> [u8; N] {
    let bytes = stmt.as_bytes();
    assert!(
        bytes.len() == N,
        "question_marks: N must be the statement's length"
    );
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = if bytes[i] == b'$' && i + 1 < N && bytes[i + 1].is_ascii_digit() {
            b'?'
        } else {
            bytes[i]
        };
        i += 1;
    }
    out
}

/// A shared statement (a `&str` constant of this module) in SQLite's placeholder style,
/// as a `&'static str` computed at compile time: `sqlite!(sql::ENDPOINT)`.
macro_rules! sqlite {
    ($stmt:path) => {{
        // Names no caller's constant has (a macro's items are not hygienic).
        const __FMD_SQLITE_BYTES: [u8; $stmt.len()] = $crate::store::sql::question_marks($stmt);
        const __FMD_SQLITE_STMT: &str = match ::core::str::from_utf8(&__FMD_SQLITE_BYTES) {
            Ok(s) => s,
            Err(_) => panic!("a `$N` rewrite keeps UTF-8 intact"),
        };
        __FMD_SQLITE_STMT
    }};
}
pub(crate) use sqlite;

use crate::store::read::dashboard::GroupSort;

// --- The dashboard: endpoints, groups, instances ---------------------------------------

/// Every endpoint by name, as `endpoint_row` reads it.
pub(crate) const ENDPOINTS: &str =
    "SELECT id, name, level, last_requested FROM endpoint ORDER BY name";

/// One endpoint: `$1` its id.
pub(crate) const ENDPOINT: &str =
    "SELECT id, name, level, last_requested FROM endpoint WHERE id = $1";

/// Server error groups per endpoint (the overview; a client error group is no alarm, see
/// [`IssueKind`](crate::store::read::IssueKind)).
pub(crate) const GROUPS_PER_ENDPOINT: &str = "SELECT endpoint_id, count(*) FROM exception_group g
    WHERE NOT EXISTS (SELECT 1 FROM issue gi WHERE gi.id = g.issue_id AND gi.client)
    GROUP BY endpoint_id";

/// The instances seen, latest first.
pub(crate) const INSTANCES: &str = "SELECT name, first_seen, last_seen FROM instance
                 ORDER BY last_seen DESC, name LIMIT 1000";

/// A group summary's columns and joins; followed by a `WHERE`.
pub(crate) const GROUP_SELECT: &str =
    "SELECT g.id, g.endpoint_id, e.name, t.name, m.message, g.count,
        g.first_seen, g.last_seen, g.issue_id
    FROM exception_group g
    JOIN endpoint e ON e.id = g.endpoint_id
    JOIN exception_type t ON t.id = g.type_id
    JOIN exception_message m ON m.id = g.message_id";

/// The `ORDER BY` column of [`GROUP_SELECT`] for a sort, and the direction.
pub(crate) fn group_order(sort: GroupSort, descending: bool) -> (&'static str, &'static str) {
    let key = match sort {
        GroupSort::LastSeen => "g.last_seen",
        GroupSort::FirstSeen => "g.first_seen",
        GroupSort::Count => "g.count",
        GroupSort::Endpoint => "e.name",
        GroupSort::Type => "t.name",
    };
    (key, if descending { "DESC" } else { "ASC" })
}

/// The kind and source chain of a group's latest occurrence: `$1` the group.
pub(crate) const LATEST_OCCURRENCE: &str = "SELECT kind, source_chain FROM exception_occurrence
                 WHERE group_id = $1 ORDER BY time DESC LIMIT 1";

/// A group's stack-trace snapshot: `$1` the group.
pub(crate) const GROUP_SNAPSHOT: &str = "SELECT snapshot_id FROM exception_group WHERE id = $1";

/// The frames of one stack-trace snapshot (`$1`), innermost first, with their code.
pub(crate) const SNAPSHOT_FRAMES: &str =
    "SELECT l.id, l.module, l.name, l.file, f.line, l.start_line, l.end_line,
                l.in_app, d.code, d.verbatim, s.repeat
         FROM exception_stackline s
         JOIN exception_frame f ON f.id = s.frame_id
         JOIN function_location l ON l.id = f.location_id
         LEFT JOIN function_definition d ON d.id = l.definition_id
         WHERE s.snapshot_id = $1 ORDER BY s.position";

/// Sets (`$2`, NULL for the default) the level of endpoint `$1`; returns its name.
pub(crate) const SET_LEVEL: &str = "UPDATE endpoint SET level = $2 WHERE id = $1 RETURNING name";

/// Levels set from the dashboard (the writer reads them at start-up).
pub(crate) const STORED_LEVELS: &str = "SELECT name, level FROM endpoint WHERE level IS NOT NULL";

// --- Deleting a group, pruning ----------------------------------------------------------

/// A group's occurrences: `$1` the group.
pub(crate) const DELETE_GROUP_OCCURRENCES: &str =
    "DELETE FROM exception_occurrence WHERE group_id = $1";

/// A group's per-version counts: `$1` the group.
pub(crate) const DELETE_GROUP_VERSIONS: &str =
    "DELETE FROM exception_group_version WHERE group_id = $1";

/// The group `$1` itself.
pub(crate) const DELETE_GROUP: &str = "DELETE FROM exception_group WHERE id = $1";

/// Occurrences before the cutoff `$1`.
pub(crate) const PRUNE_OCCURRENCES: &str = "DELETE FROM exception_occurrence WHERE time < $1";

/// Occurrences recorded late for requests before the cutoff `$1`.
pub(crate) const PRUNE_LATE_OCCURRENCES: &str =
    "DELETE FROM exception_occurrence WHERE request_id IN (
                 SELECT id FROM request WHERE time < $1)";

/// The time of the `$2 + 1`-th oldest request before the cutoff `$1` (a step's bound).
pub(crate) const PRUNE_STEP_BOUND: &str =
    "SELECT time FROM request WHERE time < $1 ORDER BY time LIMIT 1 OFFSET $2";

/// A full pruning step's bound: the earlier of the `$2 + 1`-th oldest request and the
/// `$2 + 1`-th oldest occurrence before the cutoff `$1` (NULL when neither has that many),
/// so a step deletes about `$2` of each, also when raw retention left old occurrences
/// without requests.
pub(crate) const PRUNE_STEP_BOUND_ALL: &str = "SELECT min(t) FROM (
     SELECT t FROM (SELECT time AS t FROM request WHERE time < $1
                    ORDER BY time LIMIT 1 OFFSET $2) AS r
     UNION ALL
     SELECT t FROM (SELECT time AS t FROM exception_occurrence WHERE time < $1
                    ORDER BY time LIMIT 1 OFFSET $2) AS o) AS s";

/// Takes the occurrences before the cutoff `$1` off their groups' counters. Grouped by
/// `+group_id` (named `g`) so that SQLite reads the few rows before the cutoff through
/// the time index, instead of walking the whole (group, time) index in group order at
/// every step.
pub(crate) const PRUNE_UNCOUNT_OCCURRENCES: &str = "UPDATE exception_group SET count = count - d.n
             FROM (SELECT +group_id AS g, count(*) AS n FROM exception_occurrence
                   WHERE time < $1 GROUP BY g) AS d
             WHERE exception_group.id = d.g";

/// Takes the occurrences of requests before the cutoff `$1` off their groups' counters.
pub(crate) const PRUNE_UNCOUNT_LATE_OCCURRENCES: &str =
    "UPDATE exception_group SET count = count - d.n
             FROM (SELECT group_id, count(*) AS n FROM exception_occurrence
                   WHERE request_id IN (SELECT id FROM request WHERE time < $1)
                   GROUP BY group_id) AS d
             WHERE exception_group.id = d.group_id";

/// Moves `first_seen` of groups first seen before the cutoff `$1` to their oldest
/// remaining occurrence.
pub(crate) const PRUNE_FIRST_SEEN: &str = "UPDATE exception_group SET
                 first_seen = coalesce((SELECT min(time) FROM exception_occurrence o
                          WHERE o.group_id = exception_group.id), first_seen)
             WHERE first_seen < $1";
/// The per-version counts of groups left without occurrences.
pub(crate) const PRUNE_EMPTY_GROUP_VERSIONS: &str = "DELETE FROM exception_group_version
     WHERE group_id IN (SELECT id FROM exception_group WHERE count <= 0)";

/// Groups left without occurrences.
pub(crate) const PRUNE_EMPTY_GROUPS: &str = "DELETE FROM exception_group WHERE count <= 0";

/// Outliers of requests before the cutoff `$1`.
pub(crate) const PRUNE_OUTLIERS: &str =
    "DELETE FROM outlier WHERE request_id IN (SELECT id FROM request WHERE time < $1)";

/// Call trees of requests before the cutoff `$1`.
pub(crate) const PRUNE_PROFILE_NODES: &str =
    "DELETE FROM profile_node WHERE request_id IN (SELECT id FROM request WHERE time < $1)";

/// The requests of the cutoff's day before the cutoff: `[$1, $2)`.
pub(crate) const PRUNE_PARTIAL_DAY: &str =
    "SELECT endpoint_id, instance, duration_us, time FROM request_text
             WHERE time >= $1 AND time < $2";

/// Takes `$5` hits off one row of the recent hours' histogram (pruning).
pub(crate) const PRUNE_PARTIAL_HOUR: &str = "UPDATE duration_hourly SET hits = hits - $5
     WHERE hour = $1 AND endpoint_id = $2 AND instance = $3 AND bucket = $4";

/// Histogram rows of days before `$1`, and emptied ones.
pub(crate) const PRUNE_DURATIONS: &str = "DELETE FROM duration_daily WHERE day < $1 OR hits <= 0";

/// Requests before the cutoff `$1`.
pub(crate) const PRUNE_REQUESTS: &str = "DELETE FROM request WHERE time < $1";

/// Keeps the occurrences of requests before the cutoff `$1` (raw retention), without their
/// request: the issue pages count and list occurrences, never their requests' rows.
pub(crate) const RAW_DETACH_OCCURRENCES: &str = "UPDATE exception_occurrence SET request_id = NULL
     WHERE request_id IN (SELECT id FROM request WHERE time < $1)";

/// Records that raw request rows before `$1` (text) were pruned, unless an earlier
/// pruning already went further.
pub(crate) const SET_RAW_PRUNED_BEFORE: &str =
    "INSERT INTO fmd_meta(key, value) VALUES ('raw_pruned_before', $1)
     ON CONFLICT(key) DO UPDATE SET value = excluded.value
     WHERE CAST(fmd_meta.value AS BIGINT) < CAST(excluded.value AS BIGINT)";

/// Before when raw request rows were pruned (text), if ever.
pub(crate) const RAW_PRUNED_BEFORE: &str =
    "SELECT value FROM fmd_meta WHERE key = 'raw_pruned_before'";

/// An endpoint's daily histogram of version `$2`, newest day first (`day, bucket, hits`):
/// the days and instances on which that version served every request of the endpoint
/// (the hourly rollup knows versions, the histogram does not; a day an instance switched
/// versions is left out).
pub(crate) const VERSION_DAYS_HISTOGRAM: &str =
    "SELECT d.day, d.bucket, CAST(sum(d.hits) AS BIGINT) FROM duration_daily d
     JOIN (SELECT hour / 24 AS day, instance FROM request_hourly WHERE endpoint_id = $1
           GROUP BY hour / 24, instance
           HAVING sum(CASE WHEN version = $2 THEN hits ELSE 0 END) = sum(hits)
              AND sum(hits) > 0) c ON c.day = d.day AND c.instance = d.instance
     WHERE d.endpoint_id = $1
     GROUP BY d.day, d.bucket ORDER BY d.day DESC, d.bucket";

/// The start of the oldest hour in the hourly rollup, in Unix ms.
pub(crate) const OLDEST_ROLLUP: &str = "SELECT min(hour) * 3600000 FROM request_hourly";

/// An endpoint's daily histogram over the days `[$2, $3]`, every instance summed, newest
/// day first: `day, bucket, hits`.
pub(crate) const DAYS_HISTOGRAM: &str =
    "SELECT day, bucket, CAST(sum(hits) AS BIGINT) FROM duration_daily
     WHERE endpoint_id = $1 AND day >= $2 AND day <= $3
     GROUP BY day, bucket ORDER BY day DESC, bucket";

/// Rows of the recent hours' duration histogram before hour `$1` (the writer, once an
/// hour, and pruning).
pub(crate) const TRIM_HOURLY_DURATIONS: &str =
    "DELETE FROM duration_hourly WHERE hour < $1 OR hits <= 0";

/// The recent hours' duration histogram over the hours `[$1, $2)`, of instance `$3` or
/// every one: `endpoint_id, hour, bucket, hits`.
pub(crate) const HOURS_HISTOGRAM: &str = "SELECT endpoint_id, hour, bucket, hits
     FROM duration_hourly
     WHERE hour >= $1 AND hour < $2 AND (CAST($3 AS TEXT) IS NULL OR instance = $3)";

/// Hourly rollup rows of hours before `$1`.
pub(crate) const PRUNE_HOURS: &str = "DELETE FROM request_hourly WHERE hour < $1";

/// Deletes everything no group, occurrence, outlier or profile refers to any more,
/// innermost tables last (after deleting a group, and at the end of pruning), and counts
/// the deletion in `fmd_meta` (see [`DELETIONS`]): SQLite hands a deleted largest rowid
/// out again, so a writer's cached id of a deleted message, type, frame or snapshot could
/// otherwise name a newer, different row.
pub(crate) const CLEAN_ORPHANS: &str = "DELETE FROM exception_stackline WHERE snapshot_id NOT IN (
             SELECT snapshot_id FROM exception_group
             UNION SELECT snapshot_id FROM exception_occurrence
             UNION SELECT stack_id FROM outlier WHERE stack_id IS NOT NULL);
         DELETE FROM stack_trace_snapshot WHERE id NOT IN (
             SELECT snapshot_id FROM exception_group
             UNION SELECT snapshot_id FROM exception_occurrence
             UNION SELECT stack_id FROM outlier WHERE stack_id IS NOT NULL);
         DELETE FROM exception_frame WHERE id NOT IN (SELECT frame_id FROM exception_stackline);
         DELETE FROM function_location WHERE id NOT IN (
             SELECT location_id FROM exception_frame UNION SELECT location_id FROM profile_node);
         DELETE FROM function_definition WHERE id NOT IN (
             SELECT definition_id FROM function_location WHERE definition_id IS NOT NULL);
         DELETE FROM exception_type WHERE id NOT IN (
             SELECT type_id FROM exception_group UNION SELECT type_id FROM exception_occurrence);
         DELETE FROM exception_message WHERE id NOT IN (
             SELECT message_id FROM exception_group
             UNION SELECT message_id FROM exception_occurrence);
         INSERT INTO fmd_meta (key, value) VALUES ('deletions', '1')
             ON CONFLICT (key) DO UPDATE
             SET value = CAST(CAST(fmd_meta.value AS BIGINT) + 1 AS TEXT);";

/// How many times the dashboard deleted stored rows (a group, pruning): a writer that
/// sees it change forgets the ids it cached.
pub(crate) const DELETIONS: &str = "SELECT value FROM fmd_meta WHERE key = 'deletions'";

// --- Users ------------------------------------------------------------------------------

/// How many dashboard accounts there are.
pub(crate) const COUNT_USERS: &str = "SELECT count(*) FROM fmd_user";

/// Every account, by name.
pub(crate) const USERS: &str =
    "SELECT id, username, password_hash, role FROM fmd_user ORDER BY username";

/// One account: `$1` its name.
pub(crate) const USER: &str =
    "SELECT id, username, password_hash, role FROM fmd_user WHERE username = $1";

/// Adds an account (`$1` name, `$2` hash, `$3` role, `$4` time) unless the name is taken.
pub(crate) const CREATE_USER: &str =
    "INSERT INTO fmd_user (username, password_hash, role, created_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO NOTHING";

/// Replaces an account's hash (`$1` name, `$2` hash).
pub(crate) const SET_PASSWORD_HASH: &str =
    "UPDATE fmd_user SET password_hash = $2 WHERE username = $1";

/// Deletes an account (`$1` name).
pub(crate) const DELETE_USER: &str = "DELETE FROM fmd_user WHERE username = $1";

// --- The performance pages --------------------------------------------------------------

/// The first and last hour version `$2` served endpoint `$1`.
pub(crate) const VERSION_HOURS: &str = "SELECT min(hour), max(hour) FROM request_hourly
             WHERE endpoint_id = $1 AND version = $2";

/// Every version seen, latest first.
pub(crate) const VERSIONS: &str =
    "SELECT version, git_commit, first_seen, last_seen FROM app_version
             ORDER BY last_seen DESC, version";

/// When request `$1` started and how long it took.
pub(crate) const REQUEST_TIMING: &str = "SELECT time, duration_us FROM request WHERE id = $1";

/// The call tree of request `$1`, in order.
pub(crate) const PROFILE_NODES: &str =
    "SELECT p.position, p.parent, p.depth, p.location_id, l.module, l.name,
                            p.calls, p.total_us, p.self_us
                     FROM profile_node p JOIN function_location l ON l.id = p.location_id
                     WHERE p.request_id = $1 ORDER BY p.position";

/// Every custom graph, by name.
pub(crate) const CUSTOM_GRAPHS: &str =
    "SELECT id, name, created_at FROM custom_graph ORDER BY name";

// --- The request log ------------------------------------------------------------------

/// One request by id `$1`, in the request log's columns ([`rows::request_row`](crate::store::rows::request_row)).
pub(crate) const REQUEST_BY_ID: &str =
    "SELECT r.id, r.endpoint_id, e.name, r.route, r.method, r.time, r.duration_us,
            r.status, r.cancelled, r.version, r.instance, r.ip, r.group_by
     FROM request_text r JOIN endpoint e ON e.id = r.endpoint_id WHERE r.id = $1";

/// The requests issue `$1` happened in, in the request log's columns, newest first; `$2`
/// rows from `$3`.
pub(crate) const ISSUE_REQUESTS: &str =
    "SELECT r.id, r.endpoint_id, e.name, r.route, r.method, r.time, r.duration_us,
            r.status, r.cancelled, r.version, r.instance, r.ip, r.group_by
     FROM request_text r JOIN endpoint e ON e.id = r.endpoint_id
     WHERE r.id IN (SELECT o.request_id FROM exception_occurrence o
                    JOIN exception_group g ON g.id = o.group_id WHERE g.issue_id = $1)
     ORDER BY r.time DESC, r.id DESC LIMIT $2 OFFSET $3";

/// How many stored requests issue `$1` happened in.
pub(crate) const ISSUE_REQUEST_COUNT: &str = "SELECT count(*) FROM request r
     WHERE r.id IN (SELECT o.request_id FROM exception_occurrence o
                    JOIN exception_group g ON g.id = o.group_id WHERE g.issue_id = $1)";

/// The errors recorded during request `$1`:
/// `group_id, endpoint_id, type, message, kind, time` ([`rows::request_error`](crate::store::rows::request_error)).
pub(crate) const REQUEST_ERRORS: &str =
    "SELECT o.group_id, g.endpoint_id, t.name, m.message, o.kind, o.time
     FROM exception_occurrence o
     JOIN exception_group g ON g.id = o.group_id
     JOIN exception_type t ON t.id = o.type_id
     JOIN exception_message m ON m.id = o.message_id
     WHERE o.request_id = $1 ORDER BY o.time, o.id";

/// The outlier facts of request `$1`: `url, headers (JSON), typical_us, threshold_us`.
pub(crate) const REQUEST_OUTLIER: &str =
    "SELECT url, headers, typical_us, threshold_us FROM outlier WHERE request_id = $1";

// --- The writer and migrations ----------------------------------------------------------

/// The body of the view `request_text` (schema version 10): the request rows with their
/// texts joined back from the dictionaries, in the columns `request` had before. Left
/// joins, so every plan starts on `request` and its indexes.
pub(crate) const REQUEST_TEXT: &str =
    "SELECT r.id, r.endpoint_id, k.route, k.method, r.time, r.duration_us, r.status,
            r.cancelled, v.version, a.ip, u.group_by, i.instance
     FROM request r
     LEFT JOIN request_route k ON k.id = r.route_id
     LEFT JOIN request_version v ON v.id = r.version_id
     LEFT JOIN request_address a ON a.id = r.ip_id
     LEFT JOIN request_user u ON u.id = r.user_id
     LEFT JOIN request_instance i ON i.id = r.instance_id";

/// Stores the route key `$1` (route), `$2` (method) unless it is there; returns its id
/// (PostgreSQL's; SQLite's writer looks up first, see `sqlite::write`).
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) const INTERN_ROUTE: &str = "INSERT INTO request_route (route, method) VALUES ($1, $2)
     ON CONFLICT (route, method) DO UPDATE SET route = excluded.route RETURNING id";

/// Stores the version `$1` unless it is there; returns its id.
pub(crate) const INTERN_VERSION: &str = "INSERT INTO request_version (version) VALUES ($1)
     ON CONFLICT (version) DO UPDATE SET version = excluded.version RETURNING id";

/// Stores the client address `$1` unless it is there; returns its id.
pub(crate) const INTERN_ADDRESS: &str = "INSERT INTO request_address (ip) VALUES ($1)
     ON CONFLICT (ip) DO UPDATE SET ip = excluded.ip RETURNING id";

/// Stores the `group_by` value `$1` unless it is there; returns its id.
pub(crate) const INTERN_USER: &str = "INSERT INTO request_user (group_by) VALUES ($1)
     ON CONFLICT (group_by) DO UPDATE SET group_by = excluded.group_by RETURNING id";

/// Stores the instance name `$1` unless it is there; returns its id.
pub(crate) const INTERN_INSTANCE: &str = "INSERT INTO request_instance (instance) VALUES ($1)
     ON CONFLICT (instance) DO UPDATE SET instance = excluded.instance RETURNING id";

/// The id of the stack-trace snapshot with hash `$1`.
pub(crate) const SNAPSHOT_BY_HASH: &str = "SELECT id FROM stack_trace_snapshot WHERE hash = $1";

/// Records the schema version `$1` (text) a migration reached.
pub(crate) const SET_SCHEMA_VERSION: &str =
    "INSERT INTO fmd_meta(key, value) VALUES ('schema_version', $1)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_question_marks_and_nothing_else_changes() {
        const STMT: &str = "SELECT '$x', a FROM t WHERE b = $2 AND c = $1 AND d = $12$";
        assert_eq!(
            sqlite!(STMT),
            "SELECT '$x', a FROM t WHERE b = ?2 AND c = ?1 AND d = ?12$"
        );
        assert_eq!(
            sqlite!(SET_LEVEL),
            "UPDATE endpoint SET level = ?2 WHERE id = ?1 RETURNING name"
        );
    }
}
