//! The writer's statements, prepared once per connection. Bulk inserts take one array per
//! column and `unnest` them, so one prepared statement serves every batch size; requests
//! are copied in binary.

use crate::store::sql;
use postgres::{Client, Statement};

pub(super) const LAST_REQUESTED: &str = "UPDATE endpoint AS e
     SET last_requested = greatest(coalesce(e.last_requested, 0), u.t)
     FROM unnest($1::bigint[], $2::bigint[]) AS u(id, t) WHERE e.id = u.id";

pub(super) const UPSERT_HOURLY: &str = "INSERT INTO request_hourly AS h(endpoint_id, hour,
         version, instance, hits, duration_us, client_errors, server_errors, cancelled)
     SELECT u.endpoint_id, u.hour, $3::text, $4::text, u.hits, u.duration_us,
            u.client_errors, u.server_errors, u.cancelled
     FROM unnest($1::bigint[], $2::bigint[], $5::bigint[], $6::bigint[], $7::bigint[],
         $8::bigint[], $9::bigint[])
         AS u(endpoint_id, hour, hits, duration_us, client_errors, server_errors, cancelled)
     ON CONFLICT (endpoint_id, hour, version, instance) DO UPDATE SET
         hits = h.hits + excluded.hits,
         duration_us = h.duration_us + excluded.duration_us,
         client_errors = h.client_errors + excluded.client_errors,
         server_errors = h.server_errors + excluded.server_errors,
         cancelled = h.cancelled + excluded.cancelled";

pub(super) const UPSERT_DAILY: &str = "INSERT INTO duration_daily AS d(endpoint_id, day,
         instance, bucket, hits)
     SELECT u.endpoint_id, u.day, $3::text, u.bucket, u.hits
     FROM unnest($1::bigint[], $2::bigint[], $4::bigint[], $5::bigint[])
         AS u(endpoint_id, day, bucket, hits)
     ON CONFLICT (endpoint_id, day, instance, bucket) DO UPDATE SET
         hits = d.hits + excluded.hits";

pub(super) const UPSERT_HOURLY_DURATIONS: &str = "INSERT INTO duration_hourly AS d(hour,
         endpoint_id, instance, bucket, hits)
     SELECT u.hour, u.endpoint_id, $3::text, u.bucket, u.hits
     FROM unnest($1::bigint[], $2::bigint[], $4::bigint[], $5::bigint[])
         AS u(hour, endpoint_id, bucket, hits)
     ON CONFLICT (hour, endpoint_id, instance, bucket) DO UPDATE SET
         hits = d.hits + excluded.hits";

pub(super) const UPSERT_VERSION: &str = "INSERT INTO app_version AS v(version, git_commit,
         first_seen, last_seen)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (version) DO UPDATE SET
         git_commit = coalesce(excluded.git_commit, v.git_commit),
         first_seen = least(v.first_seen, excluded.first_seen),
         last_seen = greatest(v.last_seen, excluded.last_seen)";

pub(super) const UPSERT_INSTANCE: &str = "INSERT INTO instance AS i(name, first_seen, last_seen)
     VALUES ($1, $2, $3)
     ON CONFLICT (name) DO UPDATE SET
         first_seen = least(i.first_seen, excluded.first_seen),
         last_seen = greatest(i.last_seen, excluded.last_seen)";

/// Every statement the writer runs.
pub(super) struct Statements {
    pub insert_endpoint: Statement,
    pub select_endpoint: Statement,
    pub intern_types: Statement,
    pub select_types: Statement,
    pub intern_messages: Statement,
    pub select_messages: Statement,
    /// Per request dictionary, in [`Dictionary::ALL`]'s order: store texts, select texts.
    pub dictionaries: Vec<(Statement, Statement)>,
    pub request_ids: Statement,
    pub copy_requests: Statement,
    pub upsert_groups: Statement,
    pub insert_occurrences: Statement,
    pub insert_snapshot: Statement,
    pub select_snapshot: Statement,
    pub insert_stacklines: Statement,
    pub insert_frame: Statement,
    pub select_frame: Statement,
    pub insert_definition: Statement,
    pub select_definition: Statement,
    pub insert_app_location: Statement,
    pub select_app_location: Statement,
    pub insert_other_location: Statement,
    pub select_other_location: Statement,
    pub insert_outliers: Statement,
    pub insert_profile: Statement,
    pub last_requested: Statement,
    pub upsert_hourly: Statement,
    pub upsert_daily: Statement,
    pub upsert_hourly_durations: Statement,
    pub upsert_version: Statement,
    pub upsert_instance: Statement,
    pub insert_graph: Statement,
    pub select_graph: Statement,
    pub insert_graph_values: Statement,
    pub insert_issue: Statement,
    pub select_issue: Statement,
    pub group_versions: Statement,
    pub count_issues: Statement,
}

/// Stores the distinct texts of `$1` missing from `table(column)` and returns `(id, text)`
/// of all of them; `key` is the unique expression (`column` or `md5(column)`).
fn intern_sql(table: &str, column: &str, key: &str) -> String {
    let key_of = |t: &str| key.replace(column, &format!("{t}.{column}"));
    format!(
        "WITH input AS (SELECT DISTINCT v FROM unnest($1::text[]) AS u(v)),
         ins AS (INSERT INTO {table}({column}) SELECT v FROM input ORDER BY v
                 ON CONFLICT ({key}) DO NOTHING RETURNING id, {column})
         SELECT id, {column} FROM ins
         UNION ALL
         SELECT t.id, t.{column} FROM {table} t JOIN input i
             ON {} = {} AND t.{column} = i.v",
        key_of("t"),
        key.replace(column, "i.v"),
    )
}

/// Draws `$1` ids from `request.id`'s sequence, named once here rather than looked up
/// for every id.
fn request_ids_sql(c: &mut Client) -> Result<String, postgres::Error> {
    let sequence: Option<String> = c
        .query_one("SELECT pg_get_serial_sequence('request', 'id')", &[])?
        .get(0);
    let sequence = sequence.unwrap_or_else(|| "request_id_seq".to_owned());
    Ok(format!(
        "SELECT nextval('{}'::regclass) FROM generate_series(1, $1::bigint)",
        sequence.replace('\'', "''")
    ))
}

impl Statements {
    pub(super) fn prepare(c: &mut Client) -> Result<Statements, postgres::Error> {
        let ids = request_ids_sql(c)?;
        Ok(Statements {
            insert_endpoint: c.prepare(
                "INSERT INTO endpoint(name, created_at) VALUES ($1, $2)
                 ON CONFLICT (name) DO NOTHING RETURNING id",
            )?,
            select_endpoint: c.prepare("SELECT id FROM endpoint WHERE name = $1")?,
            intern_types: c.prepare(&intern_sql("exception_type", "name", "name"))?,
            select_types: c
                .prepare("SELECT id, name FROM exception_type WHERE name = ANY($1::text[])")?,
            intern_messages: c.prepare(&intern_sql(
                "exception_message",
                "message",
                "md5(message)",
            ))?,
            select_messages: c.prepare(
                "SELECT id, message FROM exception_message
                 WHERE md5(message) IN (SELECT md5(v) FROM unnest($1::text[]) AS u(v))",
            )?,
            dictionaries: [
                ("request_version", "version"),
                ("request_address", "ip"),
                ("request_user", "group_by"),
                ("request_instance", "instance"),
            ]
            .into_iter()
            .map(|(table, column)| {
                Ok((
                    c.prepare(&intern_sql(table, column, column))?,
                    c.prepare(&format!(
                        "SELECT id, {column} FROM {table} WHERE {column} = ANY($1::text[])"
                    ))?,
                ))
            })
            .collect::<Result<_, postgres::Error>>()?,
            request_ids: c.prepare(&ids)?,
            copy_requests: c.prepare(
                "COPY request (id, endpoint_id, route_id, time, duration_us, status,
                     cancelled, ip_id, user_id, version_id, instance_id) FROM STDIN BINARY",
            )?,
            upsert_groups: c.prepare(
                "INSERT INTO exception_group AS g(endpoint_id, hash, type_id, message_id,
                     snapshot_id, first_seen, last_seen, count, issue_id)
                 SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[],
                     $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[])
                 ON CONFLICT (endpoint_id, hash) DO UPDATE SET
                     count = g.count + excluded.count,
                     last_seen = greatest(g.last_seen, excluded.last_seen),
                     first_seen = least(g.first_seen, excluded.first_seen),
                     message_id = excluded.message_id,
                     snapshot_id = excluded.snapshot_id,
                     issue_id = coalesce(g.issue_id, excluded.issue_id)
                 RETURNING g.id, g.endpoint_id, g.hash, g.issue_id",
            )?,
            insert_occurrences: c.prepare(
                "INSERT INTO exception_occurrence(group_id, request_id, type_id, message_id,
                     snapshot_id, kind, time, source_chain)
                 SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[],
                     $5::bigint[], $6::bigint[], $7::bigint[], $8::text[])",
            )?,
            insert_snapshot: c.prepare(
                "INSERT INTO stack_trace_snapshot(hash, depth) VALUES ($1, $2)
                 ON CONFLICT (hash) DO NOTHING RETURNING id",
            )?,
            select_snapshot: c.prepare(sql::SNAPSHOT_BY_HASH)?,
            insert_stacklines: c.prepare(
                "INSERT INTO exception_stackline(snapshot_id, position, frame_id, repeat)
                 SELECT $1::bigint, u.* FROM unnest($2::bigint[], $3::bigint[], $4::bigint[]) AS u",
            )?,
            insert_frame: c.prepare(
                "INSERT INTO exception_frame(location_id, line) VALUES ($1, $2)
                 ON CONFLICT (location_id, line) DO NOTHING RETURNING id",
            )?,
            select_frame: c
                .prepare("SELECT id FROM exception_frame WHERE location_id = $1 AND line = $2")?,
            insert_definition: c.prepare(
                "INSERT INTO function_definition(code_hash, code, verbatim) VALUES ($1, $2, $3)
                 ON CONFLICT (code_hash) DO NOTHING RETURNING id",
            )?,
            select_definition: c
                .prepare("SELECT id FROM function_definition WHERE code_hash = $1")?,
            insert_app_location: c.prepare(
                "INSERT INTO function_location(definition_id, module, name, file, start_line,
                     end_line, in_app)
                 VALUES ($1, $2, $3, $4, $5, $6, TRUE)
                 ON CONFLICT (definition_id, module, name, file, start_line) DO NOTHING
                 RETURNING id",
            )?,
            select_app_location: c.prepare(
                "SELECT id FROM function_location WHERE definition_id = $1 AND module = $2
                     AND name = $3 AND file = $4 AND start_line = $5",
            )?,
            insert_other_location: c.prepare(
                "INSERT INTO function_location(definition_id, module, name, file, start_line,
                     end_line, in_app)
                 VALUES (NULL, '', $1, $2, 0, 0, FALSE)
                 ON CONFLICT (module, name, file, start_line) WHERE definition_id IS NULL
                 DO NOTHING RETURNING id",
            )?,
            select_other_location: c.prepare(
                "SELECT id FROM function_location WHERE definition_id IS NULL AND module = ''
                     AND name = $1 AND file = $2 AND start_line = 0",
            )?,
            insert_outliers: c.prepare(
                "INSERT INTO outlier(request_id, endpoint_id, time, url, headers, typical_us,
                     threshold_us, cpu_percent, memory_bytes, stack_id)
                 SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[],
                     $5::text[], $6::bigint[], $7::bigint[], $8::float8[], $9::bigint[],
                     $10::bigint[])",
            )?,
            insert_profile: c.prepare(
                "INSERT INTO profile_node(request_id, endpoint_id, position, parent, depth,
                     location_id, calls, total_us, self_us)
                 SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[],
                     $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[])",
            )?,
            last_requested: c.prepare(LAST_REQUESTED)?,
            upsert_hourly: c.prepare(UPSERT_HOURLY)?,
            upsert_daily: c.prepare(UPSERT_DAILY)?,
            upsert_hourly_durations: c.prepare(UPSERT_HOURLY_DURATIONS)?,
            upsert_version: c.prepare(UPSERT_VERSION)?,
            upsert_instance: c.prepare(UPSERT_INSTANCE)?,
            insert_graph: c.prepare(
                "INSERT INTO custom_graph(name, created_at) VALUES ($1, $2)
                 ON CONFLICT (name) DO NOTHING RETURNING id",
            )?,
            select_graph: c.prepare("SELECT id FROM custom_graph WHERE name = $1")?,
            insert_graph_values: c.prepare(
                "INSERT INTO custom_graph_value(graph_id, time, value, instance)
                 SELECT u.*, $4::text FROM unnest($1::bigint[], $2::bigint[], $3::float8[]) AS u",
            )?,
            insert_issue: c.prepare(
                "INSERT INTO issue(fingerprint, status, type_name, message, first_seen,
                     last_seen, first_version, last_version, count, search_text, client)
                 VALUES ($1, 'open', $2, $3, $4, $4, $5, $5, 0, $6, $7)
                 ON CONFLICT (fingerprint) DO NOTHING RETURNING id",
            )?,
            select_issue: c.prepare("SELECT id FROM issue WHERE fingerprint = $1")?,
            group_versions: c.prepare(
                "INSERT INTO exception_group_version AS v(group_id, version, count, first_seen,
                     last_seen)
                 SELECT u.g, $2::text, u.n, u.f, u.l
                 FROM unnest($1::bigint[], $3::bigint[], $4::bigint[], $5::bigint[])
                     AS u(g, n, f, l)
                 ON CONFLICT (group_id, version) DO UPDATE SET count = v.count + excluded.count,
                     first_seen = least(v.first_seen, excluded.first_seen),
                     last_seen = greatest(v.last_seen, excluded.last_seen)",
            )?,
            count_issues: c.prepare(
                "UPDATE issue AS i SET count = i.count + u.n,
                     first_seen = least(i.first_seen, u.f),
                     last_seen = greatest(i.last_seen, u.l),
                     last_version = CASE WHEN u.l >= i.last_seen THEN $5 ELSE i.last_version END,
                     first_version = coalesce(i.first_version, $5)
                 FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[])
                     AS u(id, n, f, l)
                 WHERE i.id = u.id
                 RETURNING i.id, i.status, i.resolved_version, i.resolve_next,
                     i.ignore_until_count, i.ignore_until, i.count, u.l",
            )?,
        })
    }
}
