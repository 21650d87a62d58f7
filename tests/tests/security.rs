//! Security over the real application: the mounted dashboard refuses every route without
//! a session, secrets sent to monitored handlers never reach the database file, and with
//! source embedding off no function source is stored.
//!
//! This binary's monitor runs with `store_source = false`. The dashboard's own rules
//! (CSRF on every POST, a fresh session id at login, throttling, cookie flags, roles) are
//! tested route by route in `dashboard_auth.rs`.

use axum::Router;
use axum::extract::{Form, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use fmd::prelude::*;
use fmd_dashboard::{Access, route_table};
use fmd_tests::{host, spine};
use std::collections::HashMap;
use std::path::Path;

const SECRETS: &[&str] = &[
    "Bearer-7c1d-authorization-secret",
    "cookie-5e2a-session-secret",
    "form-3b9f-password-secret",
    "query-8d4c-token-secret",
];

fn start() -> &'static Path {
    spine::start_with(|c| c.store_source = false)
}

#[derive(Debug)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("login refused")
    }
}

impl std::error::Error for Refused {}

impl axum::response::IntoResponse for Refused {
    fn into_response(self) -> axum::response::Response {
        StatusCode::FORBIDDEN.into_response()
    }
}

/// Reads every secret (so the compiler keeps them), fails or panics on request, and is
/// slow on request (an outlier candidate at level 2 and up).
#[monitored(level = 3)]
async fn sign_in(
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<&'static str, Refused> {
    let seen = headers.len() + query.len() + form.len();
    if query.contains_key("slow") {
        tokio::time::sleep(std::time::Duration::from_millis(60)).await;
    }
    if query.contains_key("panic") {
        panic!("sign-in broke after reading {seen} values");
    }
    if query.contains_key("fail") {
        return Err(Refused);
    }
    Ok("welcome")
}

/// A function whose source carries a marker that must not be stored.
#[capture]
fn check_marker() -> Result<(), Refused> {
    // SOURCE-MARKER-a41f: this text must never reach the database file.
    Err(Refused)
}

#[monitored]
async fn marked() -> Result<&'static str, Refused> {
    check_marker()?;
    Ok("unreachable")
}

fn router() -> Router {
    Router::new()
        .route("/sign-in", post(sign_in))
        .route("/marked", get(marked))
}

/// The raw bytes of the database and its write-ahead log.
fn raw_files(db: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        if let Ok(b) = std::fs::read(format!("{}{suffix}", db.display())) {
            bytes.extend(b);
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_of_the_mounted_dashboard_needs_a_session() {
    start();
    let addr = spine::serve(router()).await;
    let routes = route_table();
    for r in routes.iter().filter(|r| r.access != Access::Public) {
        let path = format!(
            "/dashboard{}",
            r.path.replace("{id}", "1").replace("{group}", "1")
        );
        let path = path.trim_end_matches('/');
        for cookie in [None, Some("fmd_session=forged")] {
            let headers: Vec<(&str, &str)> = cookie.map(|c| ("Cookie", c)).into_iter().collect();
            let reply = host::request(addr, r.method, path, &headers, "csrf=x").await;
            // Pages send the browser to the login page; machine routes (metrics: session
            // or token; the API: token only, off without one) answer 401 or 404.
            let expected = match r.access {
                Access::Bearer(fmd_dashboard::Token::Api) => 404,
                Access::Bearer(_) | Access::SessionOrBearer(_) => 401,
                _ if r.method == "GET" => 303,
                _ => 401,
            };
            assert_eq!(
                reply.status, expected,
                "{} {path} with {cookie:?}",
                r.method
            );
            assert!(!reply.body.contains("<main"), "no page without a session");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_sent_to_monitored_requests_never_reach_the_database_file() {
    let db = start();
    let addr = spine::serve(router()).await;
    let [auth, cookie, password, token] = SECRETS else {
        unreachable!()
    };
    let auth = format!("Bearer {auth}");
    let cookie = format!("session={cookie}");
    let body = format!("user=ana&password={password}");
    // Fast requests first (a typical duration), then slow ones, failures and panics.
    let mut statuses = Vec::new();
    for query in [
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "&slow=1",
        "&fail=1",
        "&panic=1",
        "&slow=1&fail=1",
    ] {
        let reply = host::request(
            addr,
            "POST",
            &format!("/sign-in?token={token}{query}"),
            &[
                ("Authorization", &auth),
                ("Cookie", &cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            &body,
        )
        .await;
        statuses.push(reply.status);
    }
    assert_eq!(&statuses[10..], [200, 403, 500, 403], "{statuses:?}");
    spine::flush();
    let stored: i64 = spine::db(db)
        .query_row(
            "SELECT count(*) FROM request_text WHERE route = '/sign-in'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 14, "the requests themselves are stored");
    let bytes = raw_files(db);
    for secret in SECRETS.iter().chain(&["test-password"]) {
        assert!(
            !contains(&bytes, secret),
            "{secret} is in the database file"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_source_embedding_off_no_function_source_is_stored() {
    let db = start();
    assert!(!fmd::monitor().config().store_source);
    let addr = spine::serve(router()).await;
    assert_eq!(spine::get(addr, "/marked").await.status, 403);
    spine::flush();
    let conn = spine::db(db);
    let (functions, with_code): (i64, i64) = conn
        .query_row(
            "SELECT count(*), count(*) FILTER (WHERE code <> '') FROM function_definition",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(functions >= 2, "the functions themselves are known");
    assert_eq!(with_code, 0, "no source text stored");
    assert!(!contains(&raw_files(db), "SOURCE-MARKER-a41f"));
}
