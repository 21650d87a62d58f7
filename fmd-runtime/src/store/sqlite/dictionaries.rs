//! Version 10 of the SQLite schema: a stored request holds small integer ids instead of
//! its six texts. Route and method (one "route key"), version, client address, user
//! (`group_by`) and instance are each stored once in a dictionary table; the `request`
//! row keeps its `id` (so the foreign keys of occurrences, outliers and call trees stay
//! valid) and every other column. The view `request_text` joins the dictionaries back
//! into the columns the table had before, for readers that show the texts.
//!
//! Dictionaries are never pruned, so an id the writer cached never names another text.
//! The dictionary ids are not declared foreign keys: the writer takes them from the
//! dictionary in the same transaction, and checking them would cost five B-tree lookups
//! per stored request.
//!
//! The latency-sample index loses its explicit `id` column (an index entry ends with the
//! rowid anyway, so it was stored twice) and holds the version's id instead of its text.

use crate::store::sql;
use rusqlite::Connection;

/// The dictionaries, the compact `request` table and its indexes (the view follows).
const V10: &str = r#"
CREATE TABLE IF NOT EXISTS request_route (
    id     INTEGER PRIMARY KEY,
    route  TEXT NOT NULL,              -- route template, never the raw URI
    method TEXT NOT NULL,
    UNIQUE (route, method)
);
CREATE TABLE IF NOT EXISTS request_version (
    id      INTEGER PRIMARY KEY,
    version TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS request_address (
    id INTEGER PRIMARY KEY,
    ip TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS request_user (
    id       INTEGER PRIMARY KEY,
    group_by TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS request_instance (
    id       INTEGER PRIMARY KEY,
    instance TEXT NOT NULL UNIQUE
);

INSERT OR IGNORE INTO request_route (route, method)
    SELECT DISTINCT route, method FROM request;
INSERT OR IGNORE INTO request_version (version) SELECT DISTINCT version FROM request;
INSERT OR IGNORE INTO request_address (ip)
    SELECT DISTINCT ip FROM request WHERE ip IS NOT NULL;
INSERT OR IGNORE INTO request_user (group_by)
    SELECT DISTINCT group_by FROM request WHERE group_by IS NOT NULL;
INSERT OR IGNORE INTO request_instance (instance) SELECT DISTINCT instance FROM request;

CREATE TABLE request_v9 (
    id          INTEGER PRIMARY KEY,
    endpoint_id INTEGER NOT NULL REFERENCES endpoint(id),
    route_id    INTEGER NOT NULL,      -- request_route
    time        INTEGER NOT NULL,      -- unix ms when the request started
    duration_us INTEGER NOT NULL,
    status      INTEGER,               -- NULL when the request was cancelled
    cancelled   INTEGER NOT NULL DEFAULT 0,
    version_id  INTEGER NOT NULL,      -- request_version
    ip_id       INTEGER,               -- request_address
    user_id     INTEGER,               -- request_user
    instance_id INTEGER NOT NULL       -- request_instance
);
INSERT INTO request_v9 (id, endpoint_id, route_id, time, duration_us, status, cancelled,
                        version_id, ip_id, user_id, instance_id)
SELECT r.id, r.endpoint_id, k.id, r.time, r.duration_us, r.status, r.cancelled, v.id, a.id,
       u.id, i.id
FROM request r
JOIN request_route k ON k.route = r.route AND k.method = r.method
JOIN request_version v ON v.version = r.version
LEFT JOIN request_address a ON a.ip = r.ip
LEFT JOIN request_user u ON u.group_by = r.group_by
JOIN request_instance i ON i.instance = r.instance
ORDER BY r.id;
DROP TABLE request;
ALTER TABLE request_v9 RENAME TO request;

CREATE INDEX request_endpoint_sample ON request(endpoint_id, time, duration_us, version_id);
CREATE INDEX request_time ON request(time);
CREATE INDEX request_failed ON request(endpoint_id, time) WHERE status >= 400 OR cancelled = 1;
"#;

/// Upgrades a version 8 file: interns the texts of every stored request, rebuilds the
/// table with the same ids and values, and recreates its indexes. Runs inside the
/// migration's transaction; the caller has switched foreign keys off (the old table is
/// dropped while occurrences, outliers and call trees refer to its ids, which the new
/// table keeps).
pub(super) fn upgrade(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(V10)?;
    conn.execute_batch(&format!(
        "CREATE VIEW IF NOT EXISTS request_text AS {}",
        sql::REQUEST_TEXT
    ))
}
