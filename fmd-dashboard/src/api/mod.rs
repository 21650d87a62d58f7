//! The read-only JSON API under `<dashboard>/api/v1`, for scripts and other tools.
//!
//! | module | holds |
//! |---|---|
//! | [`types`] | the response bodies, built from the store's read model |
//! | [`issues`] | the issues' bodies and handlers |
//! | [`handlers`] | one handler per route, annotated for the OpenAPI document |
//! | [`doc`] | the OpenAPI 3.1 document, served at `/api/v1/openapi.json` |
//!
//! Every route takes only the configured bearer token (`FMD_API_TOKEN`, `api_token` in
//! `fmd.toml`); without one the API is switched off and answers 404 with a message saying
//! how to switch it on. The routes are listed in the dashboard's route table with
//! [`Access::Bearer`](crate::Access::Bearer), so the auth tests and the document's
//! completeness test walk the same list the router is built from.

pub mod doc;
pub mod handlers;
pub mod issues;
pub mod types;
