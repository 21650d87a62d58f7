//! axum adapter.
