//! How the pages look to a person: in the viewer's own time zone (or `FMD_TIMEZONE`'s),
//! and dark when the browser prefers it. Real headless Chromium; screenshots land in
//! `target/screenshots/` (`looks-*.png`).

use fantoccini::Locator;
use fmd_dashboard::Dashboard;
use fmd_tests::browser::{Browser, Look};
use fmd_tests::dashboard_fixture::{ExceptionSpec, Fixture, FrameSpec, now_ms, serve_dashboard};

const MIN: i64 = 60_000;

const CHARGE: &str = r#"#[capture]
fn charge(card: &Card, cents: u64) -> Result<Receipt, PayError> {
    // Amounts are in cents; the gateway refuses zero.
    let token = card.token().ok_or(PayError::NoToken)?;
    gateway::charge(&token, cents).map_err(PayError::Gateway)
}"#;

/// A shop with traffic every 20 minutes for two days, some failures, one exception group.
/// Returns the endpoint id and the time of its newest failed request.
fn shop(fx: &Fixture) -> (i64, i64) {
    let now = now_ms();
    let pay = fx.endpoint("shop::pay");
    for i in 0..144 {
        let t = now - 5 * MIN - i * 20 * MIN;
        let status = if i % 9 == 0 { 500 } else { 200 };
        fx.request(pay, "/pay", t, 20_000 + (i % 5) * 3_000, status, "alice");
    }
    fx.exception(
        pay,
        "/pay",
        &ExceptionSpec {
            type_name: "shop::PayError".into(),
            message: "gateway refused the charge".into(),
            chain: vec![],
            frames: vec![FrameSpec::app(
                "shop::billing",
                "charge",
                "shop/src/billing.rs",
                20,
                CHARGE,
                24,
            )],
            times: vec![now - 5 * MIN, now - 65 * MIN],
            kind: 1,
        },
    );
    (pay, now - 5 * MIN)
}

async fn log_in(b: &Browser, base: &str) {
    b.client
        .goto(&format!("{base}/dashboard/login"))
        .await
        .unwrap();
    b.submit_login("admin", "correct-horse-7").await;
}

/// `2026-12-02 04:05` for `ms`, formatted by the browser itself in `zone` (or its own).
async fn browser_time(b: &Browser, ms: i64, zone: Option<&str>) -> String {
    let zone = zone.map_or("undefined".to_owned(), |z| format!("{z:?}"));
    let script = format!(
        "var p = new Intl.DateTimeFormat('en-CA', {{timeZone: {zone}, year: 'numeric', \
         month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23'}})\
         .formatToParts(new Date({ms})); var g = function (t) {{ return p.find(function (x) \
         {{ return x.type === t; }}).value; }}; return g('year') + '-' + g('month') + '-' + \
         g('day') + ' ' + g('hour') + ':' + g('minute');"
    );
    let v = b.client.execute(&script, vec![]).await.unwrap();
    v.as_str().unwrap().to_owned()
}

async fn body_background(b: &Browser) -> String {
    let v = b
        .client
        .execute(
            "return getComputedStyle(document.body).backgroundColor",
            vec![],
        )
        .await
        .unwrap();
    v.as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn times_are_shown_in_the_browsers_zone_with_the_zone_named() {
    let fx = Fixture::new();
    let (pay, failed_at) = shop(&fx);
    let base = serve_dashboard(Dashboard::new(fx.path())).await;
    let b = Browser::start_with(Look {
        timezone: Some("America/New_York"),
        ..Look::default()
    })
    .await;
    log_in(&b, &base).await;
    // The first page after logging in learned the zone and showed itself again in it.
    assert_eq!(b.text("header.top .zone").await, "America/New_York");

    b.client
        .goto(&format!("{base}/dashboard/endpoint/{pay}/requests"))
        .await
        .unwrap();
    let page = b.text("main").await;
    let local = browser_time(&b, failed_at, None).await;
    let utc = browser_time(&b, failed_at, Some("UTC")).await;
    assert_ne!(local, utc, "New York is never at UTC");
    assert!(page.contains(&local), "local {local} on the page:\n{page}");
    assert!(!page.contains(&utc), "UTC {utc} still on the page");
    assert!(page.contains("Time (America/New_York)"), "{page}");
    b.screenshot("looks-new-york-failed-requests").await;

    // Chart axes name the zone; the heatmap's hours are local.
    b.client
        .goto(&format!("{base}/dashboard/utilization"))
        .await
        .unwrap();
    let svg = b
        .client
        .find(Locator::Css("svg.chart"))
        .await
        .unwrap()
        .html(false)
        .await
        .unwrap();
    assert!(svg.contains("hour of day (America/New_York)"), "{svg}");
    b.screenshot("looks-new-york-utilization").await;

    // The exception's "last seen" carries the local time and the zone's abbreviation.
    b.client
        .goto(&format!("{base}/dashboard/endpoint/{pay}/exceptions"))
        .await
        .unwrap();
    let title = b
        .client
        .find(Locator::Css("main time"))
        .await
        .unwrap()
        .attr("title")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(
        title.ends_with(" EST") || title.ends_with(" EDT"),
        "abbreviation in {title:?}"
    );
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zone_set_for_everybody_wins_over_the_browsers() {
    let fx = Fixture::new();
    let (pay, failed_at) = shop(&fx);
    let tokyo_for_all = Dashboard::new(fx.path())
        .timezone("Asia/Tokyo")
        .expect("a known zone");
    assert!(
        Dashboard::new(fx.path()).timezone("Mars/Olympus").is_err(),
        "an unknown zone is refused"
    );
    let base = serve_dashboard(tokyo_for_all).await;
    let b = Browser::start_with(Look {
        timezone: Some("Europe/Copenhagen"),
        ..Look::default()
    })
    .await;
    log_in(&b, &base).await;
    assert_eq!(b.text("header.top .zone").await, "Asia/Tokyo");
    b.client
        .goto(&format!("{base}/dashboard/endpoint/{pay}/requests"))
        .await
        .unwrap();
    let page = b.text("main").await;
    let tokyo = browser_time(&b, failed_at, Some("Asia/Tokyo")).await;
    assert!(page.contains(&tokyo), "Tokyo {tokyo} on the page:\n{page}");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_dark_when_the_browser_prefers_it() {
    let fx = Fixture::new();
    let (pay, _) = shop(&fx);
    let base = serve_dashboard(Dashboard::new(fx.path())).await;

    let light = Browser::start().await;
    log_in(&light, &base).await;
    assert_eq!(body_background(&light).await, "rgb(246, 247, 249)");
    light.screenshot("looks-light-overview").await;
    light.close().await;

    let dark = Browser::start_with(Look {
        dark: true,
        ..Look::default()
    })
    .await;
    log_in(&dark, &base).await;
    assert_eq!(body_background(&dark).await, "rgb(15, 19, 26)");
    dark.screenshot("looks-dark-overview").await;
    for (path, name) in [
        (format!("/endpoint/{pay}/exceptions"), "exceptions"),
        (format!("/endpoint/{pay}"), "endpoint"),
        ("/utilization".to_owned(), "utilization"),
    ] {
        dark.client
            .goto(&format!("{base}/dashboard{path}"))
            .await
            .unwrap();
        dark.client
            .wait()
            .for_element(Locator::Css("main"))
            .await
            .unwrap();
        dark.screenshot(&format!("looks-dark-{name}")).await;
    }
    // Highlighted code and the charts' canvas follow the scheme.
    dark.client
        .goto(&format!("{base}/dashboard/endpoint/{pay}/exceptions"))
        .await
        .unwrap();
    let keyword = dark
        .client
        .execute(
            "var k = document.querySelector('.code .hl-k'); \
             return k ? getComputedStyle(k).color : null",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(keyword.as_str(), Some("rgb(255, 122, 182)"), "{keyword}");
    dark.client
        .goto(&format!("{base}/dashboard/utilization"))
        .await
        .unwrap();
    let canvas = dark
        .client
        .execute(
            "var r = document.querySelector('svg.chart rect[fill=\"#FFFFFF\"]'); \
             return r ? getComputedStyle(r).fill : null",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(canvas.as_str(), Some("rgb(23, 28, 37)"), "{canvas}");
    dark.close().await;
}
