//! A rejection before the route's handler ever ran in this process (a fresh process, the
//! first request is bad JSON) ends up on the handler's endpoint once the handler runs:
//! one endpoint, named after the handler, holding both requests, the rejection's text,
//! its rollup rows and its issue; never a twin named after the route. One test binary per
//! engine (a process has one monitor, and the point is its first request).

use crate::engines::{Db, Engine, fresh_database};
use crate::{http, spine};
use axum::routing::post;
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

/// The whole check on `engine`.
pub async fn a_first_rejection_joins_the_handler_endpoint(engine: Engine) {
    let (database, _dir) = fresh_database(engine);
    let stored = database.clone();
    spine::start_with(move |c| c.database = stored);
    let addr = spine::serve(
        Router::new()
            .route("/items", post(create))
            .route("/names", post(rename)),
    )
    .await;
    const JSON: &[(&str, &str)] = &[("content-type", "application/json")];
    let send = |path: &'static str, body: &'static str| async move {
        http::send(addr, "POST", path, JSON, body.to_owned())
            .await
            .status
    };
    // The rejection stored first, in a batch of its own; then the handler's first call.
    assert_eq!(send("/items", "{bad").await, 400);
    spine::flush();
    let endpoints = || Db::open(&database).strings("SELECT name FROM endpoint ORDER BY name");
    assert_eq!(
        endpoints(),
        ["/items"],
        "the layer does not know the handler yet: the rejection is stored under the route"
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
