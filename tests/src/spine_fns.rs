//! The functions the spine tests of every framework call from their handlers (axum:
//! `capture_spine.rs`, `levels.rs`; actix-web: `actix_spine.rs`): an error three
//! `#[capture]` functions deep, a panic, handled errors, and the call trees of levels 2
//! and 3. Their lines are found by the `// hop:..` markers in [`SOURCE`] ([`line()`]).

use fmd::prelude::*;
use std::fmt;
use std::time::Duration;

/// This file's text, for the markers.
pub const SOURCE: &str = include_str!("spine_fns.rs");

/// The line of this file that holds `marker`.
pub fn line(marker: &str) -> u32 {
    crate::spine::line_of(SOURCE, marker)
}

/// The error the handlers return.
#[derive(Debug)]
pub enum AppError {
    /// An item that is not there.
    Missing(u32),
    /// A failure with a source.
    Broken(std::io::Error),
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Missing(n) => write!(f, "item {n} is missing"),
            AppError::Broken(_) => f.write_str("storage is broken"),
        }
    }
}

impl std::error::Error for AppError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AppError::Broken(e) => Some(e),
            AppError::Missing(_) => None,
        }
    }
}

impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        let status = axum::http::StatusCode::INTERNAL_SERVER_ERROR;
        (status, self.to_string()).into_response()
    }
}

// actix answers an `Err` with the error's status (500 by default) and its text.
impl actix_web::ResponseError for AppError {}

/// The outermost of three: `n > 100` fails in [`innermost`].
#[capture]
pub async fn outer(n: u32) -> Result<u32, AppError> {
    tokio::task::yield_now().await;
    let v = middle(n)?; // hop:outer
    Ok(v + 1)
}

/// The middle of three.
#[capture]
pub fn middle(n: u32) -> Result<u32, AppError> {
    // A comment that must be stored verbatim.
    let v = innermost(n)?; // hop:middle
    Ok(v * 2)
}

/// Where the error starts.
#[capture]
pub fn innermost(n: u32) -> Result<u32, AppError> {
    if n > 100 {
        return Err(AppError::Broken(std::io::Error::other("disk on fire"))); // hop:innermost
    }
    Ok(n)
}

/// Panics (`exploded at {n}`) unless `n` is 0.
#[capture]
pub fn explode(n: u32) -> &'static str {
    if n > 0 {
        panic!("exploded at {n}"); // panic:explode
    }
    "never"
}

/// An error that is captured and handled.
#[capture]
pub fn first_failure() -> Result<(), AppError> {
    Err(AppError::Missing(1)) // hop:first
}

/// An error that is returned.
#[capture]
pub fn second_failure() -> Result<(), AppError> {
    Err(AppError::Missing(2)) // hop:origin-of-second
}

/// Sleeps `ms` milliseconds (the slow part of a level-2 request).
#[capture]
pub async fn gather(ms: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ms
}

/// A level-3 call tree's middle: sleeps 5 ms, then calls [`leaf_step`].
#[capture]
pub async fn middle_step(n: u32) -> u64 {
    tokio::time::sleep(Duration::from_millis(5)).await;
    leaf_step(n)
}

/// A level-3 call tree's leaf.
#[capture]
pub fn leaf_step(n: u32) -> u64 {
    (0..1_000u64).map(|i| i * u64::from(n)).sum()
}

/// The error of `/deep/101` as stored: the trace `innermost → middle → outer → deep` with
/// each hop's line (the handler's in `handler_source`, marked `hop:deep`), the middle
/// function's verbatim source, the type and the `source()` chain.
pub fn assert_three_deep(conn: &rusqlite::Connection, handler_source: &str) {
    let trace = crate::spine::trace_of(conn, "storage is broken");
    let names: Vec<&str> = trace.iter().map(|f| f.function.as_str()).collect();
    assert_eq!(names, ["innermost", "middle", "outer", "deep"]);
    let lines: Vec<u32> = trace.iter().map(|f| f.line).collect();
    let expected: Vec<u32> = ["hop:innermost", "hop:middle", "hop:outer"]
        .iter()
        .map(|m| line(m))
        .chain([crate::spine::line_of(handler_source, "hop:deep")])
        .collect();
    assert_eq!(lines, expected);
    let middle = trace[1].code.as_deref().expect("source stored");
    assert!(middle.contains("// A comment that must be stored verbatim."));
    assert!(
        middle.starts_with("/// The middle of three.\n#[capture]\npub fn middle(n: u32)"),
        "{middle}"
    );
    // The type, message and source() chain.
    let (type_name, chain): (String, String) = conn
        .query_row(
            "SELECT t.name, o.source_chain FROM exception_occurrence o
             JOIN exception_type t ON t.id = o.type_id
             JOIN exception_message m ON m.id = o.message_id
             WHERE m.message = 'storage is broken' AND o.kind = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(type_name, "fmd_tests::spine_fns::AppError");
    assert_eq!(chain, r#"["disk on fire"]"#);
}

/// The two errors of `/handled` as stored: a captured one (`capture:handled` in
/// `handler_source`) and a returned one (`hop:second-caller`), each with its own trace,
/// both on the same request.
pub fn assert_handled_then_failed(conn: &rusqlite::Connection, handler_source: &str) {
    let first = crate::spine::trace_of(conn, "item 1 is missing");
    let names: Vec<&str> = first.iter().map(|f| f.function.as_str()).collect();
    assert_eq!(names, ["first_failure", "handled_then_failed"]);
    assert_eq!(first[0].line, line("hop:first"));
    let handler_line = |marker| crate::spine::line_of(handler_source, marker);
    assert_eq!(first[1].line, handler_line("capture:handled"));
    let second = crate::spine::trace_of(conn, "item 2 is missing");
    let names: Vec<&str> = second.iter().map(|f| f.function.as_str()).collect();
    assert_eq!(names, ["second_failure", "handled_then_failed"]);
    assert_eq!(second[0].line, line("hop:origin-of-second"));
    assert_eq!(second[1].line, handler_line("hop:second-caller"));
    // Both belong to the same request: one captured, one uncaught.
    let kinds: Vec<(i64, i64)> = conn
        .prepare(
            "SELECT o.kind, o.request_id FROM exception_occurrence o
             JOIN exception_message m ON m.id = o.message_id
             WHERE m.message IN ('item 1 is missing', 'item 2 is missing') ORDER BY o.id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(kinds.len(), 2);
    assert_eq!((kinds[0].0, kinds[1].0), (2, 1));
    assert_eq!(kinds[0].1, kinds[1].1);
}

/// The panic of `/boom` as stored: `explode → boom`, the panic's line and the handler's
/// call (`call:explode` in `handler_source`, from the native backtrace).
pub fn assert_panic_trace(conn: &rusqlite::Connection, handler_source: &str) {
    let trace = crate::spine::trace_of(conn, "exploded at 3");
    let names: Vec<&str> = trace.iter().map(|f| f.function.as_str()).collect();
    assert_eq!(names, ["explode", "boom"]);
    assert_eq!(trace[0].line, line("panic:explode"));
    // The native backtrace (debug info present in tests) gives the outer frame its line.
    assert_eq!(
        trace[1].line,
        crate::spine::line_of(handler_source, "call:explode")
    );
}
