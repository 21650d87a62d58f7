//! Spawned tasks over real HTTP into a real SQLite file: `fmd::spawn(fut)` and
//! `fut.in_current_request()` carry the request into the task, so a panic or `capture!`
//! there is stored on the request's endpoint with the spawning handler's frame on its trace,
//! linked to the request — inside its record while it runs, as a record of its own once it
//! ended; a task spawned by such a task carries the same request. Plain `tokio::spawn` still
//! records as `(background)`.
//! (Its own test binary: one monitor per process.)

use axum::Router;
use axum::routing::get;
use fmd::prelude::*;
use fmd_tests::spine;
use std::sync::Mutex;
use tokio::sync::oneshot;

#[derive(Debug)]
struct Job(&'static str);

impl std::fmt::Display for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Job {}

#[capture]
async fn job_step(message: &'static str) {
    tokio::task::yield_now().await;
    fmd::capture!(Job(message));
}

#[monitored]
async fn awaited_panic() -> &'static str {
    let task = fmd::spawn(async {
        tokio::task::yield_now().await;
        panic!("the spawned task panicked");
    });
    let joined = task.await;
    assert!(
        joined.unwrap_err().is_panic(),
        "the panic reaches the JoinHandle"
    );
    "joined"
}

#[monitored]
async fn awaited_capture() -> &'static str {
    // The extension trait from the prelude, on a plain tokio::spawn.
    tokio::spawn(job_step("the awaited task failed").in_current_request())
        .await
        .expect("no panic");
    "joined"
}

#[monitored]
async fn nested() -> &'static str {
    // A task spawned by a carried task carries the same request.
    fmd::spawn(async { fmd::spawn(job_step("a nested task failed")).await })
        .await
        .expect("no panic")
        .expect("no panic");
    "joined"
}

/// The detached task waits for the test's go (after the answer arrived), then records;
/// the test awaits its handle.
static GO: Mutex<Option<oneshot::Receiver<()>>> = Mutex::new(None);
static DETACHED: Mutex<Option<tokio::task::JoinHandle<()>>> = Mutex::new(None);

#[monitored]
async fn detached() -> &'static str {
    let go = GO.lock().unwrap().take().expect("armed");
    let task = fmd::spawn(async move {
        let _ = go.await;
        job_step("the detached task failed late").await;
        panic!("the detached task panicked late");
    });
    *DETACHED.lock().unwrap() = Some(task);
    "answered before the task ran"
}

#[monitored]
async fn plain_spawn() -> &'static str {
    tokio::spawn(job_step("a plain tokio task failed"))
        .await
        .expect("no panic");
    "joined"
}

/// (endpoint, request route or NULL, kind) of the occurrences of `message`.
fn occurrences(conn: &rusqlite::Connection, message: &str) -> Vec<(String, Option<String>, i64)> {
    conn.prepare(
        "SELECT e.name, r.route, o.kind FROM exception_occurrence o
         JOIN exception_message m ON m.id = o.message_id
         JOIN exception_group g ON g.id = o.group_id
         JOIN endpoint e ON e.id = g.endpoint_id
         LEFT JOIN request_text r ON r.id = o.request_id
         WHERE m.message = ?1",
    )
    .expect("prepare")
    .query_map([message], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

/// One occurrence on `spawned_tasks::{handler}` linked to the request on `route`.
fn linked(handler: &str, route: &str, kind: i64) -> Vec<(String, Option<String>, i64)> {
    vec![(
        format!("spawned_tasks::{handler}"),
        Some(route.to_owned()),
        kind,
    )]
}

fn functions(conn: &rusqlite::Connection, message: &str) -> Vec<String> {
    spine::trace_of(conn, message)
        .into_iter()
        .map(|f| f.function)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_spawned_tasks_record_counts_for_their_request() {
    let db = spine::start();
    let (go, go_rx) = oneshot::channel();
    *GO.lock().unwrap() = Some(go_rx);
    let addr = spine::serve(
        Router::new()
            .route("/awaited-panic", get(awaited_panic))
            .route("/awaited-capture", get(awaited_capture))
            .route("/detached", get(detached))
            .route("/plain", get(plain_spawn))
            .route("/nested", get(nested)),
    )
    .await;
    for path in ["/awaited-panic", "/awaited-capture", "/plain", "/nested"] {
        let reply = spine::get(addr, path).await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (200, "joined"),
            "{path}"
        );
    }
    let reply = spine::get(addr, "/detached").await;
    assert_eq!(reply.status, 200);
    spine::flush(); // the detached request is stored before its task records anything
    go.send(()).expect("the task waits");
    let task = DETACHED.lock().unwrap().take().expect("spawned");
    assert!(
        task.await.unwrap_err().is_panic(),
        "the late panic reaches the JoinHandle"
    );
    spine::flush();
    let conn = spine::db(db);

    // In flight: inside the request's record, on its endpoint.
    let panic = "the spawned task panicked";
    assert_eq!(
        occurrences(&conn, panic),
        linked("awaited_panic", "/awaited-panic", 0)
    );
    let trace = functions(&conn, panic);
    println!("panic trace: {trace:?}");
    assert!(trace.iter().any(|f| f == "awaited_panic"), "{trace:?}");
    let status: i64 = conn
        .query_row(
            "SELECT status FROM request_text WHERE route = '/awaited-panic'",
            [],
            |r| r.get(0),
        )
        .expect("request row");
    assert_eq!(status, 200, "the handler handled the JoinError");

    let captured = "the awaited task failed";
    assert_eq!(
        occurrences(&conn, captured),
        linked("awaited_capture", "/awaited-capture", 2)
    );
    assert_eq!(functions(&conn, captured), ["job_step", "awaited_capture"]);

    let nested_failure = "a nested task failed";
    assert_eq!(
        occurrences(&conn, nested_failure),
        linked("nested", "/nested", 2)
    );
    assert_eq!(functions(&conn, nested_failure), ["job_step", "nested"]);

    // After the request ended: records of their own, linked to the stored request.
    let late = "the detached task failed late";
    assert_eq!(occurrences(&conn, late), linked("detached", "/detached", 2));
    assert_eq!(functions(&conn, late), ["job_step", "detached"]);
    let late_panic = "the detached task panicked late";
    assert_eq!(
        occurrences(&conn, late_panic),
        linked("detached", "/detached", 0)
    );
    let trace = functions(&conn, late_panic);
    assert!(trace.iter().any(|f| f == "detached"), "{trace:?}");

    // Plain tokio::spawn: background, as before.
    assert_eq!(
        occurrences(&conn, "a plain tokio task failed"),
        [("(background)".to_owned(), None, 2)]
    );
    assert_eq!(functions(&conn, "a plain tokio task failed"), ["job_step"]);
}
