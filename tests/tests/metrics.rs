//! `/metrics` over a real instrumented server on 127.0.0.1, parsed by a conforming
//! OpenMetrics parser: the counts match what was sent, unmatched paths share one series,
//! and only a session or the metrics token gets in.
//!
//! The parser is `openmetrics-parser` (it passes the OpenMetrics conformance cases) rather
//! than `prometheus-parse`, which silently drops every sample whose label value contains a
//! `}` — and route templates such as `/plain/{id}` are exactly such label values.

use std::collections::HashMap;

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fmd::prelude::*;
use fmd_tests::{http, spine};
use openmetrics_parser::{MetricsExposition, OpenMetricsType, OpenMetricsValue};

const TOKEN: &str = "metrics-token-for-tests-0123456789";

#[derive(Debug)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("refused")
    }
}

impl std::error::Error for Refused {}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, "refused").into_response()
    }
}

#[monitored]
async fn served() -> &'static str {
    "ok"
}

#[monitored]
async fn refusing() -> Result<&'static str, Refused> {
    Err(Refused)
}

#[monitored]
async fn exploding() -> &'static str {
    panic!("exploded on purpose")
}

#[monitored]
async fn recovering() -> &'static str {
    fmd::capture!(Refused);
    fmd::capture!(Refused);
    "recovered twice"
}

#[monitored]
async fn teapot() -> StatusCode {
    StatusCode::IM_A_TEAPOT
}

async fn plain(Path(id): Path<u32>) -> String {
    format!("plain {id}")
}

async fn server() -> std::net::SocketAddr {
    spine::start_with(|c| c.metrics_token = Some(TOKEN.to_owned()));
    spine::serve(
        Router::new()
            .route("/served", get(served).post(served))
            .route("/refusing", get(refusing))
            .route("/exploding", get(exploding))
            .route("/recovering", get(recovering))
            .route("/teapot", get(teapot))
            .route("/plain/{id}", get(plain)),
    )
    .await
}

type Exposition = MetricsExposition<OpenMetricsType, OpenMetricsValue>;

async fn scrape(addr: std::net::SocketAddr) -> Exposition {
    let res = http::get_bearer(addr, "/dashboard/metrics", TOKEN).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(
        res.header("content-type")
            .is_some_and(|t| t.starts_with("application/openmetrics-text")),
        "{:?}",
        res.header("content-type")
    );
    openmetrics_parser::openmetrics::parse_openmetrics(&res.body)
        .unwrap_or_else(|e| panic!("not valid OpenMetrics ({e:?}):\n{}", res.body))
}

/// Every series of a family: its labels and value.
fn series(expo: &Exposition, family: &str) -> Vec<(HashMap<String, String>, OpenMetricsValue)> {
    let Some(f) = expo.families.get(family) else {
        return Vec::new();
    };
    f.iter_samples()
        .map(|s| {
            let labels = s
                .get_labelset()
                .expect("labels")
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            (labels, s.value.clone())
        })
        .collect()
}

fn counter(expo: &Exposition, family: &str, labels: &[(&str, &str)]) -> f64 {
    series(expo, family)
        .into_iter()
        .filter(|(l, _)| {
            labels
                .iter()
                .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(_, v)| match v {
            OpenMetricsValue::Counter(c) => c.value.as_f64(),
            OpenMetricsValue::Gauge(g) => g.as_f64(),
            other => panic!("{family} is not a counter: {other:?}"),
        })
        .sum()
}

fn histogram(expo: &Exposition, endpoint: &str) -> (u64, f64, Vec<(f64, f64)>) {
    let (_, value) = series(expo, "fmd_http_request_duration_seconds")
        .into_iter()
        .find(|(l, _)| l.get("endpoint").map(String::as_str) == Some(endpoint))
        .unwrap_or_else(|| panic!("no duration histogram for {endpoint}"));
    let OpenMetricsValue::Histogram(h) = value else {
        panic!("not a histogram: {value:?}")
    };
    let buckets = h
        .buckets
        .iter()
        .map(|b| (b.upper_bound, b.count.as_f64()))
        .collect();
    (
        h.count.expect("count"),
        h.sum.expect("sum").as_f64(),
        buckets,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_match_the_requests_sent() {
    let addr = server().await;
    let started = std::time::Instant::now();
    for _ in 0..5 {
        assert_eq!(spine::get(addr, "/served").await.status, 200);
    }
    for _ in 0..2 {
        assert_eq!(spine::send(addr, "POST", "/served").await.status, 200);
    }
    for _ in 0..3 {
        assert_eq!(spine::get(addr, "/refusing").await.status, 500);
    }
    for _ in 0..2 {
        assert_eq!(spine::get(addr, "/exploding").await.status, 500);
    }
    for _ in 0..4 {
        assert_eq!(spine::get(addr, "/recovering").await.status, 200);
    }
    assert_eq!(spine::get(addr, "/teapot").await.status, 418);
    for id in 1..=3 {
        assert_eq!(spine::get(addr, &format!("/plain/{id}")).await.status, 200);
    }
    let elapsed = started.elapsed().as_secs_f64();
    spine::flush();
    let m = scrape(addr).await;

    let req = |endpoint: &str, method: &str, status: &str| {
        let labels = [
            ("endpoint", endpoint),
            ("method", method),
            ("status", status),
        ];
        counter(&m, "fmd_http_requests", &labels)
    };
    assert_eq!(req("metrics::served", "GET", "2xx"), 5.0);
    assert_eq!(req("metrics::served", "POST", "2xx"), 2.0);
    assert_eq!(req("metrics::refusing", "GET", "5xx"), 3.0);
    assert_eq!(req("metrics::exploding", "GET", "5xx"), 2.0);
    assert_eq!(req("metrics::recovering", "GET", "2xx"), 4.0);
    assert_eq!(req("metrics::teapot", "GET", "4xx"), 1.0);
    assert_eq!(
        req("/plain/{id}", "GET", "2xx"),
        3.0,
        "route template, not URIs"
    );
    assert!(
        series(&m, "fmd_http_requests")
            .iter()
            .all(|(l, _)| !l["endpoint"].starts_with("/plain/") || l["endpoint"] == "/plain/{id}"),
        "no raw URI became a label"
    );

    let exc = |endpoint: &str, kind: &str| {
        counter(
            &m,
            "fmd_exceptions",
            &[("endpoint", endpoint), ("kind", kind)],
        )
    };
    assert_eq!(exc("metrics::refusing", "uncaught"), 3.0);
    assert_eq!(exc("metrics::exploding", "panic"), 2.0);
    assert_eq!(exc("metrics::recovering", "captured"), 8.0);
    assert_eq!(exc("metrics::served", "panic"), 0.0);

    // Durations: one observation per request, a sum no larger than the wall time spent,
    // cumulative buckets ending in +Inf = count.
    let (count, sum, buckets) = histogram(&m, "metrics::served");
    assert_eq!(count, 7);
    assert!(
        sum > 0.0 && sum <= elapsed,
        "sum {sum} s within {elapsed} s"
    );
    assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "{buckets:?}");
    let (last_bound, last_count) = *buckets.last().expect("buckets");
    assert!(last_bound.is_infinite() && last_count == 7.0, "{buckets:?}");
    assert_eq!(histogram(&m, "/plain/{id}").0, 3);

    // The pipeline counters agree with the monitor's own.
    let stats = fmd::monitor().stats();
    assert_eq!(
        counter(&m, "fmd_events_dropped", &[]),
        stats.events_dropped as f64
    );
    assert!(counter(&m, "fmd_events_queued", &[]) >= 20.0);
    assert_eq!(counter(&m, "fmd_storage_failing", &[]), 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unmatched_paths_share_one_series() {
    let addr = server().await;
    assert_eq!(spine::get(addr, "/nowhere/0").await.status, 404);
    spine::flush();
    let before = scrape(addr).await;
    // Other tests in this binary add their own endpoints' series meanwhile: count ours.
    let families = ["fmd_http_requests", "fmd_http_request_duration_seconds"];
    let count = |m: &Exposition| {
        families.map(|f| {
            let all = series(m, f);
            all.iter()
                .filter(|(l, _)| l["endpoint"] == "(unmatched)")
                .count()
        })
    };
    let unmatched = [
        ("endpoint", "(unmatched)"),
        ("method", "GET"),
        ("status", "4xx"),
    ];
    let hits_before = counter(&before, "fmd_http_requests", &unmatched);
    for i in 1..=40 {
        let path = format!("/nowhere/{i}/{}", "x".repeat(i));
        assert_eq!(spine::get(addr, &path).await.status, 404);
    }
    spine::flush();
    let after = scrape(addr).await;
    assert_eq!(count(&after), count(&before), "no new series");
    assert_eq!(
        counter(&after, "fmd_http_requests", &unmatched),
        hits_before + 40.0
    );
    // A method a client made up is one `other` series, not a new label value each.
    for m in ["BREW", "WHEN"] {
        assert_eq!(spine::send(addr, m, "/nowhere").await.status, 404);
    }
    spine::flush();
    let methods: Vec<String> = series(&scrape(addr).await, "fmd_http_requests")
        .into_iter()
        .map(|(l, _)| l["method"].clone())
        .collect();
    assert!(methods.iter().any(|m| m == "other"), "{methods:?}");
    assert!(!methods.iter().any(|m| m == "BREW" || m == "WHEN"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_a_session_or_the_token() {
    let addr = server().await;
    // One request of its own (unmatched: the other tests count their routes exactly), so
    // the request family exists whichever test runs first.
    assert_eq!(spine::get(addr, "/warm-up").await.status, 404);
    spine::flush();
    let path = "/dashboard/metrics";
    let none = http::get(addr, path, &[]).await;
    assert_eq!(none.status, 401);
    assert!(
        none.header("www-authenticate")
            .is_some_and(|v| v.starts_with("Bearer"))
    );
    assert!(!none.body.contains("fmd_http_requests"));
    for wrong in [
        "wrong-token-0123456789abcdef",
        "",
        TOKEN.trim_end_matches('9'),
    ] {
        let res = http::get_bearer(addr, path, wrong).await;
        assert_eq!(res.status, 401, "token {wrong:?}");
        assert!(!res.body.contains("fmd_http_requests"));
    }
    let basic = http::get(addr, path, &[("authorization", "Basic YWRtaW46dGVzdA==")]).await;
    assert_eq!(basic.status, 401, "only bearer credentials count");
    let forged = http::get(addr, path, &[("cookie", "fmd_session=forged")]).await;
    assert_eq!(forged.status, 401);

    assert_eq!(http::get_bearer(addr, path, TOKEN).await.status, 200);
    let session = http::login(addr, "/dashboard", "admin", "test-password").await;
    let res = http::get(addr, path, &[("cookie", &session)]).await;
    assert_eq!(res.status, 200, "a dashboard session may read the metrics");
    assert!(res.body.contains("# TYPE fmd_http_requests counter"));
    // A wrong token is refused even beside a valid session.
    let both = http::get(
        addr,
        path,
        &[
            ("cookie", &session),
            ("authorization", "Bearer wrong-token-0123456789"),
        ],
    )
    .await;
    assert_eq!(both.status, 401);
}
