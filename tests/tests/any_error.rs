//! Every `Err` a monitored handler returns is recorded, whatever traits its type has: the
//! axum example's `struct AppError(anyhow::Error)` with neither `Debug` nor `Display`, and
//! the same with `#[derive(Debug)]` while anyhow captures backtraces — whose text never
//! reaches the message, so one error stays one group.

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fmd::prelude::*;
use fmd_tests::spine;

/// The anyhow pattern from axum's examples: no `Debug`, no `Display`.
struct Opaque(anyhow::Error);

impl IntoResponse for Opaque {
    fn into_response(self) -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, self.0.to_string()).into_response()
    }
}

/// The same with the `Debug` people derive.
#[derive(Debug)]
struct Wrapped(anyhow::Error);

impl IntoResponse for Wrapped {
    fn into_response(self) -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, self.0.to_string()).into_response()
    }
}

fn load() -> anyhow::Result<u32> {
    let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
    Err(anyhow::Error::new(refused).context("failed to load the forecast"))
}

#[monitored]
async fn opaque() -> Result<String, Opaque> {
    let n = load().map_err(Opaque)?;
    Ok(n.to_string())
}

#[monitored]
async fn wrapped() -> Result<String, Wrapped> {
    let n = load().map_err(Wrapped)?;
    Ok(n.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_without_traits_and_with_backtraces_are_recorded_once() {
    // anyhow captures a backtrace into every error from now on (read once per process).
    // SAFETY: set before any thread of this test reads the environment.
    unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "1") };
    let db = spine::start();
    let addr = spine::serve(
        Router::new()
            .route("/opaque", get(opaque))
            .route("/wrapped", get(wrapped)),
    )
    .await;
    for path in ["/opaque", "/opaque", "/wrapped", "/wrapped"] {
        assert_eq!(spine::get(addr, path).await.status, 500, "{path}");
    }
    spine::flush();
    let conn = spine::db(db);
    let groups: Vec<(String, String, String, i64)> = conn
        .prepare(
            "SELECT e.name, t.name, m.message, g.count FROM exception_group g
             JOIN endpoint e ON e.id = g.endpoint_id
             JOIN exception_type t ON t.id = g.type_id
             JOIN exception_message m ON m.id = g.message_id
             ORDER BY e.name",
        )
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(groups.len(), 2, "one group per handler: {groups:#?}");
    let (endpoint, type_name, message, count) = &groups[0];
    assert_eq!(endpoint, "any_error::opaque");
    assert!(type_name.ends_with("Opaque"), "{type_name}");
    assert!(message.is_empty(), "nothing describes it: {message:?}");
    assert_eq!(*count, 2);

    let (endpoint, type_name, message, count) = &groups[1];
    assert_eq!(endpoint, "any_error::wrapped");
    assert!(type_name.ends_with("Wrapped"), "{type_name}");
    assert!(
        message.contains("failed to load the forecast") && message.contains("connection refused"),
        "the Debug text describes it: {message:?}"
    );
    assert!(
        !message.contains("Stack backtrace") && !message.contains("backtrace"),
        "no backtrace text in the message: {message:?}"
    );
    assert_eq!(*count, 2, "the same error is one group");
}
