//! A streamed answer (server-sent events, a slow chunked body) lasts until its last byte:
//! a 3-event stream was stored with the time to its headers (about 200 µs). Static files
//! served by `nest_service` and `fallback_service(ServeDir)` counted with unmatched paths;
//! axum gives the layer no route template for them, so they count for `(fallback)`.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::response::sse::{Event, Sse};
use axum::routing::get;
use fmd::prelude::*;
use fmd_tests::spine;
use std::convert::Infallible;
use std::time::Duration;

/// Every event waits this long before it is sent.
const GAP: Duration = Duration::from_millis(100);

fn slow_items() -> impl futures_util::Stream<Item = u32> {
    futures_util::stream::unfold(0u32, |n| async move {
        if n == 3 {
            return None;
        }
        tokio::time::sleep(GAP).await;
        Some((n, n + 1))
    })
}

#[monitored]
async fn events() -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    use futures_util::StreamExt;
    Sse::new(slow_items().map(|n| Ok(Event::default().data(n.to_string()))))
}

#[monitored]
async fn chunked() -> Body {
    use futures_util::StreamExt;
    Body::from_stream(
        slow_items().map(|n| Ok::<_, Infallible>(Bytes::from(format!("chunk {n}\n")))),
    )
}

fn durations_us(conn: &rusqlite::Connection, endpoint: &str) -> Vec<i64> {
    conn.prepare(
        "SELECT r.duration_us FROM request_text r JOIN endpoint e ON e.id = r.endpoint_id
         WHERE e.name = ?1",
    )
    .expect("prepare")
    .query_map([endpoint], |r| r.get(0))
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_answers_last_until_their_last_byte() {
    let db = spine::start();
    let addr = spine::serve(
        Router::new()
            .route("/events", get(events))
            .route("/chunked", get(chunked)),
    )
    .await;
    let sse = spine::get(addr, "/events").await;
    assert_eq!(sse.status, 200);
    assert!(sse.body.contains("data: 2"), "{}", sse.body);
    let chunks = spine::get(addr, "/chunked").await;
    assert!(chunks.body.contains("chunk 2"), "{}", chunks.body);
    spine::flush();
    let conn = spine::db(db);
    // Three gaps are slept before the last byte: the duration cannot be shorter.
    let at_least = 3 * GAP.as_micros() as i64;
    for endpoint in ["streams_and_files::events", "streams_and_files::chunked"] {
        let stored = durations_us(&conn, endpoint);
        println!("{endpoint}: {stored:?} µs");
        assert_eq!(stored.len(), 1, "{endpoint}");
        assert!(stored[0] >= at_least, "{endpoint}: {} µs", stored[0]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_files_count_for_their_route() {
    let db = spine::start();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("app.css"), "body { color: teal }").expect("write");
    // route_service does not strip the route's prefix: /files/app.css is <dir>/files/app.css.
    std::fs::create_dir(dir.path().join("files")).expect("mkdir");
    std::fs::write(dir.path().join("files/app.css"), "body { color: teal }").expect("write");
    let addr = spine::serve(
        Router::new()
            .nest_service("/assets", tower_http::services::ServeDir::new(dir.path()))
            // What the README advises for files with a route of their own.
            .route_service(
                "/files/{*path}",
                tower_http::services::ServeDir::new(dir.path()),
            )
            .fallback_service(tower_http::services::ServeDir::new(dir.path())),
    )
    .await;
    assert_eq!(spine::get(addr, "/assets/app.css").await.status, 200);
    assert_eq!(spine::get(addr, "/app.css").await.status, 200);
    assert_eq!(spine::get(addr, "/missing.css").await.status, 404);
    assert_eq!(spine::get(addr, "/files/app.css").await.status, 200);
    spine::flush();
    let rows: Vec<(String, String, i64)> = spine::db(db)
        .prepare(
            "SELECT e.name, r.route, r.status FROM request_text r
             JOIN endpoint e ON e.id = r.endpoint_id WHERE r.route NOT LIKE '/events%'
             AND r.route NOT LIKE '/chunked%' ORDER BY r.id",
        )
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let row = |e: &str, s: i64| (e.to_owned(), e.to_owned(), s);
    assert_eq!(
        rows,
        [
            row("(fallback)", 200),
            row("(fallback)", 200),
            row("(unmatched)", 404),
            row("/files/{*path}", 200),
        ],
        "files served count for the fallback, not with unmatched paths"
    );
}
