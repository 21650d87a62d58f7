//! An error's trace holds only the sites *that* error passed: a handler that ignores or
//! replaces a callee's error and then fails on its own never gets the callee's frames, and
//! an error that really came up from a callee keeps them — through `?`, `map_err`, a
//! `return Err(e)` of the callee's value, `capture!` followed by a return, and `.await`s.

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fmd::prelude::*;
use fmd_tests::spine;
use std::fmt;

const SOURCE: &str = include_str!("traces_never_mix.rs");

#[derive(Debug)]
struct AppError(String);

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AppError {}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, self.0).into_response()
    }
}

fn err(text: &str) -> AppError {
    AppError(text.to_owned())
}

#[capture]
fn first_failure(case: &str) -> Result<u32, AppError> {
    Err(err(&format!("callee failed in {case}"))) // site:first_failure
}

#[capture]
async fn slow_failure(case: &str) -> Result<u32, AppError> {
    tokio::task::yield_now().await;
    Err(err(&format!("slow callee failed in {case}"))) // site:slow_failure
}

#[capture]
async fn slow_middle(case: &str) -> Result<u32, AppError> {
    tokio::task::yield_now().await;
    let v = slow_failure(case).await?; // site:slow_middle
    Ok(v)
}

#[monitored]
#[allow(clippy::redundant_pattern_matching)] // `if let Err(_)` is the shape under test
async fn mix(Path(case): Path<String>) -> Result<String, AppError> {
    let case = case.as_str();
    match case {
        "ignored" => {
            let _ = first_failure(case);
            return Err(err("own error after ignoring")); // site:ignored
        }
        "ok" => {
            let _ = first_failure(case).ok();
            Err(err("own error after ok()")) // site:ok
        }
        "unwrap_or" => {
            let n = first_failure(case).unwrap_or(0);
            Err(err(&format!("own error after unwrap_or {n}"))) // site:unwrap_or
        }
        "if_let" => {
            if let Err(_) = first_failure(case) {
                return Err(err("own error after if let")); // site:if_let
            }
            Ok("unreachable".into())
        }
        "match_new" => match first_failure(case) {
            Err(_) => return Err(err("own error in a match arm")), // site:match_new
            Ok(_) => Ok("unreachable".into()),
        },
        "map_err" => {
            let v = first_failure(case).map_err(|e| err(&format!("wrapped: {e}")))?; // site:map_err
            Ok(v.to_string())
        }
        "return_value" => match first_failure(case) {
            Err(e) => return Err(e), // site:return_value
            Ok(v) => Ok(v.to_string()),
        },
        "capture_then_return" => {
            if let Err(e) = first_failure(case) {
                fmd::capture!(e); // site:capture
                return Err(e); // site:capture_then_return
            }
            Ok("unreachable".into())
        }
        "awaits" => {
            let v = slow_middle(case).await?; // site:awaits
            Ok(v.to_string())
        }
        _ => Ok("fine".into()),
    }
}

/// The stored trace of `message` as (function, line) pairs, innermost first.
fn frames(conn: &rusqlite::Connection, message: &str) -> Vec<(String, u32)> {
    spine::trace_of(conn, message)
        .into_iter()
        .map(|f| (f.function, f.line))
        .collect()
}

fn at(function: &str, marker: &str) -> (String, u32) {
    (function.to_owned(), spine::line_of(SOURCE, marker))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_hold_only_the_sites_their_error_passed() {
    let db = spine::start();
    let addr = spine::serve(Router::new().route("/mix/{case}", get(mix))).await;
    for case in [
        "ignored",
        "ok",
        "unwrap_or",
        "if_let",
        "match_new",
        "map_err",
        "return_value",
        "capture_then_return",
        "awaits",
    ] {
        assert_eq!(
            spine::get(addr, &format!("/mix/{case}")).await.status,
            500,
            "{case}"
        );
    }
    spine::flush();
    let conn = spine::db(db);

    // A new error of the handler's own: only the handler's site.
    for (message, marker) in [
        ("own error after ignoring", "site:ignored"),
        ("own error after ok()", "site:ok"),
        ("own error after unwrap_or 0", "site:unwrap_or"),
        ("own error after if let", "site:if_let"),
        ("own error in a match arm", "site:match_new"),
    ] {
        assert_eq!(frames(&conn, message), [at("mix", marker)], "{message}");
    }
    // The callee's error, carried up: the callee's site, then the handler's.
    assert_eq!(
        frames(&conn, "wrapped: callee failed in map_err"),
        [
            at("first_failure", "site:first_failure"),
            at("mix", "site:map_err")
        ]
    );
    assert_eq!(
        frames(&conn, "callee failed in return_value"),
        [
            at("first_failure", "site:first_failure"),
            at("mix", "site:return_value")
        ]
    );
    // Captured, then returned: both records keep the callee's site.
    let captured: Vec<(i64, u32)> = conn
        .prepare(
            "SELECT o.kind, f.line FROM exception_occurrence o
             JOIN exception_message m ON m.id = o.message_id
             JOIN exception_stackline s ON s.snapshot_id = o.snapshot_id AND s.position = 0
             JOIN exception_frame f ON f.id = s.frame_id
             WHERE m.message = 'callee failed in capture_then_return' ORDER BY o.kind",
        )
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let callee = spine::line_of(SOURCE, "site:first_failure");
    // kind 1: the returned (uncaught) error; kind 2: the captured copy.
    assert_eq!(
        captured,
        [(1, callee), (2, callee)],
        "both start at the callee"
    );
    assert_eq!(
        frames(&conn, "callee failed in capture_then_return").len(),
        2,
        "the returned error: callee, then the handler's return"
    );
    // Across `.await` twice.
    assert_eq!(
        frames(&conn, "slow callee failed in awaits"),
        [
            at("slow_failure", "site:slow_failure"),
            at("slow_middle", "site:slow_middle"),
            at("mix", "site:awaits")
        ]
    );
}
