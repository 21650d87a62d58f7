//! Client errors kept apart from server errors, over real HTTP on one engine (one test
//! binary per engine: a process has one monitor): a 4xx `Err(StatusCode)`, an
//! `Err(AppError)` answered 4xx and a bare 4xx `StatusCode` are listed under the client
//! filter of the exceptions page, the per-endpoint exceptions page, the issue CSV and
//! `GET /api/v1/issues?kind=client`, never under the server filter (the default), carry a
//! "client error" badge, and never alert, while the server error next to them does.

use crate::engines::{Db, Engine, fresh_database};
use crate::{http, spine, webhook};
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fmd::prelude::*;
use std::collections::BTreeSet;
use std::net::SocketAddr;

const TOKEN: &str = "client-kinds-token-0123456789abcdef";

/// The application's own error: one variant answered 403, one 503.
#[derive(Debug)]
pub enum AppError {
    /// Answered 403: a client error.
    Forbidden,
    /// Answered 503: a server error.
    Down,
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AppError::Forbidden => "not your order",
            AppError::Down => "payment service down",
        })
    }
}

impl std::error::Error for AppError {}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = match self {
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::Down => StatusCode::SERVICE_UNAVAILABLE,
        };
        (status, self.to_string()).into_response()
    }
}

#[monitored]
async fn missing() -> Result<&'static str, StatusCode> {
    Err(StatusCode::NOT_FOUND)
}

#[monitored]
async fn forbidden() -> Result<&'static str, AppError> {
    Err(AppError::Forbidden)
}

#[monitored]
async fn gone() -> StatusCode {
    StatusCode::GONE
}

#[monitored]
async fn down() -> Result<&'static str, AppError> {
    Err(AppError::Down)
}

/// `(type, message)` of the issues `GET /api/v1/issues{query}` lists, and whether each is
/// flagged a client error.
async fn api_issues(addr: SocketAddr, query: &str) -> BTreeSet<(String, String, bool)> {
    let res = http::get_bearer(addr, &format!("/dashboard/api/v1/issues{query}"), TOKEN).await;
    assert_eq!(res.status, 200, "{query}: {}", res.body);
    let page: serde_json::Value = serde_json::from_str(&res.body).expect("JSON");
    page["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .map(|i| {
            (
                i["type_name"].as_str().unwrap_or("").to_owned(),
                i["message"].as_str().unwrap_or("").to_owned(),
                i["client_error"].as_bool().expect("client_error"),
            )
        })
        .collect()
}

/// The values of `field` of the `list` objects `GET /api/v1/{path}` answers.
async fn api_ids(addr: SocketAddr, path: &str, list: &str, field: &str) -> BTreeSet<i64> {
    let res = http::get_bearer(addr, &format!("/dashboard/api/v1/{path}"), TOKEN).await;
    assert_eq!(res.status, 200, "{path}: {}", res.body);
    let page: serde_json::Value = serde_json::from_str(&res.body).expect("JSON");
    let rows = page[list].as_array().expect("a list");
    assert_eq!(page["total"].as_u64(), Some(rows.len() as u64), "{path}");
    rows.iter()
        .map(|r| r[field].as_i64().expect("an id"))
        .collect()
}

/// The texts only the client errors' rows carry, and the server error's.
const CLIENT_TEXTS: [&str; 3] = ["not your order", "Not Found", "Gone"];
const SERVER_TEXT: &str = "payment service down";

fn shows_only(page: &str, what: &str, client: bool) {
    for t in CLIENT_TEXTS {
        assert_eq!(page.contains(t), client, "{what} shows {t:?}: {client}");
    }
    assert_eq!(
        page.contains(SERVER_TEXT),
        !client,
        "{what} shows the server error: {}",
        !client
    );
    assert_eq!(
        page.contains("badge client"),
        client,
        "{what}: a client error badge"
    );
}

/// The whole check on `engine`.
pub async fn client_errors_are_filtered_apart_and_never_alert(engine: Engine) {
    let (hook, got) = webhook::receiver().await;
    let (database, _dir) = fresh_database(engine);
    let stored = database.clone();
    spine::start_with(move |c| {
        c.database = stored;
        c.api_token = Some(TOKEN.to_owned());
        c.alerts.webhook = Some(hook);
        // Every further occurrence would alert by the rate rule, were it allowed to.
        c.alerts.rate = Some((1, 10));
    });
    let addr = spine::serve(
        Router::new()
            .route("/missing", get(missing))
            .route("/forbidden", get(forbidden))
            .route("/gone", get(gone))
            .route("/down", get(down)),
    )
    .await;
    for _ in 0..2 {
        assert_eq!(spine::get(addr, "/missing").await.status, 404);
        assert_eq!(spine::get(addr, "/forbidden").await.status, 403);
        assert_eq!(spine::get(addr, "/gone").await.status, 410);
        spine::flush();
    }
    assert_eq!(spine::get(addr, "/down").await.status, 503);
    spine::flush();
    webhook::until("the server error's alert", || !got.lock().is_empty()).await;

    // The API: server errors by default, client errors one parameter away.
    let app_error = "fmd_tests::client_kinds::AppError".to_owned();
    let status_code = "http::status::StatusCode".to_owned();
    let server = BTreeSet::from([(app_error.clone(), SERVER_TEXT.to_owned(), false)]);
    let client = BTreeSet::from([
        (app_error, "not your order".to_owned(), true),
        (status_code.clone(), "<n> Not Found".to_owned(), true),
        (status_code, "<n> Gone".to_owned(), true),
    ]);
    assert_eq!(api_issues(addr, "").await, server);
    assert_eq!(api_issues(addr, "?kind=server").await, server);
    assert_eq!(api_issues(addr, "?kind=client").await, client);
    let all: BTreeSet<_> = server.union(&client).cloned().collect();
    assert_eq!(api_issues(addr, "?kind=all").await, all);
    let bad = http::get_bearer(addr, "/dashboard/api/v1/issues?kind=4xx", TOKEN).await;
    assert_eq!(bad.status, 400, "an unknown kind: {}", bad.body);
    // The exception groups alike: the variants of the same issues, one each here.
    for kind in ["", "?kind=server", "?kind=client", "?kind=all"] {
        let issues = api_ids(addr, &format!("issues{kind}"), "issues", "id").await;
        let groups = api_ids(addr, &format!("exceptions{kind}"), "groups", "issue_id").await;
        assert_eq!(groups, issues, "exceptions{kind}");
        let expected = if kind.contains("client") {
            3
        } else if kind.contains("all") {
            4
        } else {
            1
        };
        assert_eq!(groups.len(), expected, "exceptions{kind}");
    }
    let bad = http::get_bearer(addr, "/dashboard/api/v1/exceptions?kind=4xx", TOKEN).await;
    assert_eq!(bad.status, 400, "an unknown kind: {}", bad.body);
    let doc = http::get_bearer(addr, "/dashboard/api/v1/openapi.json", TOKEN).await;
    let doc: serde_json::Value = serde_json::from_str(&doc.body).expect("JSON");
    for path in ["/api/v1/exceptions", "/api/v1/issues"] {
        let params = doc["paths"][path]["get"]["parameters"]
            .as_array()
            .expect(path);
        assert!(
            params.iter().any(|p| p["name"] == "kind"),
            "{path} documents `kind`"
        );
    }

    // The overview counts server error groups only (its red badge leads to them).
    let res = http::get_bearer(addr, "/dashboard/api/v1/endpoints", TOKEN).await;
    let list: serde_json::Value = serde_json::from_str(&res.body).expect("JSON");
    let groups: Vec<(String, i64)> = list["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .map(|e| {
            let name = e["name"].as_str().unwrap_or("");
            let short = name.rsplit("::").next().unwrap_or(name).to_owned();
            (short, e["exception_groups"].as_i64().unwrap_or(-1))
        })
        .collect();
    let counted = |n: &str, c: i64| (n.to_owned(), c);
    assert_eq!(
        groups,
        [
            counted("down", 1),
            counted("forbidden", 0),
            counted("gone", 0),
            counted("missing", 0)
        ]
    );

    // The pages and the download.
    let cookie = http::login(addr, "/dashboard", "admin", "test-password").await;
    let page = |path: String| {
        let cookie = cookie.clone();
        async move {
            let res = http::get(addr, &format!("/dashboard{path}"), &[("cookie", &cookie)]).await;
            assert_eq!(res.status, 200, "{path}: {}", res.body);
            res.body
        }
    };
    shows_only(&page("/exceptions".into()).await, "/exceptions", false);
    let overview = page(String::new()).await;
    assert!(
        overview.contains(r#"<b class="new-issues">1</b>"#),
        "the overview counts the server error issue only"
    );
    let clients = page("/exceptions?kind=client".into()).await;
    shows_only(&clients, "/exceptions?kind=client", true);
    assert!(
        clients.contains("issues.csv?kind=client"),
        "the download keeps the filter"
    );
    let both = page("/exceptions?kind=all".into()).await;
    assert!(both.contains(SERVER_TEXT) && both.contains("not your order"));
    let csv = |q: &'static str| page(format!("/exceptions/issues.csv{q}"));
    let (server_csv, client_csv) = (csv("").await, csv("?kind=client").await);
    assert!(server_csv.contains(SERVER_TEXT) && !server_csv.contains("not your order"));
    assert!(client_csv.contains("not your order") && !client_csv.contains(SERVER_TEXT));

    let db = Db::open(&database);
    let endpoint = |name: &str| {
        db.query_i64(
            "SELECT id FROM endpoint WHERE name = $1",
            &[format!("fmd_tests::client_kinds::{name}").into()],
        )
        .unwrap_or_else(|| panic!("endpoint {name}"))
    };
    for name in ["missing", "forbidden", "gone"] {
        let id = endpoint(name);
        let server = page(format!("/endpoint/{id}/exceptions")).await;
        assert!(
            server.contains("0 exception groups"),
            "{name}: none by default"
        );
        let client = page(format!("/endpoint/{id}/exceptions?kind=client")).await;
        assert!(
            client.contains("1 exception group"),
            "{name}: its client error"
        );
        assert!(client.contains("client error (4xx)"), "{name}: its badge");
        for (kind, groups) in [("", 0), ("&kind=client", 1)] {
            let path = format!("exceptions?endpoint={id}{kind}");
            let listed = api_ids(addr, &path, "groups", "id").await;
            assert_eq!(listed.len(), groups, "{name}: {path}");
        }
    }
    let down = page(format!("/endpoint/{}/exceptions", endpoint("down"))).await;
    assert!(down.contains("1 exception group") && down.contains(SERVER_TEXT));
    let issue = db
        .query_i64("SELECT id FROM issue WHERE message = 'not your order'", &[])
        .expect("the client issue");
    assert!(
        page(format!("/issues/{issue}"))
            .await
            .contains("badge client")
    );

    // Alerts: the server error's, and never one for a client error.
    let alerts: Vec<String> = got
        .lock()
        .iter()
        .map(|a| a["message"].as_str().unwrap_or("").to_owned())
        .collect();
    println!("FIGURES client kinds {engine:?}: alerts={alerts:?}");
    assert_eq!(alerts, [SERVER_TEXT]);
    assert_eq!(
        db.query_i64(
            "SELECT count(*) FROM issue WHERE client AND (alerted_at IS NOT NULL OR alert_held > 0)",
            &[]
        ),
        Some(0),
        "no client error issue claimed or held an alert"
    );
    assert_eq!(
        db.query_i64("SELECT count(*) FROM issue WHERE client", &[]),
        Some(3)
    );
    let pages = [
        "/exceptions?kind=client".to_owned(),
        format!("/issues/{issue}"),
        format!("/endpoint/{}/exceptions?kind=client", endpoint("missing")),
    ];
    one_click_away(addr, engine).await;
    for dark in [false, true] {
        accessible(addr, dark, &pages).await;
    }
}

/// In a real browser: the exceptions page opens on server errors, and one click on the
/// filter shows the client errors with their badges.
async fn one_click_away(addr: SocketAddr, engine: Engine) {
    let b = crate::browser::Browser::start().await;
    b.client
        .goto(&format!("http://{addr}/dashboard/exceptions"))
        .await
        .expect("open the dashboard");
    b.submit_login("admin", "test-password").await;
    b.client
        .goto(&format!("http://{addr}/dashboard/exceptions"))
        .await
        .expect("open the exceptions page");
    let active = b.text("nav.kinds a.active").await;
    assert_eq!(active, "server errors", "the default");
    let issues = b.text("table.issues tbody").await;
    assert!(issues.contains(SERVER_TEXT) && !issues.contains("not your order"));
    b.click_and_wait(
        "nav.kinds a[data-kind=client]",
        "table.issues span.badge.client",
    )
    .await;
    assert_eq!(b.text("nav.kinds a.active").await, "client errors (4xx)");
    let issues = b.text("table.issues tbody").await;
    assert!(issues.contains("not your order") && !issues.contains(SERVER_TEXT));
    let shot = b.screenshot(&format!("client-errors-{engine:?}")).await;
    println!("screenshot {}", shot.display());
    b.close().await;
}

/// axe-core finds nothing serious on the client-filtered pages with their badges.
async fn accessible(addr: SocketAddr, dark: bool, pages: &[String]) {
    let axe = crate::a11y::axe_source();
    let look = crate::browser::Look {
        dark,
        ..Default::default()
    };
    let b = crate::browser::Browser::start_with(look).await;
    b.client
        .goto(&format!("http://{addr}/dashboard/login"))
        .await
        .expect("open the login page");
    b.submit_login("admin", "test-password").await;
    let mut problems = Vec::new();
    for (i, path) in pages.iter().enumerate() {
        b.client
            .goto(&format!("http://{addr}/dashboard{path}"))
            .await
            .expect("open a page");
        let look = if dark { "dark" } else { "light" };
        b.screenshot(&format!("client-errors-{i}-{look}")).await;
        for v in crate::a11y::serious_violations(&b, &axe).await {
            problems.push(format!("{path} (dark {dark}): {v}"));
        }
    }
    b.close().await;
    assert!(problems.is_empty(), "{problems:#?}");
}
