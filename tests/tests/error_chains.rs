//! anyhow, eyre, thiserror and `Box<dyn Error>` errors as applications carry them, stored
//! well: a type that says something (what a wrapper holds, its root cause), the whole chain
//! with context layers in order, and — for anyhow and eyre, which carry a backtrace when
//! `RUST_LIB_BACKTRACE=1`, as does an error with a `Backtrace` field — that backtrace's
//! frames as the trace, in-app ones marked, a
//! function without annotation as a library frame. Grouping neither merges two anyhow errors
//! nor splits one, and the endpoint's page shows chain and frames (also in Chromium: its
//! screenshot is `target/screenshots/error_chains.png`).

use anyhow::Context as _;
use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use eyre::WrapErr as _;
use fantoccini::Locator;
use fmd::prelude::*;
use fmd_tests::browser::Browser;
use fmd_tests::occurrence::stored;
use fmd_tests::spine;
use std::net::SocketAddr;
use std::sync::Once;

const SOURCE: &str = include_str!("error_chains.rs");

/// anyhow and eyre capture a backtrace into every error from the first one on: std reads
/// the variable once per process, so every test sets it before it makes an error.
fn backtraces_on() {
    static ON: Once = Once::new();
    // SAFETY: set once, before any test of this binary creates an error (each calls this
    // first) and before the monitor's threads start.
    ON.call_once(|| unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "1") });
}

/// Not annotated: it is on the anyhow backtrace only, as a library frame.
fn parse_port(text: &str) -> anyhow::Result<u16> {
    Ok(text.parse::<u16>()?) // origin:parse_port
}

#[capture]
fn read_port(text: &str) -> anyhow::Result<u16> {
    let port = parse_port(text).context("reading the port")?; // call:parse_port
    Ok(port)
}

#[capture]
fn configure(text: &str) -> anyhow::Result<u16> {
    read_port(text).context("configuring the listener") // call:read_port
}

/// Not annotated either: an I/O error made into anyhow's.
fn open_settings() -> anyhow::Result<String> {
    Ok(std::fs::read_to_string(
        "/nonexistent/fmd-error-chains/settings.toml",
    )?)
}

#[monitored]
async fn anyhow_route(Path(which): Path<String>) -> StatusCode {
    let result = if which == "io" {
        open_settings().context("loading the settings").map(|_| 0) // call:open_settings
    } else {
        configure(&which) // call:configure
    };
    if let Err(e) = result {
        fmd::capture!(e);
    }
    StatusCode::OK
}

/// Not annotated: eyre's report (and its backtrace) is made here.
fn render_template() -> eyre::Result<String> {
    let missing = std::io::Error::new(
        std::io::ErrorKind::NotFound,
        "template index.html not found",
    );
    Err(eyre::Report::new(missing)).wrap_err("loading the template") // origin:eyre
}

/// The page tests' own endpoint: no other test's errors on its page.
#[monitored]
async fn page_route() -> StatusCode {
    if let Err(e) = configure("page") {
        fmd::capture!(e);
    }
    StatusCode::OK
}

/// The id of the endpoint `name`.
fn endpoint_id(conn: &rusqlite::Connection, name: &str) -> i64 {
    conn.query_row("SELECT id FROM endpoint WHERE name = ?1", [name], |r| {
        r.get(0)
    })
    .unwrap_or_else(|e| panic!("no endpoint {name}: {e}"))
}

#[monitored]
async fn eyre_route() -> StatusCode {
    let result = render_template().wrap_err("rendering the home page"); // call:render_template
    if let Err(e) = result {
        fmd::capture!(e);
    }
    StatusCode::OK
}

/// An error with a `Backtrace` field, as applications write them on stable Rust: its
/// `Debug` prints std's `Debug` form of the backtrace.
struct JobError {
    job: u32,
    backtrace: std::backtrace::Backtrace,
}

impl std::fmt::Debug for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobError")
            .field("job", &self.job)
            .field("backtrace", &self.backtrace)
            .finish()
    }
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "job {} timed out", self.job)
    }
}

impl std::error::Error for JobError {}

/// Not annotated: where the job's error and its backtrace are made.
fn run_job() -> Result<(), JobError> {
    let backtrace = std::backtrace::Backtrace::capture(); // origin:job
    Err(JobError { job: 3, backtrace })
}

#[monitored]
async fn job_route() -> StatusCode {
    let result = run_job(); // call:run_job
    if let Err(e) = result {
        fmd::capture!(e);
    }
    StatusCode::OK
}

#[derive(Debug, thiserror::Error)]
enum StoreError {
    #[error("the store is unreachable")]
    Unreachable(#[from] std::io::Error),
    #[error("record {id} is corrupt")]
    Corrupt {
        id: u32,
        #[source]
        cause: std::num::ParseIntError,
    },
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl IntoResponse for StoreError {
    fn into_response(self) -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response()
    }
}

#[capture]
fn load_record(which: &str) -> Result<u32, StoreError> {
    match which {
        "corrupt" => {
            let cause = "7x".parse::<u32>().unwrap_err();
            Err(StoreError::Corrupt { id: 7, cause })?; // hop:corrupt
            Ok(0)
        }
        "unreachable" => {
            let refused = std::io::Error::new(
                std::io::ErrorKind::ConnectionRefused,
                "store refused the connection",
            );
            Err(refused)?; // hop:unreachable
            Ok(0)
        }
        _ => {
            let port = parse_port("no port").context("the store's port")?; // hop:other
            Ok(u32::from(port))
        }
    }
}

#[monitored]
async fn thiserror_route(Path(which): Path<String>) -> Result<String, StoreError> {
    let n = load_record(&which)?; // hop:thiserror_route
    Ok(n.to_string())
}

#[monitored]
async fn boxed_route(Path(which): Path<String>) -> StatusCode {
    let e: Box<dyn std::error::Error + Send + Sync> = if which == "io" {
        Box::new(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "the box holds an io error",
        ))
    } else {
        "the box holds plain text".into()
    };
    fmd::capture!(e);
    StatusCode::OK
}

async fn server() -> SocketAddr {
    backtraces_on();
    spine::serve(
        Router::new()
            .route("/anyhow/{which}", get(anyhow_route))
            .route("/eyre", get(eyre_route))
            .route("/page", get(page_route))
            .route("/job", get(job_route))
            .route("/thiserror/{which}", get(thiserror_route))
            .route("/boxed/{which}", get(boxed_route)),
    )
    .await
}

fn line(marker: &str) -> u32 {
    spine::line_of(SOURCE, marker)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anyhow_keeps_its_context_layers_root_cause_and_backtrace() {
    let addr = server().await;
    assert_eq!(spine::get(addr, "/anyhow/not-a-port").await.status, 200);
    spine::flush();
    let conn = spine::db(spine::start());
    let s = stored(&conn, "configuring the listener");
    println!("{s:#?}");
    assert_eq!(
        s.type_name,
        "anyhow::Error (caused by std::num::ParseIntError)"
    );
    assert_eq!(
        s.chain,
        ["reading the port", "invalid digit found in string"]
    );
    // The backtrace's frames: the annotated functions where anyhow's backtrace passed
    // through them, with the lines it names...
    assert_eq!(
        s.app(),
        [
            ("read_port", line("call:parse_port")),
            ("configure", line("call:read_port")),
            ("anyhow_route", line("call:configure")),
        ]
    );
    // ...and the function without annotation where the error was made, which only the
    // native backtrace knows, as a library frame in front of them.
    let origin = s.library("parse_port").expect("parse_port on the trace");
    let first_app = s.frames.iter().position(|f| f.2).unwrap();
    assert!(origin < first_app, "{:#?}", s.frames);
    assert_eq!(s.frames[origin].1, line("origin:parse_port"));
    // anyhow's and std's own frames are left out.
    assert!(
        s.frames
            .iter()
            .all(|f| !f.0.contains("anyhow::") && !f.0.contains("backtrace")),
        "{:#?}",
        s.frames
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_anyhow_errors_are_two_groups_and_one_error_thrice_is_one() {
    let addr = server().await;
    for path in ["/anyhow/io", "/anyhow/io", "/anyhow/io", "/anyhow/70000"] {
        assert_eq!(spine::get(addr, path).await.status, 200, "{path}");
    }
    spine::flush();
    let conn = spine::db(spine::start());
    // The same error three times, each with its own backtrace: one group.
    assert_eq!(spine::group_counts(&conn, "loading the settings"), [3]);
    let io = stored(&conn, "loading the settings");
    assert_eq!(io.type_name, "anyhow::Error (caused by std::io::Error)");
    assert_eq!(io.chain, ["No such file or directory (os error 2)"]);
    assert_eq!(io.app(), [("anyhow_route", line("call:open_settings"))]);
    assert!(io.library("open_settings").is_some(), "{:#?}", io.frames);
    // Another anyhow error of the same handler (the other tests' occurrences of it join
    // its group): a group of its own, so the handler has exactly two.
    let types: Vec<String> = conn
        .prepare(
            "SELECT t.name FROM exception_group g
             JOIN exception_type t ON t.id = g.type_id
             JOIN endpoint e ON e.id = g.endpoint_id
             WHERE e.name = 'error_chains::anyhow_route'
             ORDER BY t.name",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        types,
        [
            "anyhow::Error (caused by std::io::Error)",
            "anyhow::Error (caused by std::num::ParseIntError)"
        ]
    );
    let port = stored(&conn, "configuring the listener");
    assert_eq!(
        port.chain,
        ["reading the port", "number too large to fit in target type"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eyre_keeps_its_wrap_err_layers_and_backtrace() {
    let addr = server().await;
    assert_eq!(spine::get(addr, "/eyre").await.status, 200);
    spine::flush();
    let conn = spine::db(spine::start());
    let s = stored(&conn, "rendering the home page");
    println!("{s:#?}");
    assert_eq!(s.type_name, "eyre::Report (caused by std::io::Error)");
    assert_eq!(
        s.chain,
        ["loading the template", "template index.html not found"]
    );
    assert_eq!(s.app(), [("eyre_route", line("call:render_template"))]);
    let origin = s
        .library("render_template")
        .expect("render_template on the trace");
    assert_eq!(s.frames[origin].1, line("origin:eyre"));
    assert!(
        s.frames.iter().all(|f| !f.0.contains("eyre::")),
        "{:#?}",
        s.frames
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_with_a_backtrace_field_has_its_frames() {
    let addr = server().await;
    assert_eq!(spine::get(addr, "/job").await.status, 200);
    spine::flush();
    let conn = spine::db(spine::start());
    let s = stored(&conn, "job 3 timed out");
    println!("{s:#?}");
    assert_eq!(s.type_name, "error_chains::JobError");
    assert!(s.chain.is_empty());
    assert_eq!(s.app(), [("job_route", line("call:run_job"))]);
    let origin = s.library("run_job").expect("run_job on the trace");
    assert_eq!(s.frames[origin].1, line("origin:job"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thiserror_enum_keeps_its_type_and_source() {
    let addr = server().await;
    for path in [
        "/thiserror/corrupt",
        "/thiserror/unreachable",
        "/thiserror/other",
    ] {
        assert_eq!(spine::get(addr, path).await.status, 500, "{path}");
    }
    spine::flush();
    let conn = spine::db(spine::start());
    let corrupt = stored(&conn, "record 7 is corrupt");
    assert_eq!(corrupt.type_name, "error_chains::StoreError");
    assert_eq!(corrupt.chain, ["invalid digit found in string"]);
    // No backtrace: the error return trace, hop by hop.
    assert_eq!(
        corrupt.app(),
        [
            ("load_record", line("hop:corrupt")),
            ("thiserror_route", line("hop:thiserror_route"))
        ]
    );
    assert_eq!(
        corrupt.frames.len(),
        2,
        "no library frames: {:#?}",
        corrupt.frames
    );
    let unreachable = stored(&conn, "the store is unreachable");
    assert_eq!(unreachable.type_name, "error_chains::StoreError");
    assert_eq!(unreachable.chain, ["store refused the connection"]);
    // `#[error(transparent)]` over anyhow: thiserror's `Debug` prints anyhow's backtrace,
    // which becomes the trace.
    let other = stored(&conn, "the store's port");
    assert_eq!(other.type_name, "error_chains::StoreError");
    assert_eq!(other.chain, ["invalid digit found in string"]);
    assert_eq!(
        other.app(),
        [
            ("load_record", line("hop:other")),
            ("thiserror_route", line("hop:thiserror_route"))
        ]
    );
    assert!(other.library("parse_port").is_some(), "{:#?}", other.frames);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_boxed_error_is_named_by_what_it_holds() {
    let addr = server().await;
    for path in ["/boxed/io", "/boxed/text"] {
        assert_eq!(spine::get(addr, path).await.status, 200, "{path}");
    }
    spine::flush();
    let conn = spine::db(spine::start());
    let io = stored(&conn, "the box holds an io error");
    assert_eq!(io.type_name, "std::io::Error");
    assert!(io.chain.is_empty());
    let text = stored(&conn, "the box holds plain text");
    assert_eq!(
        text.type_name,
        "alloc::boxed::Box<dyn core::error::Error + core::marker::Send + core::marker::Sync>"
    );
    // No backtrace: the capture site.
    assert_eq!(text.frames.len(), 1, "{:#?}", text.frames);
    assert!(text.frames[0].2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoint_page_shows_the_chain_and_the_native_frames() {
    let addr = server().await;
    assert_eq!(spine::get(addr, "/page").await.status, 200);
    spine::flush();
    let conn = spine::db(spine::start());
    let endpoint = endpoint_id(&conn, "error_chains::page_route");
    let cookie = fmd_tests::http::login(addr, "/dashboard", "admin", "test-password").await;
    let page = fmd_tests::http::get(
        addr,
        &format!("/dashboard/endpoint/{endpoint}/exceptions"),
        &[("Cookie", &cookie)],
    )
    .await;
    assert_eq!(page.status, 200);
    let html = page.body;
    for expected in [
        "anyhow::Error (caused by std::num::ParseIntError)",
        "configuring the listener",
        "<li>reading the port</li>",
        "<li>invalid digit found in string</li>",
        "parse_port",
        "read_port",
        "frame lib",
        "frame app",
    ] {
        assert!(html.contains(expected), "{expected:?} on the page");
    }
    assert!(
        !html.contains("Stack backtrace"),
        "no backtrace text on the page"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_chromium_the_app_frames_are_open_and_the_library_frames_collapsed() {
    let addr = server().await;
    assert_eq!(spine::get(addr, "/page").await.status, 200);
    spine::flush();
    let endpoint = endpoint_id(&spine::db(spine::start()), "error_chains::page_route");
    let b = Browser::start().await;
    let c = &b.client;
    c.goto(&format!("http://{addr}/dashboard/login"))
        .await
        .unwrap();
    b.submit_login("admin", "test-password").await;
    c.goto(&format!(
        "http://{addr}/dashboard/endpoint/{endpoint}/exceptions"
    ))
    .await
    .unwrap();
    c.wait()
        .for_element(Locator::Css("li.frame.app"))
        .await
        .expect("the trace");
    b.screenshot("error_chains").await;
    let chain = b.text("ol.chain").await;
    assert!(
        chain.contains("reading the port") && chain.contains("invalid digit found in string"),
        "{chain}"
    );
    // read_port's frame is open, at the line anyhow's backtrace names.
    let fail = c.find(Locator::Css("li.frame.app .l.fail")).await.unwrap();
    assert!(fail.is_displayed().await.unwrap());
    let expected = line("call:parse_port").to_string();
    assert_eq!(
        fail.attr("data-line").await.unwrap().as_deref(),
        Some(expected.as_str())
    );
    // The function the error came from, collapsed as a library frame.
    let mut origin = None;
    for lib in c.find_all(Locator::Css("li.frame.lib")).await.unwrap() {
        if lib.text().await.unwrap().contains("parse_port") {
            origin = Some(lib);
        }
    }
    let origin = origin.expect("parse_port as a library frame");
    let details = origin.find(Locator::Css("details")).await.unwrap();
    assert_eq!(details.attr("open").await.unwrap(), None);
    b.close().await;
}
