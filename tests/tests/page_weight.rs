//! Page weight: every exceptions page stays under 300 KB of HTML (the stylesheet is inline;
//! the one script is a few KB) with ten large groups per endpoint, because only the failing
//! function's code is sent with a list and the rest of a trace comes when asked for.

use fmd_dashboard::Dashboard;
use fmd_tests::dashboard_fixture::{ExceptionSpec, Fixture, FrameSpec, now_ms};
use fmd_tests::http::{get, login, serve_with_connect_info};

/// The budget of one page: HTML + CSS + JS.
const BUDGET: usize = 300 * 1024;

/// A function of `lines` lines of ordinary Rust.
fn function(name: &str, lines: usize) -> String {
    let mut code = format!(
        "#[capture]\nfn {name}(orders: &[Order], limit: usize) -> Result<Summary, ShopError> {{\n"
    );
    for i in 0..lines {
        code.push_str(&format!(
            "    let total_{i} = orders.iter().filter(|o| o.items.len() > {i}).map(|o| o.cents).sum::<u64>();\n"
        ));
    }
    code.push_str("    Ok(Summary::default())\n}");
    code
}

/// Ten groups on one endpoint, each with a 24-frame trace of 40-line in-app functions;
/// returns the endpoint and its newest group.
fn heavy(fx: &Fixture) -> (i64, i64) {
    let now = now_ms();
    let endpoint = fx.endpoint("shop::report");
    let mut newest = 0;
    for g in 0..10 {
        let frames = (0..24)
            .map(|f| {
                let name = format!("step_{g}_{f}");
                FrameSpec::app(
                    "shop::report",
                    &name,
                    "shop/src/report.rs",
                    100 * f,
                    &function(&name, 40),
                    100 * f + 20,
                )
            })
            .collect();
        let id = fx.exception(
            endpoint,
            "/report",
            &ExceptionSpec {
                type_name: format!("shop::ShopError{g}"),
                message: format!("report {g} failed"),
                chain: vec![],
                frames,
                times: vec![now - g * 60_000],
                kind: 1,
            },
        );
        if g == 0 {
            newest = id;
        }
    }
    (endpoint, newest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exceptions_pages_stay_under_300_kb() {
    let fx = Fixture::new();
    let (endpoint, group) = heavy(&fx);
    let router = axum::Router::new().nest(
        "/dashboard",
        Dashboard::new(fx.path())
            .admin("admin", "correct-horse-7")
            .router(),
    );
    let addr = serve_with_connect_info(router).await;
    let cookie = login(addr, "/dashboard", "admin", "correct-horse-7").await;
    let session = [("cookie", cookie.as_str())];
    let script = get(addr, "/dashboard/assets/app.js", &session)
        .await
        .body
        .len();
    let mut over = Vec::new();
    for path in [
        format!("/dashboard/endpoint/{endpoint}/exceptions"),
        format!("/dashboard/endpoint/{endpoint}/exceptions?group={group}"),
        "/dashboard/exceptions".to_owned(),
        "/dashboard".to_owned(),
    ] {
        let page = get(addr, &path, &session).await;
        assert_eq!(page.status, 200, "{path}");
        let weight = page.body.len() + script;
        println!(
            "{path}: {} KB (HTML with its CSS {} KB, script {} KB)",
            weight / 1024,
            page.body.len() / 1024,
            script / 1024
        );
        if weight > BUDGET {
            over.push(format!("{path}: {weight} bytes"));
        }
    }
    assert!(over.is_empty(), "over {BUDGET} bytes: {over:?}");
}
