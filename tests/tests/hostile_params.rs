//! Hostile query parameters and paths near the dashboard: `?page=` at `u64::MAX` is a 400 on
//! every paged route (never a panic or a dropped connection), and only the dashboard's own
//! path is left unrecorded — a host route `/dashboard-x` is monitored like any other.

use axum::Router;
use axum::routing::get;
use fmd::prelude::*;
use fmd_tests::http::{get as get_with, login};
use fmd_tests::spine;

#[monitored]
async fn lookalike() -> &'static str {
    "not the dashboard"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_page_numbers_are_a_bad_request() {
    let db = spine::start();
    let addr = spine::serve(Router::new().route("/dashboard-x", get(lookalike))).await;
    assert_eq!(spine::get(addr, "/dashboard-x").await.status, 200);
    spine::flush();
    let cookie = login(addr, "/dashboard", "admin", "test-password").await;
    let endpoint: i64 = spine::db(db)
        .query_row(
            "SELECT id FROM endpoint WHERE name = 'hostile_params::lookalike'",
            [],
            |r| r.get(0),
        )
        .expect("/dashboard-x was recorded: it is not the dashboard");
    let by_the_layer: i64 = spine::db(db)
        .query_row(
            "SELECT count(*) FROM request_text WHERE route = '/dashboard-x' AND method = 'GET'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(
        by_the_layer, 1,
        "recorded by the layer, with its route and method"
    );
    let huge = u64::MAX;
    for path in [
        format!("/dashboard/exceptions?page={huge}"),
        format!("/dashboard/api/exceptions.json?page={huge}"),
        format!("/dashboard/endpoint/{endpoint}/exceptions?page={huge}"),
        format!("/dashboard/endpoint/{endpoint}/requests?page={huge}"),
        format!("/dashboard/endpoint/{endpoint}/outliers?page={huge}"),
        format!("/dashboard/exceptions?page={}", u64::MAX / 25 + 1),
    ] {
        let res = get_with(addr, &path, &[("Cookie", &cookie)]).await;
        assert_eq!(res.status, 400, "{path}: {}", res.body);
    }
    // An ordinary page number still answers.
    let res = get_with(addr, "/dashboard/exceptions?page=3", &[("Cookie", &cookie)]).await;
    assert_eq!(res.status, 200);
}
