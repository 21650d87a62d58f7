//! The functions the spine tests of every framework call from their handlers (axum:
//! `capture_spine.rs`, `levels.rs`; actix-web: `actix_spine.rs`): an error three
//! `#[capture]` functions deep, a panic, handled errors, and the call trees of levels 2
//! and 3. Their lines are found by the `// hop:..` markers in [`SOURCE`] ([`line`]).

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
