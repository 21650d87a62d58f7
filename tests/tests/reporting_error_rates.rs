//! Issues' error rates on the reporting page, on both engines: requests and errors written
//! through the real writer with versions 1.0.0 (ten days ago) and 2.0.0 (two days ago);
//! an issue going from 1 in 1000 requests to 40 in 1000 is a finding (with SciPy's
//! p-value), one going from 1 to 2 in 1000 is not, whether versions or periods are
//! compared; the page over real HTTP on 127.0.0.1 lists the finding with its rates (as
//! fallen when the sides are swapped) and a link to the issue, and a hostile type name and
//! message stay text. In Chromium (SQLite): no injected script runs; the screenshot is
//! `target/screenshots/reporting_error_rates.png`.

use fantoccini::Locator;
use fmd_dashboard::reporting::{ErrorRateChange, compare, error_rates, report};
use fmd_dashboard::stats::RateTestKind;
use fmd_runtime::Database;
use fmd_runtime::store::AnyReader;
use fmd_runtime::store::read::Selection;
use fmd_tests::both_engines;
use fmd_tests::browser::{Browser, XSS_ATTR, XSS_SCRIPT};
use fmd_tests::dashboard_fixture::now_ms;
use fmd_tests::engines::{Engine, fresh_database, off_runtime};
use fmd_tests::http::{self, get};
use fmd_tests::issue_fixture::{ADMIN_PASSWORD, dashboard, error, function, request, write_events};
use fmd_tests::perf_fixture::DAY;

const TOKEN: &str = "reporting-rates-token-0123456789ab";

/// The issue that got worse, the one that barely moved.
const DECLINED: &str = "shop::PaymentDeclined";
const TIMEOUT: &str = "shop::Timeout";

/// A type name carrying markup, as a hostile or careless application could report.
fn hostile_type() -> &'static str {
    Box::leak(format!("shop::{XSS_SCRIPT}").into_boxed_str())
}

/// 1000 requests per version: 1.0.0 ten days ago with one `PaymentDeclined` and one
/// `Timeout`; 2.0.0 two days ago with 40 `PaymentDeclined`, two `Timeout` and 25 of the
/// hostile type. Every failing request answers 500, the others 200. Returns the `now` the
/// times count back from (request `i` of a version at its start + `i` × 100 ms).
fn seed(db: &Database) -> i64 {
    let now = now_ms();
    let handler = function("shop::pay", "charge", "fn charge() {\n    gateway()?;\n}");
    let hostile = hostile_type();
    let db = db.clone();
    off_runtime(move || {
        for (version, start, declined, timeouts, hostiles) in [
            ("1.0.0", now - 10 * DAY, 1, 1, 0),
            ("2.0.0", now - 2 * DAY, 40, 2, 25),
        ] {
            let events: Vec<_> = (0..1000)
                .map(|i| {
                    let t = start + i * 100;
                    let failing = if i < declined {
                        Some((DECLINED, "card 4242 declined".to_owned()))
                    } else if i < declined + timeouts {
                        Some((TIMEOUT, "gateway timed out".to_owned()))
                    } else if i < declined + timeouts + hostiles {
                        Some((hostile, format!("bad {XSS_ATTR}")))
                    } else {
                        None
                    };
                    match failing {
                        Some((type_name, message)) => request(
                            "shop::pay::charge",
                            t,
                            500,
                            vec![error(type_name, &message, &[handler], t)],
                        ),
                        None => request("shop::pay::charge", t, 200, vec![]),
                    }
                })
                .collect();
            write_events(&db, version, &events);
        }
    });
    now
}

/// The error-rate comparison of `a` and `b`. The page reads it with the endpoints'
/// comparison ([`report`], the issues' requests from the response mixes): both readings
/// must agree with [`error_rates`] and [`compare`] read alone.
fn rates(db: &Database, a: Selection, b: Selection) -> Vec<ErrorRateChange> {
    let db = db.clone();
    off_runtime(move || {
        let mut reader = AnyReader::open(&db).expect("open the reader");
        let alone = error_rates(&mut *reader, &a, &b).expect("error rates");
        let endpoints = compare(&mut *reader, &a, &b).expect("compare");
        let (report_endpoints, report_rates) = report(&mut *reader, &a, &b).expect("report");
        assert_eq!(report_rates, alone, "{a:?} {b:?}: the page's rates");
        assert_eq!(
            report_endpoints, endpoints,
            "{a:?} {b:?}: the page's endpoints"
        );
        alone
    })
}

fn find<'a>(rates: &'a [ErrorRateChange], type_name: &str) -> &'a ErrorRateChange {
    rates
        .iter()
        .find(|r| r.counts.type_name == type_name)
        .unwrap_or_else(|| panic!("no {type_name} in {rates:?}"))
}

async fn an_error_rate_that_rose_is_a_finding_and_one_that_barely_moved_is_not(engine: Engine) {
    let (db, _dir) = fresh_database(engine);
    let seeded = seed(&db);
    let now = now_ms();
    let versions = (
        Selection::Version("1.0.0".into()),
        Selection::Version("2.0.0".into()),
    );
    let periods = (
        Selection::Period {
            from: now - 11 * DAY,
            to: now - 9 * DAY,
        },
        Selection::Period {
            from: now - 3 * DAY,
            to: now,
        },
    );
    let mut ids = (0, 0, 0);
    for (a, b) in [versions, periods] {
        let found = rates(&db, a.clone(), b.clone());
        assert_eq!(found.len(), 3, "{a:?} {b:?}: {found:?}");
        let declined = find(&found, DECLINED);
        let c = &declined.counts;
        assert_eq!(
            (c.occurrences_a, c.requests_a, c.occurrences_b, c.requests_b),
            (1, 1000, 40, 1000),
            "{a:?} {b:?}"
        );
        assert_eq!((declined.rate_a, declined.rate_b), (0.1, 4.0));
        assert_eq!(declined.test.kind, RateTestKind::FisherExact);
        // scipy.stats.fisher_exact([[1, 999], [40, 960]]).pvalue
        let scipy = 2.6158359207675076e-11;
        assert!(
            (declined.test.p_value - scipy).abs() <= 1e-9 * scipy,
            "p {}",
            declined.test.p_value
        );
        assert!(declined.significant);
        let timeout = find(&found, TIMEOUT);
        let t = &timeout.counts;
        assert_eq!(
            (t.occurrences_a, t.requests_a, t.occurrences_b, t.requests_b),
            (1, 1000, 2, 1000)
        );
        assert_eq!(
            timeout.test.p_value, 1.0,
            "fisher_exact([[1, 999], [2, 998]])"
        );
        assert!(!timeout.significant);
        let hostile = find(&found, hostile_type());
        assert_eq!(
            (hostile.counts.occurrences_a, hostile.counts.occurrences_b),
            (0, 25)
        );
        assert!(hostile.significant);
        ids = (c.issue_id, t.issue_id, hostile.counts.issue_id);
    }
    let (declined, timeout, hostile) = ids;
    // A period's bounds, counted on the groups' time index: from included, to excluded.
    // Version 2.0.0's requests 0..40 declined, 40..42 timed out, 42..67 hostile.
    let start = seeded - 2 * DAY;
    let found = rates(
        &db,
        Selection::Period {
            from: seeded - 11 * DAY,
            to: seeded - 9 * DAY,
        },
        Selection::Period {
            from: start + 10 * 100,
            to: start + 41 * 100,
        },
    );
    let counts = |type_name| {
        let c = &find(&found, type_name).counts;
        (c.occurrences_a, c.occurrences_b)
    };
    assert_eq!(counts(DECLINED), (1, 30), "requests 10..40");
    assert_eq!(counts(TIMEOUT), (1, 1), "request 40, not 41");
    assert!(
        found.iter().all(|r| r.counts.type_name != hostile_type()),
        "no hostile occurrence in either period: {found:?}"
    );

    let addr = dashboard(&db, TOKEN).await;
    let cookie = http::login(addr, "/dashboard", "admin", ADMIN_PASSWORD).await;
    // The two versions, then the default: the last 7 days against the 7 before them.
    for path in [
        "/dashboard/reporting?mode=versions&a=1.0.0&b=2.0.0",
        "/dashboard/reporting",
    ] {
        let page = get(addr, path, &[("cookie", &cookie)]).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        let html = &page.body;
        assert!(
            html.contains(&format!(
                r#"href="/dashboard/issues/{declined}">issue #{declined}</a>"#
            )),
            "{path}: the finding links to its issue"
        );
        assert!(html.contains(DECLINED), "{path}");
        assert!(
            html.contains("0.10 % → 4.00 %</b> of requests, p &lt; 0.0001, significant"),
            "{path}: the rates and p"
        );
        assert!(
            html.contains("Fisher's exact test; 1 of 1000 and 40 of 1000 requests"),
            "{path}"
        );
        assert!(
            !html.contains(&format!("/dashboard/issues/{timeout}\"")),
            "{path}: 1 → 2 in 1000 is no finding"
        );
        assert!(
            html.contains(&format!("/dashboard/issues/{hostile}\"")),
            "{path}: 0 → 25 in 1000 is a finding"
        );
        assert!(
            html.contains("shop::&lt;script&gt;window.__xss=1&lt;/script&gt;"),
            "{path}: the hostile type name as text"
        );
        assert!(!html.contains(XSS_SCRIPT), "{path}: no raw script tag");
        assert!(!html.contains(XSS_ATTR), "{path}: no raw attribute breaker");
        // Two issues, and the endpoint's response mix (5xx 0.2 % → 6.7 %).
        assert!(html.contains("3 findings"), "{path}");
        assert!(
            html.contains("and 1 issue show no significant change"),
            "{path}"
        );
    }
    // The other way round, the rate fell.
    let path = "/dashboard/reporting?mode=versions&a=2.0.0&b=1.0.0";
    let page = get(addr, path, &[("cookie", &cookie)]).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains(r#"<li class="better">Error rate fell: <b>4.00 % → 0.10 %</b> of requests"#),
        "{}",
        page.body
    );
}

both_engines!(async an_error_rate_that_rose_is_a_finding_and_one_that_barely_moved_is_not);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_rate_findings_are_inert_text_in_chromium() {
    let (db, _dir) = fresh_database(Engine::Sqlite);
    seed(&db);
    let addr = dashboard(&db, TOKEN).await;
    let base = format!("http://{addr}");
    let b = Browser::start().await;
    let c = &b.client;
    c.goto(&format!("{base}/dashboard/login")).await.unwrap();
    b.submit_login("admin", ADMIN_PASSWORD).await;
    let path = "/dashboard/reporting?mode=versions&a=1.0.0&b=2.0.0";
    c.goto(&format!("{base}{path}")).await.unwrap();
    c.wait()
        .for_element(Locator::Css("li.issue-rate"))
        .await
        .expect("an error-rate finding");
    b.screenshot("reporting_error_rates").await;
    b.assert_inert(path, XSS_SCRIPT).await;
    let findings = c
        .find_all(Locator::Css("li.issue-rate"))
        .await
        .expect("findings");
    assert_eq!(findings.len(), 2, "the two issues that rose");
    let first = b.text("li.issue-rate").await;
    assert!(
        first.contains(DECLINED) && first.contains("0.10 % → 4.00 %"),
        "{first}"
    );
    b.close().await;
}
