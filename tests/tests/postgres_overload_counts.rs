//! Counts stay exact under overload (PostgreSQL): with the writer blocked behind another
//! connection's table lock and a queue of 8, 1,000 requests through the axum layer are all
//! in the overview's hits, 5xx count and median, while their raw rows are dropped and
//! counted.

use fmd_runtime::Database;
use fmd_tests::engines::fresh_postgres_database;
use fmd_tests::overload;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_counts_every_request_while_the_queue_is_full() {
    let database = Database::Postgres(fresh_postgres_database());
    overload::every_request_counts_with_the_writer_blocked(
        database,
        "BEGIN; LOCK TABLE request_hourly IN ACCESS EXCLUSIVE MODE",
    )
    .await;
}
