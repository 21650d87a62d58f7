//! A handler's `Err` that became a 4xx answer is a *client error* (kind 3: shown apart,
//! never an exception to alert on), whether it was `Err(StatusCode)` or the application's
//! own error type; one that became a 5xx stays an uncaught exception (kind 1).

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

async fn kinds_stored(client_errors: bool) -> Vec<(String, i64)> {
    let db = spine::start_with(|c| c.client_errors = client_errors);
    let addr = spine::serve(
        Router::new()
            .route("/missing", get(missing))
            .route("/forbidden", get(forbidden))
            .route("/down", get(down)),
    )
    .await;
    assert_eq!(spine::get(addr, "/missing").await.status, 404);
    assert_eq!(spine::get(addr, "/forbidden").await.status, 403);
    assert_eq!(spine::get(addr, "/down").await.status, 503);
    spine::flush();
    spine::db(db)
        .prepare(
            "SELECT e.name, o.kind FROM exception_occurrence o
             JOIN exception_group g ON g.id = o.group_id
             JOIN endpoint e ON e.id = g.endpoint_id ORDER BY e.name",
        )
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_hundreds_are_client_errors_and_five_hundreds_exceptions() {
    let kinds = kinds_stored(true).await;
    assert_eq!(
        kinds,
        [
            ("client_errors::down".to_owned(), 1),
            ("client_errors::forbidden".to_owned(), 3),
            ("client_errors::missing".to_owned(), 3),
        ]
    );
}
