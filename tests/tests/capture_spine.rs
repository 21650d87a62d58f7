//! The capture spine end to end: real axum server on 127.0.0.1, real SQLite file.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use fmd::prelude::*;
use fmd_tests::spine::{self, Reply};
use fmd_tests::spine_fns::{self, AppError, explode, first_failure, outer, second_failure};

const SOURCE: &str = include_str!("capture_spine.rs");

#[monitored(level = 1)]
async fn deep(Path(n): Path<u32>) -> Result<Json<u32>, AppError> {
    let value = outer(n).await?; // hop:deep
    Ok(Json(value))
}

#[monitored]
async fn found(Path(n): Path<u32>) -> Result<String, StatusCode> {
    if n == 404 {
        return Err(StatusCode::NOT_FOUND);
    }
    Ok(format!("item {n}"))
}

#[monitored]
async fn boom() -> &'static str {
    explode(3) // call:explode
}

#[monitored]
async fn handled_then_failed() -> Result<&'static str, AppError> {
    if let Err(e) = first_failure() {
        fmd::capture!(e); // capture:handled
    }
    second_failure()?; // hop:second-caller
    Ok("unreachable")
}

async fn plain() -> &'static str {
    "not annotated"
}

/// Same type and message, two call paths.
#[monitored]
async fn two_paths(Path(which): Path<u32>) -> Result<&'static str, AppError> {
    if which == 1 {
        path_one()?;
    } else {
        path_two()?;
    }
    Ok("ok")
}

#[capture]
fn path_one() -> Result<(), AppError> {
    Err(AppError::Missing(7))
}

#[capture]
fn path_two() -> Result<(), AppError> {
    Err(AppError::Missing(7))
}

/// Reports the logical stack as seen after an await, inside nested functions.
#[monitored]
async fn stack_probe(Path(id): Path<u32>) -> String {
    probe_outer(id).await
}

#[capture]
async fn probe_outer(id: u32) -> String {
    tokio::time::sleep(std::time::Duration::from_millis(u64::from(id % 7))).await;
    probe_inner(id).await
}

#[capture]
async fn probe_inner(id: u32) -> String {
    tokio::task::yield_now().await;
    tokio::time::sleep(std::time::Duration::from_millis(u64::from(id % 5))).await;
    let names: Vec<&str> = fmd_runtime::request::snapshot()
        .iter()
        .map(|f| f.info.name)
        .collect();
    names.join(">")
}

fn router() -> Router {
    Router::new()
        .route("/deep/{n}", get(deep))
        .route("/found/{n}", get(found))
        .route("/boom", get(boom))
        .route("/handled", get(handled_then_failed))
        .route("/plain", get(plain))
        .route("/paths/{which}", get(two_paths))
        .route("/probe/{id}", get(stack_probe))
}

fn statuses(conn: &rusqlite::Connection, route: &str) -> Vec<(String, Option<u16>)> {
    let mut stmt = conn
        .prepare(
            "SELECT e.name, r.status FROM request_text r JOIN endpoint e ON e.id = r.endpoint_id
             WHERE r.route = ?1 ORDER BY r.id",
        )
        .unwrap();
    stmt.query_map([route], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_codes_of_every_kind_of_outcome_are_recorded() {
    let addr = spine::serve(router()).await;
    let cases = [
        ("/found/1", 200),
        ("/found/404", 404),
        ("/deep/500", 500),
        ("/boom", 500),
        ("/plain", 200),
        ("/definitely/not/a/route?x=1", 404),
    ];
    for (path, expected) in cases {
        let Reply { status, .. } = spine::get(addr, path).await;
        assert_eq!(status, expected, "{path}");
    }
    spine::flush();
    let conn = spine::db(spine::start());
    let found = statuses(&conn, "/found/{n}");
    assert!(found.contains(&("capture_spine::found".into(), Some(200))));
    assert!(found.contains(&("capture_spine::found".into(), Some(404))));
    assert!(statuses(&conn, "/deep/{n}").contains(&("capture_spine::deep".into(), Some(500))));
    assert!(statuses(&conn, "/boom").contains(&("capture_spine::boom".into(), Some(500))));
    // A route without #[monitored] is its own endpoint, named by its route template.
    assert!(statuses(&conn, "/plain").contains(&("/plain".into(), Some(200))));
    // Unmatched paths share one endpoint; the raw URI is never stored.
    assert!(statuses(&conn, "(unmatched)").contains(&("(unmatched)".into(), Some(404))));
    let raw: i64 = conn
        .query_row(
            "SELECT count(*) FROM request_text WHERE route LIKE '%definitely%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(raw, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_three_functions_deep_is_stored_with_each_hop_and_its_source() {
    let addr = spine::serve(router()).await;
    assert_eq!(spine::get(addr, "/deep/101").await.status, 500);
    spine::flush();
    let conn = spine::db(spine::start());
    spine_fns::assert_three_deep(&conn, SOURCE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handled_error_and_a_later_error_keep_separate_traces() {
    let addr = spine::serve(router()).await;
    assert_eq!(spine::get(addr, "/handled").await.status, 500);
    spine::flush();
    let conn = spine::db(spine::start());
    spine_fns::assert_handled_then_failed(&conn, SOURCE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_a_500_with_its_location_and_logical_stack() {
    let addr = spine::serve(router()).await;
    let reply = spine::get(addr, "/boom").await;
    assert_eq!(reply.status, 500);
    spine::flush();
    let conn = spine::db(spine::start());
    spine_fns::assert_panic_trace(&conn, SOURCE);
    // The server is still up.
    assert_eq!(spine::get(addr, "/found/2").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_error_twice_is_one_group_and_two_call_paths_are_two() {
    let addr = spine::serve(router()).await;
    for path in ["/paths/1", "/paths/1", "/paths/2"] {
        assert_eq!(spine::get(addr, path).await.status, 500);
    }
    spine::flush();
    let conn = spine::db(spine::start());
    let mut counts = spine::group_counts(&conn, "item 7 is missing");
    counts.sort();
    assert_eq!(counts, [1, 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capture_outside_a_request_is_stored_without_one() {
    spine::start();
    let err = std::io::Error::new(std::io::ErrorKind::NotFound, "nightly job lost its file");
    fmd::capture!(err);
    // The value was borrowed, not moved.
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    spine::flush();
    let conn = spine::db(spine::start());
    let (request, endpoint, kind): (Option<i64>, String, i64) = conn
        .query_row(
            "SELECT o.request_id, e.name, o.kind FROM exception_occurrence o
             JOIN exception_message m ON m.id = o.message_id
             JOIN exception_group g ON g.id = o.group_id
             JOIN endpoint e ON e.id = g.endpoint_id
             WHERE m.message = 'nightly job lost its file'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (request, endpoint.as_str(), kind),
        (None, "(background)", 2)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_logical_stack_stays_right_under_50_concurrent_requests() {
    let addr = spine::serve(router()).await;
    let requests = (0..50)
        .map(|id| tokio::spawn(async move { spine::get(addr, &format!("/probe/{id}")).await }));
    for request in requests {
        let reply = request.await.unwrap();
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body, "probe_inner>probe_outer>stack_probe");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_failing_requests_share_one_exact_trace() {
    let addr = spine::serve(router()).await;
    let requests =
        (0..50).map(|_| tokio::spawn(async move { spine::get(addr, "/deep/150").await }));
    for request in requests {
        assert_eq!(request.await.unwrap().status, 500);
    }
    spine::flush();
    let conn = spine::db(spine::start());
    let snapshots: i64 = conn
        .query_row(
            "SELECT count(DISTINCT o.snapshot_id) FROM exception_occurrence o
             JOIN exception_message m ON m.id = o.message_id
             WHERE m.message = 'storage is broken'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(snapshots, 1, "every request got the same four-frame trace");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_request_is_recorded_as_cancelled() {
    use tower::ServiceExt;
    spine::start();
    async fn slow() -> &'static str {
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        "too late"
    }
    let app = fmd::axum::bind(Router::new().route("/slow-cancelled", get(slow)));
    let request = axum::http::Request::get("/slow-cancelled")
        .body(axum::body::Body::empty())
        .unwrap();
    let outcome =
        tokio::time::timeout(std::time::Duration::from_millis(100), app.oneshot(request)).await;
    assert!(outcome.is_err(), "timed out");
    spine::flush();
    let conn = spine::db(spine::start());
    let (status, cancelled): (Option<u16>, bool) = conn
        .query_row(
            "SELECT status, cancelled FROM request_text WHERE route = '/slow-cancelled'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((status, cancelled), (None, true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stores_every_event_of_a_run() {
    let addr = spine::serve(router()).await;
    let before = fmd::monitor().stats();
    for i in 0..200 {
        assert_eq!(spine::get(addr, &format!("/found/{i}")).await.status, 200);
    }
    assert!(fmd::shutdown(), "flushed");
    let after = fmd::monitor().stats();
    assert_eq!(after.events_dropped, before.events_dropped);
    let conn = spine::db(spine::start());
    let stored: i64 = conn
        .query_row(
            "SELECT count(*) FROM request_text WHERE route = '/found/{n}' AND status = 200",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(stored >= 200, "stored {stored}");
}
