//! `FMD_IGNORE_ROUTES` / `Config::ignore_routes`: requests on a route left out are not
//! recorded at all — no request, no endpoint, no error — even when their handler is
//! `#[monitored]`, calls `capture!` (itself or in a task made by `fmd::spawn`) or panics;
//! the other routes are recorded as before. Through the axum layer and the actix-web
//! middleware alike.
//! (Its own test binary: one monitor per process.)

use axum::Router;
use axum::routing::get;
use fmd::prelude::*;
use fmd_tests::spine;

#[derive(Debug)]
struct Probe;

impl std::fmt::Display for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("health probe noticed something")
    }
}

impl std::error::Error for Probe {}

#[monitored]
async fn health() -> &'static str {
    fmd::capture!(Probe);
    // A task it spawns carries the leaving out along.
    fmd::spawn(async { fmd::capture!(Probe) })
        .await
        .expect("no panic");
    "ok"
}

#[monitored]
async fn internal_panics() -> &'static str {
    panic!("an internal route left out panicked");
}

#[monitored]
async fn work() -> &'static str {
    "done"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_on_ignored_routes_are_not_recorded_at_all() {
    let db = spine::start_with(|c| {
        c.ignore_routes = vec!["/health".to_owned(), "/internal/*".to_owned()];
    });
    let addr = spine::serve(
        Router::new()
            .route("/health", get(health))
            .route("/internal/{job}", get(internal_panics))
            .route("/work", get(work)),
    )
    .await;
    for _ in 0..50 {
        assert_eq!(spine::get(addr, "/health").await.status, 200);
    }
    // Its panic still goes to the host as a broken connection or a 500, unrecorded.
    let panicked = spine::get(addr, "/internal/7").await.status;
    assert!(panicked == 0 || panicked == 500, "{panicked}");
    assert_eq!(spine::get(addr, "/work").await.status, 200);
    // The same routes through the actix-web adapter, in the same monitor.
    let actix = fmd_tests::actix::serve(|app| {
        app.route("/health", actix_web::web::get().to(health))
            .route("/internal/{job}", actix_web::web::get().to(internal_panics))
            .route("/work", actix_web::web::get().to(work));
    });
    for _ in 0..20 {
        assert_eq!(spine::get(actix, "/health").await.status, 200);
    }
    let panicked = spine::get(actix, "/internal/3").await.status;
    assert!(panicked == 0 || panicked == 500, "{panicked}");
    assert_eq!(spine::get(actix, "/work").await.status, 200);
    spine::flush();
    let conn = spine::db(db);
    let strings = |sql: &str| -> Vec<String> {
        let mut stmt = conn.prepare(sql).expect("prepare");
        stmt.query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    assert_eq!(
        strings("SELECT route || ' ' || status FROM request_text"),
        ["/work 200", "/work 200"],
        "only the route not left out has a request row"
    );
    assert_eq!(
        strings("SELECT name FROM endpoint ORDER BY name"),
        ["ignored_routes::work"],
        "no endpoint row for the left-out routes"
    );
    assert!(
        strings("SELECT message FROM exception_message").is_empty(),
        "neither the capture! nor the panic of a left-out route is stored"
    );
    let hits: i64 = conn
        .query_row(
            "SELECT coalesce(sum(hits), 0) FROM request_hourly",
            [],
            |r| r.get(0),
        )
        .expect("hits");
    assert_eq!(
        hits, 2,
        "the hourly hits count only /work (axum's and actix's)"
    );
    assert!(fmd::monitor().config().ignores_route("/health"));
}

#[test]
fn a_bad_ignored_route_is_a_clear_config_error() {
    let e = fmd::Config::from_lookup(|name| {
        (name == "FMD_IGNORE_ROUTES").then(|| "/health,metrics".to_owned())
    })
    .unwrap_err();
    let text = e.to_string();
    assert!(text.contains("FMD_IGNORE_ROUTES"), "{text}");
    assert!(
        text.contains("\"metrics\"") && text.contains("start with '/'"),
        "{text}"
    );
    let in_code = fmd::Config {
        ignore_routes: vec!["/ok/*".to_owned(), "/a*b".to_owned()],
        ..fmd::Config::default()
    };
    let text = in_code.validate().unwrap_err().to_string();
    assert!(text.contains("\"/a*b\"") && text.contains("'/*'"), "{text}");
}
