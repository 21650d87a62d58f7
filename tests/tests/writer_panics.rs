//! Panics inside fmd are fenced: a batch whose storing panics is caught, counted in
//! `Stats::caught_panics` and dropped after its attempts, and the writer goes on storing
//! later events; a dashboard page that panics answers 500 on a connection that stays
//! open. Both panics come from test-only injection points that are inert unless set.

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fmd::prelude::*;
use fmd_tests::dashboard_fixture::serve;
use fmd_tests::spine;
use std::fmt;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const WRITER_MARKER: &str = "writer-panic-marker";
const PAGE_MARKER: &str = "page-panic-marker";

#[derive(Debug)]
struct Failure(String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "failed on {}", self.0)
    }
}

impl std::error::Error for Failure {}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (StatusCode::UNPROCESSABLE_ENTITY, "failure").into_response()
    }
}

#[monitored]
async fn fail(Path(what): Path<String>) -> Result<&'static str, Failure> {
    Err(Failure(what))
}

fn stored_messages(like: &str) -> i64 {
    spine::db(spine::start())
        .query_row(
            "SELECT count(*) FROM exception_message WHERE message LIKE ?1",
            [like],
            |r| r.get(0),
        )
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_batch_is_contained_counted_and_the_writer_carries_on() {
    fmd_runtime::pipeline::panic_in_writer_on(WRITER_MARKER);
    let addr = spine::serve(Router::new().route("/fail/{what}", get(fail))).await;
    let before = fmd::monitor().stats();
    let reply = spine::get(addr, &format!("/fail/{WRITER_MARKER}")).await;
    assert_eq!(reply.status, 422, "the host's own answer");
    spine::flush();
    let mid = fmd::monitor().stats();
    let caught = mid.caught_panics - before.caught_panics;
    let dropped = mid.events_dropped - before.events_dropped;
    println!("FIGURES writer panics caught: {caught}, events dropped with the batch: {dropped}");
    assert!(caught >= 1, "the writer's panic is counted");
    assert!(
        dropped >= 1,
        "the batch that cannot be stored is dropped and counted"
    );
    assert_eq!(stored_messages(&format!("%{WRITER_MARKER}%")), 0);

    for i in 0..5 {
        let reply = spine::get(addr, &format!("/fail/after-the-panic-{i}")).await;
        assert_eq!(reply.status, 422);
    }
    spine::flush();
    let after = fmd::monitor().stats();
    println!(
        "FIGURES stored after the panic: {}",
        after.events_stored - mid.events_stored
    );
    assert_eq!(
        stored_messages("failed on after-the-panic-%"),
        5,
        "the writer stores what comes after"
    );
    assert!(after.events_stored - mid.events_stored >= 5);
    assert_eq!(after.events_dropped, mid.events_dropped);
}

/// Reads one HTTP/1.1 response (with a Content-Length) from `stream`: (status, body).
async fn read_response(stream: &mut BufReader<TcpStream>) -> (u16, String) {
    let mut status_line = String::new();
    stream.read_line(&mut status_line).await.unwrap();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut length = 0;
    loop {
        let mut line = String::new();
        stream.read_line(&mut line).await.unwrap();
        if line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_page_answers_500_and_keeps_the_connection() {
    fmd_dashboard::routes::panic_in_pages_on(PAGE_MARKER);
    let fx = fmd_tests::dashboard_fixture::Fixture::new();
    let router = Router::new().nest(
        "/dashboard",
        fmd_dashboard::Dashboard::new(fx.database())
            .admin("admin", "panic-secret-1")
            .router(),
    );
    let base = serve(router).await;
    let addr: std::net::SocketAddr = base.trim_start_matches("http://").parse().unwrap();
    let cookie = fmd_tests::http::login(addr, "/dashboard", "admin", "panic-secret-1").await;
    let mut stream = BufReader::new(TcpStream::connect(addr).await.unwrap());
    for (sort, wanted) in [(PAGE_MARKER, 500), ("count", 200), (PAGE_MARKER, 500)] {
        let request = format!(
            "GET /dashboard/exceptions?sort={sort} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n\r\n"
        );
        stream
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .unwrap();
        let (status, body) = read_response(&mut stream).await;
        assert_eq!(status, wanted, "sort={sort}: {body}");
    }
}
