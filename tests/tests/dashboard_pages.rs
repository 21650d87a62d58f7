//! The dashboard's pages over real HTTP on both engines, from the same seeded shop: each
//! page answers 200 and shows the data it is about (endpoints, the exception with its
//! source line, outliers, call trees, custom graphs, accounts), and never the password of
//! a PostgreSQL URL.

use axum::Router;
use fmd_dashboard::Dashboard;
use fmd_runtime::Database;
use fmd_tests::both_engines;
use fmd_tests::dashboard_fixture::{ExceptionSpec, Fixture, FrameSpec, now_ms, serve};
use fmd_tests::engines::Engine;
use fmd_tests::http::{get, login};
use fmd_tests::perf_fixture::seed_on;

async fn every_page_shows_the_seeded_shop(engine: Engine) {
    let s = seed_on(engine);
    // The test server trusts 127.0.0.1, so a password in the URL is accepted and ignored:
    // the configuration page must not show it.
    let database = match s.fx.database() {
        Database::Postgres(url) => {
            Database::Postgres(url.replacen("://postgres@", "://postgres:db-secret-9@", 1))
        }
        sqlite => sqlite,
    };
    let router = Router::new().nest(
        "/dashboard",
        Dashboard::new(database)
            .admin("admin", "pages-secret-1")
            .router(),
    );
    let base = serve(router).await;
    let addr = base
        .trim_start_matches("http://")
        .parse()
        .expect("served address");
    let cookie = login(addr, "/dashboard", "admin", "pages-secret-1").await;
    let (a, g) = (s.a, s.group);
    let pages: Vec<(String, Vec<&str>)> = vec![
        ("".into(), vec!["shop::checkout", "shop::index"]),
        (
            "/exceptions".into(),
            vec!["shop::Error", "payment declined"],
        ),
        (
            format!("/endpoint/{a}/exceptions?group={g}"),
            vec!["payment declined", "src/shop.rs"],
        ),
        (format!("/endpoint/{a}"), vec!["shop::checkout"]),
        (format!("/endpoint/{a}/requests"), vec!["404", "500"]),
        (format!("/endpoint/{a}/outliers"), vec!["/checkout?cart=7"]),
        (
            format!("/endpoint/{a}/profiler"),
            vec!["load_cart", "price"],
        ),
        (format!("/endpoint/{a}/grouped-profiler"), vec!["load_cart"]),
        ("/utilization".into(), vec!["Utilization"]),
        ("/custom-graphs".into(), vec!["queue"]),
        ("/reporting".into(), vec![]),
        (
            "/config".into(),
            match engine {
                Engine::Postgres => vec!["admin", "postgres:***@127.0.0.1"],
                Engine::Sqlite => vec!["admin", "fmd.db"],
            },
        ),
        ("/retention".into(), vec!["7"]),
    ];
    for (path, wanted) in pages {
        let url = format!("/dashboard{path}");
        let res = get(addr, &url, &[("cookie", &cookie)]).await;
        assert_eq!(res.status, 200, "{engine:?} {url}: {}", res.body);
        assert!(
            !res.body.contains("db-secret-9"),
            "{url} shows the password"
        );
        for w in wanted {
            assert!(res.body.contains(w), "{engine:?} {url} shows {w:?}");
        }
    }
}

/// Every `href` of a page, `&amp;` unescaped.
fn hrefs(body: &str) -> Vec<String> {
    body.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|h| h.replace("&amp;", "&"))
        .collect()
}

/// With more groups on one endpoint than its exceptions page shows at once, the link to
/// the oldest group from "all exceptions" and from "failed requests" reaches a page that
/// shows that group.
async fn links_to_a_group_land_on_it(engine: Engine) {
    let fx = Fixture::on(engine);
    let now = now_ms();
    let a = fx.endpoint("shop::checkout");
    let groups: Vec<i64> = (0..13)
        .map(|i| {
            let e = ExceptionSpec {
                type_name: "shop::Error".into(),
                message: format!("failure number {i}"),
                chain: vec![],
                frames: vec![FrameSpec::app(
                    "shop",
                    "checkout",
                    "src/shop.rs",
                    1,
                    "fn checkout() {\n    pay()?;\n}",
                    2,
                )],
                times: vec![now - 100_000 + i * 1_000],
                kind: 1,
            };
            fx.exception(a, "/checkout", &e)
        })
        .collect();
    let oldest = groups[0];
    let router = Router::new().nest(
        "/dashboard",
        Dashboard::new(fx.database())
            .admin("admin", "pages-secret-1")
            .router(),
    );
    let base = serve(router).await;
    let addr = base.trim_start_matches("http://").parse().expect("address");
    let cookie = login(addr, "/dashboard", "admin", "pages-secret-1").await;
    for list in [
        "/dashboard/exceptions".to_owned(),
        format!("/dashboard/endpoint/{a}/requests"),
    ] {
        let res = get(addr, &list, &[("cookie", &cookie)]).await;
        assert_eq!(res.status, 200, "{list}: {}", res.body);
        let anchor = format!("#group-{oldest}");
        let link = hrefs(&res.body)
            .into_iter()
            .find(|h| h.ends_with(&anchor))
            .unwrap_or_else(|| panic!("{list} links to group {oldest}"));
        let target = get(addr, &link, &[("cookie", &cookie)]).await;
        assert_eq!(target.status, 200, "{link}");
        assert!(
            target.body.contains(&format!("id=\"group-{oldest}\"")),
            "{engine:?}: {link} (from {list}) shows group {oldest}"
        );
        assert!(target.body.contains("failure number 0"), "{link}");
    }
}

both_engines!(async every_page_shows_the_seeded_shop, links_to_a_group_land_on_it);
