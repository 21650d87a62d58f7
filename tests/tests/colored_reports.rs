//! An application that installed color-eyre, as most eyre users do, before fmd started:
//! its reports print in colour with their own backtrace section, hidden-frame notes and
//! (with `RUST_BACKTRACE=full`) source snippets. fmd stores such a report with a plain
//! message, its `wrap_err` chain and the backtrace color-eyre took (resolved by color-eyre
//! when the report was made; fmd only reads the frames, on the writer), and a panic is
//! recorded by fmd's hook, which chains in front of color-eyre's.

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use eyre::WrapErr as _;
use fmd::prelude::*;
use fmd_tests::occurrence::stored;
use fmd_tests::spine;
use std::net::SocketAddr;
use std::sync::Once;

const SOURCE: &str = include_str!("colored_reports.rs");

/// color-eyre's hooks, installed once per process before the first error and before fmd
/// starts, with backtraces on (both read the environment once).
fn color_eyre_installed() {
    static ON: Once = Once::new();
    ON.call_once(|| {
        // SAFETY: set once, before any thread of this binary reads the environment.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "1") };
        color_eyre::install().expect("color-eyre installs its hooks once");
    });
}

/// Not annotated: the report and its backtrace are made here.
#[inline(never)]
fn read_manifest() -> eyre::Result<String> {
    let missing = std::io::Error::new(std::io::ErrorKind::NotFound, "manifest.toml not found");
    Err(eyre::Report::new(missing)).wrap_err("reading the manifest") // origin:manifest
}

#[capture]
fn load_plugin() -> eyre::Result<String> {
    read_manifest().wrap_err("loading the plugin") // call:read_manifest
}

#[monitored]
async fn plugin_route() -> StatusCode {
    let loaded = load_plugin(); // call:load_plugin
    if let Err(e) = loaded {
        fmd::capture!(e);
    }
    StatusCode::OK
}

#[monitored]
async fn panic_route() -> StatusCode {
    let plugins: Vec<u32> = Vec::new();
    StatusCode::from_u16(plugins[3] as u16).unwrap_or(StatusCode::OK) // panic:index
}

async fn server() -> SocketAddr {
    color_eyre_installed();
    spine::serve(
        Router::new()
            .route("/plugin", get(plugin_route))
            .route("/panic", get(panic_route)),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_color_eyre_report_is_stored_plain_with_its_backtrace_frames() {
    let addr = server().await;
    assert_eq!(spine::get(addr, "/plugin").await.status, 200);
    spine::flush();
    let conn = spine::db(spine::start());
    let s = stored(&conn, "loading the plugin");
    println!("{s:#?}");
    assert_eq!(s.type_name, "eyre::Report (caused by std::io::Error)");
    assert_eq!(s.chain, ["reading the manifest", "manifest.toml not found"]);
    // No colour, no section header, no snippet reached a message or a frame.
    let texts: Vec<String> = conn
        .prepare("SELECT message FROM exception_message")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for text in texts.iter().chain(s.frames.iter().map(|f| &f.0)) {
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{2501}') && !text.contains('\u{22ee}'),
            "{text:?}"
        );
    }
    let line = |marker| spine::line_of(SOURCE, marker);
    assert_eq!(
        s.app(),
        [
            ("load_plugin", line("call:read_manifest")),
            ("plugin_route", line("call:load_plugin")),
        ]
    );
    // The function without annotation where the report was made, known only from
    // color-eyre's backtrace, as a library frame in front of the annotated ones.
    let origin = s
        .library("read_manifest")
        .expect("read_manifest on the trace");
    assert!(origin < s.frames.iter().position(|f| f.2).unwrap());
    assert_eq!(s.frames[origin].1, line("origin:manifest"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_recorded_with_color_eyres_panic_hook_installed_first() {
    let addr = server().await;
    assert_eq!(spine::get(addr, "/panic").await.status, 500);
    spine::flush();
    let conn = spine::db(spine::start());
    let s = stored(
        &conn,
        "index out of bounds: the len is 0 but the index is 3",
    );
    assert_eq!(s.type_name, "panic");
    assert_eq!(
        s.app(),
        [("panic_route", spine::line_of(SOURCE, "panic:index"))]
    );
}
