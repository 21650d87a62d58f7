//! A route's twin endpoint (a rejection stored under the route template before the layer
//! knew the route's handler) merged into the handler's endpoint by the real writer, on
//! both engines, where the two overlap: the same hour, version and instance in the
//! rollup, the same duration bucket, and an exception group of the same hash on both
//! (its occurrences, counts and per-version counts join the handler's group); a group
//! only the twin has moves as it is. An endpoint of the route's name that answered below
//! 400 is no twin. A route's twins per method (`POST /orders/{id}`) each join the handler
//! of their own method, or the route's endpoint when the method's handler is not
//! monitored; the route-named twin (a 405) joins the first handler learned.

use fmd_runtime::model::event::Event;
use fmd_tests::both_engines;
use fmd_tests::dashboard_fixture::now_ms;
use fmd_tests::engines::{Db, Engine, fresh_database};
use fmd_tests::issue_fixture::{error, function, request, write_events};

const ROUTE: &str = "/orders/{id}";
const HANDLER: &str = "shop::orders::show";

fn a_twin_merges_where_it_overlaps_the_handler(engine: Engine) {
    let (db, _dir) = fresh_database(engine);
    // Inside one hour and one day, so that the rollup keys meet.
    let t = now_ms() / 3_600_000 * 3_600_000 + 1_000;
    let f = function("shop::orders", "show", "fn show() {}");
    let rejected = || error("(rejected before the handler)", "bad id", &[f], t);
    write_events(
        &db,
        "1.0.0",
        &[
            request(ROUTE, t, 400, vec![rejected()]),
            request(
                ROUTE,
                t + 1,
                422,
                vec![error("shop::Invalid", "no such order", &[f], t + 1)],
            ),
        ],
    );
    let raw = Db::open(&db);
    let endpoints = || raw.strings("SELECT name FROM endpoint ORDER BY name");
    assert_eq!(endpoints(), [ROUTE], "the twin");
    // The handler's first request on the route, with the same error as the twin's first.
    let again = error("(rejected before the handler)", "bad id", &[f], t + 2);
    write_events(&db, "1.0.0", &[request(HANDLER, t + 2, 400, vec![again])]);
    assert_eq!(endpoints(), [HANDLER], "the twin is gone");

    let one = |sql: &str| raw.query_i64(sql, &[]).unwrap_or(-1);
    assert_eq!(one("SELECT count(*) FROM request"), 3);
    assert_eq!(one("SELECT count(*) FROM request_hourly"), 1, "one key");
    assert_eq!(
        one("SELECT CAST(sum(hits) AS BIGINT) FROM request_hourly"),
        3
    );
    assert_eq!(
        one("SELECT CAST(sum(client_errors) AS BIGINT) FROM request_hourly"),
        3
    );
    assert_eq!(one("SELECT count(*) FROM duration_daily"), 1, "one bucket");
    assert_eq!(
        one("SELECT CAST(sum(hits) AS BIGINT) FROM duration_daily"),
        3
    );
    let groups = raw.strings(
        "SELECT t.name || ' ' || CAST(g.count AS TEXT) || ' ' || CAST(g.first_seen - g.last_seen AS TEXT)
         FROM exception_group g JOIN exception_type t ON t.id = g.type_id ORDER BY t.name",
    );
    assert_eq!(
        groups,
        ["(rejected before the handler) 2 -2", "shop::Invalid 1 0"],
        "the same-hash groups are one, over both times; the other moved"
    );
    assert_eq!(one("SELECT count(*) FROM exception_occurrence"), 3);
    assert_eq!(
        one("SELECT count(*) FROM exception_occurrence o
             WHERE NOT EXISTS (SELECT 1 FROM exception_group g WHERE g.id = o.group_id)"),
        0
    );
    assert_eq!(one("SELECT count(*) FROM exception_group_version"), 2);
    assert_eq!(
        one("SELECT CAST(sum(count) AS BIGINT) FROM exception_group_version"),
        3
    );
    assert_eq!(one("SELECT CAST(sum(count) AS BIGINT) FROM issue"), 3);
    assert_eq!(one("SELECT count(*) FROM issue"), 2);
    assert_eq!(
        one("SELECT CAST(value AS BIGINT) FROM fmd_meta WHERE key = 'deletions'"),
        1,
        "other writers forget their cached ids"
    );
}

/// An endpoint of the route's name that answered 200 is an unmonitored handler's (another
/// method of the route), not a twin: it stays.
fn an_endpoint_that_answered_is_no_twin(engine: Engine) {
    let (db, _dir) = fresh_database(engine);
    let t = now_ms();
    write_events(&db, "1.0.0", &[request(ROUTE, t, 200, vec![])]);
    write_events(&db, "1.0.0", &[request(HANDLER, t + 1, 200, vec![])]);
    let raw = Db::open(&db);
    let endpoints = raw.strings("SELECT name FROM endpoint ORDER BY name");
    assert_eq!(endpoints, [ROUTE, HANDLER]);
    assert_eq!(raw.count("request"), 2);
}

/// `request(..)` of `method`.
fn of(method: &'static str, event: Event) -> Event {
    match event {
        Event::Request(mut r) => {
            r.method = method.into();
            Event::Request(r)
        }
        other => other,
    }
}

/// Two handlers on one route: each method's twin joins its own handler, whichever the
/// writer learns first; a method without a monitored handler's twin joins the route.
fn per_method_twins_join_their_own_handlers(engine: Engine) {
    let (db, _dir) = fresh_database(engine);
    let t = now_ms();
    let f = function("shop::orders", "show", "fn show() {}");
    let rejected = |m: &str, at| error("(rejected before the handler)", m, &[f], at);
    write_events(
        &db,
        "1.0.0",
        &[
            of(
                "POST",
                request("POST /orders/{id}", t, 400, vec![rejected("bad JSON", t)]),
            ),
            of(
                "GET",
                request(
                    "GET /orders/{id}",
                    t + 1,
                    400,
                    vec![rejected("bad id", t + 1)],
                ),
            ),
            of("DELETE", request(ROUTE, t + 2, 405, vec![])),
            of("PUT", request("PUT /orders/{id}", t + 3, 400, vec![])),
        ],
    );
    let raw = Db::open(&db);
    let endpoints = || raw.strings("SELECT name FROM endpoint ORDER BY name");
    assert_eq!(
        endpoints(),
        [
            ROUTE,
            "GET /orders/{id}",
            "POST /orders/{id}",
            "PUT /orders/{id}"
        ],
        "the twins, one per method"
    );
    // GET's handler learned first: GET's twin and the route's (the 405) join it.
    write_events(
        &db,
        "1.0.0",
        &[of("GET", request(HANDLER, t + 4, 200, vec![]))],
    );
    assert_eq!(
        endpoints(),
        ["POST /orders/{id}", "PUT /orders/{id}", HANDLER]
    );
    const UPDATE: &str = "shop::orders::update";
    write_events(
        &db,
        "1.0.0",
        &[of("POST", request(UPDATE, t + 5, 200, vec![]))],
    );
    // PUT answered without a monitored handler: its twin joins the route's endpoint.
    write_events(
        &db,
        "1.0.0",
        &[of("PUT", request(ROUTE, t + 6, 200, vec![]))],
    );
    assert_eq!(endpoints(), [ROUTE, HANDLER, UPDATE]);
    let requests = |name: &str| {
        raw.strings(&format!(
            "SELECT CAST(r.status AS TEXT) FROM request r JOIN endpoint e ON e.id = r.endpoint_id
             WHERE e.name = '{name}' ORDER BY r.time"
        ))
    };
    assert_eq!(requests(HANDLER), ["400", "405", "200"]);
    assert_eq!(requests(UPDATE), ["400", "200"]);
    assert_eq!(requests(ROUTE), ["400", "200"]);
    let messages = |name: &str| {
        raw.strings(&format!(
            "SELECT m.message FROM exception_occurrence o
             JOIN exception_group g ON g.id = o.group_id
             JOIN endpoint e ON e.id = g.endpoint_id
             JOIN exception_message m ON m.id = o.message_id
             WHERE e.name = '{name}'"
        ))
    };
    assert_eq!(messages(HANDLER), ["bad id"]);
    assert_eq!(messages(UPDATE), ["bad JSON"]);
    let hits = |name: &str| {
        raw.query_i64(
            &format!(
                "SELECT CAST(sum(h.hits) AS BIGINT) FROM request_hourly h
                 JOIN endpoint e ON e.id = h.endpoint_id WHERE e.name = '{name}'"
            ),
            &[],
        )
    };
    assert_eq!(
        [hits(HANDLER), hits(UPDATE), hits(ROUTE)],
        [Some(3), Some(2), Some(2)],
        "the rollups moved with them"
    );
}

both_engines!(
    a_twin_merges_where_it_overlaps_the_handler,
    an_endpoint_that_answered_is_no_twin,
    per_method_twins_join_their_own_handlers
);
