//! A handler's outcome that became a 4xx answer is a *client error* (kind 3: shown apart,
//! never an exception to alert on), whether it was `Err(StatusCode)`, the application's
//! own error type or a bare `StatusCode` (or tuple) on the `Ok` side; an `Err` that became a
//! 5xx stays an uncaught exception (kind 1), and a bare 500 is no error record.

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fmd::prelude::*;
use fmd_tests::spine;

#[derive(Debug)]
enum AppError {
    Forbidden,
    Down,
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AppError::Forbidden => "not your order",
            AppError::Down => "payment service down",
        })
    }
}

impl std::error::Error for AppError {}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = match self {
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::Down => StatusCode::SERVICE_UNAVAILABLE,
        };
        (status, self.to_string()).into_response()
    }
}

#[monitored]
async fn missing() -> Result<&'static str, StatusCode> {
    Err(StatusCode::NOT_FOUND)
}

#[monitored]
async fn forbidden() -> Result<&'static str, AppError> {
    Err(AppError::Forbidden)
}

#[monitored]
async fn down() -> Result<&'static str, AppError> {
    Err(AppError::Down)
}

#[monitored]
async fn gone() -> StatusCode {
    StatusCode::NOT_FOUND
}

#[monitored]
async fn taken() -> (StatusCode, &'static str) {
    (StatusCode::CONFLICT, "that name is taken")
}

#[monitored]
fn gone_sync() -> StatusCode {
    StatusCode::GONE
}

#[monitored]
async fn bare_500() -> StatusCode {
    StatusCode::INTERNAL_SERVER_ERROR
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_hundreds_are_client_errors_and_five_hundreds_exceptions() {
    let db = spine::start();
    let addr = spine::serve(
        Router::new()
            .route("/missing", get(missing))
            .route("/forbidden", get(forbidden))
            .route("/down", get(down))
            .route("/gone", get(gone))
            .route("/taken", get(taken))
            .route("/gone-sync", get(|| async { gone_sync() }))
            .route("/bare-500", get(bare_500)),
    )
    .await;
    assert_eq!(spine::get(addr, "/missing").await.status, 404);
    assert_eq!(spine::get(addr, "/forbidden").await.status, 403);
    assert_eq!(spine::get(addr, "/down").await.status, 503);
    assert_eq!(spine::get(addr, "/gone").await.status, 404);
    assert_eq!(spine::get(addr, "/taken").await.status, 409);
    assert_eq!(spine::get(addr, "/gone-sync").await.status, 410);
    assert_eq!(spine::get(addr, "/bare-500").await.status, 500);
    assert_eq!(spine::get(addr, "/no-such-path").await.status, 404);
    spine::flush();
    let stored: Vec<(String, i64, String, String)> = spine::db(db)
        .prepare(
            "SELECT e.name, o.kind, t.name, m.message FROM exception_occurrence o
             JOIN exception_group g ON g.id = o.group_id
             JOIN endpoint e ON e.id = g.endpoint_id
             JOIN exception_type t ON t.id = o.type_id
             JOIN exception_message m ON m.id = o.message_id ORDER BY e.name",
        )
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let row = |e: &str, k: i64, t: &str, m: &str| (e.to_owned(), k, t.to_owned(), m.to_owned());
    assert_eq!(
        stored,
        [
            row(
                "client_errors::down",
                1,
                "client_errors::AppError",
                "payment service down"
            ),
            row(
                "client_errors::forbidden",
                3,
                "client_errors::AppError",
                "not your order"
            ),
            // A bare status on the Ok side: the same client error `Err(StatusCode)` is,
            // with the answer's text when it has one.
            row(
                "client_errors::gone",
                3,
                "http::status::StatusCode",
                "404 Not Found"
            ),
            row(
                "client_errors::gone_sync",
                3,
                "http::status::StatusCode",
                "410 Gone"
            ),
            row(
                "client_errors::missing",
                3,
                "http::status::StatusCode",
                "404 Not Found"
            ),
            row(
                "client_errors::taken",
                3,
                "(http::status::StatusCode, &str)",
                "that name is taken"
            ),
        ],
        "a bare 500 and an unmatched path's 404 are no error records"
    );
}
