//! Shared helpers for fmd's end-to-end tests.
