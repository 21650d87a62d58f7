//! Client errors filtered apart and never alerting, on a SQLite file (see
//! `fmd_tests::client_kinds`).

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_errors_are_filtered_apart_and_never_alert_on_sqlite() {
    fmd_tests::client_kinds::client_errors_are_filtered_apart_and_never_alert(
        fmd_tests::engines::Engine::Sqlite,
    )
    .await;
}
