//! The SQLite schema and its migrations.
//!
//! Migrations run inside one `BEGIN IMMEDIATE` transaction, so several processes that start
//! at the same moment against one file serialize on SQLite's write lock: the first creates
//! the tables, the others find `schema_version` already current and do nothing. Every
//! statement is also `IF NOT EXISTS`, so a half-applied older schema is completed, never
//! dropped. Data is never deleted by a migration.
//!
//! Times are Unix milliseconds (UTC); durations are microseconds.

use crate::store::sql;
use crate::store::sql::sqlite;
use rusqlite::{Connection, TransactionBehavior};
use std::time::Duration;

/// The schema version this build writes. Stored in `fmd_meta` under `schema_version`.
pub const SCHEMA_VERSION: i64 = 11;

/// Version 5: the latency samples of the reporting and endpoint pages (the newest
/// durations of an endpoint in a period, of one version or all) come from the index alone,
/// without a table lookup per row: `request_endpoint_time` is replaced by the same key
/// with the rowid and the sampled columns after it (so rows still come out in
/// `(time, id)` order for the request log).
const V5: &str = r#"
CREATE INDEX IF NOT EXISTS request_endpoint_time_sample
    ON request(endpoint_id, time, id, duration_us, version);
DROP INDEX IF EXISTS request_endpoint_time;
"#;

/// Version 4: instances. The hourly rollup gains an `instance` column (rebuilt from the
/// request rows, which always carried it), the instances seen are listed, and a per-day
/// duration histogram per endpoint and instance lets the overview read medians without
/// walking the request rows (whose `(endpoint_id, duration_us)` index of version 2 goes).
/// The histogram of the requests already stored is filled by
/// [`backfill_durations`] in the same transaction, so an upgrade loses nothing.
const V4: &str = r#"
CREATE TABLE IF NOT EXISTS request_hourly_v4 (
    endpoint_id  INTEGER NOT NULL REFERENCES endpoint(id),
    hour         INTEGER NOT NULL,     -- unix ms / 3 600 000
    version      TEXT NOT NULL,
    instance     TEXT NOT NULL,
    hits         INTEGER NOT NULL,
    duration_us  INTEGER NOT NULL,     -- sum of durations
    client_errors INTEGER NOT NULL,    -- status 400-499
    server_errors INTEGER NOT NULL,    -- status 500-599
    cancelled    INTEGER NOT NULL,
    PRIMARY KEY (endpoint_id, hour, version, instance)
);
INSERT OR IGNORE INTO request_hourly_v4
    (endpoint_id, hour, version, instance, hits, duration_us, client_errors, server_errors,
     cancelled)
SELECT endpoint_id, time / 3600000, version, instance, count(*), sum(duration_us),
       sum(CASE WHEN status BETWEEN 400 AND 499 THEN 1 ELSE 0 END),
       sum(CASE WHEN status BETWEEN 500 AND 599 THEN 1 ELSE 0 END),
       sum(cancelled)
FROM request GROUP BY endpoint_id, time / 3600000, version, instance;
DROP TABLE IF EXISTS request_hourly;
ALTER TABLE request_hourly_v4 RENAME TO request_hourly;
CREATE INDEX IF NOT EXISTS request_hourly_hour ON request_hourly(hour);

-- Every instance (FMD_INSTANCE, else host name and pid) that stored requests.
CREATE TABLE IF NOT EXISTS instance (
    name       TEXT PRIMARY KEY,
    first_seen INTEGER NOT NULL,       -- unix ms
    last_seen  INTEGER NOT NULL
);
INSERT OR IGNORE INTO instance (name, first_seen, last_seen)
SELECT instance, min(hour) * 3600000, max(hour) * 3600000 + 3599999
FROM request_hourly GROUP BY instance;

-- Requests per endpoint, UTC day, instance and duration bucket (store::histogram: buckets
-- 2^(1/16) apart). The overview's hits and medians read this.
CREATE TABLE IF NOT EXISTS duration_daily (
    endpoint_id INTEGER NOT NULL REFERENCES endpoint(id),
    day         INTEGER NOT NULL,      -- unix ms / 86 400 000
    instance    TEXT NOT NULL,
    bucket      INTEGER NOT NULL,
    hits        INTEGER NOT NULL,
    PRIMARY KEY (endpoint_id, day, instance, bucket)
);
CREATE INDEX IF NOT EXISTS duration_daily_day ON duration_daily(day);

-- Medians no longer walk the request rows, so every request insert saves a B-tree.
DROP INDEX IF EXISTS request_endpoint_duration;
"#;

/// Version 3: levels 2 and 3 (outliers, profiler), custom graphs, versions with their git
/// commit, and the hourly rollup the utilization pages read instead of the request rows.
/// The rollup is filled from the requests already stored, so an upgrade loses nothing.
const V3: &str = r#"
-- Level 2: a request slower than outlier_factor x its endpoint's typical duration.
-- Header and query values whose names look secret are replaced by "[scrubbed]" before they
-- leave the request path; they never reach this table.
CREATE TABLE IF NOT EXISTS outlier (
    request_id    INTEGER PRIMARY KEY REFERENCES request(id),
    endpoint_id   INTEGER NOT NULL REFERENCES endpoint(id),
    time          INTEGER NOT NULL,    -- unix ms, the request's start
    url           TEXT NOT NULL,       -- path and query (secret parameter values scrubbed)
    headers       TEXT NOT NULL,       -- JSON array of [name, value], secrets scrubbed
    typical_us    INTEGER NOT NULL,    -- the endpoint's typical duration when judged
    threshold_us  INTEGER NOT NULL,    -- outlier_factor x typical_us
    cpu_percent   REAL,                -- process CPU use over the last second, if known
    memory_bytes  INTEGER,             -- process resident memory, if known
    stack_id      INTEGER REFERENCES stack_trace_snapshot(id)  -- logical stack when flagged
);
CREATE INDEX IF NOT EXISTS outlier_endpoint_time ON outlier(endpoint_id, time);

-- Level 3: the call tree of the #[capture] functions one request ran. Calls of the same
-- function under the same parent are merged into one node (calls > 1).
CREATE TABLE IF NOT EXISTS profile_node (
    request_id  INTEGER NOT NULL REFERENCES request(id),
    endpoint_id INTEGER NOT NULL REFERENCES endpoint(id),
    position    INTEGER NOT NULL,      -- pre-order index in the tree, 0 = first root
    parent      INTEGER,               -- position of the parent node, NULL for a root
    depth       INTEGER NOT NULL,      -- 0 for a root
    location_id INTEGER NOT NULL REFERENCES function_location(id),
    calls       INTEGER NOT NULL,
    total_us    INTEGER NOT NULL,      -- inclusive time
    self_us     INTEGER NOT NULL,      -- own time: inclusive minus the children's
    PRIMARY KEY (request_id, position)
);
CREATE INDEX IF NOT EXISTS profile_node_endpoint_request ON profile_node(endpoint_id, request_id);

-- The failed requests of an endpoint (status >= 400 or cancelled), newest first, without
-- scanning its successful ones; partial, so successful requests cost nothing to write.
CREATE INDEX IF NOT EXISTS request_failed ON request(endpoint_id, time)
    WHERE status >= 400 OR cancelled = 1;

-- Custom graphs (fmd::add_graph): one series per name, sampled on a background thread.
CREATE TABLE IF NOT EXISTS custom_graph (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS custom_graph_value (
    graph_id INTEGER NOT NULL REFERENCES custom_graph(id),
    time     INTEGER NOT NULL,         -- unix ms
    value    REAL NOT NULL,
    instance TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS custom_graph_value_graph_time ON custom_graph_value(graph_id, time);

-- Every application version seen, with its git commit when known.
CREATE TABLE IF NOT EXISTS app_version (
    version    TEXT PRIMARY KEY,
    git_commit TEXT,
    first_seen INTEGER NOT NULL,       -- unix ms
    last_seen  INTEGER NOT NULL
);

-- Kept by the writer in the same transaction as the request rows: one row per endpoint,
-- hour and version. The utilization pages (heatmap, requests per day, versions, hourly
-- load) read this, never the request table, so they stay fast at 10 M requests.
CREATE TABLE IF NOT EXISTS request_hourly (
    endpoint_id  INTEGER NOT NULL REFERENCES endpoint(id),
    hour         INTEGER NOT NULL,     -- unix ms / 3 600 000
    version      TEXT NOT NULL,
    hits         INTEGER NOT NULL,
    duration_us  INTEGER NOT NULL,     -- sum of durations
    client_errors INTEGER NOT NULL,    -- status 400-499
    server_errors INTEGER NOT NULL,    -- status 500-599
    cancelled    INTEGER NOT NULL,
    PRIMARY KEY (endpoint_id, hour, version)
);
CREATE INDEX IF NOT EXISTS request_hourly_hour ON request_hourly(hour);

INSERT OR IGNORE INTO request_hourly
    (endpoint_id, hour, version, hits, duration_us, client_errors, server_errors, cancelled)
SELECT endpoint_id, time / 3600000, version, count(*), sum(duration_us),
       sum(CASE WHEN status BETWEEN 400 AND 499 THEN 1 ELSE 0 END),
       sum(CASE WHEN status BETWEEN 500 AND 599 THEN 1 ELSE 0 END),
       sum(cancelled)
FROM request GROUP BY endpoint_id, time / 3600000, version;

INSERT OR IGNORE INTO app_version (version, git_commit, first_seen, last_seen)
SELECT version, NULL, min(time), max(time) FROM request GROUP BY version;
"#;

/// Version 2: medians per endpoint read an index instead of sorting the endpoint's rows.
const V2: &str =
    "CREATE INDEX IF NOT EXISTS request_endpoint_duration ON request(endpoint_id, duration_us);";

/// Version 1: requests, endpoints and the thesis' normalized exception model.
const V1: &str = r#"
CREATE TABLE IF NOT EXISTS fmd_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per endpoint: a #[monitored] handler (its `module::name` or the macro's `name`),
-- a route without #[monitored] (its route template), `(unmatched)` for requests no route
-- matched, and `(background)` for errors captured outside any request.
CREATE TABLE IF NOT EXISTS endpoint (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    level          INTEGER,            -- NULL: the macro's or the configured default
    last_requested INTEGER,            -- unix ms
    created_at     INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS request (
    id          INTEGER PRIMARY KEY,
    endpoint_id INTEGER NOT NULL REFERENCES endpoint(id),
    route       TEXT NOT NULL,         -- route template, never the raw URI
    method      TEXT NOT NULL,
    time        INTEGER NOT NULL,      -- unix ms when the request started
    duration_us INTEGER NOT NULL,
    status      INTEGER,               -- NULL when the request was cancelled
    cancelled   INTEGER NOT NULL DEFAULT 0,
    version     TEXT NOT NULL,
    ip          TEXT,
    group_by    TEXT,
    instance    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS request_endpoint_time ON request(endpoint_id, time);
CREATE INDEX IF NOT EXISTS request_time ON request(time);

-- A version of a function's code, stored once per distinct text.
CREATE TABLE IF NOT EXISTS function_definition (
    id        INTEGER PRIMARY KEY,
    code_hash INTEGER NOT NULL UNIQUE,
    code      TEXT NOT NULL,           -- empty when source storage is switched off
    verbatim  INTEGER NOT NULL         -- 0: reconstructed from tokens (macro-generated fn)
);

-- Where a function lives. definition_id is NULL for library (not in-app) frames.
CREATE TABLE IF NOT EXISTS function_location (
    id            INTEGER PRIMARY KEY,
    definition_id INTEGER REFERENCES function_definition(id),
    module        TEXT NOT NULL,
    name          TEXT NOT NULL,
    file          TEXT NOT NULL,
    start_line    INTEGER NOT NULL,
    end_line      INTEGER NOT NULL,
    in_app        INTEGER NOT NULL,
    UNIQUE (definition_id, module, name, file, start_line)
);

-- A line inside a function version. line 0 = unknown.
CREATE TABLE IF NOT EXISTS exception_frame (
    id          INTEGER PRIMARY KEY,
    location_id INTEGER NOT NULL REFERENCES function_location(id),
    line        INTEGER NOT NULL,
    UNIQUE (location_id, line)
);

-- A distinct stack trace, stored once.
CREATE TABLE IF NOT EXISTS stack_trace_snapshot (
    id    INTEGER PRIMARY KEY,
    hash  INTEGER NOT NULL UNIQUE,
    depth INTEGER NOT NULL             -- number of stacklines
);

-- The frames of a snapshot in order: position 0 is the innermost frame.
-- repeat > 1: the frame recurred that many times in a row (recursion, shown as "x N").
CREATE TABLE IF NOT EXISTS exception_stackline (
    snapshot_id INTEGER NOT NULL REFERENCES stack_trace_snapshot(id),
    position    INTEGER NOT NULL,
    frame_id    INTEGER NOT NULL REFERENCES exception_frame(id),
    repeat      INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (snapshot_id, position)
);

CREATE TABLE IF NOT EXISTS exception_type (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE IF NOT EXISTS exception_message (
    id      INTEGER PRIMARY KEY,
    message TEXT NOT NULL UNIQUE       -- capped at 64 KiB with a visible marker
);

-- A group: same endpoint + same grouping hash (type, normalized message, and per in-app
-- frame its function identity, line offset inside the function and code hash).
-- Counters are kept by the writer so the pages never scan occurrences to list groups.
CREATE TABLE IF NOT EXISTS exception_group (
    id          INTEGER PRIMARY KEY,
    endpoint_id INTEGER NOT NULL REFERENCES endpoint(id),
    hash        INTEGER NOT NULL,
    type_id     INTEGER NOT NULL REFERENCES exception_type(id),
    message_id  INTEGER NOT NULL REFERENCES exception_message(id),   -- the latest message
    snapshot_id INTEGER NOT NULL REFERENCES stack_trace_snapshot(id),
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    count       INTEGER NOT NULL,
    UNIQUE (endpoint_id, hash)
);
CREATE INDEX IF NOT EXISTS exception_group_last_seen ON exception_group(last_seen);

-- One row per error or panic. kind: 0 panic, 1 uncaught Err (it became the response),
-- 2 captured with fmd::capture!, 3 client error (a handler's outcome answered 4xx). request_id is NULL outside a request.
CREATE TABLE IF NOT EXISTS exception_occurrence (
    id           INTEGER PRIMARY KEY,
    group_id     INTEGER NOT NULL REFERENCES exception_group(id),
    request_id   INTEGER REFERENCES request(id),
    type_id      INTEGER NOT NULL REFERENCES exception_type(id),
    message_id   INTEGER NOT NULL REFERENCES exception_message(id),
    snapshot_id  INTEGER NOT NULL REFERENCES stack_trace_snapshot(id),
    kind         INTEGER NOT NULL,
    time         INTEGER NOT NULL,
    source_chain TEXT NOT NULL DEFAULT '[]'   -- JSON array of source() messages, outermost first
);
CREATE INDEX IF NOT EXISTS exception_occurrence_group_time ON exception_occurrence(group_id, time);
CREATE INDEX IF NOT EXISTS exception_occurrence_request ON exception_occurrence(request_id);
CREATE INDEX IF NOT EXISTS exception_occurrence_time ON exception_occurrence(time);

-- Dashboard accounts. Only argon2 hashes are stored.
CREATE TABLE IF NOT EXISTS fmd_user (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,       -- 'admin' or 'viewer'
    created_at    INTEGER NOT NULL
);
"#;

/// How long a statement waits for another connection's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long opening a store waits for another process's migration: an upgrade that builds
/// an index over 10 M request rows takes about 15 s.
const MIGRATION_WAIT: Duration = Duration::from_secs(300);

/// The schema version stored in the file, read without taking any lock (0 when new).
fn stored_version(conn: &Connection) -> i64 {
    conn.query_row(
        "SELECT CAST(value AS INTEGER) FROM fmd_meta WHERE key = 'schema_version'",
        [],
        |r| r.get(0),
    )
    .unwrap_or(0)
}

/// Sets the connection-level pragmas every fmd connection uses.
pub fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // journal_mode is persistent in the file; setting it again is a no-op. Switching a new
    // file to WAL needs an exclusive lock and SQLite answers "locked" at once, without the
    // busy handler, while another process does the same: several processes starting
    // together retry here for a while instead of reporting a storage error.
    // The busy handler may wait each time too (a file locked by another connection):
    // the retries end after the busy timeout in all.
    let (mut attempts, started) = (0, std::time::Instant::now());
    loop {
        match conn.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(())) {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if attempts < 250
                    && started.elapsed() < BUSY_TIMEOUT
                    && matches!(
                        e.code,
                        rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                    ) =>
            {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => break other?,
        }
    }
    conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")?;
    Ok(())
}

/// Fills `duration_daily` from the stored request rows (the buckets are computed in Rust,
/// see [`crate::store::histogram`]). One pass over the requests; used by the v4 upgrade
/// (before version 10 the instance is a column of `request`, since then of `request_text`).
pub fn backfill_durations(conn: &Connection) -> rusqlite::Result<()> {
    use crate::store::histogram::bucket;
    use std::collections::HashMap;
    let mut sums: HashMap<(i64, i64, String, i64), i64> = HashMap::new();
    {
        let table = if stored_version(conn) >= 9 {
            "request_text"
        } else {
            "request"
        };
        let mut stmt = conn.prepare(&format!(
            "SELECT endpoint_id, time / 86400000, instance, duration_us FROM {table}
             WHERE NOT EXISTS (SELECT 1 FROM duration_daily)"
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let key = (r.get(0)?, r.get(1)?, r.get(2)?, bucket(r.get(3)?));
            *sums.entry(key).or_default() += 1;
        }
    }
    let mut insert = conn.prepare(
        "INSERT INTO duration_daily (endpoint_id, day, instance, bucket, hits)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for ((endpoint, day, instance, bucket), hits) in sums {
        insert.execute(rusqlite::params![endpoint, day, instance, bucket, hits])?;
    }
    Ok(())
}

/// Version 11: the duration histogram of the recent hours, per hour, endpoint, instance
/// and bucket, so that the overview's "today" and "7 days" begin at the viewer's midnight
/// (see [`crate::store::read::overview_days`]). The writer keeps the last
/// [`RECENT_HOURS`](crate::store::read::overview_days::RECENT_HOURS) of it; the upgrade
/// fills them from the stored request rows (requests counted without a row under overload
/// are only in the daily histogram, as before). Self-contained: everything of version 11.
pub fn upgrade_recent_durations(conn: &Connection) -> rusqlite::Result<()> {
    use crate::store::histogram::bucket;
    use crate::store::read::overview_days::RECENT_HOURS;
    conn.execute_batch(
        "-- Keyed by hour first: the overview reads a few hours of every endpoint, the
         -- writer deletes the oldest hours.
         CREATE TABLE IF NOT EXISTS duration_hourly (
             hour        INTEGER NOT NULL,     -- unix ms / 3 600 000
             endpoint_id INTEGER NOT NULL REFERENCES endpoint(id),
             instance    TEXT NOT NULL,
             bucket      INTEGER NOT NULL,
             hits        INTEGER NOT NULL,
             PRIMARY KEY (hour, endpoint_id, instance, bucket)
         ) WITHOUT ROWID;",
    )?;
    let from = (crate::clock::now_ms() / 3_600_000 - RECENT_HOURS) * 3_600_000;
    let mut sums: std::collections::HashMap<(i64, i64, String, i64), i64> = Default::default();
    {
        let mut stmt = conn.prepare(
            "SELECT time / 3600000, endpoint_id, instance, duration_us FROM request_text
             WHERE time >= ?1 AND NOT EXISTS (SELECT 1 FROM duration_hourly)",
        )?;
        let mut rows = stmt.query([from])?;
        while let Some(r) = rows.next()? {
            let key = (r.get(0)?, r.get(1)?, r.get(2)?, bucket(r.get(3)?));
            *sums.entry(key).or_default() += 1;
        }
    }
    let mut insert = conn.prepare(
        "INSERT INTO duration_hourly (hour, endpoint_id, instance, bucket, hits)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for ((hour, endpoint, instance, bucket), hits) in sums {
        insert.execute(rusqlite::params![hour, endpoint, instance, bucket, hits])?;
    }
    Ok(())
}

/// Creates or upgrades the schema. Safe to call from many processes at once.
///
/// A file that is already current is only read, so opening it never queues behind the
/// writer's batches for the write lock. Otherwise the upgrade takes the write lock,
/// waiting up to five minutes for another process's upgrade (the dashboard's first
/// page after an upgrade of a large file waits for it instead of failing after 5 s).
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    if stored_version(conn) >= SCHEMA_VERSION {
        return Ok(());
    }
    conn.busy_timeout(MIGRATION_WAIT)?;
    // Version 9 rebuilds the request table under the ids other tables refer to; foreign
    // keys can only be switched off outside a transaction.
    conn.execute_batch("PRAGMA foreign_keys=OFF")?;
    let migrated = migrate_locked(conn);
    conn.execute_batch("PRAGMA foreign_keys=ON")?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    migrated
}

fn migrate_locked(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS fmd_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    )?;
    let current = stored_version(&tx);
    if current > SCHEMA_VERSION {
        // A newer fmd wrote this file: leave it alone, write what still fits.
        return tx.commit();
    }
    if current < 1 {
        tx.execute_batch(V1)?;
    }
    if current < 2 {
        tx.execute_batch(V2)?;
    }
    if current < 3 {
        tx.execute_batch(V3)?;
    }
    if current < 4 {
        tx.execute_batch(V4)?;
        backfill_durations(&tx)?;
    }
    if current < 5 {
        tx.execute_batch(V5)?;
    }
    if current < 6 {
        // Version 6: issues (`issues.rs` holds its tables and fills them).
        super::issues::upgrade(&tx)?;
    }
    if current < 7 {
        // Version 7: searching issues.
        super::issues::upgrade_search(&tx)?;
    }
    if current < 8 {
        // Version 8: alerts decided in the database, shared by every process.
        super::issues::upgrade_alerts(&tx)?;
    }
    if current < 9 {
        // Version 9: client error issues, filtered apart.
        super::issues::upgrade_client(&tx)?;
    }
    if current < 10 {
        // Version 10: request texts in dictionaries (`dictionaries.rs`).
        super::dictionaries::upgrade(&tx)?;
    }
    if current < 11 {
        upgrade_recent_durations(&tx)?;
    }
    tx.execute(
        sqlite!(sql::SET_SCHEMA_VERSION),
        [SCHEMA_VERSION.to_string()],
    )?;
    tx.commit()
}
