//! P5's database: requests over endpoints and days, with exception groups, occurrences and
//! snapshots, the `request_hourly`, `duration_daily` and `duration_hourly` rollups, the
//! versions and the instance — in a real file whose schema the real store created
//! (`SqliteStore::open`).
//!
//! Rows go in through prepared statements in one transaction, in time order, with the
//! request and occurrence indexes dropped first and re-created (from their own stored DDL)
//! at the end, which is much faster than keeping them up to date row by row. The file is
//! generated once and reused while its shape, this generator and the schema are the same.
//!
//! Traffic is skewed as in real services: endpoint `i` gets a share proportional to
//! 1/(i+1); durations vary per endpoint with a slow tail; one request in a hundred ends in
//! an exception occurrence (status 500) of one of its endpoint's groups.

use crate::util;
use fmd_runtime::store::histogram;
use fmd_runtime::store::sqlite::SqliteStore;
use fmd_runtime::store::sqlite::schema::SCHEMA_VERSION;
use rusqlite::{Connection, params};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

/// Bumped whenever the generated data changes.
const GENERATOR_VERSION: u32 = 3;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// Distinct functions that traces are made of.
const FUNCTIONS: usize = 50;
const TYPES: &[&str] = &[
    "shop::error::AppError",
    "std::io::error::Error",
    "sqlx_core::error::Error",
    "serde_json::error::Error",
    "reqwest::error::Error",
    "shop::auth::AuthError",
    "core::num::error::ParseIntError",
    "panic",
];

/// How much data to generate.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Request rows.
    pub requests: u64,
    /// Endpoints.
    pub endpoints: usize,
    /// Days the requests span, ending now.
    pub days: i64,
    /// Exception occurrences (each on its own failed request).
    pub occurrences: u64,
    /// Exception groups, spread over the endpoints.
    pub groups: usize,
}

impl Shape {
    /// The issue's shape: 10 M requests, 100 endpoints, 30 days, 100 000 occurrences in
    /// 500 groups; tiny in smoke mode.
    pub fn for_run() -> Shape {
        util::pick(
            Shape {
                requests: 10_000_000,
                endpoints: 100,
                days: 30,
                occurrences: 100_000,
                groups: 500,
            },
            Shape {
                requests: 50_000,
                endpoints: 20,
                days: 3,
                occurrences: 2_000,
                groups: 60,
            },
        )
    }

    fn key(&self) -> String {
        format!(
            "{}r-{}e-{}d-{}o-{}g-gen{GENERATOR_VERSION}-schema{SCHEMA_VERSION}",
            self.requests, self.endpoints, self.days, self.occurrences, self.groups
        )
    }
}

/// The database of `shape`, generated now if it is not there yet.
pub fn database(shape: Shape) -> Result<PathBuf, String> {
    let path = util::data_dir().join(format!("pages-{}.db", shape.key()));
    if path.exists() {
        return Ok(path);
    }
    let partial = path.with_extension("partial");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", partial.display()));
    }
    let started = Instant::now();
    drop(SqliteStore::open(&partial).map_err(|e| format!("create schema: {e}"))?);
    let mut conn = Connection::open(&partial).map_err(|e| e.to_string())?;
    fill(&mut conn, shape).map_err(|e| format!("generate: {e}"))?;
    drop(conn);
    std::fs::rename(&partial, &path).map_err(|e| e.to_string())?;
    eprintln!(
        "P5: generated {} in {:.0} s",
        path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(path)
}

/// A function that traces pass through.
struct Function {
    location: i64,
    start_line: i64,
}

/// One exception group while it is being counted.
struct Group {
    id: i64,
    kind: i64,
    type_id: i64,
    message_id: i64,
    snapshot_id: i64,
    count: i64,
    first: i64,
    last: i64,
}

#[derive(Default)]
struct Hourly {
    hits: i64,
    duration: i64,
    client: i64,
    server: i64,
    cancelled: i64,
}

fn source_of(j: usize) -> String {
    format!(
        "/// Step {j} of serving a request: loads, checks and converts.\n\
         pub fn step_{j}(ctx: &Ctx, id: u64) -> Result<Value, AppError> {{\n    \
             let row = ctx.db.query_one(\"SELECT * FROM items WHERE id = $1\", &[&id])?;\n    \
             let owner: u64 = row.get(\"owner\").parse()?;\n    \
             if owner != ctx.user.id {{\n        \
                 return Err(AppError::Forbidden {{ id, owner }});\n    \
             }}\n    \
             let value = convert(&row)?; // may fail on old rows\n    \
             ctx.cache.insert(id, value.clone());\n    \
             Ok(value)\n\
         }}\n"
    )
}

/// Saves and drops the indexes of the big tables; returns their DDL to re-create them.
fn drop_indexes(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let indexes: Vec<(String, String)> = conn
        .prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
             AND tbl_name IN ('request', 'exception_occurrence')",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (name, _) in &indexes {
        conn.execute_batch(&format!("DROP INDEX \"{name}\""))?;
    }
    Ok(indexes.into_iter().map(|(_, sql)| sql).collect())
}

fn fill(conn: &mut Connection, shape: Shape) -> rusqlite::Result<()> {
    conn.query_row("PRAGMA journal_mode=OFF", [], |_| Ok(()))?;
    conn.execute_batch("PRAGMA synchronous=OFF; PRAGMA cache_size=-1000000;")?;
    let indexes = drop_indexes(conn)?;
    let mut rng = fastrand::Rng::with_seed(5);
    let now = fmd_runtime::clock::now_ms();
    let start = now - shape.days * DAY_MS;
    let tx = conn.transaction()?;

    // Endpoints, with their traffic weight and typical duration.
    let weights: Vec<f64> = (0..shape.endpoints).map(|i| 1.0 / (i + 1) as f64).collect();
    let total: f64 = weights.iter().sum();
    let mut cumulative = Vec::with_capacity(shape.endpoints);
    let mut acc = 0.0;
    for w in &weights {
        acc += w / total;
        cumulative.push(acc);
    }
    let typical: Vec<f64> = (0..shape.endpoints)
        .map(|_| 500.0 * 100f64.powf(rng.f64()))
        .collect();
    {
        let mut insert =
            tx.prepare("INSERT INTO endpoint(id, name, created_at) VALUES (?1, ?2, ?3)")?;
        for i in 0..shape.endpoints {
            insert.execute(params![
                i as i64 + 1,
                format!("shop::api::endpoint_{i:03}"),
                start
            ])?;
        }
    }

    // Functions, types, messages, snapshots and the groups.
    let mut functions = Vec::with_capacity(FUNCTIONS);
    for j in 0..FUNCTIONS {
        let code = source_of(j);
        tx.execute(
            "INSERT INTO function_definition(code_hash, code, verbatim) VALUES (?1, ?2, 1)",
            params![rng.i64(..), code],
        )?;
        let definition = tx.last_insert_rowid();
        let start_line = 10 + (j / 5) as i64 * 30;
        tx.execute(
            "INSERT INTO function_location(definition_id, module, name, file, start_line, end_line, in_app)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1)",
            params![
                definition,
                format!("shop::service::m{}", j % 5),
                format!("step_{j}"),
                format!("src/service/m{}.rs", j % 5),
                start_line,
                start_line + code.lines().count() as i64 - 1
            ],
        )?;
        functions.push(Function {
            location: tx.last_insert_rowid(),
            start_line,
        });
    }
    for name in TYPES {
        tx.execute("INSERT INTO exception_type(name) VALUES (?1)", [name])?;
    }
    let mut frames: HashMap<(i64, i64), i64> = HashMap::new();
    let mut groups = Vec::with_capacity(shape.groups);
    for g in 0..shape.groups {
        let type_index = g % TYPES.len();
        let kind = match g % 10 {
            0 => 0, // panic
            1 => 2, // captured
            _ => 1, // uncaught
        };
        let type_id = if kind == 0 {
            TYPES.len()
        } else {
            type_index.min(TYPES.len() - 2) + 1
        };
        tx.execute(
            "INSERT INTO exception_message(message) VALUES (?1)",
            [format!(
                "record {g} could not be loaded: upstream answered 503 after 2 retries"
            )],
        )?;
        let message_id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO stack_trace_snapshot(hash, depth) VALUES (?1, 5)",
            [rng.i64(..)],
        )?;
        let snapshot_id = tx.last_insert_rowid();
        for position in 0..5usize {
            let f = &functions[(g * 7 + position * 13) % FUNCTIONS];
            let line = f.start_line + 2 + (g % 6) as i64;
            let frame = match frames.get(&(f.location, line)) {
                Some(&id) => id,
                None => {
                    tx.execute(
                        "INSERT INTO exception_frame(location_id, line) VALUES (?1, ?2)",
                        params![f.location, line],
                    )?;
                    let id = tx.last_insert_rowid();
                    frames.insert((f.location, line), id);
                    id
                }
            };
            tx.execute(
                "INSERT INTO exception_stackline(snapshot_id, position, frame_id, repeat)
                 VALUES (?1, ?2, ?3, 1)",
                params![snapshot_id, position as i64, frame],
            )?;
        }
        tx.execute(
            "INSERT INTO exception_group(endpoint_id, hash, type_id, message_id, snapshot_id,
                 first_seen, last_seen, count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 0)",
            params![
                (g % shape.endpoints) as i64 + 1,
                rng.i64(..),
                type_id as i64,
                message_id,
                snapshot_id,
                start
            ],
        )?;
        groups.push(Group {
            id: tx.last_insert_rowid(),
            kind,
            type_id: type_id as i64,
            message_id,
            snapshot_id,
            count: 0,
            first: i64::MAX,
            last: 0,
        });
    }

    // Requests in time order, with their occurrences and the hourly rollup.
    let ips: Vec<String> = (0..300)
        .map(|i| format!("10.1.{}.{}", i / 200, i % 200))
        .collect();
    let users: Vec<String> = (0..1000).map(|i| format!("user-{i}")).collect();
    let routes: Vec<String> = (0..shape.endpoints)
        .map(|i| format!("/api/v1/resource_{i:03}/{{id}}"))
        .collect();
    let new_version_from = start + shape.days * DAY_MS * 3 / 5;
    let step = (shape.days * DAY_MS) as f64 / shape.requests as f64;
    let mut hourly: HashMap<(usize, i64, &str), Hourly> = HashMap::new();
    let mut daily: HashMap<(usize, i64, i64), i64> = HashMap::new();
    let mut recent: HashMap<(i64, usize, i64), i64> = HashMap::new();
    let recent_from = now / HOUR_MS - fmd_runtime::store::read::overview_days::RECENT_HOURS;
    let mut last_requested = vec![0i64; shape.endpoints];
    let mut remaining_occurrences = shape.occurrences;
    let groups_per_endpoint = shape.groups.div_ceil(shape.endpoints);
    {
        // The request texts' dictionaries (schema version 10): route keys `2 e + 1` (GET)
        // and `2 e + 2` (POST), versions 1 and 2, address and user `i + 1`, instance 1.
        let mut route =
            tx.prepare("INSERT INTO request_route(id, route, method) VALUES (?1, ?2, ?3)")?;
        for (e, r) in routes.iter().enumerate() {
            route.execute(params![2 * e as i64 + 1, r, "GET"])?;
            route.execute(params![2 * e as i64 + 2, r, "POST"])?;
        }
        tx.execute_batch(
            "INSERT INTO request_version(id, version) VALUES (1, '1.0.0'), (2, '1.1.0');
             INSERT INTO request_instance(id, instance) VALUES (1, 'bench-host:1');",
        )?;
        for (i, ip) in ips.iter().enumerate() {
            tx.execute(
                "INSERT INTO request_address(id, ip) VALUES (?1, ?2)",
                params![i as i64 + 1, ip],
            )?;
        }
        for (i, user) in users.iter().enumerate() {
            tx.execute(
                "INSERT INTO request_user(id, group_by) VALUES (?1, ?2)",
                params![i as i64 + 1, user],
            )?;
        }
        let mut request = tx.prepare(
            "INSERT INTO request(id, endpoint_id, route_id, time, duration_us, status,
                 cancelled, version_id, ip_id, user_id, instance_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 1)",
        )?;
        let mut occurrence = tx.prepare(
            "INSERT INTO exception_occurrence(group_id, request_id, type_id, message_id,
                 snapshot_id, kind, time, source_chain) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for i in 0..shape.requests {
            let time = start + (i as f64 * step) as i64 + rng.i64(0..step.max(1.0) as i64);
            let u = rng.f64();
            let e = cumulative
                .partition_point(|&c| c < u)
                .min(shape.endpoints - 1);
            let tail = if rng.u32(0..50) == 0 { 5.0 } else { 1.0 };
            let duration = (typical[e] * (0.5 + 1.5 * rng.f64()) * tail) as i64;
            let remaining_requests = shape.requests - i;
            let failed = rng.u64(0..remaining_requests) < remaining_occurrences;
            let cancelled = !failed && rng.u32(0..1000) == 0;
            let status: Option<i64> = if cancelled {
                None
            } else if failed {
                Some(500)
            } else if rng.u32(0..50) == 0 {
                Some(404)
            } else {
                Some(200)
            };
            let version = if time < new_version_from {
                "1.0.0"
            } else {
                "1.1.0"
            };
            let user_id = rng.bool().then(|| rng.usize(0..users.len()) as i64 + 1);
            let id = i as i64 + 1;
            let route_id = 2 * e as i64 + if rng.u32(0..5) == 0 { 2 } else { 1 };
            request.execute(params![
                id,
                e as i64 + 1,
                route_id,
                time,
                duration,
                status,
                cancelled,
                if version == "1.0.0" { 1 } else { 2 },
                rng.usize(0..ips.len()) as i64 + 1,
                user_id
            ])?;
            let h = hourly.entry((e, time / HOUR_MS, version)).or_default();
            h.hits += 1;
            h.duration += duration;
            h.client += i64::from(status == Some(404));
            h.server += i64::from(failed);
            h.cancelled += i64::from(cancelled);
            *daily
                .entry((e, time / DAY_MS, histogram::bucket(duration)))
                .or_default() += 1;
            if time / HOUR_MS >= recent_from {
                *recent
                    .entry((time / HOUR_MS, e, histogram::bucket(duration)))
                    .or_default() += 1;
            }
            last_requested[e] = last_requested[e].max(time);
            if failed {
                remaining_occurrences -= 1;
                // Skewed: an endpoint's first group is its most frequent.
                let k = (rng.f64().powi(2) * groups_per_endpoint as f64) as usize;
                let g = (e + shape.endpoints * k).min(shape.groups - 1);
                let g = if g % shape.endpoints == e {
                    g
                } else {
                    e % shape.groups
                };
                let group = &mut groups[g];
                group.count += 1;
                group.first = group.first.min(time);
                group.last = group.last.max(time);
                let chain = if g % 2 == 0 {
                    r#"["connection reset by peer"]"#
                } else {
                    "[]"
                };
                occurrence.execute(params![
                    group.id,
                    id,
                    group.type_id,
                    group.message_id,
                    group.snapshot_id,
                    group.kind,
                    time,
                    chain
                ])?;
            }
        }
    }

    // Counters, rollup, versions.
    for g in &groups {
        if g.count == 0 {
            continue;
        }
        tx.execute(
            "UPDATE exception_group SET count = ?2, first_seen = ?3, last_seen = ?4 WHERE id = ?1",
            params![g.id, g.count, g.first, g.last],
        )?;
    }
    // One issue per group (schema 6), as the writer would have made them.
    tx.execute_batch(
        "INSERT INTO issue(fingerprint, status, type_name, message, first_seen, last_seen,
             first_version, last_version, count)
         SELECT g.hash, 'open', t.name, m.message, g.first_seen, g.last_seen, '1.0.0', '1.0.0',
             g.count
         FROM exception_group g JOIN exception_type t ON t.id = g.type_id
         JOIN exception_message m ON m.id = g.message_id ORDER BY g.id;
         UPDATE exception_group SET issue_id =
             (SELECT i.id FROM issue i WHERE i.fingerprint = exception_group.hash);",
    )?;
    {
        let mut insert = tx.prepare(
            "INSERT INTO request_hourly(endpoint_id, hour, version, instance, hits, duration_us,
                 client_errors, server_errors, cancelled)
             VALUES (?1, ?2, ?3, 'bench-host:1', ?4, ?5, ?6, ?7, ?8)",
        )?;
        for ((e, hour, version), h) in &hourly {
            insert.execute(params![
                *e as i64 + 1,
                hour,
                version,
                h.hits,
                h.duration,
                h.client,
                h.server,
                h.cancelled
            ])?;
        }
    }
    {
        let mut insert = tx.prepare(
            "INSERT INTO duration_daily(endpoint_id, day, instance, bucket, hits)
             VALUES (?1, ?2, 'bench-host:1', ?3, ?4)",
        )?;
        for ((e, day, bucket), hits) in &daily {
            insert.execute(params![*e as i64 + 1, day, bucket, hits])?;
        }
    }
    {
        let mut insert = tx.prepare(
            "INSERT INTO duration_hourly(hour, endpoint_id, instance, bucket, hits)
             VALUES (?1, ?2, 'bench-host:1', ?3, ?4)",
        )?;
        for ((hour, e, bucket), hits) in &recent {
            insert.execute(params![hour, *e as i64 + 1, bucket, hits])?;
        }
    }
    tx.execute(
        "INSERT INTO instance(name, first_seen, last_seen) VALUES ('bench-host:1', ?1, ?2)",
        params![start, now],
    )?;
    for (e, last) in last_requested.iter().enumerate() {
        tx.execute(
            "UPDATE endpoint SET last_requested = ?2 WHERE id = ?1",
            params![e as i64 + 1, last],
        )?;
    }
    tx.execute(
        "INSERT INTO app_version(version, first_seen, last_seen) VALUES ('1.0.0', ?1, ?2), ('1.1.0', ?2, ?3)",
        params![start, new_version_from, now],
    )?;
    tx.commit()?;
    for sql in indexes {
        conn.execute_batch(&sql)?;
    }
    conn.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))?;
    Ok(())
}
