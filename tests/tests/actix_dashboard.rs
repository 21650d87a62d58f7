//! The dashboard served by an actix app through `fmd::actix::dashboard()`: over real HTTP
//! on 127.0.0.1, every route of the dashboard's table refuses a request without a session
//! (the table the router is built from, so a route added later is checked here too), a
//! real login works, and with its session the pages, a POST form with its CSRF token and a
//! streamed download all go through — the same axum router as under axum, bridged.

use actix_web::web;
use fmd::prelude::*;
use fmd_dashboard::{Access, Token, route_table};
use fmd_tests::dashboard_fixture::{concrete, csrf_in};
use fmd_tests::http::{self, Response};
use fmd_tests::{actix, spine};
use std::net::SocketAddr;

const BASE: &str = "/dashboard";

#[monitored]
async fn hello() -> &'static str {
    "hello"
}

fn routes(app: &mut web::ServiceConfig) {
    app.route("/hello", web::get().to(hello));
}

/// A request with a session cookie (`None`: without) and a form body.
async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    form: &str,
) -> Response {
    let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
    if let Some(cookie) = cookie {
        headers.push(("cookie", cookie));
    }
    http::send(addr, method, path, &headers, form.to_owned()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_needing_a_session_refuses_a_request_without_one() {
    let addr = actix::serve(routes);
    assert_eq!(spine::get(addr, "/hello").await.status, 200);
    spine::flush();
    let routes = route_table();
    assert!(routes.len() >= 10, "the table lists the routes");
    let mut checked = 0;
    for r in routes.iter().filter(|r| r.access != Access::Public) {
        let uri = concrete(BASE, r.path);
        for cookie in [None, Some("fmd_session=forged"), Some("fmd_session=")] {
            let res = send(addr, r.method, &uri, cookie, "csrf=x&level=1&weeks=0").await;
            let expected = match r.access {
                // The JSON API is off without its token.
                Access::Bearer(Token::Api) => 404,
                Access::Bearer(_) | Access::SessionOrBearer(_) => 401,
                _ if r.method == "GET" => 303,
                _ => 401,
            };
            assert_eq!(res.status, expected, "{} {uri} with {cookie:?}", r.method);
            if expected == 303 {
                assert_eq!(res.header("location"), Some("/dashboard/login"), "{uri}");
            }
            assert!(
                !res.body.contains("actix_dashboard::hello"),
                "no data leaks from {uri}"
            );
            checked += 1;
        }
    }
    println!("{checked} refused requests through actix");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_login_through_actix_opens_the_pages_forms_and_downloads() {
    let addr = actix::serve(routes);
    for _ in 0..3 {
        assert_eq!(spine::get(addr, "/hello").await.status, 200);
    }
    spine::flush();
    let conn = spine::db(spine::start());
    let endpoint: i64 = conn
        .query_row(
            "SELECT id FROM endpoint WHERE name = 'actix_dashboard::hello'",
            [],
            |r| r.get(0),
        )
        .expect("the monitored handler's endpoint is stored");

    // `/dashboard/` goes home; home without a session goes to the login form.
    let slash = send(addr, "GET", "/dashboard/", None, "").await;
    assert_eq!((slash.status, slash.header("location")), (303, Some(BASE)));

    // The login form's CSRF token is checked through the bridge too.
    let forged = send(
        addr,
        "POST",
        "/dashboard/login",
        None,
        "username=admin&password=test-password&csrf=x",
    )
    .await;
    assert_eq!(forged.status, 403);
    assert!(http::set_cookie(&forged, "fmd_session").is_none());

    let session = http::login(addr, BASE, "admin", "test-password").await;
    let home = send(addr, "GET", BASE, Some(&session), "").await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(
        home.body.contains("actix_dashboard::hello"),
        "{}",
        home.body
    );
    let csrf = csrf_in(&home.body).expect("a CSRF field on the overview");
    // The dashboard's own headers come through, and its script.
    assert!(
        home.header("content-security-policy").is_some(),
        "{:?}",
        home.headers
    );
    let script = send(addr, "GET", "/dashboard/assets/app.js", Some(&session), "").await;
    assert_eq!(script.status, 200);
    assert!(
        script
            .header("content-type")
            .is_some_and(|t| t.contains("javascript")),
        "{:?}",
        script.headers
    );

    let page = send(
        addr,
        "GET",
        &format!("{BASE}/endpoint/{endpoint}"),
        Some(&session),
        "",
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("actix_dashboard::hello"));

    // A POST form with the session's token changes the stored level.
    let level = send(
        addr,
        "POST",
        &format!("{BASE}/endpoint/{endpoint}/level"),
        Some(&session),
        &format!("level=3&csrf={csrf}"),
    )
    .await;
    assert_eq!(level.status, 303, "{}", level.body);
    let stored: Option<i64> = conn
        .query_row(
            "SELECT level FROM endpoint WHERE id = ?1",
            [endpoint],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, Some(3));
    let reset = send(
        addr,
        "POST",
        &format!("{BASE}/endpoint/{endpoint}/level"),
        Some(&session),
        &format!("level=&csrf={csrf}"),
    )
    .await;
    assert_eq!(reset.status, 303);

    // A streamed body (the CSV download) arrives whole.
    let csv = send(
        addr,
        "GET",
        &format!("{BASE}/endpoint/{endpoint}/log.csv"),
        Some(&session),
        "",
    )
    .await;
    assert_eq!(csv.status, 200, "{}", csv.body);
    let rows = csv.body.lines().filter(|l| l.contains("/hello")).count();
    assert!(rows >= 3, "every stored request is a row: {}", csv.body);

    // Logging out ends the session.
    let out = send(
        addr,
        "POST",
        "/dashboard/logout",
        Some(&session),
        &format!("csrf={csrf}"),
    )
    .await;
    assert_eq!(out.status, 303, "{}", out.body);
    let after = send(addr, "GET", BASE, Some(&session), "").await;
    assert_eq!(after.status, 303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_logs_in_through_actix_and_sees_the_overview() {
    use fantoccini::Locator;
    let addr = actix::serve(routes);
    assert_eq!(spine::get(addr, "/hello").await.status, 200);
    spine::flush();
    let b = fmd_tests::browser::Browser::start().await;
    let c = &b.client;
    c.goto(&format!("http://{addr}{BASE}")).await.unwrap();
    c.wait()
        .for_element(Locator::Css("form input[name=username]"))
        .await
        .unwrap();
    let at = c.current_url().await.unwrap();
    assert!(
        at.path().ends_with("/dashboard/login"),
        "redirected to {at}"
    );
    // The form's CSRF cookie and field, the session cookie and the redirect home: all
    // through the bridge, in a real browser.
    b.submit_login("admin", "test-password").await;
    let text = b.text("table.overview").await;
    assert!(text.contains("actix_dashboard::hello"), "{text}");
    println!("{}", b.screenshot("actix-overview").await.display());
    b.close().await;
}
