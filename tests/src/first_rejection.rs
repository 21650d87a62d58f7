//! A rejection before the route's handler ever ran in this process (a fresh process, the
//! first request is bad JSON) ends up on the handler's endpoint once the handler runs:
//! one endpoint, named after the handler, holding both requests, the rejection's text,
//! its rollup rows and its issue; never a twin named after the route. On a route whose
//! GET and POST have handlers of their own, each method's first rejection joins its own
//! handler, whichever runs first, and a 405 joins the first; on a route whose handler is
//! not monitored, a first rejection joins the route's endpoint. One test binary per
//! engine (a process has one monitor, and the point is its first request).

use crate::engines::{Db, Engine, fresh_database};
use crate::{http, spine};
use axum::extract::Query;
use axum::routing::{get, post};
use axum::{Json, Router};
use fmd::prelude::*;

#[derive(serde::Deserialize)]
struct Item {
    name: String,
}

#[monitored]
async fn create(Json(item): Json<Item>) -> String {
    item.name
}

#[monitored]
async fn rename(Json(item): Json<Item>) -> String {
    item.name
}

#[derive(serde::Deserialize)]
struct Page {
    page: u32,
}

#[monitored]
async fn browse(Query(p): Query<Page>) -> String {
    p.page.to_string()
}

#[monitored]
async fn add(Json(item): Json<Item>) -> String {
    item.name
}

/// Not monitored.
async fn plain(Query(p): Query<Page>) -> String {
    p.page.to_string()
}

/// The whole check on `engine`.
pub async fn a_first_rejection_joins_the_handler_endpoint(engine: Engine) {
    let (database, _dir) = fresh_database(engine);
    let stored = database.clone();
    spine::start_with(move |c| c.database = stored);
    let addr = spine::serve(
        Router::new()
            .route("/items", post(create))
            .route("/names", post(rename))
            .route("/shelf", get(browse).post(add))
            .route("/plain", get(plain)),
    )
    .await;
    two_handlers_on_one_route(addr, &database).await;
    const JSON: &[(&str, &str)] = &[("content-type", "application/json")];
    let send = |path: &'static str, body: &'static str| async move {
        http::send(addr, "POST", path, JSON, body.to_owned())
            .await
            .status
    };
    // The rejection stored first, in a batch of its own; then the handler's first call.
    assert_eq!(send("/items", "{bad").await, 400);
    spine::flush();
    let endpoints = || {
        Db::open(&database)
            .strings("SELECT name FROM endpoint WHERE name NOT LIKE '%shelf%' AND name NOT LIKE '%plain%' AND name NOT IN ('fmd_tests::first_rejection::browse', 'fmd_tests::first_rejection::add') ORDER BY name")
    };
    assert_eq!(
        endpoints(),
        ["POST /items"],
        "the layer does not know the handler yet: the rejection is stored under the route's twin for its method"
    );
    assert_eq!(send("/items", r#"{"name":"a"}"#).await, 200);
    spine::flush();
    assert_eq!(endpoints(), ["fmd_tests::first_rejection::create"]);
    // Both in one batch.
    assert_eq!(send("/names", "{bad").await, 400);
    assert_eq!(send("/names", r#"{"name":"b"}"#).await, 200);
    spine::flush();
    // Later rejections count for the handler the layer now knows.
    assert_eq!(send("/items", "{worse").await, 400);
    spine::flush();

    let db = Db::open(&database);
    let names = db.strings("SELECT name FROM endpoint ORDER BY name");
    assert_eq!(
        names,
        [
            "/plain",
            "fmd_tests::first_rejection::add",
            "fmd_tests::first_rejection::browse",
            "fmd_tests::first_rejection::create",
            "fmd_tests::first_rejection::rename"
        ],
        "no endpoint named after a route"
    );
    for (name, requests) in [("create", 3), ("rename", 2)] {
        let of = |sql: &str| {
            db.query_i64(
                &format!("{sql} JOIN endpoint e ON e.id = x.endpoint_id WHERE e.name = ?1"),
                &[format!("fmd_tests::first_rejection::{name}").into()],
            )
        };
        assert_eq!(
            of("SELECT count(*) FROM request x"),
            Some(requests),
            "{name}"
        );
        assert_eq!(
            of("SELECT CAST(sum(x.hits) AS BIGINT) FROM request_hourly x"),
            Some(requests),
            "{name}: the hourly rollup"
        );
        assert_eq!(
            of("SELECT CAST(sum(x.client_errors) AS BIGINT) FROM request_hourly x"),
            Some(requests - 1),
            "{name}: its 4xx"
        );
        assert_eq!(
            of("SELECT CAST(sum(x.hits) AS BIGINT) FROM duration_daily x"),
            Some(requests),
            "{name}: the duration histogram"
        );
        let texts = db.strings(&format!(
            "SELECT m.message FROM exception_occurrence o
             JOIN exception_group x ON x.id = o.group_id
             JOIN endpoint e ON e.id = x.endpoint_id
             JOIN exception_message m ON m.id = o.message_id
             WHERE e.name = 'fmd_tests::first_rejection::{name}' ORDER BY o.id"
        ));
        assert_eq!(texts.len(), requests as usize - 1, "{name}: {texts:?}");
        for t in &texts {
            assert!(
                t.contains("Failed to parse the request body as JSON"),
                "{name}: {t}"
            );
        }
    }
    assert_eq!(
        db.query_i64(
            "SELECT count(*) FROM issue i WHERE NOT EXISTS
             (SELECT 1 FROM exception_group g WHERE g.issue_id = i.id)",
            &[]
        ),
        Some(0),
        "every issue keeps its variants"
    );
}

/// The statuses of the requests stored for `endpoint`, oldest first, and its errors'
/// messages.
fn stored(db: &Db, endpoint: &str) -> (Vec<String>, Vec<String>) {
    let statuses = db.strings(&format!(
        "SELECT CAST(r.status AS TEXT) FROM request r JOIN endpoint e ON e.id = r.endpoint_id
         WHERE e.name = '{endpoint}' ORDER BY r.time, r.id"
    ));
    let messages = db.strings(&format!(
        "SELECT m.message FROM exception_occurrence o
         JOIN exception_group g ON g.id = o.group_id
         JOIN endpoint e ON e.id = g.endpoint_id
         JOIN exception_message m ON m.id = o.message_id
         WHERE e.name = '{endpoint}' ORDER BY o.id"
    ));
    (statuses, messages)
}

/// `/shelf`: GET by `browse`, POST by `add`; both methods rejected before either ran, a
/// 405, then GET's handler runs first. And `/plain`, not monitored, rejected first.
async fn two_handlers_on_one_route(addr: std::net::SocketAddr, database: &fmd_runtime::Database) {
    const JSON: &[(&str, &str)] = &[("content-type", "application/json")];
    let send = |method: &'static str, path: &'static str, body: &'static str| async move {
        http::send(addr, method, path, JSON, body.to_owned())
            .await
            .status
    };
    assert_eq!(send("POST", "/shelf", "{bad").await, 400);
    assert_eq!(send("GET", "/shelf?page=x", "").await, 400);
    assert_eq!(send("DELETE", "/shelf", "").await, 405);
    assert_eq!(send("GET", "/plain?page=x", "").await, 400);
    spine::flush();
    let names = || {
        Db::open(database).strings(
            "SELECT name FROM endpoint WHERE name LIKE '%shelf%' OR name LIKE '%plain%'
               OR name LIKE '%browse' OR name LIKE '%::add' ORDER BY name",
        )
    };
    assert_eq!(
        names(),
        ["/shelf", "GET /plain", "GET /shelf", "POST /shelf"],
        "one twin per method, the 405 on the route"
    );
    assert_eq!(send("GET", "/shelf?page=1", "").await, 200);
    assert_eq!(send("GET", "/plain?page=1", "").await, 200);
    spine::flush();
    assert_eq!(
        names(),
        [
            "/plain",
            "POST /shelf",
            "fmd_tests::first_rejection::browse"
        ],
        "GET's twin and the 405 joined GET's handler; POST's waits for its own"
    );
    assert_eq!(send("POST", "/shelf", r#"{"name":"c"}"#).await, 200);
    spine::flush();
    let db = Db::open(database);
    let (browse, browse_errors) = stored(&db, "fmd_tests::first_rejection::browse");
    let (add, add_errors) = stored(&db, "fmd_tests::first_rejection::add");
    let (plain, _) = stored(&db, "/plain");
    println!(
        "FIGURES per-method twins: browse={browse:?} {browse_errors:?} add={add:?} {add_errors:?} plain={plain:?}"
    );
    assert_eq!(browse, ["400", "405", "200"]);
    let query = "Failed to deserialize query string";
    let json = "Failed to parse the request body as JSON";
    assert!(
        browse_errors.iter().any(|m| m.contains(query)),
        "{browse_errors:?}"
    );
    assert!(
        !browse_errors.iter().any(|m| m.contains(json)),
        "{browse_errors:?}"
    );
    assert_eq!(add, ["400", "200"]);
    assert!(
        add_errors.iter().all(|m| m.contains(json)),
        "{add_errors:?}"
    );
    assert_eq!(add_errors.len(), 1);
    assert_eq!(plain, ["400", "200"]);
}
