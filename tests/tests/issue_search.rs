//! Searching issues on both engines: words in the type, the message, a function's name or
//! its file (prefixes, every word required, case-insensitive), an endpoint, a status, a
//! version and a time range, each alone and together; query syntax typed into the words
//! is only words; the exceptions page's search form and `GET /api/v1/issues?q=` answer the
//! same, and so does the list's CSV download; and a schema-6 database upgrades with every issue searchable.

use std::net::SocketAddr;

use fmd_runtime::Database;
use fmd_runtime::store::AnyReader;
use fmd_runtime::store::issues::{IssueAction, IssueStatus};
use fmd_runtime::store::read::{DAY_MS, IssueFilter, IssueSort};
use fmd_tests::both_engines;
use fmd_tests::browser::XSS_SCRIPT;
use fmd_tests::dashboard_fixture::now_ms;
use fmd_tests::engines::{Db, Engine, fresh_database, off_runtime};
use fmd_tests::http::{self, get, get_bearer};
use fmd_tests::issue_fixture::{ADMIN_PASSWORD, dashboard, error, function_in, write_on};

const TOKEN: &str = "search-api-token-0123456789abcdef";
const PASSWORD: &str = ADMIN_PASSWORD;

/// Four issues:
/// - `shop::NotFound` "order 7 missing" in `shop::weather::load_forecast`
///   (src/weather.rs) under `shop::orders::show` (src/orders.rs), 1.0.0, ten days ago;
/// - `db::Timeout` "query took 5000 ms" in `billing::pay::charge` (src/billing/pay.rs),
///   2.0.0, an hour ago, on `shop::orders::show`;
/// - `shop::NotFound` "cart 3 missing" in `shop::cart::add` (src/cart.rs), 2.0.0, now,
///   on `shop::cart::add`;
/// - `parse::Error` whose message is FTS and tsquery syntax, 2.1.0, now.
fn seed(db: &Database) -> i64 {
    let now = now_ms();
    let show = function_in("shop::orders", "show", "src/orders.rs", "fn show() {}");
    let forecast = function_in(
        "shop::weather",
        "load_forecast",
        "src/weather.rs",
        "fn load_forecast() {}",
    );
    let charge = function_in(
        "billing::pay",
        "charge",
        "src/billing/pay.rs",
        "fn charge() {}",
    );
    let add = function_in("shop::cart", "add", "src/cart.rs", "fn add() {}");
    let parse = function_in("parse", "token", "src/parse.rs", "fn token() {}");
    let db = db.clone();
    off_runtime(move || {
        let old = now - 10 * DAY_MS;
        let order = error("shop::NotFound", "order 7 missing", &[forecast, show], old);
        write_on(&db, "1.0.0", "shop::orders::show", vec![order]);
        let slow = error(
            "db::Timeout",
            "query took 5000 ms",
            &[charge, show],
            now - 3_600_000,
        );
        write_on(&db, "2.0.0", "shop::orders::show", vec![slow]);
        let cart = error("shop::NotFound", "cart 3 missing", &[add], now);
        write_on(&db, "2.0.0", "shop::cart::add", vec![cart]);
        let hostile = format!("bad token \"* OR ) NEAR( -x :* & ! {XSS_SCRIPT}");
        let hostile = error("parse::Error", &hostile, &[parse], now);
        write_on(&db, "2.1.0", "shop::cart::add", vec![hostile]);
    });
    now
}

/// The type names of the issues `filter` finds, sorted.
fn found(db: &Database, filter: IssueFilter) -> Vec<String> {
    let db = db.clone();
    off_runtime(move || {
        let mut reader = AnyReader::open(&db).expect("open the store");
        let page = reader
            .issues(&filter, IssueSort::LastSeen, true, 0, 100)
            .expect("search");
        assert_eq!(page.total as usize, page.rows.len(), "one page holds them");
        let mut names: Vec<String> = page
            .rows
            .iter()
            .map(|i| format!("{}: {}", i.type_name, i.message))
            .collect();
        names.sort();
        names
    })
}

fn words(w: &str) -> IssueFilter {
    IssueFilter {
        words: w.to_owned(),
        ..IssueFilter::default()
    }
}

const ORDER: &str = "shop::NotFound: order <n> missing";
const CART: &str = "shop::NotFound: cart <n> missing";
const TIMEOUT: &str = "db::Timeout: query took <n> ms";

fn each_filter_narrows_the_list(engine: Engine) {
    let (db, _dir) = fresh_database(engine);
    let now = seed(&db);
    assert_eq!(found(&db, IssueFilter::default()).len(), 4);
    // Words: type, message, function name, module, file; prefixes; every word; any case.
    assert_eq!(found(&db, words("notfound")), [CART, ORDER]);
    assert_eq!(found(&db, words("Timeout")), [TIMEOUT]);
    assert_eq!(found(&db, words("missing")), [CART, ORDER]);
    assert_eq!(found(&db, words("forecast")), [ORDER], "part of a fn name");
    assert_eq!(found(&db, words("load_forecast")), [ORDER]);
    assert_eq!(found(&db, words("weather")), [ORDER], "module or file");
    assert_eq!(found(&db, words("billing/pay.rs")), [TIMEOUT], "a file");
    assert_eq!(found(&db, words("forec")), [ORDER], "a prefix");
    assert_eq!(found(&db, words("NOTFOUND cart")), [CART], "every word");
    assert_eq!(found(&db, words("orders")), [TIMEOUT, ORDER], "the handler");
    assert!(found(&db, words("zebra")).is_empty());
    // Query syntax is only words: nothing fails, and it finds the message that has them.
    for hostile in [
        "\"* OR ) NEAR(",
        "-x :* & !",
        "'; DROP TABLE issue; --",
        "a:*|b",
    ] {
        let hits = found(&db, words(hostile));
        assert!(hits.len() <= 1, "{hostile}: {hits:?}");
    }
    for no_word in ["\"", "*", ":* & !"] {
        assert_eq!(found(&db, words(no_word)).len(), 4, "{no_word}: no filter");
    }
    assert_eq!(
        found(&db, words("near or"))[0].split(':').next(),
        Some("parse")
    );
    assert_eq!(found(&db, words("::")).len(), 4, "no word: no filter");
    // Endpoint: part of the name, any case.
    let endpoint = |e: &str| IssueFilter {
        endpoint: e.to_owned(),
        ..IssueFilter::default()
    };
    assert_eq!(found(&db, endpoint("ORDERS")), [TIMEOUT, ORDER]);
    assert_eq!(found(&db, endpoint("cart::add")).len(), 2);
    assert!(found(&db, endpoint("%")).is_empty(), "% is a character");
    // Version: exactly.
    let version = |v: &str| IssueFilter {
        version: v.to_owned(),
        ..IssueFilter::default()
    };
    assert_eq!(found(&db, version("2.0.0")), [TIMEOUT, CART]);
    assert!(found(&db, version("2.0")).is_empty());
    // Time range: an occurrence in it.
    let range = |from: Option<i64>, to: Option<i64>| IssueFilter {
        from,
        to,
        ..IssueFilter::default()
    };
    assert_eq!(found(&db, range(Some(now - 2 * DAY_MS), None)).len(), 3);
    assert_eq!(found(&db, range(None, Some(now - 5 * DAY_MS))), [ORDER]);
    assert_eq!(
        found(&db, range(Some(now - 2 * 3_600_000), Some(now - 1))),
        [TIMEOUT]
    );
    // Status.
    let order = {
        let db = db.clone();
        off_runtime(move || {
            let mut reader = AnyReader::open(&db).expect("open");
            let page = reader
                .issues(&words("forecast"), IssueSort::LastSeen, true, 0, 10)
                .expect("search");
            let id = page.rows[0].id;
            assert!(
                reader
                    .set_issue_status(id, IssueAction::Resolve, now)
                    .unwrap()
            );
            id
        })
    };
    let status = |s| IssueFilter::status(Some(s));
    assert_eq!(found(&db, status(IssueStatus::Resolved)), [ORDER]);
    assert_eq!(found(&db, status(IssueStatus::Open)).len(), 3);
    // Together.
    let both = IssueFilter {
        words: "notfound".into(),
        version: "2.0.0".into(),
        ..IssueFilter::default()
    };
    assert_eq!(found(&db, both), [CART]);
    let none = IssueFilter {
        words: "forecast".into(),
        status: Some(IssueStatus::Open),
        ..IssueFilter::default()
    };
    assert!(found(&db, none).is_empty(), "issue {order} is resolved");
}

async fn server(db: &Database) -> SocketAddr {
    dashboard(db, TOKEN).await
}

async fn the_page_and_the_api_search_the_same(engine: Engine) {
    let (db, _dir) = fresh_database(engine);
    seed(&db);
    let addr = server(&db).await;
    let api = get_bearer(addr, "/dashboard/api/v1/issues?q=forecast", TOKEN).await;
    assert_eq!(api.status, 200, "{}", api.body);
    let api = api.json();
    assert_eq!(api["total"], 1);
    assert_eq!(api["issues"][0]["message"], "order <n> missing");
    let id = api["issues"][0]["id"].as_i64().expect("id");
    let api = get_bearer(
        addr,
        "/dashboard/api/v1/issues?q=notfound&version=2.0.0&endpoint=cart",
        TOKEN,
    )
    .await
    .json();
    assert_eq!(api["total"], 1);
    assert_eq!(api["issues"][0]["message"], "cart <n> missing");
    let bad = get_bearer(addr, "/dashboard/api/v1/issues?from=10&to=5", TOKEN).await;
    assert_eq!(bad.status, 400);

    let cookie = http::login(addr, "/dashboard", "admin", PASSWORD).await;
    let page = get(
        addr,
        "/dashboard/exceptions?q=forecast",
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let html = &page.body;
    assert!(html.contains(r#"role="search""#), "the search form");
    assert!(
        html.contains(r#"name="q" value="forecast""#),
        "keeps the words"
    );
    assert!(
        html.contains(&format!("/dashboard/issues/{id}\"")),
        "the match"
    );
    let issues = &html[html
        .find(r#"<table class="data issues""#)
        .expect("the issue table")..];
    let issues = &issues[..issues.find("</table>").expect("its end")];
    assert!(issues.contains("order &lt;n&gt; missing"));
    assert!(!issues.contains("query took"), "no other issue");
    let hostile = get(
        addr,
        "/dashboard/exceptions?q=%22%3E%3Cscript%3Ewindow.__xss%3D1%3C%2Fscript%3E&to=2026-99-99",
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(hostile.status, 200);
    assert!(
        !hostile.body.contains("<script>window.__xss"),
        "the value stays text"
    );
    assert!(hostile.body.contains("&lt;script&gt;window.__xss"));
    assert!(!hostile.body.contains(XSS_SCRIPT), "messages stay text too");
    // The CSV download holds the rows of the same search, all pages of them.
    let csv = get(
        addr,
        "/dashboard/exceptions/issues.csv?q=notfound&isort=count",
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(csv.status, 200);
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(
        lines[0],
        "id,status,type_name,message,count,first_seen,last_seen,first_version,last_version,variants,resolved_version,client_error"
    );
    assert_eq!(lines.len(), 3, "{}", csv.body);
    assert!(
        lines[1..]
            .iter()
            .all(|l| l.contains(",open,shop::NotFound,"))
    );
    let all = get(
        addr,
        "/dashboard/exceptions/issues.csv",
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(all.body.lines().count(), 5, "{}", all.body);
    assert!(
        all.body.contains("\"bad token \"\"* OR ) NEAR( -x"),
        "a message is one quoted field: {}",
        all.body
    );
    assert!(
        page.body
            .contains("/dashboard/exceptions/issues.csv?q=forecast"),
        "the page links its download"
    );
    let anonymous = get(addr, "/dashboard/exceptions/issues.csv", &[]).await;
    assert_eq!(anonymous.status, 303, "login first");
    let days = get(
        addr,
        "/dashboard/exceptions?from=2000-01-01&to=2000-01-02",
        &[("cookie", &cookie)],
    )
    .await;
    assert!(days.body.contains("No issue matches this search."));
}

fn a_schema_6_database_upgrades_searchable(engine: Engine) {
    let (db, _dir) = fresh_database(engine);
    seed(&db);
    let raw = Db::open(&db);
    fmd_tests::request_rows::back_to_version_8(&raw);
    let statements: &[&str] = match db {
        Database::Sqlite(_) => &[
            "DROP TRIGGER issue_fts_insert",
            "DROP TRIGGER issue_fts_delete",
            "DROP TABLE issue_fts",
            "ALTER TABLE issue DROP COLUMN search_text",
        ],
        Database::Postgres(_) => &[
            "DROP INDEX issue_search",
            "ALTER TABLE issue DROP COLUMN search_text",
        ],
    };
    for s in statements {
        raw.exec(s, &[]);
    }
    raw.exec(
        "UPDATE fmd_meta SET value = '6' WHERE key = 'schema_version'",
        &[],
    );
    drop(raw);
    assert_eq!(
        found(&db, words("forecast")),
        [ORDER],
        "the in-app functions"
    );
    assert_eq!(found(&db, words("billing pay")), [TIMEOUT], "their files");
    assert_eq!(found(&db, words("notfound")), [CART, ORDER]);
    // The writer's new issues are searchable beside the back-filled ones.
    let db2 = db.clone();
    off_runtime(move || {
        let f = function_in("mail::smtp", "send", "src/mail.rs", "fn send() {}");
        let e = error("mail::Refused", "relay denied", &[f], now_ms());
        write_on(&db2, "2.2.0", "shop::cart::add", vec![e]);
    });
    assert_eq!(found(&db, words("smtp")), ["mail::Refused: relay denied"]);
    let raw = Db::open(&db);
    assert_eq!(
        raw.query_i64(
            "SELECT CAST(value AS BIGINT) FROM fmd_meta WHERE key = 'schema_version'",
            &[]
        ),
        Some(fmd_runtime::store::sqlite::schema::SCHEMA_VERSION)
    );
}

/// 100,000 occurrences of 2,000 issues; prints how long each kind of search takes (run
/// with `--ignored --nocapture`; a figure, never a threshold).
fn searching_a_hundred_thousand_occurrences(engine: Engine) {
    let (db, _dir) = fresh_database(engine);
    let now = now_ms();
    let seed_db = db.clone();
    off_runtime(move || {
        let f = function_in("big::jobs", "run", "src/jobs.rs", "fn run() {}");
        for batch in 0..100 {
            let errors = (0..1000)
                .map(|i| {
                    let n = batch * 1000 + i;
                    let ty: &'static str =
                        Box::leak(format!("big::E{}", n % 2000).into_boxed_str());
                    let word = ["alpha", "beta", "gamma", "delta"][(n % 4) as usize];
                    error(ty, &format!("job {n} failed in {word}"), &[f], now - n)
                })
                .collect();
            let version = if batch < 50 { "1.0.0" } else { "2.0.0" };
            write_on(&seed_db, version, "big::jobs::run", errors);
        }
    });
    let timed = |label: &str, filter: IssueFilter| {
        let db = db.clone();
        off_runtime(move || {
            let mut reader = AnyReader::open(&db).expect("open the store");
            let started = std::time::Instant::now();
            let page = reader
                .issues(&filter, IssueSort::LastSeen, true, 0, 25)
                .expect("search");
            println!(
                "{label}: {} issues, first page in {:?}",
                page.total,
                started.elapsed()
            );
            page.total
        })
    };
    assert_eq!(timed("all", IssueFilter::default()), 2000);
    assert!(timed("words", words("e1234")) >= 1);
    assert!(timed("two words", words("failed gamma")) >= 1);
    let version = IssueFilter {
        version: "2.0.0".into(),
        ..IssueFilter::default()
    };
    assert!(timed("version", version) >= 1);
    let range = IssueFilter {
        from: Some(now - 10_000),
        to: Some(now),
        ..IssueFilter::default()
    };
    assert!(timed("range", range) >= 1);
}

#[test]
#[ignore = "seeds 100,000 occurrences: run with --ignored --nocapture for the figures"]
fn searching_a_hundred_thousand_occurrences_sqlite() {
    searching_a_hundred_thousand_occurrences(Engine::Sqlite);
}

#[test]
#[ignore = "seeds 100,000 occurrences: run with --ignored --nocapture for the figures"]
fn searching_a_hundred_thousand_occurrences_postgres() {
    searching_a_hundred_thousand_occurrences(Engine::Postgres);
}

both_engines!(
    each_filter_narrows_the_list,
    a_schema_6_database_upgrades_searchable,
);
both_engines!(async the_page_and_the_api_search_the_same);
