//! Levels 2 and 3 and the extras end to end: real HTTP on 127.0.0.1, a real SQLite file.
//!
//! Outliers (never judged before ten requests of history; URL, headers, process figures
//! and the stack when found slow; no secret reaches the file), call trees of concurrent
//! requests, the group-by hook, custom graphs, the version and commit, the hourly rollup.

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use fmd::prelude::*;
use fmd_tests::levels::{self, Node};
use fmd_tests::spine;
use fmd_tests::spine_fns::{gather, leaf_step, middle_step};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

// ---- level 2 ------------------------------------------------------------------------

#[monitored(level = 2)]
async fn report(Path(ms): Path<u64>) -> String {
    let waited = gather(ms).await;
    format!("waited {waited} ms")
}

fn request_ids(conn: &rusqlite::Connection, route: &str) -> Vec<i64> {
    let mut stmt = conn
        .prepare("SELECT id FROM request_text WHERE route = ?1 ORDER BY id")
        .unwrap();
    stmt.query_map([route], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn outlier_count(conn: &rusqlite::Connection, ids: &[i64]) -> i64 {
    ids.iter()
        .map(|id| {
            conn.query_row(
                "SELECT count(*) FROM outlier WHERE request_id = ?1",
                [id],
                |r| r.get::<_, i64>(0),
            )
            .unwrap()
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outliers_wait_for_history_and_keep_the_stack_where_the_request_was_slow() {
    let addr = spine::serve(Router::new().route("/report/{ms}", get(report))).await;
    // A cold start: the first requests are slow, then the endpoint is fast, and the 8th is
    // slow again — 75 times the median so far, but judged on too little history. Each
    // request is stored before the next starts, so the history is exact.
    let plan = [150, 150, 150, 2, 2, 2, 2, 150, 2, 2, 2, 2];
    for ms in plan {
        assert_eq!(spine::get(addr, &format!("/report/{ms}")).await.status, 200);
        spine::flush();
    }
    let conn = spine::db(spine::start());
    let ids = request_ids(&conn, "/report/{ms}");
    assert_eq!(ids.len(), plan.len());
    assert_eq!(
        outlier_count(&conn, &ids[..10]),
        0,
        "nothing is judged before the endpoint has 10 requests of history"
    );

    assert_eq!(spine::get(addr, "/report/800").await.status, 200);
    spine::flush();
    let ids = request_ids(&conn, "/report/{ms}");
    let slow = *ids.last().unwrap();
    let (url, typical, threshold, memory, stack, duration): (
        String,
        i64,
        i64,
        Option<i64>,
        Option<i64>,
        i64,
    ) = conn
        .query_row(
            "SELECT o.url, o.typical_us, o.threshold_us, o.memory_bytes, o.stack_id,
                    r.duration_us
             FROM outlier o JOIN request_text r ON r.id = o.request_id WHERE o.request_id = ?1",
            [slow],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
        .expect("the slow request is stored as an outlier");
    assert_eq!(url, "/report/800");
    let slowest_early: i64 = conn
        .query_row(
            &format!(
                "SELECT min(duration_us) FROM request_text WHERE id IN ({}, {}, {}, {})",
                ids[0], ids[1], ids[2], ids[7]
            ),
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        typical < slowest_early,
        "the slow first requests do not make the typical duration slow: {typical} µs"
    );
    assert_eq!(
        threshold as u64,
        fmd_runtime::request::threshold_us(typical as u64, 2.5)
    );
    assert!(duration > threshold);
    if cfg!(target_os = "linux") {
        assert!(memory.unwrap_or(0) > 1 << 20, "resident memory {memory:?}");
    }
    let stack = levels::snapshot_functions(&conn, stack.expect("a stack"));
    assert_eq!(
        stack,
        ["gather", "report"],
        "the stack when found slow, innermost first"
    );
}

#[monitored(level = 2)]
async fn login(Path(ms): Path<u64>) -> &'static str {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    "welcome"
}

const SECRETS: &[&str] = &[
    "SECRET-TOKEN-VALUE",
    "SECRET-PASSWORD-VALUE",
    "SECRET-AUTH-VALUE",
    "SECRET-COOKIE-VALUE",
    "SECRET-APIKEY-VALUE",
    "SECRET-SESSION-VALUE",
    "SECRET-PROXY-VALUE",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_header_or_parameter_reaches_the_database_file() {
    let addr = spine::serve(Router::new().route("/login/{ms}", get(login))).await;
    let headers = [
        ("Authorization", "Bearer SECRET-AUTH-VALUE"),
        ("Cookie", "sid=SECRET-COOKIE-VALUE"),
        ("Proxy-Authorization", "Basic SECRET-PROXY-VALUE"),
        ("X-Api-Key", "SECRET-APIKEY-VALUE"),
        ("X-Session-Id", "SECRET-SESSION-VALUE"),
        ("X-User", "visible-user"),
    ];
    let query = "?token=SECRET-TOKEN-VALUE&password=SECRET-PASSWORD-VALUE&city=oslo";
    for _ in 0..10 {
        let reply = levels::send_with(addr, "GET", &format!("/login/1{query}"), &headers).await;
        assert_eq!(reply.status, 200);
        spine::flush();
    }
    let reply = levels::send_with(addr, "GET", &format!("/login/700{query}"), &headers).await;
    assert_eq!(reply.status, 200);
    spine::flush();

    let database = spine::start();
    let conn = spine::db(database);
    let slow = *request_ids(&conn, "/login/{ms}").last().unwrap();
    let (url, stored_headers): (String, String) = conn
        .query_row(
            "SELECT url, headers FROM outlier WHERE request_id = ?1",
            [slow],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the slow login is an outlier");
    assert_eq!(
        url,
        "/login/700?token=[scrubbed]&password=[scrubbed]&city=oslo"
    );
    let stored: Vec<(String, String)> = serde_json::from_str(&stored_headers).unwrap();
    let value = |name: &str| {
        stored
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("header {name} stored: {stored:?}"))
    };
    for name in [
        "authorization",
        "cookie",
        "proxy-authorization",
        "x-api-key",
        "x-session-id",
    ] {
        assert_eq!(value(name), "[scrubbed]", "{name}");
    }
    assert_eq!(value("x-user"), "visible-user");

    drop(conn);
    let bytes = levels::database_bytes(database);
    assert!(levels::contains(&bytes, "visible-user"), "the search works");
    for secret in SECRETS {
        assert!(
            !levels::contains(&bytes, secret),
            "{secret} is in the database files"
        );
    }
}

// ---- level 3 ------------------------------------------------------------------------

fn barrier() -> &'static tokio::sync::Barrier {
    static MEET: OnceLock<tokio::sync::Barrier> = OnceLock::new();
    MEET.get_or_init(|| tokio::sync::Barrier::new(2))
}

#[monitored(level = 3)]
async fn tree(Path(tag): Path<u32>) -> String {
    outer_step(tag).await.to_string()
}

#[capture]
async fn outer_step(tag: u32) -> u64 {
    meet().await;
    let a = middle_step(tag).await;
    let b = middle_step(tag + 1).await;
    a + b + leaf_step(tag)
}

#[capture]
async fn meet() {
    // Both requests are in flight together from here on.
    barrier().wait().await;
}

fn shape(nodes: &[Node]) -> Vec<(i64, Option<i64>, i64, &str, i64)> {
    nodes
        .iter()
        .map(|n| (n.position, n.parent, n.depth, n.function.as_str(), n.calls))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_requests_each_get_their_exact_call_tree() {
    let addr = spine::serve(Router::new().route("/tree/{tag}", get(tree))).await;
    let first = tokio::spawn(async move { spine::get(addr, "/tree/1").await });
    let second = tokio::spawn(async move { spine::get(addr, "/tree/2").await });
    assert_eq!(first.await.unwrap().status, 200);
    assert_eq!(second.await.unwrap().status, 200);
    spine::flush();

    let conn = spine::db(spine::start());
    let ids = request_ids(&conn, "/tree/{tag}");
    assert_eq!(ids.len(), 2);
    for id in ids {
        let nodes = levels::profile_of(&conn, id);
        assert_eq!(
            shape(&nodes),
            [
                (0, None, 0, "outer_step", 1),
                (1, Some(0), 1, "meet", 1),
                (2, Some(0), 1, "middle_step", 2),
                (3, Some(2), 2, "leaf_step", 2),
                (4, Some(0), 1, "leaf_step", 1),
            ],
            "request {id}"
        );
        for n in &nodes {
            let children: i64 = nodes
                .iter()
                .filter(|c| c.parent == Some(n.position))
                .map(|c| c.total_us)
                .sum();
            assert!(n.total_us >= children, "inclusive ≥ children: {n:?}");
            assert_eq!(n.self_us, n.total_us - children, "own time: {n:?}");
        }
        // Inclusive time runs from the first poll to completion, across every `.await`:
        // the two calls of middle_step slept 5 ms each.
        assert!(nodes[2].total_us >= 10_000, "{:?}", nodes[2]);
        assert!(nodes[0].total_us >= nodes[2].total_us);
    }
}

// ---- group-by and custom graphs -----------------------------------------------------

#[monitored]
async fn who() -> &'static str {
    "ok"
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panicking_callbacks_never_reach_the_request_and_are_counted() {
    let addr = spine::serve(Router::new().route("/who", get(who))).await;
    let before = fmd::monitor().stats().callback_panics;
    fmd::group_by(|req| {
        let user = req.headers.get("x-user")?.to_str().ok()?;
        if user == "boom" {
            panic!("the group-by hook failed");
        }
        Some(user.to_owned())
    });
    let long = "u".repeat(300);
    for user in ["boom", "ana", long.as_str()] {
        let reply = levels::send_with(addr, "GET", "/who", &[("x-user", user)]).await;
        assert_eq!((reply.status, reply.body.as_str()), (200, "ok"), "{user}");
    }
    spine::flush();
    assert_eq!(fmd::monitor().stats().callback_panics, before + 1);

    let conn = spine::db(spine::start());
    let mut stmt = conn
        .prepare(
            "SELECT status, group_by,
                    (SELECT count(*) FROM exception_occurrence o WHERE o.request_id = r.id)
             FROM request_text r WHERE route = '/who' ORDER BY id",
        )
        .unwrap();
    let rows: Vec<(u16, Option<String>, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        rows,
        [
            (200, None, 0),
            (200, Some("ana".to_owned()), 0),
            (200, Some("u".repeat(256)), 0),
        ]
    );

    // A graph whose callback panics twice, then gives values.
    static CALLS: AtomicU32 = AtomicU32::new(0);
    fmd::add_graph("Flaky (test)", Duration::from_millis(10), || {
        if CALLS.fetch_add(1, Ordering::SeqCst) < 2 {
            panic!("the graph callback failed");
        }
        7.0
    });
    wait_until("a value after the panics", || {
        spine::flush();
        graph_values(&conn, "Flaky (test)").len() >= 2
    });
    assert_eq!(fmd::monitor().stats().callback_panics, before + 3);
    assert!(
        graph_values(&conn, "Flaky (test)")
            .iter()
            .all(|(_, v, _)| *v == 7.0)
    );
}

fn graph_values(conn: &rusqlite::Connection, name: &str) -> Vec<(i64, f64, String)> {
    let mut stmt = conn
        .prepare(
            "SELECT v.time, v.value, v.instance FROM custom_graph_value v
             JOIN custom_graph g ON g.id = v.graph_id WHERE g.name = ?1 ORDER BY v.time",
        )
        .unwrap();
    stmt.query_map([name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_custom_graph_is_sampled_and_stored() {
    let database = spine::start();
    fmd::add_graph("Resident memory (test)", Duration::from_millis(20), || {
        match fmd_runtime::process::resident_bytes() {
            Some(bytes) => bytes as f64,
            None => 1.0,
        }
    });
    let conn = spine::db(database);
    wait_until("three samples", || {
        spine::flush();
        graph_values(&conn, "Resident memory (test)").len() >= 3
    });
    let values = graph_values(&conn, "Resident memory (test)");
    let instance = &fmd::monitor().config().instance;
    assert!(values.iter().all(|(_, v, i)| *v > 0.0 && i == instance));
    assert!(values.windows(2).all(|w| w[0].0 <= w[1].0));
}

// ---- versions and the hourly rollup -------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_version_and_git_commit_are_stored() {
    let addr = spine::serve(Router::new().route("/who-version", get(who))).await;
    assert_eq!(spine::get(addr, "/who-version").await.status, 200);
    spine::flush();
    let output = std::process::Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR"), "rev-parse", "HEAD"])
        .output()
        .expect("git is needed for this test (apt-get install git)");
    assert!(
        output.status.success(),
        "this test runs inside the fmd repository"
    );
    let head = String::from_utf8(output.stdout).unwrap().trim().to_owned();

    let conn = spine::db(spine::start());
    let (commit, first, last): (Option<String>, i64, i64) = conn
        .query_row(
            "SELECT git_commit, first_seen, last_seen FROM app_version WHERE version = ?1",
            [env!("CARGO_PKG_VERSION")],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("the host crate's version is stored");
    assert_eq!(commit.as_deref(), Some(head.as_str()));
    assert!(first <= last);
    let version: String = conn
        .query_row(
            "SELECT version FROM request_text WHERE route = '/who-version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
}

#[monitored]
async fn roll(Path(code): Path<u16>) -> StatusCode {
    if code == 0 {
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
    StatusCode::from_u16(code).unwrap_or(StatusCode::OK)
}

type RollupRow = (i64, i64, String, i64, i64, i64, i64, i64);

fn rows(tx: &rusqlite::Transaction<'_>, sql: &str) -> Vec<RollupRow> {
    let mut stmt = tx.prepare(sql).unwrap();
    stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hourly_rollup_matches_the_request_rows() {
    use tower::ServiceExt;
    let router = Router::new().route("/roll/{code}", get(roll));
    let addr = spine::serve(router.clone()).await;
    for code in [200, 200, 404, 500] {
        assert_eq!(
            spine::get(addr, &format!("/roll/{code}")).await.status,
            code
        );
    }
    let app = fmd::axum::bind(router);
    let request = axum::http::Request::get("/roll/0")
        .body(axum::body::Body::empty())
        .unwrap();
    let outcome = tokio::time::timeout(Duration::from_millis(100), app.oneshot(request)).await;
    assert!(outcome.is_err(), "cancelled");
    spine::flush();

    let mut conn = spine::db(spine::start());
    let tx = conn.transaction().unwrap(); // one snapshot for both reads
    let from_requests = rows(
        &tx,
        "SELECT endpoint_id, time / 3600000, version, count(*), sum(duration_us),
                sum(CASE WHEN status BETWEEN 400 AND 499 THEN 1 ELSE 0 END),
                sum(CASE WHEN status BETWEEN 500 AND 599 THEN 1 ELSE 0 END),
                sum(cancelled)
         FROM request_text GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    );
    let rollup = rows(
        &tx,
        "SELECT endpoint_id, hour, version, hits, duration_us, client_errors, server_errors,
                cancelled
         FROM request_hourly ORDER BY 1, 2, 3",
    );
    assert_eq!(from_requests, rollup);
    let roll: (i64, i64, i64, i64) = tx
        .query_row(
            "SELECT sum(h.hits), sum(h.client_errors), sum(h.server_errors), sum(h.cancelled)
             FROM request_hourly h JOIN endpoint e ON e.id = h.endpoint_id
             WHERE e.name = 'levels::roll'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(roll, (5, 1, 1, 1));
}
