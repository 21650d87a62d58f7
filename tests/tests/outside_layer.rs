//! A `#[monitored]` handler reached outside the layer (a route added after `bind`) records
//! no status it does not know: the response was a 409 while fmd stored 500 (and 200 for any
//! other answer). It is stored as a call with an unknown status, not as cancelled, and an
//! `Err` it returned is still an exception.

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use fmd::prelude::*;
use fmd_tests::http::serve_with_connect_info;
use fmd_tests::spine;

#[monitored]
async fn inside() -> &'static str {
    "in"
}

#[monitored]
async fn conflict() -> Result<&'static str, StatusCode> {
    Err(StatusCode::CONFLICT)
}

#[monitored]
async fn fine() -> (StatusCode, &'static str) {
    (StatusCode::ACCEPTED, "later")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_outside_the_layer_has_an_unknown_status() {
    let db = spine::start();
    // Routes added after `bind` are not wrapped by its layer.
    let app = fmd::axum::bind(Router::new().route("/inside", get(inside)))
        .route("/conflict", get(conflict))
        .route("/fine", get(fine));
    let addr = serve_with_connect_info(app).await;
    assert_eq!(spine::get(addr, "/inside").await.status, 200);
    assert_eq!(spine::get(addr, "/conflict").await.status, 409);
    assert_eq!(spine::get(addr, "/fine").await.status, 202);
    spine::flush();
    let conn = spine::db(db);
    let rows: Vec<(String, String, Option<i64>, i64)> = conn
        .prepare(
            "SELECT e.name, r.method, r.status, r.cancelled FROM request_text r
             JOIN endpoint e ON e.id = r.endpoint_id ORDER BY e.name",
        )
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let row =
        |e: &str, m: &str, s: Option<i64>| (format!("outside_layer::{e}"), m.to_owned(), s, 0);
    assert_eq!(
        rows,
        [
            row("conflict", "CALL", None),
            row("fine", "CALL", None),
            row("inside", "GET", Some(200)),
        ]
    );
    let kinds: Vec<i64> = conn
        .prepare("SELECT kind FROM exception_occurrence")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(
        kinds,
        [1],
        "the Err is still recorded, as an uncaught exception"
    );
}
