//! With `FMD_CLIENT_ERRORS=off` (`client_errors = false`) no client error is stored; server
//! errors still are. (Its own test binary: one monitor per process.)

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use fmd::prelude::*;
use fmd_tests::spine;

#[monitored]
async fn missing() -> Result<&'static str, StatusCode> {
    Err(StatusCode::NOT_FOUND)
}

#[monitored]
async fn gone() -> StatusCode {
    StatusCode::NOT_FOUND
}

#[monitored]
async fn broken() -> Result<&'static str, StatusCode> {
    Err(StatusCode::INTERNAL_SERVER_ERROR)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_errors_off_stores_only_server_errors() {
    let db = spine::start_with(|c| c.client_errors = false);
    let addr = spine::serve(
        Router::new()
            .route("/missing", get(missing))
            .route("/broken", get(broken))
            .route("/gone", get(gone)),
    )
    .await;
    assert_eq!(spine::get(addr, "/missing").await.status, 404);
    assert_eq!(spine::get(addr, "/gone").await.status, 404);
    assert_eq!(spine::get(addr, "/broken").await.status, 500);
    spine::flush();
    let conn = spine::db(db);
    let kinds: Vec<(String, i64)> = conn
        .prepare(
            "SELECT e.name, o.kind FROM exception_occurrence o
             JOIN exception_group g ON g.id = o.group_id
             JOIN endpoint e ON e.id = g.endpoint_id ORDER BY e.name",
        )
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(kinds, [("client_errors_off::broken".to_owned(), 1)]);
    let requests: i64 = conn
        .query_row(
            "SELECT count(*) FROM request_text WHERE status = 404",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(
        requests, 2,
        "the requests themselves are still stored with their 404"
    );
}
