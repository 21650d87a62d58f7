//! The performance pages in real headless Chromium: every page renders after login with its
//! charts and tooltips (screenshots in `docs/screenshots/`); hostile endpoint names,
//! versions, users, URLs, function and graph names stay inert.
//!
//! Needs Debian's `chromium` and `chromium-driver`; fails (never skips) without them.

use fmd_tests::dashboard_fixture::{Fixture, FrameSpec};
use fmd_tests::perf_fixture::{DAY, HOUR, OutlierSpec, Perf, Req, function, node};

use fantoccini::Locator;
use fmd_dashboard::Dashboard;
use fmd_tests::browser::Browser;
use fmd_tests::dashboard_fixture::{now_ms, serve};
use fmd_tests::perf_demo::{doc_screenshot, weather_demo};

async fn open_dashboard(fx: &Fixture) -> (Browser, String) {
    let router = axum::Router::new().nest(
        "/dashboard",
        Dashboard::new(fx.path())
            .admin("admin", "correct-horse-7")
            .router(),
    );
    let base = serve(router).await;
    let b = Browser::start().await;
    b.client.goto(&format!("{base}/dashboard")).await.unwrap();
    b.client
        .wait()
        .for_element(Locator::Css("form input[name=username]"))
        .await
        .unwrap();
    b.submit_login("admin", "correct-horse-7").await;
    (b, base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_performance_page_shows_its_charts_after_login() {
    let fx = Fixture::new();
    let demo = weather_demo(&fx, now_ms());
    let (b, base) = open_dashboard(&fx).await;
    let c = &b.client;

    // The overview links each endpoint to its performance page; the nav has the new pages.
    let nav = c
        .find(Locator::Css("header nav"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for item in ["Utilization", "Reporting", "Custom graphs"] {
        assert!(nav.contains(item), "{nav}");
    }
    c.find(Locator::Css(&format!(
        "a[href='/dashboard/endpoint/{}']",
        demo.forecast
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    c.wait()
        .for_element(Locator::Css("nav.tabs"))
        .await
        .unwrap();

    let f = demo.forecast;
    let pages: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "utilization",
            "/utilization?days=14".into(),
            vec![
                "Requests per hour",
                "Requests per day per endpoint",
                "Versions in use",
                "API performance",
                "weather::handlers::radar",
                "1.1.0",
            ],
        ),
        (
            "endpoint-performance",
            format!("/endpoint/{f}"),
            vec![
                "Hourly load",
                "Per version",
                "Per user",
                "alice",
                "Per IP",
                "10.0.",
                "Status codes",
            ],
        ),
        (
            "endpoint-failed-requests",
            format!("/endpoint/{f}/requests"),
            vec![
                "failed requests in store",
                "/forecast/{city}",
                "404",
                "500",
                "exception group",
            ],
        ),
        (
            "endpoint-outliers",
            format!("/endpoint/{f}/outliers"),
            vec![
                "Duration against threshold",
                "/forecast/oslo?units=metric",
                "threshold",
                "Stack when flagged",
                "load_forecast",
            ],
        ),
        (
            "endpoint-profiler",
            format!("/endpoint/{f}/profiler"),
            vec!["Latest profiled request", "http_get", "nearest"],
        ),
        (
            "endpoint-grouped-profiler",
            format!("/endpoint/{f}/grouped-profiler"),
            vec![
                "Where the time goes",
                "load_forecast",
                "Std dev",
                "100 profiled requests",
            ],
        ),
        (
            "custom-graphs",
            "/custom-graphs".into(),
            vec!["queue depth", "resident memory (MiB)"],
        ),
        (
            "reporting",
            "/reporting".into(),
            vec![
                "weather::handlers::forecast",
                "Median latency rose",
                "Mood's median test",
            ],
        ),
        (
            "reporting-versions",
            "/reporting?mode=versions&a=1.0.0&b=1.1.0".into(),
            vec!["version 1.0.0", "version 1.1.0", "Median latency rose"],
        ),
    ];
    for (name, path, expected) in pages {
        c.goto(&format!("{base}/dashboard{path}")).await.unwrap();
        c.wait()
            .for_element(Locator::Css("main svg.chart"))
            .await
            .unwrap_or_else(|e| panic!("no chart on {path}: {e}"));
        let text = c
            .find(Locator::Css("main"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for e in expected {
            assert!(text.contains(e), "{path} lacks {e:?}:\n{text}");
        }
        // Each chart's marks carry tooltips with numbers.
        let tips = c
            .find_all(Locator::Css("main svg.chart g.tips rect title"))
            .await
            .unwrap();
        assert!(!tips.is_empty(), "no tooltips on {path}");
        let tip = tips[0].html(false).await.unwrap();
        assert!(tip.chars().any(|ch| ch.is_ascii_digit()), "{path}: {tip}");
        let shot = doc_screenshot(&b, name).await;
        assert!(std::fs::metadata(shot).unwrap().len() > 10_000);
    }
    // The failed list links a 500 to its exception group.
    c.goto(&format!("{base}/dashboard/endpoint/{f}/requests"))
        .await
        .unwrap();
    let link = c
        .find(Locator::Css(&format!(
            "a[href='/dashboard/endpoint/{f}/exceptions?group={0}#group-{0}']",
            demo.group
        )))
        .await
        .unwrap();
    link.click().await.unwrap();
    c.wait()
        .for_element(Locator::Css(&format!("#group-{}", demo.group)))
        .await
        .unwrap();
    // An unknown endpoint is a 404, not an empty page.
    c.goto(&format!("{base}/dashboard/endpoint/999999"))
        .await
        .unwrap();
    let body = c
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("Not found"), "{body}");
    b.close().await;
}

use fmd_tests::browser::{XSS_ATTR as ATTR, XSS_SCRIPT as SCRIPT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_endpoint_names_versions_users_and_graph_names_stay_inert() {
    let fx = Fixture::new();
    let now = now_ms();
    let evil = format!("{SCRIPT}{ATTR}");
    let ep = fx.endpoint(&format!("app::{evil}"));
    let mut ids = Vec::new();
    for i in 0..30 {
        let version = if i < 15 {
            format!("1.0{evil}")
        } else {
            format!("2.0{evil}")
        };
        ids.push(
            fx.record(
                ep,
                &Req::at(now - i * HOUR, 1000 + i * 300)
                    .version(&version)
                    .status(Some(if i % 4 == 0 { 500 } else { 200 }))
                    .who(&format!("user{evil}"), &format!("ip{evil}"))
                    .route(&format!("/r/{evil}")),
            ),
        );
    }
    let f = function(&format!("app::{evil}"), &format!("f{evil}"), 1);
    fx.profile(ep, ids[0], &[node(None, &f, 1, 900, 900)]);
    fx.outlier(
        ep,
        ids[1],
        &OutlierSpec {
            url: format!("/r/{evil}"),
            headers: vec![(format!("x-{evil}"), evil.clone())],
            typical_us: 100,
            threshold_us: 250,
            cpu_percent: None,
            memory_bytes: None,
            stack: vec![FrameSpec::app(
                &format!("app::{evil}"),
                "bad",
                "src/x.rs",
                1,
                &format!("fn bad() {{ \"{SCRIPT}\" }}"),
                1,
            )],
        },
    );
    fx.graph(
        &format!("graph{evil}"),
        now - DAY,
        &[(now - HOUR, 1.0), (now - 2 * HOUR, 2.0)],
    );
    let (b, base) = open_dashboard(&fx).await;
    let c = &b.client;
    let versions = format!(
        "/reporting?mode=versions&a={}&b={}",
        urlencode(&format!("1.0{evil}")),
        urlencode(&format!("2.0{evil}"))
    );
    for path in [
        "/utilization".to_owned(),
        format!("/endpoint/{ep}"),
        format!("/endpoint/{ep}/requests"),
        format!("/endpoint/{ep}/outliers"),
        format!("/endpoint/{ep}/profiler"),
        format!("/endpoint/{ep}/grouped-profiler"),
        "/custom-graphs".to_owned(),
        "/reporting".to_owned(),
        versions,
    ] {
        c.goto(&format!("{base}/dashboard{path}")).await.unwrap();
        // Default periods: nothing in the older week, so the report has no chart to draw.
        let wanted = if path == "/reporting" {
            "main #findings"
        } else {
            "main svg.chart"
        };
        c.wait()
            .for_element(Locator::Css(wanted))
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        b.assert_inert(&path, SCRIPT).await;
        let source = c.source().await.unwrap();
        // The hostile text is still shown, literally, in the page or its chart's tooltips.
        assert!(
            source.contains("&lt;script&gt;window.__xss=1&lt;/script&gt;"),
            "{path}"
        );
    }
    b.close().await;
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}
