//! The first panic of a process is symbolized on the writer thread, which loads the
//! binary's debug information for it. That load used to happen inside the batch loop and
//! held back every event queued behind the panic (about 1.1 s in an application's debug
//! build). Measured here: how long the first panic takes to be stored, and how long a
//! request queued right after it waits. Figures are printed, not asserted (machines are
//! noisy); the test asserts that both are stored, the panic with its app frame.

use axum::Router;
use axum::routing::get;
use fmd::prelude::*;
use fmd_tests::spine;
use std::time::{Duration, Instant};

#[monitored]
async fn boom() -> &'static str {
    panic!("first panic of the process")
}

#[monitored]
async fn fine() -> &'static str {
    "fine"
}

/// The process's resident memory (Linux), for the printed figures.
fn resident_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

fn count(conn: &rusqlite::Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_panic_holds_back_no_event() {
    let db = spine::start();
    let addr = spine::serve(
        Router::new()
            .route("/boom", get(boom))
            .route("/fine", get(fine)),
    )
    .await;
    // The writer is running and has stored a batch; then a while as in a live process
    // (start-up work done ahead of time has finished by the first panic).
    assert_eq!(spine::get(addr, "/fine").await.status, 200);
    spine::flush();
    tokio::time::sleep(Duration::from_secs(3)).await;
    println!(
        "resident memory before the first panic: {} MiB",
        resident_mib()
    );
    // Baseline: a request without a panic, answered then stored.
    let start = Instant::now();
    assert_eq!(spine::get(addr, "/fine").await.status, 200);
    let answered = start.elapsed();
    spine::flush();
    println!(
        "a request without a panic: answered in {:.1} ms, stored after {:.1} ms",
        answered.as_secs_f64() * 1e3,
        start.elapsed().as_secs_f64() * 1e3
    );

    let start = Instant::now();
    assert_eq!(spine::get(addr, "/boom").await.status, 500);
    assert_eq!(spine::get(addr, "/fine").await.status, 200);
    let answered = start.elapsed();
    spine::flush();
    let stored = start.elapsed();
    println!(
        "first panic and the request after it: answered in {:.1} ms, both stored after {:.1} ms",
        answered.as_secs_f64() * 1e3,
        stored.as_secs_f64() * 1e3
    );
    let conn = spine::db(db);
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM exception_occurrence WHERE kind = 0"
        ),
        1
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM request_text r JOIN endpoint e ON e.id = r.endpoint_id
             WHERE e.name = 'first_panic::fine'"
        ),
        3
    );
    let frames: Vec<String> = spine::trace_of(&conn, "first panic of the process")
        .into_iter()
        .map(|f| f.function)
        .collect();
    assert!(frames.contains(&"boom".to_owned()), "{frames:?}");
}
