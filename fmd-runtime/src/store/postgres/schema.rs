//! The PostgreSQL schema and its migrations: the SQLite schema's tables, columns and
//! meaning, in PostgreSQL's types (`BIGINT` for every integer, `BOOLEAN` for flags,
//! `DOUBLE PRECISION` for measured values, `BIGSERIAL` ids).
//!
//! Many instances may start at the same moment against one database. Migrations run in
//! one transaction that first takes `pg_advisory_xact_lock(MIGRATION_LOCK)`, so they
//! serialize: the first creates the tables, the others wait, then find `schema_version`
//! current and do nothing. Every statement is also `IF NOT EXISTS`, and a migration never
//! deletes data.
//!
//! Differences from SQLite: a B-tree entry holds at most about 2.7 kB, so messages (up to
//! 64 KiB) are unique by `md5(message)`; `NULL`s are distinct in a unique constraint, so
//! library locations (no definition) have a partial unique index of their own; and two
//! references that fmd's own writes cannot break are not declared foreign keys, because
//! PostgreSQL checks each with a row lock per inserted row (`request.endpoint_id`,
//! `exception_occurrence.request_id`: together a fifth of the writer's time). The
//! references to rows the dashboard may delete (groups, types, messages, snapshots) stay
//! checked: they are how the writer notices a cached id that is gone.

use crate::store::sql;
use postgres::Client;

/// The schema version this build writes. Stored in `fmd_meta` under `schema_version`.
pub const SCHEMA_VERSION: i64 = 11;

/// The advisory lock migrations hold (per database): "fmd" and a version-free suffix.
pub const MIGRATION_LOCK: i64 = 0x666d_645f_6d69_6772;

/// Version 1: requests, endpoints and the thesis' normalized exception model.
const V1: &str = r#"
CREATE TABLE IF NOT EXISTS endpoint (
    id             BIGSERIAL PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    level          BIGINT,
    last_requested BIGINT,
    created_at     BIGINT NOT NULL
);

-- endpoint_id is not declared a foreign key: nothing deletes endpoints, and the check
-- (a row lock on the endpoint per request) was an eighth of the writer's time.
CREATE TABLE IF NOT EXISTS request (
    id          BIGSERIAL PRIMARY KEY,
    endpoint_id BIGINT NOT NULL,
    route       TEXT NOT NULL,
    method      TEXT NOT NULL,
    time        BIGINT NOT NULL,
    duration_us BIGINT NOT NULL,
    status      BIGINT,
    cancelled   BOOLEAN NOT NULL DEFAULT FALSE,
    version     TEXT NOT NULL,
    ip          TEXT,
    group_by    TEXT,
    instance    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS request_endpoint_time ON request(endpoint_id, time, id);
CREATE INDEX IF NOT EXISTS request_time ON request(time, id);

CREATE TABLE IF NOT EXISTS function_definition (
    id        BIGSERIAL PRIMARY KEY,
    code_hash BIGINT NOT NULL UNIQUE,
    code      TEXT NOT NULL,
    verbatim  BOOLEAN NOT NULL
);

CREATE TABLE IF NOT EXISTS function_location (
    id            BIGSERIAL PRIMARY KEY,
    definition_id BIGINT REFERENCES function_definition(id),
    module        TEXT NOT NULL,
    name          TEXT NOT NULL,
    file          TEXT NOT NULL,
    start_line    BIGINT NOT NULL,
    end_line      BIGINT NOT NULL,
    in_app        BOOLEAN NOT NULL,
    UNIQUE (definition_id, module, name, file, start_line)
);
CREATE UNIQUE INDEX IF NOT EXISTS function_location_library
    ON function_location(module, name, file, start_line) WHERE definition_id IS NULL;

CREATE TABLE IF NOT EXISTS exception_frame (
    id          BIGSERIAL PRIMARY KEY,
    location_id BIGINT NOT NULL REFERENCES function_location(id),
    line        BIGINT NOT NULL,
    UNIQUE (location_id, line)
);

CREATE TABLE IF NOT EXISTS stack_trace_snapshot (
    id    BIGSERIAL PRIMARY KEY,
    hash  BIGINT NOT NULL UNIQUE,
    depth BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS exception_stackline (
    snapshot_id BIGINT NOT NULL REFERENCES stack_trace_snapshot(id),
    position    BIGINT NOT NULL,
    frame_id    BIGINT NOT NULL REFERENCES exception_frame(id),
    repeat      BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (snapshot_id, position)
);

CREATE TABLE IF NOT EXISTS exception_type (
    id   BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE IF NOT EXISTS exception_message (
    id      BIGSERIAL PRIMARY KEY,
    message TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS exception_message_md5 ON exception_message(md5(message));

CREATE TABLE IF NOT EXISTS exception_group (
    id          BIGSERIAL PRIMARY KEY,
    endpoint_id BIGINT NOT NULL REFERENCES endpoint(id),
    hash        BIGINT NOT NULL,
    type_id     BIGINT NOT NULL REFERENCES exception_type(id),
    message_id  BIGINT NOT NULL REFERENCES exception_message(id),
    snapshot_id BIGINT NOT NULL REFERENCES stack_trace_snapshot(id),
    first_seen  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    count       BIGINT NOT NULL,
    UNIQUE (endpoint_id, hash)
);
CREATE INDEX IF NOT EXISTS exception_group_last_seen ON exception_group(last_seen);

CREATE TABLE IF NOT EXISTS exception_occurrence (
    id           BIGSERIAL PRIMARY KEY,
    group_id     BIGINT NOT NULL REFERENCES exception_group(id),
    -- Not a declared foreign key: the writer inserts the request in the same transaction
    -- and pruning deletes occurrences before their requests; checking it locked every
    -- fresh request row once more.
    request_id   BIGINT,
    type_id      BIGINT NOT NULL REFERENCES exception_type(id),
    message_id   BIGINT NOT NULL REFERENCES exception_message(id),
    snapshot_id  BIGINT NOT NULL REFERENCES stack_trace_snapshot(id),
    kind         BIGINT NOT NULL,
    time         BIGINT NOT NULL,
    source_chain TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS exception_occurrence_group_time ON exception_occurrence(group_id, time);
CREATE INDEX IF NOT EXISTS exception_occurrence_request ON exception_occurrence(request_id);
CREATE INDEX IF NOT EXISTS exception_occurrence_time ON exception_occurrence(time);

CREATE TABLE IF NOT EXISTS fmd_user (
    id            BIGSERIAL PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
"#;

/// Version 2: medians per endpoint read an index instead of sorting the endpoint's rows.
const V2: &str =
    "CREATE INDEX IF NOT EXISTS request_endpoint_duration ON request(endpoint_id, duration_us);";

/// Version 3: outliers, call trees, custom graphs, versions and the hourly rollup, filled
/// from the requests already stored.
const V3: &str = r#"
CREATE TABLE IF NOT EXISTS outlier (
    request_id    BIGINT PRIMARY KEY REFERENCES request(id),
    endpoint_id   BIGINT NOT NULL REFERENCES endpoint(id),
    time          BIGINT NOT NULL,
    url           TEXT NOT NULL,
    headers       TEXT NOT NULL,
    typical_us    BIGINT NOT NULL,
    threshold_us  BIGINT NOT NULL,
    cpu_percent   DOUBLE PRECISION,
    memory_bytes  BIGINT,
    stack_id      BIGINT REFERENCES stack_trace_snapshot(id)
);
CREATE INDEX IF NOT EXISTS outlier_endpoint_time ON outlier(endpoint_id, time);

CREATE TABLE IF NOT EXISTS profile_node (
    request_id  BIGINT NOT NULL REFERENCES request(id),
    endpoint_id BIGINT NOT NULL REFERENCES endpoint(id),
    position    BIGINT NOT NULL,
    parent      BIGINT,
    depth       BIGINT NOT NULL,
    location_id BIGINT NOT NULL REFERENCES function_location(id),
    calls       BIGINT NOT NULL,
    total_us    BIGINT NOT NULL,
    self_us     BIGINT NOT NULL,
    PRIMARY KEY (request_id, position)
);
CREATE INDEX IF NOT EXISTS profile_node_endpoint_request ON profile_node(endpoint_id, request_id);

CREATE INDEX IF NOT EXISTS request_failed ON request(endpoint_id, time)
    WHERE status >= 400 OR cancelled;

CREATE TABLE IF NOT EXISTS custom_graph (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS custom_graph_value (
    graph_id BIGINT NOT NULL REFERENCES custom_graph(id),
    time     BIGINT NOT NULL,
    value    DOUBLE PRECISION NOT NULL,
    instance TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS custom_graph_value_graph_time ON custom_graph_value(graph_id, time);

CREATE TABLE IF NOT EXISTS app_version (
    version    TEXT PRIMARY KEY,
    git_commit TEXT,
    first_seen BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS request_hourly (
    endpoint_id   BIGINT NOT NULL REFERENCES endpoint(id),
    hour          BIGINT NOT NULL,
    version       TEXT NOT NULL,
    hits          BIGINT NOT NULL,
    duration_us   BIGINT NOT NULL,
    client_errors BIGINT NOT NULL,
    server_errors BIGINT NOT NULL,
    cancelled     BIGINT NOT NULL,
    PRIMARY KEY (endpoint_id, hour, version)
);
CREATE INDEX IF NOT EXISTS request_hourly_hour ON request_hourly(hour);

INSERT INTO request_hourly
    (endpoint_id, hour, version, hits, duration_us, client_errors, server_errors, cancelled)
SELECT endpoint_id, div(time, 3600000)::bigint, version, count(*), sum(duration_us)::bigint,
       count(*) FILTER (WHERE status BETWEEN 400 AND 499),
       count(*) FILTER (WHERE status BETWEEN 500 AND 599),
       count(*) FILTER (WHERE cancelled)
FROM request GROUP BY 1, 2, 3
ON CONFLICT DO NOTHING;

INSERT INTO app_version (version, git_commit, first_seen, last_seen)
SELECT version, NULL, min(time), max(time) FROM request GROUP BY version
ON CONFLICT DO NOTHING;
"#;

/// Version 4: instances. The hourly rollup gains `instance` (rebuilt from the request
/// rows, which always carried it), the instances seen are listed, and a per-day duration
/// histogram per endpoint and instance (`store::histogram` buckets) lets the overview read
/// medians without the request rows, whose `(endpoint_id, duration_us)` index goes. The
/// histogram of the requests already stored is filled by [`backfill_durations`].
const V4: &str = r#"
CREATE TABLE request_hourly_v4 (
    endpoint_id   BIGINT NOT NULL REFERENCES endpoint(id),
    hour          BIGINT NOT NULL,
    version       TEXT NOT NULL,
    instance      TEXT NOT NULL,
    hits          BIGINT NOT NULL,
    duration_us   BIGINT NOT NULL,
    client_errors BIGINT NOT NULL,
    server_errors BIGINT NOT NULL,
    cancelled     BIGINT NOT NULL,
    PRIMARY KEY (endpoint_id, hour, version, instance)
);
INSERT INTO request_hourly_v4
    (endpoint_id, hour, version, instance, hits, duration_us, client_errors, server_errors,
     cancelled)
SELECT endpoint_id, div(time, 3600000)::bigint, version, instance, count(*),
       sum(duration_us)::bigint,
       count(*) FILTER (WHERE status BETWEEN 400 AND 499),
       count(*) FILTER (WHERE status BETWEEN 500 AND 599),
       count(*) FILTER (WHERE cancelled)
FROM request GROUP BY 1, 2, 3, 4;
DROP TABLE IF EXISTS request_hourly;
ALTER TABLE request_hourly_v4 RENAME TO request_hourly;
CREATE INDEX IF NOT EXISTS request_hourly_hour ON request_hourly(hour);

CREATE TABLE IF NOT EXISTS instance (
    name       TEXT PRIMARY KEY,
    first_seen BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL
);
INSERT INTO instance (name, first_seen, last_seen)
SELECT instance, min(hour) * 3600000, max(hour) * 3600000 + 3599999
FROM request_hourly GROUP BY instance
ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS duration_daily (
    endpoint_id BIGINT NOT NULL REFERENCES endpoint(id),
    day         BIGINT NOT NULL,
    instance    TEXT NOT NULL,
    bucket      BIGINT NOT NULL,
    hits        BIGINT NOT NULL,
    PRIMARY KEY (endpoint_id, day, instance, bucket)
);
CREATE INDEX IF NOT EXISTS duration_daily_day ON duration_daily(day);

DROP INDEX IF EXISTS request_endpoint_duration;
"#;

/// Fills `duration_daily` from the stored request rows, bucketed in Rust exactly as the
/// writer buckets (see [`crate::store::histogram`]). One pass; used by the v4 upgrade.
pub fn backfill_durations(tx: &mut postgres::Transaction<'_>) -> Result<(), postgres::Error> {
    use crate::store::histogram::bucket;
    use std::collections::BTreeMap;
    let mut sums: BTreeMap<(i64, i64, String, i64), i64> = BTreeMap::new();
    for r in tx.query(
        "SELECT endpoint_id, div(time, 86400000)::bigint, instance, duration_us FROM request
         WHERE NOT EXISTS (SELECT 1 FROM duration_daily)",
        &[],
    )? {
        let key = (r.get(0), r.get(1), r.get(2), bucket(r.get(3)));
        *sums.entry(key).or_default() += 1;
    }
    let (mut endpoints, mut days, mut instances) = (Vec::new(), Vec::new(), Vec::new());
    let (mut buckets, mut hits) = (Vec::new(), Vec::new());
    for ((endpoint, day, instance, bucket), n) in sums {
        endpoints.push(endpoint);
        days.push(day);
        instances.push(instance);
        buckets.push(bucket);
        hits.push(n);
    }
    tx.execute(
        "INSERT INTO duration_daily (endpoint_id, day, instance, bucket, hits)
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[])",
        &[&endpoints, &days, &instances, &buckets, &hits],
    )?;
    Ok(())
}

/// Version 5: the latency samples of the reporting and endpoint pages are read by
/// index-only scans: `request_endpoint_time` gains the sampled columns as included (non-key)
/// columns, so its order, `(endpoint_id, time, id)`, stays the request log's.
const V5: &str = r#"
CREATE INDEX IF NOT EXISTS request_endpoint_time_sample
    ON request(endpoint_id, time, id) INCLUDE (duration_us, version);
DROP INDEX IF EXISTS request_endpoint_time;
"#;

/// Version 11: the duration histogram of the recent hours (see the SQLite schema's
/// `upgrade_recent_durations`), filled from the stored request rows. `endpoint_id` is not
/// declared a foreign key, like `request`'s: the check would lock the endpoint's row for
/// every upserted row. Self-contained: everything of version 11.
pub fn upgrade_recent_durations(tx: &mut postgres::Transaction<'_>) -> Result<(), postgres::Error> {
    use crate::store::histogram::bucket;
    use crate::store::read::overview_days::RECENT_HOURS;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS duration_hourly (
             hour        BIGINT NOT NULL,
             endpoint_id BIGINT NOT NULL,
             instance    TEXT NOT NULL,
             bucket      BIGINT NOT NULL,
             hits        BIGINT NOT NULL,
             PRIMARY KEY (hour, endpoint_id, instance, bucket)
         );",
    )?;
    let from = (crate::clock::now_ms() / 3_600_000 - RECENT_HOURS) * 3_600_000;
    let mut sums: std::collections::BTreeMap<(i64, i64, String, i64), i64> = Default::default();
    for r in tx.query(
        "SELECT div(time, 3600000)::bigint, endpoint_id, instance, duration_us FROM request_text
         WHERE time >= $1 AND NOT EXISTS (SELECT 1 FROM duration_hourly)",
        &[&from],
    )? {
        let key = (r.get(0), r.get(1), r.get(2), bucket(r.get(3)));
        *sums.entry(key).or_default() += 1;
    }
    let mut columns = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for ((hour, endpoint, instance, bucket), n) in sums {
        columns.0.push(hour);
        columns.1.push(endpoint);
        columns.2.push(instance);
        columns.3.push(bucket);
        columns.4.push(n);
    }
    tx.execute(
        "INSERT INTO duration_hourly (hour, endpoint_id, instance, bucket, hits)
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[])",
        &[&columns.0, &columns.1, &columns.2, &columns.3, &columns.4],
    )?;
    Ok(())
}

/// Creates or upgrades the schema. Safe to call from many processes at once.
pub fn migrate(client: &mut Client) -> Result<(), postgres::Error> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS fmd_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    )?;
    let current: i64 = tx
        .query_opt(
            "SELECT value FROM fmd_meta WHERE key = 'schema_version'",
            &[],
        )?
        .and_then(|row| row.get::<_, String>(0).parse().ok())
        .unwrap_or(0);
    if current > SCHEMA_VERSION {
        // A newer fmd wrote this database: leave it alone, write what still fits.
        return tx.commit();
    }
    for (version, sql) in [(1, V1), (2, V2), (3, V3), (4, V4), (5, V5)] {
        if current < version {
            tx.batch_execute(sql)?;
        }
    }
    if current < 4 {
        backfill_durations(&mut tx)?;
    }
    if current < 6 {
        // Version 6: issues (`issues.rs` holds its tables and fills them).
        super::issues::upgrade(&mut tx)?;
    }
    if current < 7 {
        // Version 7: searching issues.
        tx.batch_execute(super::issues::V7)?;
    }
    if current < 8 {
        // Version 8: alerts decided in the database, shared by every instance.
        tx.batch_execute(super::issues::V8)?;
    }
    if current < 9 {
        // Version 9: client error issues (`issue.client`), filtered apart.
        tx.batch_execute(super::issues::V9)?;
        tx.batch_execute(crate::store::issues::BACKFILL_CLIENT)?;
    }
    if current < 10 {
        // Version 10: request texts in dictionaries (`dictionaries.rs`).
        tx.batch_execute(super::dictionaries::V10)?;
        tx.batch_execute(&format!(
            "CREATE OR REPLACE VIEW request_text AS {}",
            sql::REQUEST_TEXT
        ))?;
    }
    if current < 11 {
        upgrade_recent_durations(&mut tx)?;
    }
    if current < SCHEMA_VERSION {
        tx.execute(sql::SET_SCHEMA_VERSION, &[&SCHEMA_VERSION.to_string()])?;
    }
    tx.commit()
}
