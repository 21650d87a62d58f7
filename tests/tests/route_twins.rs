//! A route's twin endpoint (a rejection stored under the route template before the layer
//! knew the route's handler) merged into the handler's endpoint by the real writer, on
//! both engines, where the two overlap: the same hour, version and instance in the
//! rollup, the same duration bucket, and an exception group of the same hash on both
//! (its occurrences, counts and per-version counts join the handler's group); a group
//! only the twin has moves as it is. An endpoint of the route's name that answered below
//! 400 is no twin.

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

both_engines!(
    a_twin_merges_where_it_overlaps_the_handler,
    an_endpoint_that_answered_is_no_twin
);
