//! Pruning a large SQLite file while the application keeps serving: retention deletes in
//! steps, each holding the write lock briefly, so the writer's batches interleave and it
//! drops no event with the normal (default) queue.
//!
//! One million old request rows are generated with SQL, then pruned on a thread of their
//! own (as the retention thread does) while clients keep sending requests: everything
//! older (`FMD_RETENTION_WEEKS`), or the raw rows only (`FMD_RAW_RETENTION_DAYS`). The figures are
//! printed (`--nocapture`); the asserts are on counts. The 10 M run is ignored by default:
//! `cargo test --release -p fmd-tests --test prune_under_load -- --ignored --nocapture`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use fmd::prelude::*;
use fmd_runtime::Database;
use fmd_runtime::store::AnyReader;
use fmd_tests::spine;

#[monitored]
async fn ping() -> &'static str {
    "pong"
}

/// One test at a time (they share the process's monitor and file).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Requests of `/ping` stored.
fn pings(path: &std::path::Path) -> i64 {
    spine::db(path)
        .query_row(
            "SELECT count(*) FROM request_text WHERE route = '/ping'",
            [],
            |r| r.get(0),
        )
        .expect("count")
}

/// Old rows are at `now - 30 days + i` ms.
const DAY_MS: i64 = 86_400_000;

/// Generates `n` old requests of `/bulk` in one transaction; returns how long it took.
fn generate(path: &std::path::Path, n: i64, now: i64) -> Duration {
    let started = Instant::now();
    let conn = spine::db(path);
    conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
    conn.execute(
        "INSERT INTO endpoint (name, created_at) VALUES ('/bulk', 0) ON CONFLICT DO NOTHING",
        [],
    )
    .expect("endpoint");
    conn.execute_batch(
        "INSERT OR IGNORE INTO request_route (route, method) VALUES ('/bulk', 'GET');
         INSERT OR IGNORE INTO request_version (version) VALUES ('1.0.0');
         INSERT OR IGNORE INTO request_address (ip) VALUES ('127.0.0.1');
         INSERT OR IGNORE INTO request_user (group_by) VALUES ('');
         INSERT OR IGNORE INTO request_instance (instance) VALUES ('test');",
    )
    .expect("dictionaries");
    conn.execute(
        "INSERT INTO request (endpoint_id, route_id, time, duration_us, status, version_id, ip_id,
                              user_id, instance_id)
         WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < ?1)
         SELECT (SELECT id FROM endpoint WHERE name = '/bulk'),
                (SELECT id FROM request_route WHERE route = '/bulk' AND method = 'GET'),
                ?2 + i, 1000, 200,
                (SELECT id FROM request_version WHERE version = '1.0.0'),
                (SELECT id FROM request_address WHERE ip = '127.0.0.1'),
                (SELECT id FROM request_user WHERE group_by = ''),
                (SELECT id FROM request_instance WHERE instance = 'test')
         FROM k",
        rusqlite::params![n, now - 30 * DAY_MS],
    )
    .expect("generate requests");
    conn.execute_batch("COMMIT").expect("commit");
    started.elapsed()
}

/// How the rows are pruned: everything older (`FMD_RETENTION_WEEKS`) or the raw rows only
/// (`FMD_RAW_RETENTION_DAYS`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Pruning {
    All,
    Raw,
}

async fn prune_while_serving(rows: i64, how: Pruning) {
    let _serial = SERIAL.lock().await;
    // The test prunes on its own thread: the hourly retention thread (30 days of raw rows
    // by default, its first run a minute after start) must not prune the generated rows
    // meanwhile.
    let path = spine::start_with(|c| c.raw_retention_days = None);
    let addr = spine::serve(Router::new().route("/ping", get(ping))).await;
    assert_eq!(spine::get(addr, "/ping").await.status, 200);
    spine::flush();
    let stored_before = pings(path);
    let now = fmd_tests::dashboard_fixture::now_ms();
    let generated = generate(path, rows, now);
    let before = fmd::monitor().stats();

    // The application keeps serving: 2 clients, a request every few milliseconds each,
    // until pruning is done.
    let done = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = (0..2)
        .map(|_| {
            let (done, sent) = (done.clone(), sent.clone());
            tokio::spawn(async move {
                while !done.load(Ordering::Relaxed) {
                    assert_eq!(spine::get(addr, "/ping").await.status, 200);
                    sent.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            })
        })
        .collect();
    let database = Database::Sqlite(path.to_owned());
    let pruning = std::thread::spawn(move || {
        let started = Instant::now();
        let mut steps = Vec::new();
        let mut reader = AnyReader::open(&database).expect("open");
        let mut observe = |took| steps.push(took);
        let report = match how {
            Pruning::All => reader.prune_observed(now - 7 * DAY_MS, &mut observe),
            Pruning::Raw => reader.prune_raw_observed(now - 7 * DAY_MS, &mut observe),
        }
        .expect("prune");
        (report, steps, started.elapsed())
    });
    let (report, steps, took) = tokio::task::spawn_blocking(move || pruning.join())
        .await
        .expect("join")
        .expect("pruning thread");
    done.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.expect("client");
    }
    spine::flush();
    let after = fmd::monitor().stats();
    let sent = sent.load(Ordering::Relaxed);
    let longest = steps.iter().max().copied().unwrap_or_default();
    let mut sorted = steps.clone();
    sorted.sort();
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or_default();
    let last = steps.last().copied().unwrap_or_default();
    let stored = pings(path) - stored_before;
    println!(
        "FIGURES prune ({how:?}) {rows} rows: generated in {generated:?}; pruned {} requests in {took:?}, \
         {} steps holding the lock {median:?} (median), {longest:?} (longest), {last:?} (the \
         last, with the clean-up); meanwhile {sent} requests served, {} events dropped",
        report.requests,
        steps.len(),
        after.events_dropped - before.events_dropped,
    );
    assert_eq!(report.requests, rows as u64);
    assert!(steps.len() > 1, "pruned in steps");
    assert!(sent > 0, "the application served while pruning");
    assert_eq!(
        after.events_dropped, before.events_dropped,
        "the writer dropped no event"
    );
    assert_eq!(stored as u64, sent, "every request served is stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pruning_a_million_requests_while_serving_drops_no_event() {
    prune_while_serving(1_000_000, Pruning::All).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_pruning_a_million_requests_while_serving_drops_no_event() {
    prune_while_serving(1_000_000, Pruning::Raw).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "10 M rows: run once with --release -- --ignored"]
async fn pruning_ten_million_requests_while_serving_drops_no_event() {
    prune_while_serving(10_000_000, Pruning::All).await;
}
