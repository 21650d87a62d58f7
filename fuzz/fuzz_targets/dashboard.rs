//! The dashboard's handling of requests from anyone: arbitrary paths, cookies and form
//! bodies (login, level, prune, accounts) against the real router and a real database.
//! Without a session nothing but the login page may answer 200, and nothing may panic.
#![no_main]

use arbitrary::Arbitrary;
use axum::body::Body;
use axum::http::Request;
use fmd_dashboard::Dashboard;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tower::ServiceExt;

#[derive(Debug, Arbitrary)]
struct Input {
    post: bool,
    path: String,
    cookie: String,
    body: String,
}

fn app() -> &'static (tokio::runtime::Runtime, axum::Router) {
    static APP: OnceLock<(tokio::runtime::Runtime, axum::Router)> = OnceLock::new();
    APP.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir").keep();
        let router = Dashboard::new(dir.join("fuzz.db"))
            .admin("admin", "fuzz-password-1")
            .router();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        (runtime, router)
    })
}

fuzz_target!(|input: Input| {
    let (runtime, router) = app();
    let request = Request::builder()
        .method(if input.post { "POST" } else { "GET" })
        .uri(format!("/{}", input.path))
        .header("cookie", input.cookie.as_str())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(input.body));
    let Ok(request) = request else { return };
    let path = request.uri().path().to_owned();
    let response = runtime
        .block_on(router.clone().oneshot(request))
        .expect("infallible");
    let status = response.status().as_u16();
    assert!(status != 500, "{path}: 500");
    if status == 200 {
        assert!(
            path == "/login" || path.ends_with("/login"),
            "{path} answered 200 without a known session"
        );
    }
});
