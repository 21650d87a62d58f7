//! Answers the handler never made — extractor rejections (bad JSON, bad path or query, a
//! failed auth extractor), the method router's 405, the body limit's 413, a timeout
//! layer's 408 — count for the handler's endpoint (the one `#[monitored]` names), never
//! for a twin endpoint named after the route, and keep the answer's text as the client
//! error's message.

use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Query};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use fmd::prelude::*;
use fmd_tests::{http, spine};
use std::time::Duration;

#[derive(serde::Deserialize)]
struct Item {
    name: String,
}

#[monitored]
async fn create(Json(item): Json<Item>) -> String {
    item.name
}

#[monitored]
async fn show(Path(id): Path<u32>) -> String {
    id.to_string()
}

#[derive(serde::Deserialize)]
struct Page {
    page: u32,
}

#[monitored]
async fn list(Query(p): Query<Page>) -> String {
    p.page.to_string()
}

struct User;

impl<S: Send + Sync> FromRequestParts<S> for User {
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.headers.contains_key("x-user") {
            true => Ok(User),
            false => Err((StatusCode::UNAUTHORIZED, "sign in first")),
        }
    }
}

#[monitored]
async fn me(_user: User) -> &'static str {
    "you"
}

#[monitored]
async fn upload(body: axum::body::Bytes) -> String {
    body.len().to_string()
}

#[monitored]
async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(30)).await;
    "late"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejections_count_for_the_handler_with_their_text() {
    let db = spine::start();
    let router = Router::new()
        .route("/items", post(create))
        .route("/items/{id}", get(show))
        .route("/list", get(list))
        .route("/me", get(me))
        .route("/upload", post(upload).layer(DefaultBodyLimit::max(16)))
        .route(
            "/slow",
            get(slow).layer(tower_http::timeout::TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                Duration::from_millis(50),
            )),
        );
    let addr = spine::serve(router).await;
    const JSON: &[(&str, &str)] = &[("content-type", "application/json")];
    let send =
        |method: &'static str, path: &'static str, headers: &'static [(&str, &str)], body: &str| {
            let body = body.to_owned();
            async move { http::send(addr, method, path, headers, body).await.status }
        };
    // Each handler runs once, as in a live application.
    assert_eq!(send("POST", "/items", JSON, r#"{"name":"a"}"#).await, 200);
    assert_eq!(send("GET", "/items/7", &[], "").await, 200);
    assert_eq!(send("GET", "/list?page=1", &[], "").await, 200);
    assert_eq!(send("GET", "/me", &[("x-user", "1")], "").await, 200);
    assert_eq!(send("POST", "/upload", &[], "small").await, 200);
    // Then the answers the handlers never made.
    assert_eq!(send("POST", "/items", JSON, "{bad").await, 400);
    assert_eq!(send("POST", "/items", &[], r#"{"name":"a"}"#).await, 415);
    assert_eq!(send("GET", "/items/abc", &[], "").await, 400);
    assert_eq!(send("GET", "/list?page=x", &[], "").await, 400);
    assert_eq!(send("GET", "/me", &[], "").await, 401);
    assert_eq!(send("DELETE", "/items", &[], "").await, 405);
    assert_eq!(send("POST", "/upload", &[], &"x".repeat(100)).await, 413);
    assert_eq!(send("GET", "/slow", &[], "").await, 408);
    spine::flush();

    let conn = spine::db(db);
    let endpoints: Vec<String> = conn
        .prepare("SELECT name FROM endpoint ORDER BY name")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert!(
        endpoints.iter().all(|e| !e.starts_with('/')),
        "no endpoint named after a route: {endpoints:?}"
    );
    let requests = |endpoint: &str| -> i64 {
        conn.query_row(
            "SELECT count(*) FROM request_text r JOIN endpoint e ON e.id = r.endpoint_id
             WHERE e.name = ?1",
            [endpoint],
            |r| r.get(0),
        )
        .expect("count")
    };
    assert_eq!(requests("rejections::create"), 4, "200, 400, 415 and 405");
    assert_eq!(requests("rejections::show"), 2);
    assert_eq!(requests("rejections::list"), 2);
    assert_eq!(requests("rejections::me"), 2);
    assert_eq!(requests("rejections::upload"), 2);
    assert_eq!(requests("rejections::slow"), 1);

    let stored: Vec<(String, i64, String, String)> = conn
        .prepare(
            "SELECT e.name, o.kind, t.name, m.message FROM exception_occurrence o
             JOIN exception_group g ON g.id = o.group_id
             JOIN endpoint e ON e.id = g.endpoint_id
             JOIN exception_type t ON t.id = o.type_id
             JOIN exception_message m ON m.id = o.message_id ORDER BY o.id",
        )
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    for row in &stored {
        println!("{row:?}");
    }
    let expected = [
        ("create", "Failed to parse the request body as JSON"),
        (
            "create",
            "Expected request with `Content-Type: application/json`",
        ),
        ("show", "Cannot parse `abc` to a `u32`"),
        ("list", "Failed to deserialize query string"),
        ("me", "sign in first"),
        ("create", "405 Method Not Allowed"),
        ("upload", "length limit exceeded"),
        ("slow", "408 Request Timeout"),
    ];
    assert_eq!(stored.len(), expected.len(), "{stored:?}");
    for ((endpoint, kind, type_name, message), (want_endpoint, want_text)) in
        stored.iter().zip(expected)
    {
        assert_eq!(endpoint, &format!("rejections::{want_endpoint}"));
        assert_eq!(*kind, 3, "a client error: {message}");
        assert!(message.contains(want_text), "{message:?} has {want_text:?}");
        assert!(message.len() <= fmd_runtime::request::MAX_ANSWER, "bounded");
        let who = if want_endpoint == "slow" {
            "(answered by a layer)"
        } else {
            "(rejected before the handler)"
        };
        assert_eq!(type_name, who);
    }
}
