//! `GET /metrics`: this process's Prometheus series in the OpenMetrics text format.
//!
//! The series are counted by the runtime on its writer thread (see
//! `fmd_runtime::metrics`); this handler only encodes them. Each instance of a service
//! serves its own; point Prometheus at every instance's `<dashboard>/metrics` with the
//! metrics token as the scrape's bearer credential.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::app::App;

/// The content type Prometheus negotiates for the OpenMetrics text format.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// `GET /metrics`.
pub async fn metrics(State(app): State<Arc<App>>) -> Response {
    match app.host.metrics() {
        Some(text) => ([(header::CONTENT_TYPE, OPENMETRICS)], text).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            "No monitored application runs behind this dashboard, so there are no metrics.",
        )
            .into_response(),
    }
}
