//! The SQLite file replaced (another fmd database renamed over it) or deleted under a
//! running application: the writer and the dashboard notice that the path names another
//! file (device and inode, not only a missing file) and reopen it, so new requests land
//! in the file at the path and the dashboard shows that file's data; nothing is written
//! into an unlinked file.

use std::path::Path;

use axum::Router;
use axum::routing::get;
use fmd::prelude::*;
use fmd_runtime::Database;
use fmd_runtime::store::AnyReader;
use fmd_tests::engines::off_runtime;
use fmd_tests::{http, spine};

#[monitored]
async fn ping() -> &'static str {
    "pong"
}

/// Requests of `/ping` stored in the file at `path` now.
fn pings(path: &Path) -> i64 {
    spine::db(path)
        .query_row(
            "SELECT count(*) FROM request_text WHERE route = '/ping'",
            [],
            |r| r.get(0),
        )
        .expect("count")
}

/// Sends `n` requests of `/ping` and waits until they are stored.
async fn send_pings(addr: std::net::SocketAddr, n: usize) {
    for _ in 0..n {
        assert_eq!(spine::get(addr, "/ping").await.status, 200);
    }
    spine::flush();
}

/// Makes a valid fmd database at `path` holding one endpoint named `marker`.
fn fresh_database_with(path: &Path, marker: &str) {
    let database = Database::Sqlite(path.to_owned());
    drop(off_runtime(|| AnyReader::open(&database).expect("create")));
    spine::db(path)
        .execute(
            "INSERT INTO endpoint(name, created_at) VALUES (?1, 0)",
            [marker],
        )
        .expect("insert the marker");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_or_deleted_file_is_reopened_by_the_writer_and_the_dashboard() {
    let path = spine::start();
    let addr = spine::serve(Router::new().route("/ping", get(ping))).await;
    let cookie = http::login(addr, "/dashboard", "admin", "test-password").await;
    let overview = || async { http::get(addr, "/dashboard", &[("cookie", &cookie)]).await };
    send_pings(addr, 5).await;
    assert_eq!(pings(path), 5);

    // Another valid fmd database (no requests) renamed over the file, its `-wal` and
    // `-shm` left behind: the first fmd connection to notice removes them (they are the
    // old file's; SQLite finds them by name) before it opens the new file. Nothing else
    // opens the path before fmd has noticed (a connection that did would read the old
    // file's WAL into the new one).
    let fresh = path.with_file_name("fresh.db");
    fresh_database_with(&fresh, "/marker-of-the-replacement");
    std::fs::rename(&fresh, path).expect("rename over the file");
    send_pings(addr, 7).await;
    let replaced = pings(path);
    let page = overview().await;
    println!("replaced: {replaced} of 7 new requests in the file at the path");
    assert_eq!(replaced, 7, "the new requests are in the file at the path");
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("/marker-of-the-replacement"),
        "the dashboard shows the new file"
    );

    // The file deleted (its WAL files left behind).
    std::fs::remove_file(path).expect("delete the file");
    send_pings(addr, 3).await;
    let recreated = pings(path);
    let page = overview().await;
    println!("deleted: {recreated} of 3 new requests in the recreated file");
    assert_eq!(
        recreated, 3,
        "the new requests are in the new file at the path"
    );
    assert_eq!(page.status, 200);
    assert!(
        !page.body.contains("/marker-of-the-replacement"),
        "the dashboard left the deleted file"
    );
    assert!(
        page.body.contains("/ping"),
        "the dashboard shows the new file"
    );
    let integrity: String = spine::db(path)
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity check");
    assert_eq!(integrity, "ok");
}
