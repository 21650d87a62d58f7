//! Counts stay exact under overload (SQLite): with the writer blocked by another
//! connection's write lock and a queue of 8, 1,000 requests through the axum layer are all
//! in the overview's hits, 5xx count and median, while their raw rows are dropped and
//! counted.

use fmd_runtime::Database;
use fmd_tests::overload;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_counts_every_request_while_the_queue_is_full() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = Database::Sqlite(dir.path().join("fmd.db"));
    overload::every_request_counts_with_the_writer_blocked(database, "BEGIN EXCLUSIVE").await;
}
