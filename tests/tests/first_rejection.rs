//! A fresh process whose first request is a rejection, on a SQLite file (see
//! `fmd_tests::first_rejection`).

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_rejection_joins_the_handler_endpoint_on_sqlite() {
    fmd_tests::first_rejection::a_first_rejection_joins_the_handler_endpoint(
        fmd_tests::engines::Engine::Sqlite,
    )
    .await;
}
