//! The capture spine through the actix-web adapter: a real actix server on 127.0.0.1
//! wrapped in `fmd::actix::Monitor`, a real SQLite file. The same handlers and assertions
//! as the axum spine (`capture_spine.rs`, `levels.rs`), in actix's terms.

use actix_web::{HttpResponse, web};
use fmd::prelude::*;
use fmd_tests::spine_fns::{
    self, AppError, explode, first_failure, gather, leaf_step, middle_step, outer, second_failure,
};
use fmd_tests::{actix, levels, spine};
use std::time::Duration;

const SOURCE: &str = include_str!("actix_spine.rs");

#[monitored(level = 1)]
async fn deep(n: web::Path<u32>) -> Result<String, AppError> {
    let value = outer(n.into_inner()).await?; // hop:deep
    Ok(value.to_string())
}

#[monitored]
async fn found(n: web::Path<u32>) -> HttpResponse {
    match n.into_inner() {
        404 => HttpResponse::NotFound().body("no such item"),
        n => HttpResponse::Ok().body(format!("item {n}")),
    }
}

#[monitored]
async fn boom() -> &'static str {
    explode(3) // call:explode
}

#[monitored]
async fn handled_then_failed() -> Result<&'static str, AppError> {
    if let Err(e) = first_failure() {
        fmd::capture!(e); // capture:handled
    }
    second_failure()?; // hop:second-caller
    Ok("unreachable")
}

async fn plain() -> &'static str {
    "not annotated"
}

#[monitored(level = 2)]
async fn report(ms: web::Path<u64>) -> String {
    let waited = gather(ms.into_inner()).await;
    format!("waited {waited} ms")
}

#[monitored(level = 3)]
async fn tree(tag: web::Path<u32>) -> String {
    outer_step(tag.into_inner()).await.to_string()
}

#[capture]
async fn outer_step(tag: u32) -> u64 {
    let a = middle_step(tag).await;
    let b = middle_step(tag + 1).await;
    a + b + leaf_step(tag)
}

#[derive(serde::Deserialize)]
struct Search {
    page: u32,
}

#[monitored]
async fn search(q: web::Query<Search>) -> String {
    format!("page {}", q.page)
}

/// Every chunk of `/chunked` waits this long before it is sent.
const GAP: Duration = Duration::from_millis(100);

/// Three chunks, a [`GAP`] before each; the second captures an error from inside the
/// body's stream (after the handler returned).
#[monitored]
async fn chunked() -> HttpResponse {
    use futures_util::StreamExt;
    let chunks = futures_util::stream::iter(0..3u32).then(|n| async move {
        tokio::time::sleep(GAP).await;
        if n == 1 {
            fmd::capture!(std::io::Error::other("stream hiccup"));
        }
        Ok::<_, std::convert::Infallible>(web::Bytes::from(format!("chunk {n}\n")))
    });
    HttpResponse::Ok().streaming(chunks)
}

fn routes(app: &mut web::ServiceConfig) {
    app.route("/deep/{n}", web::get().to(deep))
        .route("/chunked", web::get().to(chunked))
        .route("/search", web::get().to(search))
        .route("/found/{n}", web::get().to(found))
        .route("/boom", web::get().to(boom))
        .route("/handled", web::get().to(handled_then_failed))
        // A resource answers a method it has no route for with 405.
        .service(web::resource("/plain").route(web::get().to(plain)))
        .route("/report/{ms}", web::get().to(report))
        .route("/tree/{tag}", web::get().to(tree));
}

/// (endpoint, method, status, ip) of the requests stored for `route`.
fn requests(
    conn: &rusqlite::Connection,
    route: &str,
) -> Vec<(String, String, Option<u16>, Option<String>)> {
    conn.prepare(
        "SELECT e.name, r.method, r.status, r.ip FROM request_text r
         JOIN endpoint e ON e.id = r.endpoint_id WHERE r.route = ?1 ORDER BY r.id",
    )
    .unwrap()
    .query_map([route], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn row(endpoint: &str, method: &str, status: u16) -> (String, String, Option<u16>, Option<String>) {
    (
        endpoint.to_owned(),
        method.to_owned(),
        Some(status),
        Some("127.0.0.1".to_owned()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_codes_of_every_kind_of_outcome_are_recorded() {
    let addr = actix::serve(routes);
    let cases = [
        ("GET", "/found/1", 200),
        ("GET", "/found/404", 404),
        ("GET", "/deep/500", 500),
        ("GET", "/boom", 500),
        ("GET", "/plain", 200),
        ("GET", "/definitely/not/a/route?x=1", 404),
        ("POST", "/plain", 405),
    ];
    for (method, path, expected) in cases {
        let reply = spine::send(addr, method, path).await;
        assert_eq!(reply.status, expected, "{method} {path}: {}", reply.body);
    }
    spine::flush();
    let conn = spine::db(spine::start());
    let found = requests(&conn, "/found/{n}");
    assert!(
        found.contains(&row("actix_spine::found", "GET", 200)),
        "{found:?}"
    );
    assert!(
        found.contains(&row("actix_spine::found", "GET", 404)),
        "{found:?}"
    );
    let deep = requests(&conn, "/deep/{n}");
    assert!(
        deep.contains(&row("actix_spine::deep", "GET", 500)),
        "{deep:?}"
    );
    let boom = requests(&conn, "/boom");
    assert!(
        boom.contains(&row("actix_spine::boom", "GET", 500)),
        "{boom:?}"
    );
    // A route without #[monitored] is its own endpoint, named by its route template; a
    // method it does not have is a 405 of that endpoint.
    let plain = requests(&conn, "/plain");
    assert!(plain.contains(&row("/plain", "GET", 200)), "{plain:?}");
    assert!(plain.contains(&row("/plain", "POST", 405)), "{plain:?}");
    // Unmatched paths share one endpoint; the raw URI is never stored.
    let unmatched = requests(&conn, "(unmatched)");
    assert!(
        unmatched.contains(&row("(unmatched)", "GET", 404)),
        "{unmatched:?}"
    );
    let raw: i64 = conn
        .query_row(
            "SELECT count(*) FROM request_text WHERE route LIKE '%definitely%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(raw, 0);
    // The dashboard's own requests are not recorded.
    let own: i64 = conn
        .query_row(
            "SELECT count(*) FROM request_text WHERE route LIKE '/dashboard%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(own, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_three_functions_deep_is_stored_with_each_hop_and_its_source() {
    let addr = actix::serve(routes);
    let reply = spine::get(addr, "/deep/101").await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (500, "storage is broken")
    );
    spine::flush();
    let conn = spine::db(spine::start());
    spine_fns::assert_three_deep(&conn, SOURCE);
    let endpoint: String = conn
        .query_row(
            "SELECT e.name FROM exception_occurrence o
             JOIN exception_message m ON m.id = o.message_id
             JOIN request_text r ON r.id = o.request_id
             JOIN endpoint e ON e.id = r.endpoint_id
             WHERE m.message = 'storage is broken' AND o.kind = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(endpoint, "actix_spine::deep", "on the handler's request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_a_500_with_its_location_and_logical_stack() {
    let addr = actix::serve(routes);
    let reply = spine::get(addr, "/boom").await;
    assert_eq!(reply.status, 500, "answered, not a dropped connection");
    spine::flush();
    let conn = spine::db(spine::start());
    spine_fns::assert_panic_trace(&conn, SOURCE);
    let (kind, status): (i64, Option<u16>) = conn
        .query_row(
            "SELECT o.kind, r.status FROM exception_occurrence o
             JOIN exception_message m ON m.id = o.message_id
             JOIN request_text r ON r.id = o.request_id
             WHERE m.message = 'exploded at 3' ORDER BY o.id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((kind, status), (0, Some(500)), "a panic, on its request");
    // The server is still up, on both workers.
    for _ in 0..4 {
        assert_eq!(spine::get(addr, "/found/2").await.status, 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_captured_error_and_a_later_error_keep_separate_traces_on_one_request() {
    let addr = actix::serve(routes);
    assert_eq!(spine::get(addr, "/handled").await.status, 500);
    spine::flush();
    let conn = spine::db(spine::start());
    spine_fns::assert_handled_then_failed(&conn, SOURCE);
}

fn request_ids(conn: &rusqlite::Connection, route: &str) -> Vec<i64> {
    conn.prepare("SELECT id FROM request_text WHERE route = ?1 ORDER BY id")
        .unwrap()
        .query_map([route], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_level_2_endpoint_stores_its_slow_request_as_an_outlier_without_secrets() {
    let addr = actix::serve(routes);
    // Ten requests of history, each stored before the next starts.
    for _ in 0..10 {
        assert_eq!(spine::get(addr, "/report/2").await.status, 200);
        spine::flush();
    }
    let headers = [
        ("Authorization", "Bearer SECRET-AUTH-VALUE"),
        ("X-User", "visible-user"),
    ];
    let slow = levels::send_with(
        addr,
        "GET",
        "/report/800?token=SECRET-TOKEN-VALUE",
        &headers,
    )
    .await;
    assert_eq!(slow.status, 200);
    spine::flush();
    let conn = spine::db(spine::start());
    let ids = request_ids(&conn, "/report/{ms}");
    assert_eq!(ids.len(), 11);
    let outliers: i64 = conn
        .query_row(
            &format!("SELECT count(*) FROM outlier WHERE request_id IN ({})", {
                let early: Vec<String> = ids[..10].iter().map(i64::to_string).collect();
                early.join(",")
            }),
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(outliers, 0, "the fast requests are no outliers");
    let (url, headers, stack): (String, String, Option<i64>) = conn
        .query_row(
            "SELECT url, headers, stack_id FROM outlier WHERE request_id = ?1",
            [ids[10]],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("the slow request is stored as an outlier");
    assert_eq!(url, "/report/800?token=[scrubbed]");
    let stored: Vec<(String, String)> = serde_json::from_str(&headers).unwrap();
    assert!(
        stored.contains(&("authorization".into(), "[scrubbed]".into())),
        "{stored:?}"
    );
    assert!(
        stored.contains(&("x-user".into(), "visible-user".into())),
        "{stored:?}"
    );
    let stack = levels::snapshot_functions(&conn, stack.expect("a stack"));
    assert_eq!(stack, ["gather", "report"], "the stack when found slow");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_level_3_endpoint_stores_its_call_tree() {
    let addr = actix::serve(routes);
    assert_eq!(spine::get(addr, "/tree/1").await.status, 200);
    spine::flush();
    let conn = spine::db(spine::start());
    let ids = request_ids(&conn, "/tree/{tag}");
    assert_eq!(ids.len(), 1);
    let nodes = levels::profile_of(&conn, ids[0]);
    let shape: Vec<(i64, Option<i64>, i64, &str, i64)> = nodes
        .iter()
        .map(|n| (n.position, n.parent, n.depth, n.function.as_str(), n.calls))
        .collect();
    assert_eq!(
        shape,
        [
            (0, None, 0, "outer_step", 1),
            (1, Some(0), 1, "middle_step", 2),
            (2, Some(1), 2, "leaf_step", 2),
            (3, Some(0), 1, "leaf_step", 1),
        ]
    );
    // The two calls of middle_step slept 5 ms each.
    assert!(nodes[1].total_us >= 10_000, "{:?}", nodes[1]);
}

#[test]
fn a_dropped_request_is_recorded_as_cancelled() {
    spine::start();
    async fn slow() -> &'static str {
        tokio::time::sleep(Duration::from_secs(30)).await;
        "too late"
    }
    actix_web::rt::System::new().block_on(async {
        let app = actix_web::test::init_service(
            actix_web::App::new()
                .wrap(fmd::actix::Monitor::default())
                .route("/slow-cancelled", web::get().to(slow)),
        )
        .await;
        let request = actix_web::test::TestRequest::get()
            .uri("/slow-cancelled")
            .to_request();
        let call = actix_web::test::call_service(&app, request);
        let outcome = actix_web::rt::time::timeout(Duration::from_millis(100), call).await;
        assert!(outcome.is_err(), "timed out, and the future was dropped");
    });
    spine::flush();
    let conn = spine::db(spine::start());
    let (status, cancelled): (Option<u16>, bool) = conn
        .query_row(
            "SELECT status, cancelled FROM request_text WHERE route = '/slow-cancelled'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((status, cancelled), (None, true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_counts_for_the_handler_with_its_text_and_the_group_by_hook_applies() {
    let addr = actix::serve(routes);
    fmd::group_by(|req| {
        let user = req.headers.get("x-actix-user")?.to_str().ok()?;
        Some(user.to_owned())
    });
    // The handler runs first (so its route knows it); then actix's Query extractor
    // refuses a page that is no number, before the handler runs.
    for _ in 0..4 {
        let reply =
            levels::send_with(addr, "GET", "/search?page=2", &[("x-actix-user", "ana")]).await;
        assert_eq!(reply.status, 200);
    }
    let refused = spine::get(addr, "/search?page=two").await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    spine::flush();
    let conn = spine::db(spine::start());
    let rows: Vec<(String, Option<u16>, Option<String>)> = conn
        .prepare(
            "SELECT e.name, r.status, r.group_by FROM request_text r
             JOIN endpoint e ON e.id = r.endpoint_id WHERE r.route = '/search' ORDER BY r.id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let ana = (
        "actix_spine::search".to_owned(),
        Some(200),
        Some("ana".to_owned()),
    );
    assert_eq!(
        rows[..4],
        [ana.clone(), ana.clone(), ana.clone(), ana],
        "{rows:?}"
    );
    assert_eq!(
        rows[4],
        ("actix_spine::search".to_owned(), Some(400), None),
        "the rejection counts for the handler's endpoint"
    );
    let (kind, message): (i64, String) = conn
        .query_row(
            "SELECT o.kind, m.message FROM exception_occurrence o
             JOIN exception_message m ON m.id = o.message_id
             JOIN request_text r ON r.id = o.request_id
             WHERE r.route = '/search' AND r.status = 400",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the rejection is a client error");
    assert_eq!(kind, 3, "a client error");
    assert!(message.contains("Query deserialize error"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_answer_lasts_until_its_last_byte_and_its_code_runs_in_the_request() {
    let addr = actix::serve(routes);
    let reply = spine::get(addr, "/chunked").await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.contains("chunk 2"), "{}", reply.body);
    spine::flush();
    let conn = spine::db(spine::start());
    let (request, duration, status): (i64, i64, Option<u16>) = conn
        .query_row(
            "SELECT r.id, r.duration_us, r.status FROM request_text r
             JOIN endpoint e ON e.id = r.endpoint_id WHERE e.name = 'actix_spine::chunked'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("one request of the streamed endpoint");
    println!("a streamed answer of three {GAP:?} gaps: {duration} µs");
    // Three gaps are slept before the last byte: the duration cannot be shorter.
    assert!(duration >= 3 * GAP.as_micros() as i64, "{duration} µs");
    assert_eq!(status, Some(200));
    let (kind, on): (i64, Option<i64>) = conn
        .query_row(
            "SELECT o.kind, o.request_id FROM exception_occurrence o
             JOIN exception_message m ON m.id = o.message_id WHERE m.message = 'stream hiccup'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the capture inside the stream is stored");
    assert_eq!(
        (kind, on),
        (2, Some(request)),
        "captured, on the streamed request"
    );
}
