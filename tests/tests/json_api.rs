//! The JSON API over a real instrumented server on 127.0.0.1: only the configured bearer
//! token gets in, every answer validates against the schema that the *served* OpenAPI
//! document gives for that route and status, and the document lists exactly the API
//! routes of the router.
//!
//! Schemas are validated "closed": the test adds `additionalProperties: false` to every
//! object schema, so a field the document does not describe fails as surely as a missing
//! one.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::Path;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fmd::prelude::*;
use fmd_dashboard::{Access, Dashboard, Token, route_table};
use fmd_tests::dashboard_fixture::Fixture;
use fmd_tests::{http, spine};
use serde_json::{Value, json};
use tower::ServiceExt;

const TOKEN: &str = "api-token-for-tests-0123456789";
const SOURCE: &str = include_str!("json_api.rs");

#[derive(Debug)]
struct Unavailable(std::io::Error);

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stock service unavailable")
    }
}

impl std::error::Error for Unavailable {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl IntoResponse for Unavailable {
    fn into_response(self) -> Response {
        (StatusCode::SERVICE_UNAVAILABLE, self.to_string()).into_response()
    }
}

#[monitored]
async fn stock(Path(item): Path<u32>) -> Result<String, Unavailable> {
    if item % 2 == 0 {
        return Ok(format!("{item} in stock"));
    }
    let n = look_up_stock(item)?; // api-test: failing hop
    Ok(format!("{n}"))
}

#[capture]
fn look_up_stock(item: u32) -> Result<u32, Unavailable> {
    let e = std::io::Error::other(format!("connection to the stock database refused ({item})"));
    Err(Unavailable(e))
}

#[monitored]
async fn untouched() -> &'static str {
    "only for the route check"
}

#[monitored(level = 3)]
async fn deep() -> &'static str {
    "profiled"
}

/// A server on this test's runtime; all share the process's monitor and database.
async fn server() -> SocketAddr {
    spine::start_with(|c| c.api_token = Some(TOKEN.to_owned()));
    spine::serve(
        Router::new()
            .route("/stock/{item}", get(stock))
            .route("/untouched", get(untouched))
            .route("/deep", get(deep)),
    )
    .await
}

/// The OpenAPI document as the server serves it.
async fn document(addr: SocketAddr) -> Value {
    let res = http::get_bearer(addr, "/dashboard/api/v1/openapi.json", TOKEN).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let doc = res.json();
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    assert_eq!(doc["servers"][0]["url"], "/dashboard");
    doc
}

/// Adds `additionalProperties: false` to every object schema that lists properties.
fn close(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            map.values_mut().for_each(close);
        }
        Value::Array(items) => items.iter_mut().for_each(close),
        _ => {}
    }
}

/// Validates `body` against what `doc` says `GET template` answers with `status`.
fn check(doc: &Value, template: &str, status: u16, body: &Value) {
    let response = &doc["paths"][template]["get"]["responses"][status.to_string()];
    let schema = &response["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "the document gives no JSON schema for {status} of GET {template}"
    );
    let mut components = doc["components"].clone();
    close(&mut components);
    let mut root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": components,
        "allOf": [schema],
    });
    close(&mut root["allOf"]);
    let validator = jsonschema::draft202012::options()
        .build(&root)
        .unwrap_or_else(|e| panic!("schema of GET {template} {status} does not compile: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "GET {template} {status} does not match the document:\n{}\nbody: {body:#}",
        errors.join("\n")
    );
}

/// `GET path` with the token; the answer checked against `template`'s documented schema.
async fn api(addr: SocketAddr, doc: &Value, template: &str, path: &str) -> (u16, Value) {
    let res = http::get_bearer(addr, &format!("/dashboard{path}"), TOKEN).await;
    let body = res.json();
    check(doc, template, res.status, &body);
    (res.status, body)
}

fn api_routes() -> Vec<&'static str> {
    route_table()
        .into_iter()
        .filter(|r| r.path.starts_with("/api/v1/"))
        .map(|r| r.path)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_refuses_a_missing_or_wrong_token() {
    let addr = server().await;
    let doc = document(addr).await;
    let session = http::login(addr, "/dashboard", "admin", "test-password").await;
    let routes = route_table();
    let api: Vec<_> = routes
        .iter()
        .filter(|r| r.path.starts_with("/api/v1/"))
        .collect();
    assert!(api.len() >= 5, "the API routes are in the route table");
    for r in api {
        assert_eq!(r.access, Access::Bearer(Token::Api), "{}", r.path);
        let path = format!("/dashboard{}", r.path.replace("{id}", "1"));
        let wrong = format!("Bearer {}", TOKEN.replace('0', "1"));
        let attempts: [&[(&str, &str)]; 5] = [
            &[],
            &[("authorization", &wrong)],
            &[("authorization", "Bearer ")],
            &[("authorization", "Basic YWRtaW46dGVzdC1wYXNzd29yZA==")],
            &[("cookie", &session)],
        ];
        for headers in attempts {
            let res = http::get(addr, &path, headers).await;
            assert_eq!(res.status, 401, "{path} with {headers:?}: {}", res.body);
            assert!(res.header("www-authenticate").is_some());
            check(&doc, r.path, 401, &res.json());
            assert!(!res.body.contains("stock"), "no data leaks");
        }
    }
}

#[tokio::test]
async fn without_a_configured_token_the_api_is_off() {
    let fx = Fixture::new();
    fx.endpoint("app::index");
    let app = Router::new().nest("/dashboard", Dashboard::new(fx.path()).router());
    for path in api_routes() {
        let uri = format!("/dashboard{}", path.replace("{id}", "1"));
        let req = Request::get(&uri)
            .header("authorization", format!("Bearer {TOKEN}"))
            .body(Body::empty())
            .expect("request");
        let res = app.clone().oneshot(req).await.expect("response");
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{uri}");
        let body = to_bytes(res.into_body(), 1 << 20).await.expect("body");
        let body: Value = serde_json::from_slice(&body).expect("a JSON error");
        let message = body["error"].as_str().expect("an error message");
        assert!(message.contains("FMD_API_TOKEN"), "{message}");
        assert!(!message.contains("app::index"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_matches_the_served_document() {
    let addr = server().await;
    let doc = document(addr).await;
    let from = fmd_runtime::clock::now_ms();
    let items = [2, 3, 4, 5, 6, 7, 9];
    for item in items {
        let expected = if item % 2 == 0 { 200 } else { 503 };
        assert_eq!(
            spine::get(addr, &format!("/stock/{item}")).await.status,
            expected
        );
    }
    spine::flush();

    // Endpoints with their figures.
    let (status, list) = api(addr, &doc, "/api/v1/endpoints", "/api/v1/endpoints").await;
    assert_eq!(status, 200);
    let endpoint = list["endpoints"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["name"] == "json_api::stock"))
        .unwrap_or_else(|| panic!("the stock endpoint is listed: {list:#}"))
        .clone();
    assert_eq!(endpoint["all"]["hits"], items.len());
    assert_eq!(endpoint["server_errors_week"], 4);
    assert_eq!(endpoint["routes"], json!(["/stock/{item}"]));
    // The level in force and where it comes from, as the overview page shows it.
    assert_eq!(endpoint["level"], Value::Null);
    assert_eq!(endpoint["effective_level"], 1);
    assert_eq!(endpoint["level_source"], "configuration");
    assert_eq!(spine::get(addr, "/deep").await.status, 200);
    spine::flush();
    let (_, list) = api(addr, &doc, "/api/v1/endpoints", "/api/v1/endpoints").await;
    let deep = list["endpoints"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["name"] == "json_api::deep"))
        .unwrap_or_else(|| panic!("the deep endpoint is listed: {list:#}"));
    assert_eq!(
        (
            &deep["level"],
            &deep["effective_level"],
            &deep["level_source"]
        ),
        (&Value::Null, &json!(3), &json!("attribute")),
        "level = 3 from the attribute, not a bare null"
    );
    let id = endpoint["id"].as_i64().expect("endpoint id");

    // Requests in the window, two per page, followed by cursor to the end.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let to = fmd_runtime::clock::now_ms() + 1;
    for _ in 0..10 {
        let mut path = format!("/api/v1/requests?from={from}&to={to}&endpoint={id}&limit=2");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let (status, page) = api(addr, &doc, "/api/v1/requests", &path).await;
        assert_eq!(status, 200);
        let rows = page["requests"].as_array().expect("rows").clone();
        assert!(rows.len() <= 2);
        seen.extend(rows);
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), items.len(), "every request once: {seen:#?}");
    let ids: BTreeSet<i64> = seen.iter().filter_map(|r| r["id"].as_i64()).collect();
    assert_eq!(ids.len(), items.len(), "no request twice");
    let times: Vec<i64> = seen.iter().filter_map(|r| r["time"].as_i64()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first");
    assert!(
        seen.iter()
            .all(|r| r["route"] == "/stock/{item}" && r["method"] == "GET")
    );
    let failed = seen.iter().filter(|r| r["status"] == 503).count();
    assert_eq!(failed, 4);

    // Malformed queries are a documented 400 with a message.
    for bad in [
        format!("/api/v1/requests?from={to}&to={from}"),
        "/api/v1/requests?limit=0".to_owned(),
        "/api/v1/requests?limit=100000".to_owned(),
        "/api/v1/requests?cursor=garbage".to_owned(),
        "/api/v1/requests?from=yesterday".to_owned(),
    ] {
        let (status, body) = api(addr, &doc, "/api/v1/requests", &bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (status, _) = api(
        addr,
        &doc,
        "/api/v1/exceptions",
        "/api/v1/exceptions?per_page=0",
    )
    .await;
    assert_eq!(status, 400);

    // Exception groups, then one with its trace and code.
    let path = format!("/api/v1/exceptions?endpoint={id}");
    let (status, groups) = api(addr, &doc, "/api/v1/exceptions", &path).await;
    assert_eq!(status, 200);
    assert_eq!(groups["total"], 1, "{groups:#}");
    let group = &groups["groups"][0];
    assert_eq!(group["count"], 4);
    assert_eq!(group["message"], "stock service unavailable");
    let path = format!("/api/v1/exceptions/{}", group["id"]);
    let (status, detail) = api(addr, &doc, "/api/v1/exceptions/{id}", &path).await;
    assert_eq!(status, 200);
    assert_eq!(detail["kind"], "uncaught");
    let chain = detail["source_chain"][0].as_str().unwrap_or_default();
    assert!(
        chain.starts_with("connection to the stock database refused"),
        "{detail:#}"
    );
    let frames = detail["frames"].as_array().expect("frames");
    let inner = frames
        .iter()
        .find(|f| f["name"] == "look_up_stock")
        .unwrap_or_else(|| panic!("the capturing function is in the trace: {detail:#}"));
    let code = inner["code"].as_str().expect("its code");
    assert!(code.contains("fn look_up_stock(item: u32)"), "{code}");
    let caller = frames
        .iter()
        .find(|f| f["name"] == "stock")
        .expect("handler frame");
    assert_eq!(
        caller["line"],
        spine::line_of(SOURCE, "api-test: failing hop")
    );
    let buckets: u64 = detail["occurrences"]["counts"]
        .as_array()
        .map(|c| c.iter().filter_map(Value::as_u64).sum())
        .unwrap_or_default();
    assert_eq!(buckets, 4);

    // Unknown and malformed ids.
    let (status, _) = api(
        addr,
        &doc,
        "/api/v1/exceptions/{id}",
        "/api/v1/exceptions/999999",
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = api(
        addr,
        &doc,
        "/api/v1/exceptions/{id}",
        "/api/v1/exceptions/x",
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_check_rejects_what_the_document_does_not_describe() {
    let doc = document(server().await).await;
    let fails = |body: Value| {
        let doc = doc.clone();
        std::panic::catch_unwind(move || check(&doc, "/api/v1/endpoints", 200, &body)).is_err()
    };
    assert!(
        !fails(json!({"now": 1, "endpoints": []})),
        "a valid body passes"
    );
    assert!(
        fails(json!({"now": 1, "endpoints": [], "extra": 1})),
        "unknown field"
    );
    assert!(fails(json!({"endpoints": []})), "missing field");
    assert!(fails(json!({"now": "1", "endpoints": []})), "wrong type");
    assert!(
        fails(json!({"now": 1, "endpoints": [{"id": 1}]})),
        "incomplete item"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_lists_every_api_route_of_the_router() {
    let addr = server().await;
    let doc = document(addr).await;
    let documented: BTreeSet<String> = doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .cloned()
        .collect();
    let routed: BTreeSet<String> = api_routes().into_iter().map(str::to_owned).collect();
    assert_eq!(documented, routed);
    for r in route_table()
        .iter()
        .filter(|r| r.path.starts_with("/api/v1/"))
    {
        let operations = doc["paths"][r.path].as_object().expect("path item");
        let methods: Vec<String> = operations.keys().map(|m| m.to_ascii_uppercase()).collect();
        assert_eq!(methods, [r.method], "{}", r.path);
        assert!(
            operations[&r.method.to_ascii_lowercase()]["responses"]["401"].is_object(),
            "{} documents its 401",
            r.path
        );
    }
    assert!(doc["components"]["securitySchemes"]["api_token"]["scheme"] == "bearer");
    // Every documented path answers (no fallback 404) once data exists.
    assert_eq!(spine::get(addr, "/untouched").await.status, 200);
    spine::flush();
    for path in &documented {
        let concrete = path.replace("{id}", "1");
        let res = http::get_bearer(addr, &format!("/dashboard{concrete}"), TOKEN).await;
        assert_ne!(res.body, "Not found", "{path} is routed");
        assert!(
            res.status == 200 || res.status == 404,
            "{path}: {}",
            res.status
        );
        if res.status == 404 {
            check(&doc, path, 404, &res.json());
        }
    }
}
