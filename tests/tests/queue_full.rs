//! A writer that cannot keep up (here: the database is locked by another process's
//! transaction) never slows or stops the application: events wait up to the queue bound,
//! then are dropped and counted; when the lock goes away the writer recovers by itself.

use axum::Router;
use axum::routing::get;
use fmd::prelude::*;
use fmd_tests::spine;

#[monitored]
async fn ping() -> &'static str {
    "pong"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_drops_and_counts_while_the_app_keeps_answering() {
    let path = spine::start_with(|c| c.queue_capacity = 8);
    let addr = spine::serve(Router::new().route("/ping", get(ping))).await;
    assert_eq!(spine::get(addr, "/ping").await.status, 200);
    spine::flush();

    // Another connection holds the write lock: every write of fmd's writer now fails.
    let locker = spine::db(path);
    locker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let before = fmd::monitor().stats();
    let sent = 100;
    for _ in 0..sent {
        assert_eq!(spine::get(addr, "/ping").await.status, 200);
    }
    let during = fmd::monitor().stats();
    let dropped = during.events_dropped - before.events_dropped;
    let queued = during.events_queued - before.events_queued;
    assert!(dropped > 0, "the queue overflowed and drops were counted");
    assert_eq!(
        dropped + queued,
        sent,
        "every event was either queued or counted"
    );
    assert!(
        queued <= 8 + 1,
        "no more than the bound (+ the batch in hand) waited"
    );

    locker.execute_batch("ROLLBACK").unwrap();
    drop(locker);
    spine::flush();
    let after = fmd::monitor().stats();
    assert!(after.events_stored >= before.events_stored + queued);
    assert!(!after.storage_failing, "the writer recovered by itself");
    let stored: i64 = spine::db(path)
        .query_row(
            "SELECT count(*) FROM request_text WHERE route = '/ping'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored as u64, 1 + queued);
}
