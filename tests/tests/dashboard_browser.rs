//! The dashboard in real headless Chromium: log in, overview, an endpoint's exceptions,
//! expanding frames, the highlighted failing line; hostile data rendered inert.
//!
//! Needs Debian's `chromium` and `chromium-driver`; fails (never skips) without them.
//! Screenshots land in `target/screenshots/`.

use fantoccini::Locator;
use fmd_dashboard::Dashboard;
use fmd_tests::browser::Browser;
use fmd_tests::dashboard_fixture::{ExceptionSpec, Fixture, FrameSpec, now_ms, serve};

const MIN: i64 = 60_000;

const LOAD_FORECAST: &str = r#"#[capture]
async fn load_forecast(city: &str) -> Result<Forecast, AppError> {
    // Cached forecasts are fresh for ten minutes.
    if let Some(f) = CACHE.get(city) {
        return Ok(f);
    }
    let station = stations::nearest(city).ok_or(AppError::UnknownCity)?;
    let raw = http_get(&station.url).await?;
    let f: Forecast = serde_json::from_str(&raw)?;
    CACHE.insert(city, f.clone());
    Ok(f)
}"#;

const FORECAST: &str = r#"#[monitored(level = 2)]
async fn forecast(Path(city): Path<String>) -> Result<Json<Forecast>, AppError> {
    let f = load_forecast(&city).await?;
    Ok(Json(f))
}"#;

const WALK: &str = r#"fn walk(node: &Node, depth: usize) -> Result<usize, TreeError> {
    if depth > MAX_DEPTH {
        return Err(TreeError::TooDeep(depth));
    }
    node.children.iter().map(|c| walk(c, depth + 1)).sum()
}"#;

/// A realistic database: endpoints with traffic and three exception groups.
fn weather_app(fx: &Fixture) -> (i64, i64) {
    let now = now_ms();
    let forecast = fx.endpoint("weather::handlers::forecast");
    let index = fx.endpoint("weather::handlers::index");
    let tree = fx.endpoint("weather::handlers::tree");
    for i in 0..120 {
        let t = now - i * 37 * MIN;
        fx.request(
            forecast,
            "/forecast/{city}",
            t,
            8_000 + (i % 13) * 900,
            if i % 17 == 0 { 404 } else { 200 },
            "alice",
        );
        fx.request(index, "/", t - 11 * MIN, 400 + (i % 7) * 50, 200, "bob");
    }
    fx.request(tree, "/tree", now - 3 * MIN, 52_000, 500, "carol");
    let group = fx.exception(
        forecast,
        "/forecast/{city}",
        &ExceptionSpec {
            type_name: "weather::AppError".into(),
            message: "upstream weather station timed out after 5 s".into(),
            chain: vec!["error sending request for url (http://station-17/api)".into(), "operation timed out".into()],
            frames: vec![
                FrameSpec::app("weather::source", "load_forecast", "weather/src/source.rs", 40, LOAD_FORECAST, 47),
                FrameSpec::app("weather::handlers", "forecast", "weather/src/handlers.rs", 12, FORECAST, 14),
                FrameSpec::lib("axum::handler", "call", "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/axum-0.8.9/src/handler/mod.rs", 212),
                FrameSpec::lib("tokio::runtime::task", "poll", "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/tokio-1.54.0/src/runtime/task/core.rs", 331),
            ],
            times: (0..40).map(|i| now - i * i * 9 * MIN).collect(),
            kind: 1,
        },
    );
    let mut frames = vec![FrameSpec::app(
        "weather::tree",
        "walk",
        "weather/src/tree.rs",
        80,
        WALK,
        82,
    )];
    frames[0].repeat = 64;
    for i in 0..24 {
        frames.push(FrameSpec::app(
            "weather::tree",
            &format!("visit_{i}"),
            "weather/src/tree.rs",
            100,
            WALK,
            104,
        ));
    }
    fx.exception(
        tree,
        "/tree",
        &ExceptionSpec {
            type_name: "weather::tree::TreeError".into(),
            message: "tree deeper than 64 levels".into(),
            chain: vec![],
            frames,
            times: vec![now - 3 * MIN],
            kind: 0,
        },
    );
    (forecast, group)
}

async fn login(b: &Browser, base: &str) {
    let c = &b.client;
    c.goto(&format!("{base}/dashboard")).await.unwrap();
    c.wait()
        .for_element(Locator::Css("form input[name=username]"))
        .await
        .unwrap();
    assert!(
        c.current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/dashboard/login"),
        "redirected to the login form"
    );
    b.screenshot("login").await;
    b.submit_login("admin", "correct-horse-7").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_in_browse_to_an_exception_and_see_the_failing_line() {
    let fx = Fixture::new();
    let (forecast, group) = weather_app(&fx);
    let router = axum::Router::new().nest(
        "/dashboard",
        Dashboard::new(fx.path())
            .admin("admin", "correct-horse-7")
            .router(),
    );
    let base = serve(router).await;
    let b = Browser::start().await;
    let c = &b.client;

    login(&b, &base).await;
    let text = c
        .find(Locator::Css("table.overview"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("weather::handlers::forecast") && text.contains("/forecast/{city}"),
        "{text}"
    );
    b.screenshot("overview").await;

    // The exceptions count links to the endpoint's exception page.
    let link = format!("a[href='/dashboard/endpoint/{forecast}/exceptions']");
    c.find(Locator::Css(&link))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let card = c
        .wait()
        .for_element(Locator::Css(&format!("#group-{group}")))
        .await
        .unwrap();
    let card_text = card.text().await.unwrap();
    assert!(card_text.contains("weather::AppError"));
    assert!(card_text.contains("upstream weather station timed out"));
    assert!(
        card_text.contains("operation timed out"),
        "the source() chain"
    );
    assert!(card_text.contains("40 occurrences"));
    assert!(
        c.find(Locator::Css("svg.spark rect")).await.is_ok(),
        "a sparkline"
    );

    // The innermost frame is open: its failing line is the `?` on http_get, numbered 47.
    let fail = c.find(Locator::Css("li.frame.app .l.fail")).await.unwrap();
    assert!(fail.is_displayed().await.unwrap());
    assert_eq!(fail.attr("data-line").await.unwrap().as_deref(), Some("47"));
    let fail_text = fail.text().await.unwrap();
    assert!(
        fail_text.contains("http_get(&station.url).await?"),
        "{fail_text}"
    );
    assert!(
        fail.html(true).await.unwrap().contains("hl-"),
        "highlighted server-side"
    );
    // Library frames start collapsed and show the crate-relative path, full path on hover.
    let lib = c.find(Locator::Css("li.frame.lib")).await.unwrap();
    assert_eq!(
        lib.find(Locator::Css("details"))
            .await
            .unwrap()
            .attr("open")
            .await
            .unwrap(),
        None
    );
    let loc = lib.find(Locator::Css(".loc")).await.unwrap();
    assert!(
        loc.text()
            .await
            .unwrap()
            .starts_with("axum-0.8.9/src/handler/mod.rs")
    );
    assert!(
        loc.attr("title")
            .await
            .unwrap()
            .unwrap()
            .starts_with("/root/.cargo/registry/")
    );
    c.set_window_size(1400, 1500).await.unwrap();
    b.screenshot("endpoint-exceptions").await;

    // Only the failing function came with the list: the handler frame is a closed summary.
    // Opening it fetches the whole trace; then it collapses and expands like any other.
    let handler_fail = "#group-{group} li.frame.app:nth-of-type(2) .l.fail";
    let handler_fail = handler_fail.replace("{group}", &group.to_string());
    assert!(
        c.find(Locator::Css(&handler_fail)).await.is_err(),
        "no code sent for it"
    );
    b.click_and_wait(
        &format!("#group-{group} li.frame.app:nth-of-type(2) summary"),
        &handler_fail,
    )
    .await;
    let fail = c.find(Locator::Css(&handler_fail)).await.unwrap();
    assert!(
        fail.text()
            .await
            .unwrap()
            .contains("load_forecast(&city).await?")
    );
    assert!(
        fail.is_displayed().await.unwrap(),
        "the frame asked for is open"
    );
    assert!(
        c.find(Locator::Css(&format!("#group-{group} p.more")))
            .await
            .is_err(),
        "the link to the whole trace is gone once it is here"
    );
    let summary = format!("#group-{group} li.frame.app:nth-of-type(2) summary");
    c.find(Locator::Css(&summary))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(!fail.is_displayed().await.unwrap(), "collapsed");
    c.find(Locator::Css(&summary))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(fail.is_displayed().await.unwrap(), "expanded again");

    // All exceptions, then the deep trace: "× 64" and a foldable middle.
    c.find(Locator::Css("header nav a[href='/dashboard/exceptions']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("table.data.groups"))
        .await
        .unwrap();
    let list = c
        .find(Locator::Css("table.data.groups"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains("weather::tree::TreeError") && list.contains("weather::AppError"));
    b.screenshot("exceptions").await;
    c.find(Locator::LinkText("tree deeper than 64 levels"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("details.middle"))
        .await
        .unwrap();
    let page = c
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("× 64"), "recursion collapsed");
    let middle = c.find(Locator::Css("details.middle")).await.unwrap();
    let hidden = middle.find(Locator::Css("li.frame")).await.unwrap();
    assert!(!hidden.is_displayed().await.unwrap());
    middle
        .find(Locator::Css("summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(
        hidden.is_displayed().await.unwrap(),
        "the middle of a long trace expands"
    );

    // Configuration and retention pages render.
    c.goto(&format!("{base}/dashboard/config")).await.unwrap();
    assert!(
        c.find(Locator::Css("main"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .contains("Events dropped")
    );
    b.screenshot("config").await;
    c.goto(&format!("{base}/dashboard/retention"))
        .await
        .unwrap();
    assert!(
        c.find(Locator::Css("main"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .contains("Prune now")
    );
    b.screenshot("retention").await;
    b.close().await;
}

use fmd_tests::browser::{XSS_ATTR as ATTR, XSS_SCRIPT as SCRIPT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_messages_paths_routes_and_users_are_rendered_inert() {
    let fx = Fixture::new();
    let now = now_ms();
    let evil = format!("evil{SCRIPT}{ATTR}");
    let ep = fx.endpoint(&format!("app::{evil}"));
    fx.request(ep, &format!("/r/{evil}"), now - MIN, 1000, 500, &evil);
    let code = format!(
        "fn bad() {{\n    let s = \"{SCRIPT}{}\";\n    fail(s)?;\n}}",
        ATTR.replace('"', "\\\"")
    );
    let group = fx.exception(
        ep,
        &format!("/r/{evil}"),
        &ExceptionSpec {
            type_name: format!("app::Error{SCRIPT}"),
            message: format!("message {SCRIPT} and {ATTR}"),
            chain: vec![format!("cause {SCRIPT}{ATTR}")],
            frames: vec![FrameSpec::app(
                &format!("app::{evil}"),
                "bad",
                &format!("src/{evil}.rs"),
                1,
                &code,
                3,
            )],
            times: vec![now - MIN],
            kind: 1,
        },
    );
    let router = axum::Router::new().nest(
        "/dashboard",
        Dashboard::new(fx.path())
            .admin("admin", "correct-horse-7")
            .router(),
    );
    let base = serve(router).await;
    let b = Browser::start().await;
    let c = &b.client;
    login(&b, &base).await;
    for path in [
        "".to_owned(),
        "/exceptions".to_owned(),
        format!("/endpoint/{ep}/exceptions"),
        "/config".to_owned(),
    ] {
        c.goto(&format!("{base}/dashboard{path}")).await.unwrap();
        c.wait().for_element(Locator::Css("main")).await.unwrap();
        b.assert_inert(&path, SCRIPT).await;
    }
    // The hostile text is shown literally.
    c.goto(&format!("{base}/dashboard/endpoint/{ep}/exceptions"))
        .await
        .unwrap();
    let card = c
        .wait()
        .for_element(Locator::Css(&format!("#group-{group}")))
        .await
        .unwrap();
    let text = card.text().await.unwrap();
    assert!(text.contains(&format!("message {SCRIPT}")), "{text}");
    assert!(text.contains("onerror="), "{text}");
    b.screenshot("xss").await;
    b.close().await;
}
