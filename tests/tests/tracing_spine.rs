//! `fmd::tracing::layer()` end to end: `tracing::error!` in a monitored handler over real
//! HTTP and in a background thread, asserted in the SQLite store and on the endpoint's
//! exceptions page.

use axum::Router;
use axum::routing::get;
use fmd_tests::spine;
use std::fmt;
use std::sync::Once;
use tracing_subscriber::prelude::*;

const SOURCE: &str = include_str!("tracing_spine.rs");

#[derive(Debug)]
struct ChargeError(std::io::Error);

impl fmt::Display for ChargeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("card declined")
    }
}

impl std::error::Error for ChargeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

fn subscribe() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        tracing_subscriber::registry()
            .with(fmd::tracing::layer())
            .init();
    });
}

#[fmd::monitored]
async fn charge() -> &'static str {
    let e = ChargeError(std::io::Error::other("gateway timed out"));
    tracing::warn!("below the level: not recorded");
    // event:handler — the event's line!() is the next line, the macro's name.
    tracing::error!(
        error = &e as &dyn std::error::Error,
        user = 7,
        "charge failed"
    );
    "charged"
}

/// (endpoint, source chain, request id) of the occurrence whose message is `message`.
fn occurrence(conn: &rusqlite::Connection, message: &str) -> (String, String, String, Option<i64>) {
    conn.query_row(
        "SELECT e.name, t.name, o.source_chain, o.request_id FROM exception_occurrence o
         JOIN exception_message m ON m.id = o.message_id
         JOIN exception_type t ON t.id = o.type_id
         JOIN exception_group g ON g.id = o.group_id
         JOIN endpoint e ON e.id = g.endpoint_id
         WHERE m.message = ?1 AND o.kind = 2",
        [message],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
    .unwrap_or_else(|e| panic!("no occurrence {message:?}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_event_in_a_handler_joins_its_request() {
    subscribe();
    let addr = spine::serve(Router::new().route("/charge", get(charge))).await;
    assert_eq!(spine::get(addr, "/charge").await.body, "charged");
    spine::flush();
    let conn = spine::db(spine::start());
    let (endpoint, type_name, chain, request) = occurrence(&conn, "charge failed user=7");
    assert_eq!(endpoint, "tracing_spine::charge");
    assert_eq!(type_name, fmd::tracing::TYPE_NAME);
    assert_eq!(chain, r#"["card declined","gateway timed out"]"#);
    assert!(request.is_some(), "joined the request's record");
    let trace = spine::trace_of(&conn, "charge failed user=7");
    assert_eq!(trace[0].function, "charge");
    assert_eq!(trace[0].line, spine::line_of(SOURCE, "event:handler") + 1);
    let warned: i64 = conn
        .query_row(
            "SELECT count(*) FROM exception_message WHERE message LIKE 'below the level%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(warned, 0);
    // The occurrence on the endpoint's exceptions page: the message with the event's
    // fields, the error's chain and the handler's frame.
    let endpoint: i64 = conn
        .query_row(
            "SELECT id FROM endpoint WHERE name = 'tracing_spine::charge'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let cookie = fmd_tests::http::login(addr, "/dashboard", "admin", "test-password").await;
    let page = fmd_tests::http::get(
        addr,
        &format!("/dashboard/endpoint/{endpoint}/exceptions"),
        &[("Cookie", &cookie)],
    )
    .await;
    assert_eq!(page.status, 200);
    for shown in [
        "charge failed user=7",
        "<li>card declined</li>",
        "<li>gateway timed out</li>",
        fmd::tracing::TYPE_NAME,
    ] {
        assert!(page.body.contains(shown), "{shown} on the page");
    }
}

#[test]
fn an_error_event_outside_requests_is_background_with_span_fields() {
    subscribe();
    spine::start();
    std::thread::spawn(|| {
        let e = ChargeError(std::io::Error::other("bank offline"));
        let span = tracing::error_span!("nightly", batch = "b-1");
        let _guard = span.enter();
        // event:background — the event is on the next line.
        tracing::error!(
            error = &e as &dyn std::error::Error,
            user = 7,
            "refund failed"
        );
    })
    .join()
    .unwrap();
    spine::flush();
    let conn = spine::db(spine::start());
    let message = "refund failed user=7 batch=b-1";
    let (endpoint, _, chain, request) = occurrence(&conn, message);
    assert_eq!(endpoint, "(background)");
    assert_eq!(chain, r#"["card declined","bank offline"]"#);
    assert_eq!(request, None);
    let trace = spine::trace_of(&conn, message);
    assert_eq!(trace[0].function, "tracing_spine");
    assert_eq!(
        trace[0].line,
        spine::line_of(SOURCE, "event:background") + 1
    );
}
