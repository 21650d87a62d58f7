//! Realistic request events for the writer benchmark (P4): 20 endpoints, client addresses,
//! and one request in five carrying an error with a 5-frame trace through real annotated
//! functions (their descriptors come from the registry, as in a running service).
//!
//! Error messages name one of 500 ids, so the writer meets both repeated and new texts;
//! the traces come in a few shapes, so snapshots are mostly found, sometimes new.

use fmd::prelude::*;
use fmd_runtime::FnInfo;
use fmd_runtime::model::event::{ErrorKind, ErrorRecord, RequestEvent, TraceFrame};
use std::borrow::Cow;
use std::sync::Arc;

/// The error the traced functions pass up.
#[derive(Debug)]
pub struct Missing(pub u32);

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "record {} not found", self.0)
    }
}

impl std::error::Error for Missing {}

/// Innermost function of the traced chain.
#[capture]
pub fn fetch_row(id: u32) -> Result<u32, Missing> {
    if id.is_multiple_of(5) {
        return Err(Missing(id));
    }
    Ok(id)
}

/// Second frame.
#[capture]
pub fn load_record(id: u32) -> Result<u32, Missing> {
    let row = fetch_row(id)?;
    Ok(row + 1)
}

/// Third frame.
#[capture]
pub fn check_access(id: u32) -> Result<u32, Missing> {
    let record = load_record(id)?;
    Ok(record * 2)
}

/// Fourth frame.
#[capture]
pub fn build_view(id: u32) -> Result<u32, Missing> {
    let checked = check_access(id)?;
    Ok(checked + 3)
}

/// Outermost frame.
#[capture]
pub fn render_page(id: u32) -> Result<u32, Missing> {
    let view = build_view(id)?;
    Ok(view)
}

/// The five traced functions' descriptors, innermost first.
pub fn traced_functions() -> Vec<&'static FnInfo> {
    let here = module_path!();
    [
        "fetch_row",
        "load_record",
        "check_access",
        "build_view",
        "render_page",
    ]
    .iter()
    .filter_map(|name| {
        fmd_runtime::registry::functions().find(|f| f.module == here && f.name == *name)
    })
    .collect()
}

const ENDPOINTS: usize = 20;

/// Makes request events, deterministically from a seed.
pub struct EventMaker {
    rng: fastrand::Rng,
    endpoints: Vec<(&'static str, Arc<str>)>,
    frames: Vec<&'static FnInfo>,
}

impl EventMaker {
    /// A maker over the five traced functions.
    pub fn new(seed: u64) -> EventMaker {
        let frames = traced_functions();
        assert_eq!(frames.len(), 5, "the traced functions are registered");
        let endpoints = (0..ENDPOINTS)
            .map(|i| {
                // Handler names are `&'static str` in a service: leak these twenty once.
                let name: &'static str = format!("shop::api::endpoint_{i:02}").leak();
                let route: Arc<str> = Arc::from(format!("/api/v1/resource_{i:02}/{{id}}"));
                (name, route)
            })
            .collect();
        EventMaker {
            rng: fastrand::Rng::with_seed(seed),
            endpoints,
            frames,
        }
    }

    fn error(&mut self, now_ms: i64) -> ErrorRecord {
        let id = self.rng.u32(0..500);
        let shape = self.rng.u32(0..4);
        let frames = self
            .frames
            .iter()
            .enumerate()
            .map(|(i, info)| TraceFrame::App {
                info,
                line: info.start_line + 2 + u32::from(i == 0) * shape,
                repeat: 1,
            })
            .collect();
        ErrorRecord {
            kind: ErrorKind::Uncaught,
            type_name: Cow::Borrowed(std::any::type_name::<Missing>()),
            message: Missing(id).to_string(),
            sources: vec!["connection reset by peer".to_owned()],
            frames,
            omitted_frames: 0,
            time_ms: now_ms,
            native: None,
        }
    }

    /// The next event: a finished request, one in five with an error.
    pub fn next(&mut self, now_ms: i64) -> RequestEvent {
        let (endpoint, route) = self.endpoints[self.rng.usize(0..ENDPOINTS)].clone();
        let failed = self.rng.u32(0..5) == 0;
        let errors = if failed {
            vec![self.error(now_ms)]
        } else {
            Vec::new()
        };
        RequestEvent {
            endpoint: Cow::Borrowed(endpoint),
            route,
            method: Cow::Borrowed(if self.rng.bool() { "GET" } else { "POST" }),
            time_ms: now_ms,
            duration_us: self.rng.u64(200..40_000),
            status: Some(if failed { 500 } else { 200 }),
            cancelled: false,
            level: 1,
            ip: Some(format!("10.0.{}.{}", self.rng.u8(..), self.rng.u8(..))),
            group_by: None,
            errors,
            outlier: None,
            profile: None,
            link: None,
        }
    }
}
