//! Every shape of function that `#[monitored]` and `#[capture]` must accept compiles and
//! behaves as written: the same results as without the attribute, one registration per
//! function, its verbatim source with the right lines, and errors recorded at the exact
//! `?` / `Err(..)` line. Handlers are called directly or through an in-process `Router`
//! (`oneshot`); no server is started.
//!
//! The shapes are in three modules: plain functions and methods, axum handlers, and the
//! error sites with the embedded sources. Each checks lines against its own file.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use fmd::prelude::*;
use fmd_runtime::{FnInfo, FnKind};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::OnceLock;
use tower::ServiceExt;

// ---------------------------------------------------------------------------------------
// Set-up: a monitor writing to a temporary database, started before any annotated call.

static DB: OnceLock<tempfile::TempDir> = OnceLock::new();

fn setup() -> std::path::PathBuf {
    let dir = DB.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("fmd-macro-shapes")
            .tempdir()
            .expect("temp dir");
        fmd::init(fmd::Config {
            database: dir.path().join("fmd.db").into(),
            password: Some("macro-shapes".to_owned()),
            ..Default::default()
        })
        .expect("fmd starts on a temp database");
        dir
    });
    dir.path().join("fmd.db")
}

/// One stored request: its status and its errors' frames as (function, line).
type Stored = (Option<u16>, Vec<(String, u32)>);

/// The rows stored for `endpoint`, after flushing the queue: per request its status and
/// the (function, line) frames of its errors, innermost first.
fn stored(endpoint: &str) -> Vec<Stored> {
    let path = setup();
    assert!(fmd::shutdown(), "queued events are stored");
    let conn = rusqlite::Connection::open(path).expect("open the monitor's database");
    let mut requests = conn
        .prepare(
            "SELECT r.id, r.status FROM request_text r JOIN endpoint e ON e.id = r.endpoint_id
             WHERE e.name = ?1 ORDER BY r.id",
        )
        .unwrap();
    let mut frames = conn
        .prepare(
            "SELECT fl.name, ef.line FROM exception_occurrence o
             JOIN exception_stackline sl ON sl.snapshot_id = o.snapshot_id
             JOIN exception_frame ef ON ef.id = sl.frame_id
             JOIN function_location fl ON fl.id = ef.location_id
             WHERE o.request_id = ?1 ORDER BY o.id, sl.position",
        )
        .unwrap();
    let ids: Vec<(i64, Option<u16>)> = requests
        .query_map([endpoint], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    ids.into_iter()
        .map(|(id, status)| {
            let f = frames
                .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            (status, f)
        })
        .collect()
}

/// The 1-based line of the only line of `file` (a module's text) that ends with `marker`.
fn line_in(file: &str, marker: &str) -> u32 {
    let hits: Vec<usize> = file
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim_end().ends_with(marker))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "marker {marker:?} must be on exactly one line"
    );
    hits[0] as u32
}

/// The registered (deduplicated) functions of this test crate called `name`.
fn registered(name: &str) -> Vec<&'static FnInfo> {
    fmd_runtime::registry::functions()
        .filter(|f| f.name == name && f.module.starts_with("macro_shapes"))
        .collect()
}

/// Every raw registration (duplicates included) called `name`.
fn raw_registrations(name: &str) -> usize {
    fmd::__private_0_1::inventory::iter::<fmd::__private_0_1::Registration>
        .into_iter()
        .filter(|r| r.0.name == name && r.0.module.starts_with("macro_shapes"))
        .count()
}

fn info(name: &str) -> &'static FnInfo {
    let found = registered(name);
    assert_eq!(found.len(), 1, "{name} is registered once: {found:?}");
    found[0]
}

// ---------------------------------------------------------------------------------------
// An error type for the shapes below.

#[derive(Debug, PartialEq)]
enum ShapeError {
    Negative,
    Zero,
    Odd(i32),
    TooBig(i32),
    Parse(std::num::ParseIntError),
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShapeError::Negative => write!(f, "negative"),
            ShapeError::Zero => write!(f, "zero"),
            ShapeError::Odd(n) => write!(f, "odd: {n}"),
            ShapeError::TooBig(n) => write!(f, "too big: {n}"),
            ShapeError::Parse(e) => write!(f, "not a number: {e}"),
        }
    }
}

impl std::error::Error for ShapeError {}

impl From<std::num::ParseIntError> for ShapeError {
    fn from(e: std::num::ParseIntError) -> Self {
        ShapeError::Parse(e)
    }
}

impl IntoResponse for ShapeError {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, self.to_string()).into_response()
    }
}

mod errors;
mod functions;
mod handlers;
