//! The issue page, its actions and the issues API over real HTTP on 127.0.0.1, on both
//! engines: variants with versions, the "suspect change" mark, the code diff between two
//! variants, hostile messages and source rendered as text; the actions need a session,
//! the admin role and the CSRF token; `/api/v1/issues` and `/api/v1/issues/{id}` answer
//! the documented shape behind the bearer token; the exceptions list filters by status
//! and the overview counts new and regressed issues; the issue page lists the requests it
//! happened in, newest first, each once, page by page.

use std::net::SocketAddr;

use fmd_runtime::Database;
use fmd_tests::both_engines;
use fmd_tests::browser::{XSS_ATTR, XSS_SCRIPT};
use fmd_tests::dashboard_fixture::{csrf_in, now_ms};
use fmd_tests::engines::{Engine, fresh_database, off_runtime};
use fmd_tests::http::{self, get, get_bearer, send};
use fmd_tests::issue_fixture::{
    ADMIN_PASSWORD, AFTER, dashboard, error, function, seed_hostile_issue, write, write_one_request,
};

const TOKEN: &str = "issue-api-token-0123456789abcdef";
const PASSWORD: &str = ADMIN_PASSWORD;

async fn server(db: &Database) -> SocketAddr {
    dashboard(db, TOKEN).await
}

/// The issue id of the `shop::NotFound` issue, from the API.
async fn not_found_issue(addr: SocketAddr) -> i64 {
    let list = get_bearer(addr, "/dashboard/api/v1/issues", TOKEN)
        .await
        .json();
    list["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .find(|i| i["type_name"] == "shop::NotFound")
        .expect("the NotFound issue")["id"]
        .as_i64()
        .expect("id")
}

async fn status(addr: SocketAddr, id: i64) -> String {
    let one = get_bearer(addr, &format!("/dashboard/api/v1/issues/{id}"), TOKEN).await;
    one.json()["issue"]["status"]
        .as_str()
        .expect("status")
        .to_owned()
}

async fn the_issue_page_shows_variants_and_what_changed(engine: Engine) {
    let (db, _dir) = fresh_database(engine);
    seed_hostile_issue(&db);
    let addr = server(&db).await;
    let id = not_found_issue(addr).await;
    let cookie = http::login(addr, "/dashboard", "admin", PASSWORD).await;
    let page = get(
        addr,
        &format!("/dashboard/issues/{id}"),
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let html = &page.body;
    assert!(
        html.contains("order &lt;n&gt; missing"),
        "normalized message"
    );
    assert!(
        html.contains("suspect change"),
        "1.2.0 after the clean 1.1.0"
    );
    assert!(
        html.contains("1.0.0 ×1") && html.contains("1.2.0 ×1"),
        "versions"
    );
    assert!(
        html.contains(r#"class="l add""#),
        "the diff marks the added line"
    );
    assert!(
        html.contains("let s = &quot;&lt;script&gt;window.__xss=1&lt;/script&gt;&quot;;"),
        "the added line, escaped"
    );
    assert!(
        !html.contains(XSS_SCRIPT),
        "no raw script tag from the data"
    );
    assert!(
        !html.contains(XSS_ATTR),
        "no raw attribute breaker from the data"
    );
    for verb in ["resolve", "resolve-next", "ignore"] {
        assert!(
            html.contains(&format!("/dashboard/issues/{id}/{verb}")),
            "{verb} button"
        );
    }
    // The endpoint's group cards count occurrences per version under their chart.
    let groups = get_bearer(addr, "/dashboard/api/v1/exceptions", TOKEN)
        .await
        .json();
    let endpoint = groups["groups"][0]["endpoint_id"].as_i64().unwrap();
    let cards = get(
        addr,
        &format!("/dashboard/endpoint/{endpoint}/exceptions"),
        &[("cookie", &cookie)],
    )
    .await;
    assert!(
        cards.body.contains(r#"<table class="version-bars""#),
        "per-version counts"
    );
    assert!(cards.body.contains(r#"<td class="mono">1.2.0</td>"#));
    assert!(
        cards
            .body
            .contains(&format!("/dashboard/issues/{id}\">issue #{id}"))
    );
    assert!(!cards.body.contains(XSS_SCRIPT));
    let missing = get(addr, "/dashboard/issues/999999", &[("cookie", &cookie)]).await;
    assert_eq!(missing.status, 404);
    let anonymous = get(addr, &format!("/dashboard/issues/{id}"), &[]).await;
    assert_eq!(anonymous.status, 303, "login first");
}

async fn actions_need_the_csrf_token_and_change_the_status(engine: Engine) {
    let (db, _dir) = fresh_database(engine);
    seed_hostile_issue(&db);
    let addr = server(&db).await;
    let id = not_found_issue(addr).await;
    let cookie = http::login(addr, "/dashboard", "admin", PASSWORD).await;
    let page = get(
        addr,
        &format!("/dashboard/issues/{id}"),
        &[("cookie", &cookie)],
    )
    .await;
    let csrf = csrf_in(&page.body).expect("csrf field");
    let form = [
        ("cookie", cookie.as_str()),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    let post = |verb: &str, body: String| {
        let path = format!("/dashboard/issues/{id}/{verb}");
        async move { send(addr, "POST", &path, &form, body).await }
    };
    let forged = post("resolve", String::new()).await;
    assert_eq!(forged.status, 403, "no CSRF token");
    assert_eq!(status(addr, id).await, "open");
    let unauthenticated = send(
        addr,
        "POST",
        &format!("/dashboard/issues/{id}/resolve"),
        &[],
        format!("csrf={csrf}"),
    )
    .await;
    assert_eq!(unauthenticated.status, 401);

    let done = post("resolve", format!("csrf={csrf}")).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(status(addr, id).await, "resolved");
    let listed = get(
        addr,
        "/dashboard/exceptions?status=resolved",
        &[("cookie", &cookie)],
    )
    .await;
    let in_list = format!("href=\"/dashboard/issues/{id}\" title=");
    assert!(listed.body.contains(&in_list), "listed as resolved");
    let open = get(
        addr,
        "/dashboard/exceptions?status=open",
        &[("cookie", &cookie)],
    )
    .await;
    assert!(!open.body.contains(&in_list), "not listed as open");

    assert_eq!(
        post("ignore", format!("csrf={csrf}&count=5&until="))
            .await
            .status,
        303
    );
    assert_eq!(status(addr, id).await, "ignored");
    assert_eq!(
        post("ignore", format!("csrf={csrf}&count=-1")).await.status,
        400
    );
    assert_eq!(post("reopen", format!("csrf={csrf}")).await.status, 303);
    assert_eq!(status(addr, id).await, "open");
    assert_eq!(
        post("resolve-next", format!("csrf={csrf}")).await.status,
        303
    );
    assert_eq!(status(addr, id).await, "resolved");
    // A regression: another occurrence in the resolving version's successor.
    let d = db.clone();
    off_runtime(move || {
        let handler = function("shop::orders", "show", "fn show() {\n    load(1)?;\n}");
        let after = function("shop::orders", "load", AFTER);
        write(
            &d,
            "1.3.0",
            vec![error(
                "shop::NotFound",
                &format!("order 3 missing {XSS_SCRIPT} {XSS_ATTR}"),
                &[after, handler],
                now_ms(),
            )],
        );
    });
    assert_eq!(status(addr, id).await, "regressed");
    let overview = get(addr, "/dashboard", &[("cookie", &cookie)]).await;
    assert!(
        overview
            .body
            .contains(r#"<b class="regressed-issues">1</b> regressed"#),
        "the overview counts the regression"
    );
}

async fn the_issues_api_answers_the_documented_shape(engine: Engine) {
    let (db, _dir) = fresh_database(engine);
    seed_hostile_issue(&db);
    let addr = server(&db).await;
    assert_eq!(get(addr, "/dashboard/api/v1/issues", &[]).await.status, 401);
    let list = get_bearer(addr, "/dashboard/api/v1/issues?per_page=10", TOKEN).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let list = list.json();
    assert_eq!(list["total"], 2, "{list:#}");
    assert_eq!(
        (list["page"].as_u64(), list["per_page"].as_u64()),
        (Some(0), Some(10))
    );
    let issue = &list["issues"].as_array().unwrap()[0];
    for key in [
        "id",
        "status",
        "type_name",
        "message",
        "count",
        "first_seen",
        "last_seen",
        "first_version",
        "last_version",
        "variants",
    ] {
        assert!(issue.get(key).is_some(), "{key} in {issue}");
    }
    let id = not_found_issue(addr).await;
    let one = get_bearer(addr, &format!("/dashboard/api/v1/issues/{id}"), TOKEN)
        .await
        .json();
    assert_eq!(one["issue"]["first_version"], "1.0.0");
    assert_eq!(one["issue"]["last_version"], "1.2.0");
    let variants = one["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 2);
    assert_eq!(variants[0]["suspect_change"], true);
    assert!(
        variants[0]["frames"][0]["code"]
            .as_str()
            .unwrap()
            .contains("__xss")
    );
    let diff = &one["diffs"][0];
    assert_eq!(diff["name"], "load");
    assert!(
        diff["lines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["tag"] == "+")
    );
    let bad = get_bearer(addr, "/dashboard/api/v1/issues?status=sleeping", TOKEN).await;
    assert_eq!(bad.status, 400);
    let filtered = get_bearer(addr, "/dashboard/api/v1/issues?status=resolved", TOKEN).await;
    assert_eq!(filtered.json()["total"], 0);
    let groups = get_bearer(addr, "/dashboard/api/v1/exceptions", TOKEN)
        .await
        .json();
    assert_eq!(groups["total"], 3, "the group API keeps working");
    assert!(groups["groups"][0]["issue_id"].is_i64());
    let doc = get_bearer(addr, "/dashboard/api/v1/openapi.json", TOKEN)
        .await
        .json();
    assert!(doc["paths"]["/api/v1/issues"].is_object());
    assert!(doc["paths"]["/api/v1/issues/{id}"].is_object());
}

async fn bulk_actions_change_every_selected_issue(engine: Engine) {
    let (db, _dir) = fresh_database(engine);
    seed_hostile_issue(&db);
    let addr = server(&db).await;
    let cookie = http::login(addr, "/dashboard", "admin", PASSWORD).await;
    let list = get(addr, "/dashboard/exceptions", &[("cookie", &cookie)]).await;
    assert!(
        list.body.contains(r#"action="/dashboard/issues/bulk""#),
        "the bulk form"
    );
    let csrf = csrf_in(&list.body).expect("csrf field");
    let all = get_bearer(addr, "/dashboard/api/v1/issues", TOKEN)
        .await
        .json();
    let ids: Vec<i64> = all["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    let form = [
        ("cookie", cookie.as_str()),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    let body = format!("csrf={csrf}&action=ignore&ids={}&ids={}", ids[0], ids[1]);
    let forged = send(
        addr,
        "POST",
        "/dashboard/issues/bulk",
        &form[..1],
        body.replace(&csrf, "x"),
    )
    .await;
    assert_eq!(forged.status, 403);
    let done = send(addr, "POST", "/dashboard/issues/bulk", &form, body).await;
    assert_eq!(done.status, 303, "{}", done.body);
    for id in &ids {
        assert_eq!(status(addr, *id).await, "ignored");
    }
    let body = format!("csrf={csrf}&action=explode&ids={}", ids[0]);
    assert_eq!(
        send(addr, "POST", "/dashboard/issues/bulk", &form, body)
            .await
            .status,
        400
    );
    let body = format!("csrf={csrf}&action=reopen&ids={}", ids[1]);
    assert_eq!(
        send(addr, "POST", "/dashboard/issues/bulk", &form, body)
            .await
            .status,
        303
    );
    assert_eq!(status(addr, ids[0]).await, "ignored");
    assert_eq!(status(addr, ids[1]).await, "open");
}

async fn the_issue_lists_the_requests_it_happened_in(engine: Engine) {
    let (db, _dir) = fresh_database(engine);
    seed_hostile_issue(&db);
    let start = now_ms() + 1_000; // after the seed's requests
    let d = db.clone();
    off_runtime(move || {
        let handler = function("shop::orders", "show", "fn show() {\n    load(1)?;\n}");
        let load = function("shop::orders", "load", AFTER);
        let missing = |n: i64, t: i64| {
            error(
                "shop::NotFound",
                &format!("order {n} missing {XSS_SCRIPT} {XSS_ATTR}"),
                &[load, handler],
                t,
            )
        };
        // 30 more requests of the issue, a second apart, the newest last ...
        write(
            &d,
            "1.2.0",
            (0..30).map(|i| missing(i, start + i * 1000)).collect(),
        );
        // ... and one that recorded it twice, the newest of all: listed once.
        let t = start + 40_000;
        write_one_request(&d, "1.2.1", t, vec![missing(98, t), missing(99, t + 1)]);
    });
    let addr = server(&db).await;
    let id = not_found_issue(addr).await;
    let cookie = http::login(addr, "/dashboard", "admin", PASSWORD).await;
    let first = get(
        addr,
        &format!("/dashboard/issues/{id}"),
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.body);
    let links = |html: &str| -> Vec<i64> {
        html.split("href=\"/dashboard/request/")
            .skip(1)
            .map(|rest| {
                rest[..rest.find('"').expect("link end")]
                    .parse()
                    .expect("id")
            })
            .collect()
    };
    let page_one = links(&first.body);
    // 2 from the seed + 30 + 1 = 33 requests: 25 on the first page, 8 on the second.
    assert_eq!(page_one.len(), 25, "a full first page");
    assert!(
        first.body.contains("33 rows"),
        "the pager counts every request once"
    );
    assert!(
        page_one.windows(2).all(|w| w[0] > w[1]),
        "newest first: {page_one:?}"
    );
    assert!(first.body.contains("1.2.1"), "the newest request's version");
    let second = get(
        addr,
        &format!("/dashboard/issues/{id}?page=1"),
        &[("cookie", &cookie)],
    )
    .await;
    let page_two = links(&second.body);
    assert_eq!(page_two.len(), 8, "the rest on the second page");
    assert!(
        page_two.iter().all(|r| !page_one.contains(r)),
        "no row twice"
    );
    // Each link opens that request's page, which links back to the issue.
    let request = get(
        addr,
        &format!("/dashboard/request/{}", page_one[0]),
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(request.status, 200);
    assert!(request.body.contains("shop::NotFound"));
    // The other issue's request is not listed.
    let full = get_bearer(addr, "/dashboard/api/v1/issues", TOKEN)
        .await
        .json();
    let other = full["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .find(|i| i["type_name"] == "shop::Full")
        .expect("the Full issue")["id"]
        .as_i64()
        .expect("id");
    let other_page = get(
        addr,
        &format!("/dashboard/issues/{other}"),
        &[("cookie", &cookie)],
    )
    .await;
    let other_links = links(&other_page.body);
    assert_eq!(other_links.len(), 1);
    assert!(!page_one.contains(&other_links[0]) && !page_two.contains(&other_links[0]));
    assert!(!first.body.contains(XSS_SCRIPT), "messages stay text");
}

both_engines!(
    async the_issue_page_shows_variants_and_what_changed,
    bulk_actions_change_every_selected_issue,
    actions_need_the_csrf_token_and_change_the_status,
    the_issues_api_answers_the_documented_shape,
    the_issue_lists_the_requests_it_happened_in,
);
