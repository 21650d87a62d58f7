//! CSV downloads: the failed requests list and an endpoint's whole request log, every row
//! of every page, behind the session, with hostile fields quoted and defused. Read back
//! with the `csv` crate over real HTTP on 127.0.0.1.

use fmd_dashboard::Dashboard;
use fmd_tests::dashboard_fixture::{Fixture, now_ms};
use fmd_tests::http::{get, login, serve_with_connect_info};

/// More rows than one page of a download (1 000), so the paging is crossed twice.
const REQUESTS: i64 = 2_345;
const FORMULA_ROUTE: &str = "=HYPERLINK(\"http://evil\",\"x\")";

fn records(body: &str) -> Vec<csv::StringRecord> {
    csv::Reader::from_reader(body.as_bytes())
        .records()
        .collect::<Result<_, _>>()
        .expect("valid CSV")
}

fn header(body: &str) -> Vec<String> {
    let mut r = csv::Reader::from_reader(body.as_bytes());
    r.headers().unwrap().iter().map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_hold_every_row_of_every_page() {
    let fx = Fixture::new();
    let shop = fx.endpoint("shop::pay");
    let other = fx.endpoint("shop::index");
    let now = now_ms();
    fx.db.batch("BEGIN");
    let mut failed = 0;
    for i in 0..REQUESTS {
        let status = if i % 3 == 0 { 500 } else { 200 };
        failed += i64::from(status >= 400);
        let route = if i == 7 { FORMULA_ROUTE } else { "/pay" };
        let user = if i == 8 {
            "mallory, \"the\"\nuser"
        } else {
            "alice"
        };
        fx.request(
            shop,
            route,
            now - (REQUESTS - i) * 1000,
            1000 + i,
            status,
            user,
        );
    }
    fx.request(other, "/", now, 10, 200, "bob");
    fx.db.batch("COMMIT");

    let router = axum::Router::new().nest(
        "/dashboard",
        Dashboard::new(fx.path())
            .admin("admin", "correct-horse-7")
            .router(),
    );
    let addr = serve_with_connect_info(router).await;

    // Behind the session like every page.
    let anonymous = get(addr, &format!("/dashboard/endpoint/{shop}/log.csv"), &[]).await;
    assert!(
        anonymous.status == 303 || anonymous.status == 401,
        "anonymous download answered {}",
        anonymous.status
    );
    let cookie = login(addr, "/dashboard", "admin", "correct-horse-7").await;
    let session = [("cookie", cookie.as_str())];

    let log = get(
        addr,
        &format!("/dashboard/endpoint/{shop}/log.csv"),
        &session,
    )
    .await;
    assert_eq!(log.status, 200, "{}", log.body);
    assert_eq!(log.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(
        log.header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment;")),
        "a download"
    );
    assert_eq!(header(&log.body)[..3], ["id", "time", "endpoint_id"]);
    let rows = records(&log.body);
    assert_eq!(
        rows.len() as i64,
        REQUESTS,
        "every request of the endpoint, no other"
    );
    let times: Vec<&str> = rows.iter().map(|r| &r[1]).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first");
    assert!(times[0].ends_with('Z'), "RFC 3339 in UTC: {}", times[0]);
    let mut ids: Vec<i64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    ids.dedup();
    assert_eq!(ids.len() as i64, REQUESTS, "no row twice across pages");
    // A formula is defused, a comma / quote / line break survives quoting.
    assert!(rows.iter().any(|r| r[4] == format!("'{FORMULA_ROUTE}")));
    assert!(rows.iter().all(|r| !r[4].starts_with('=')));
    assert!(rows.iter().any(|r| &r[12] == "mallory, \"the\"\nuser"));

    let list = get(
        addr,
        &format!("/dashboard/endpoint/{shop}/requests.csv"),
        &session,
    )
    .await;
    assert_eq!(list.status, 200);
    let rows = records(&list.body);
    assert_eq!(rows.len() as i64, failed, "every failed request, all pages");
    assert!(rows.iter().all(|r| &r[4] == "500"));
    let times: Vec<&str> = rows.iter().map(|r| &r[1]).collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first, as on the page"
    );

    // The page links to its download.
    let page = get(
        addr,
        &format!("/dashboard/endpoint/{shop}/requests"),
        &session,
    )
    .await;
    assert!(
        page.body
            .contains(&format!("/dashboard/endpoint/{shop}/requests.csv"))
    );

    let missing = get(addr, "/dashboard/endpoint/999999/log.csv", &session).await;
    assert_eq!(missing.status, 404);
}
