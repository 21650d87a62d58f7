//! Client errors filtered apart and never alerting, on PostgreSQL (see
//! `fmd_tests::client_kinds`; a process has one monitor, so each engine has its binary).

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_errors_are_filtered_apart_and_never_alert_on_postgres() {
    fmd_tests::client_kinds::client_errors_are_filtered_apart_and_never_alert(
        fmd_tests::engines::Engine::Postgres,
    )
    .await;
}
