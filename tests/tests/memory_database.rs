//! `FMD_DATABASE=:memory:` for an application's own tests: fmd records as usual into an
//! in-memory SQLite database, writes no file and does not reopen the store per batch.

use axum::Router;
use axum::routing::get;
use fmd::prelude::*;
use fmd_tests::spine;

#[monitored]
async fn ping() -> &'static str {
    "pong"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_memory_database_records_without_files() {
    let here: Vec<_> = std::fs::read_dir(".")
        .expect("list")
        .flatten()
        .map(|e| e.path())
        .collect();
    spine::start_with(|c| c.database = fmd::Database::parse(":memory:"));
    let addr = spine::serve(Router::new().route("/ping", get(ping))).await;
    let before = fmd::monitor().stats();
    for batch in 0..3 {
        for _ in 0..10 {
            assert_eq!(spine::get(addr, "/ping").await.status, 200);
        }
        spine::flush();
        let stats = fmd::monitor().stats();
        assert_eq!(
            stats.events_stored - before.events_stored,
            10 * (batch + 1),
            "every request stored"
        );
        assert!(!stats.storage_failing);
    }
    let after: Vec<_> = std::fs::read_dir(".")
        .expect("list")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(here.len(), after.len(), "no file was created: {after:?}");
    assert!(!std::path::Path::new(":memory:").exists());
}
