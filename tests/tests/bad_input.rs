//! Hostile input through the real pipeline (HTTP on 127.0.0.1, the writer, SQLite, the
//! dashboard in headless Chromium): huge messages, odd paths, deep recursion, control
//! characters, SQL- and HTML-looking text, and application code that panics while fmd
//! describes an error. The host's answers never change; everything is stored safely.

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fantoccini::Locator;
use fmd::prelude::*;
use fmd_runtime::request::{MAX_MESSAGE, TRUNCATED};
use fmd_tests::browser::Browser;
use fmd_tests::{host, spine};
use std::fmt;

/// Hostile text: markup, an attribute break-out, SQL, control characters.
const EVIL: &str = "<script>window.__xss=1</script>\"><img src=x onerror=\"window.__xss=2\">'; DROP TABLE request; --\u{0}\u{1b}[31m\r\n\u{7f}";

/// An error whose text is whatever it was given, or 10 MB.
#[derive(Debug)]
struct Failure(String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == "huge" {
            let chunk = "x".repeat(1 << 20);
            for _ in 0..10 {
                f.write_str(&chunk)?;
            }
            return Ok(());
        }
        write!(f, "failed on {}", self.0)
    }
}

impl std::error::Error for Failure {}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (StatusCode::UNPROCESSABLE_ENTITY, "failure").into_response()
    }
}

#[monitored]
async fn fail(Path(what): Path<String>) -> Result<&'static str, Failure> {
    Err(Failure(what))
}

/// An error whose `Display` (0) or `source()` (1) panics, or whose `Debug` panics when
/// captured (2).
struct Touchy(u8);

impl fmt::Display for Touchy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("partial text ")?;
        if self.0 == 0 {
            panic!("Display exploded");
        }
        f.write_str("whole")
    }
}

impl fmt::Debug for Touchy {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Debug exploded")
    }
}

impl std::error::Error for Touchy {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        if self.0 == 1 {
            panic!("source() exploded");
        }
        None
    }
}

impl IntoResponse for Touchy {
    fn into_response(self) -> Response {
        (StatusCode::IM_A_TEAPOT, "touchy answer").into_response()
    }
}

#[monitored]
async fn touchy(Path(kind): Path<u8>) -> Result<&'static str, Touchy> {
    if kind == 2 {
        struct OnlyDebug;
        impl fmt::Debug for OnlyDebug {
            fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
                panic!("Debug exploded")
            }
        }
        fmd::capture!(OnlyDebug);
        return Ok("captured and carried on");
    }
    Err(Touchy(kind))
}

#[capture]
fn dive(n: u32) -> u32 {
    if n == 0 {
        panic!("the bottom of a 10000-deep recursion");
    }
    dive(n - 1) + 1
}

#[monitored]
async fn deep() -> String {
    dive(10_000).to_string()
}

#[monitored(name = "<script>window.__xss=3</script>\"onerror=")]
async fn hostile_name() -> Result<&'static str, Failure> {
    Err(Failure(EVIL.to_owned()))
}

fn router() -> Router {
    Router::new()
        .route("/fail/{what}", get(fail))
        .route("/touchy/{kind}", get(touchy))
        .route("/deep", get(deep))
        .route("/named", get(hostile_name))
        .route("/<b>onerror='x'/{what}", get(fail))
}

fn one<T: rusqlite::types::FromSql>(sql: &str, p: impl rusqlite::Params) -> T {
    spine::db(spine::start())
        .query_row(sql, p, |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_10_mb_message_is_stored_truncated_with_a_marker() {
    let addr = spine::serve(router()).await;
    let reply = spine::get(addr, "/fail/huge").await;
    assert_eq!((reply.status, reply.body.as_str()), (422, "failure"));
    spine::flush();
    let stored: String = one(
        "SELECT m.message FROM exception_message m WHERE m.message LIKE 'xxxx%'",
        [],
    );
    assert!(stored.ends_with(TRUNCATED), "visible marker");
    assert_eq!(stored.len(), MAX_MESSAGE + TRUNCATED.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panics_in_application_code_fmd_runs_never_reach_the_request() {
    let addr = spine::serve(router()).await;
    let before = fmd::monitor().stats().caught_panics;
    for kind in [0, 1] {
        let reply = spine::get(addr, &format!("/touchy/{kind}")).await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (418, "touchy answer"),
            "the host's own answer, kind {kind}"
        );
    }
    let reply = spine::get(addr, "/touchy/2").await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (200, "captured and carried on")
    );
    spine::flush();
    let caught = fmd::monitor().stats().caught_panics - before;
    println!("FIGURES caught panics: {caught}");
    assert!(caught >= 3, "each panic counted ({caught})");
    let statuses: Vec<i64> = spine::db(spine::start())
        .prepare("SELECT status FROM request_text WHERE route = '/touchy/{kind}' ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(statuses, [418, 418, 200], "stored as answered, not as 500");
    let messages: i64 = one(
        "SELECT count(*) FROM exception_message WHERE message IN ('partial text ', 'partial text whole')",
        [],
    );
    assert_eq!(
        messages, 2,
        "what the Display wrote before panicking is kept"
    );
    let panics: i64 = one(
        "SELECT count(*) FROM exception_occurrence o JOIN exception_message m ON m.id = o.message_id
         WHERE m.message LIKE '%exploded%'",
        [],
    );
    assert_eq!(panics, 0, "not recorded as the request's panic");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_paths_are_answered_and_only_route_templates_are_stored() {
    let addr = spine::serve(router()).await;
    // Percent-encoded bytes that are not UTF-8: the extractor refuses them.
    assert_eq!(spine::get(addr, "/fail/%FF%FE%80").await.status, 400);
    // Raw bytes that are not UTF-8 in the request line: hyper refuses them.
    let raw = host::request(addr, "GET", "/fail/\u{e9}t\u{e9}", &[], "").await;
    assert!(
        raw.status == 400 || raw.status == 200 || raw.status == 422,
        "{raw:?}"
    );
    // Very long paths, matched and unmatched.
    let long = "a".repeat(60_000);
    assert_eq!(spine::get(addr, &format!("/fail/{long}")).await.status, 422);
    let unmatched = spine::get(addr, &format!("/nowhere/{long}")).await.status;
    assert!(matches!(unmatched, 404 | 414 | 431), "{unmatched}");
    // The server still answers.
    assert_eq!(spine::get(addr, "/fail/after").await.status, 422);
    spine::flush();
    let longest: i64 = one("SELECT max(length(route)) FROM request_text", []);
    assert!(
        longest < 100,
        "routes are templates, never raw paths ({longest})"
    );
    let message: String = one(
        "SELECT message FROM exception_message WHERE message LIKE 'failed on aaaa%'",
        [],
    );
    assert_eq!(message.len(), "failed on ".len() + 60_000);
}

/// Runs `test` on a runtime whose threads have room for a 10 000-deep recursion.
fn with_big_stacks(test: impl std::future::Future<Output = ()> + Send + 'static) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_stack_size(1 << 30)
        .enable_all()
        .build()
        .expect("runtime");
    let test = runtime.spawn(test);
    runtime.block_on(test).expect("test");
}

#[test]
fn a_10000_deep_recursion_panic_is_stored_with_its_trace_collapsed() {
    with_big_stacks(async {
        let addr = spine::serve(router()).await;
        assert_eq!(spine::get(addr, "/deep").await.status, 500);
        spine::flush();
        let conn = spine::db(spine::start());
        let frames = spine::trace_of(&conn, "the bottom of a 10000-deep recursion");
        let dive: u32 = frames
            .iter()
            .filter(|f| f.function == "dive")
            .map(|f| f.repeat)
            .sum();
        println!(
            "FIGURES deep recursion: {} stored frames, dive x {dive}",
            frames.len()
        );
        assert!(dive >= 10_000, "every call counted ({dive})");
        assert!(frames.len() < 50, "collapsed: {} frames", frames.len());

        let cookie = host::login_as(addr, "admin", "test-password").await;
        let endpoint: i64 = one("SELECT id FROM endpoint WHERE name LIKE '%deep'", []);
        let page = host::request(
            addr,
            "GET",
            &format!("/dashboard/endpoint/{endpoint}/exceptions"),
            &[("Cookie", &cookie)],
            "",
        )
        .await;
        assert_eq!(page.status, 200);
        let widest = frames.iter().map(|f| f.repeat).max().unwrap_or(0);
        assert!(
            page.body.contains(&format!("× {widest}")),
            "the page shows the collapsed recursion"
        );
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_is_stored_verbatim_and_inert_in_every_page() {
    let addr = spine::serve(router()).await;
    let encoded: String = EVIL.bytes().map(|b| format!("%{b:02X}")).collect();
    assert_eq!(
        spine::get(addr, &format!("/fail/{encoded}")).await.status,
        422
    );
    assert_eq!(spine::get(addr, "/named").await.status, 422);
    let odd_route = spine::get(addr, "/<b>onerror='x'/1").await.status;
    println!("a route template with markup answered {odd_route}");
    spine::flush();

    // Stored as sent (SQL text is data, not SQL).
    let stored: i64 = one(
        "SELECT count(*) FROM exception_occurrence o JOIN exception_message m ON m.id = o.message_id
         WHERE m.message = ?1",
        [format!("failed on {EVIL}")],
    );
    assert_eq!(stored, 2, "the message, byte for byte, from two endpoints");
    let tables: i64 = one(
        "SELECT count(*) FROM sqlite_master WHERE name = 'request'",
        [],
    );
    assert_eq!(tables, 1);

    let endpoints: Vec<i64> = spine::db(spine::start())
        .prepare("SELECT id FROM endpoint")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let b = Browser::start().await;
    let c = &b.client;
    c.goto(&format!("http://{addr}/dashboard")).await.unwrap();
    c.wait()
        .for_element(Locator::Css("input[name=username]"))
        .await
        .unwrap();
    b.submit_login("admin", "test-password").await;
    let mut pages = vec![
        "".to_owned(),
        "/exceptions".to_owned(),
        "/config".to_owned(),
    ];
    pages.extend(
        endpoints
            .iter()
            .map(|e| format!("/endpoint/{e}/exceptions")),
    );
    for path in &pages {
        c.goto(&format!("http://{addr}/dashboard{path}"))
            .await
            .unwrap();
        c.wait().for_element(Locator::Css("main")).await.unwrap();
        let ran = c
            .execute(
                "return window.__xss === undefined ? null : window.__xss",
                vec![],
            )
            .await
            .unwrap();
        assert!(ran.is_null(), "a script ran on {path}: {ran}");
        for injected in ["main img", "main script"] {
            assert!(
                c.find(Locator::Css(injected)).await.is_err(),
                "injected {injected} on {path}"
            );
        }
    }
    b.screenshot("bad_input_hostile").await;
    b.close().await;
}
