//! A request's own page: the request, the errors recorded in it (each linked to its
//! group), outlier facts when there are some; the store query on both engines, the page
//! over real HTTP with hostile stored text escaped.

use fmd_dashboard::Dashboard;
use fmd_tests::both_engines;
use fmd_tests::dashboard_fixture::{ExceptionSpec, Fixture, FrameSpec, now_ms};
use fmd_tests::engines::Engine;
use fmd_tests::http::{get, login, serve_with_connect_info};
use fmd_tests::vals;

fn failing(fx: &Fixture, message: &str) -> (i64, i64, i64) {
    let endpoint = fx.endpoint("shop::pay");
    let group = fx.exception(
        endpoint,
        "/pay/{id}",
        &ExceptionSpec {
            type_name: "shop::PayError".into(),
            message: message.into(),
            chain: vec![],
            frames: vec![FrameSpec::app(
                "shop",
                "pay",
                "src/pay.rs",
                1,
                "fn pay() {\n    charge()?;\n}",
                2,
            )],
            times: vec![now_ms() - 1000],
            kind: 1,
        },
    );
    let request = fx
        .db
        .query_i64(
            "SELECT request_id FROM exception_occurrence WHERE group_id = ?1",
            vals![group],
        )
        .expect("the occurrence's request");
    (endpoint, group, request)
}

fn a_request_reads_back_with_its_errors(engine: Engine) {
    let fx = Fixture::on(engine);
    let (endpoint, group, request) = failing(&fx, "card declined");
    let plain = fx.request(endpoint, "/pay/{id}", now_ms(), 900, 200, "bob");
    let mut store = fx.reader();

    let d = store.request_detail(request).unwrap().expect("stored");
    assert_eq!(d.request.id, request);
    assert_eq!(d.request.route, "/pay/{id}");
    assert_eq!(d.request.status, Some(500));
    assert_eq!(d.errors.len(), 1);
    let e = &d.errors[0];
    assert_eq!(
        (
            e.group_id,
            e.endpoint_id,
            e.type_name.as_str(),
            e.message.as_str(),
            e.kind
        ),
        (group, endpoint, "shop::PayError", "card declined", 1)
    );
    assert!(d.outlier.is_none());

    let d = store.request_detail(plain).unwrap().expect("stored");
    assert!(d.errors.is_empty() && d.request.group_by.as_deref() == Some("bob"));
    assert!(store.request_detail(i64::MAX).unwrap().is_none());
}

both_engines!(a_request_reads_back_with_its_errors);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_page_links_its_errors_and_escapes_stored_text() {
    let fx = Fixture::new();
    let (endpoint, group, request) = failing(&fx, "<script>alert(1)</script> declined");
    let router = axum::Router::new().nest(
        "/dashboard",
        Dashboard::new(fx.path())
            .admin("admin", "correct-horse-7")
            .router(),
    );
    let addr = serve_with_connect_info(router).await;
    let cookie = login(addr, "/dashboard", "admin", "correct-horse-7").await;
    let session = [("cookie", cookie.as_str())];

    let page = get(addr, &format!("/dashboard/request/{request}"), &session).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let html = page.body;
    assert!(html.contains("/pay/{id}") && html.contains("shop::PayError"));
    assert!(
        html.contains(&format!(
            "/dashboard/endpoint/{endpoint}/exceptions?group={group}"
        )),
        "the error links to its group"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; declined"));
    assert!(!html.contains("<script>alert(1)"), "stored text is escaped");

    // The failed requests list links each request to its page.
    let list = get(
        addr,
        &format!("/dashboard/endpoint/{endpoint}/requests"),
        &session,
    )
    .await;
    assert!(list.body.contains(&format!("/dashboard/request/{request}")));

    assert_eq!(
        get(addr, "/dashboard/request/999999", &session)
            .await
            .status,
        404
    );
    let anonymous = get(addr, &format!("/dashboard/request/{request}"), &[]).await;
    assert_ne!(anonymous.status, 200, "behind the session");
}
