//! The queue is bounded in bytes, not only in events: while the store is stalled, requests
//! with huge error messages cost the host at most the byte budget, and the rest are
//! dropped and counted.

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fmd::prelude::*;
use fmd_tests::spine;

/// An error whose message is 64 KiB (the largest message fmd stores).
#[derive(Debug)]
struct Huge;

impl std::fmt::Display for Huge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&"x".repeat(64 * 1024))
    }
}

impl std::error::Error for Huge {}

impl IntoResponse for Huge {
    fn into_response(self) -> Response {
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    }
}

#[monitored]
async fn explode() -> Result<&'static str, Huge> {
    Err(Huge)
}

fn resident() -> u64 {
    fmd::process::resident_bytes().expect("resident memory is readable on Linux")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_store_with_huge_messages_costs_at_most_the_byte_budget() {
    // The default budget (16 MiB) with the default count bound (65 536 events: 4 GiB of
    // such events if only the count held them back).
    let path = spine::start_with(|c| assert_eq!(c.queue_bytes, 16 << 20));
    let addr = spine::serve(Router::new().route("/explode", get(explode))).await;
    assert_eq!(spine::get(addr, "/explode").await.status, 500);
    spine::flush();
    // The debug information fmd loads ahead at start is a one-time cost (tens of MiB for
    // this debug binary, more with RUST_BACKTRACE set), not growth under load.
    for _ in 0..600 {
        if fmd_runtime::pipeline::symbols_loaded() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        fmd_runtime::pipeline::symbols_loaded(),
        "symbols loaded within a minute"
    );

    // Another connection holds the write lock: the writer keeps its batch and retries.
    let locker = spine::db(path);
    locker
        .execute_batch("BEGIN EXCLUSIVE")
        .expect("lock the database");
    let before_stats = fmd::monitor().stats();
    let before = resident();
    let sent = 5_000u64;
    let mut tasks = Vec::new();
    for worker in 0..8 {
        tasks.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            for _ in (worker..sent).step_by(8) {
                statuses.push(spine::get(addr, "/explode").await.status);
            }
            statuses
        }));
    }
    for t in tasks {
        for status in t.await.expect("client task") {
            assert_eq!(status, 500, "the application answered as always");
        }
    }
    let grown = resident().saturating_sub(before);
    let during = fmd::monitor().stats();
    let dropped = during.events_dropped - before_stats.events_dropped;
    let queued = during.events_queued - before_stats.events_queued;
    println!(
        "5,000 requests with 64 KiB messages, store locked: {queued} queued, {dropped} dropped, \
         resident memory +{:.1} MiB",
        grown as f64 / (1 << 20) as f64
    );
    assert_eq!(queued + dropped, sent, "every event was queued or counted");
    assert!(dropped > 4_000, "most were dropped: {dropped}");
    assert!(
        grown < 32 << 20,
        "resident memory grew by {grown} bytes, over 32 MiB"
    );

    locker.execute_batch("ROLLBACK").expect("unlock");
    drop(locker);
    spine::flush();
    assert!(
        !fmd::monitor().stats().storage_failing,
        "the writer recovered"
    );
}
