//! Several instances of one service in one database: every row knows its instance; the
//! overview and the endpoint pages show all instances together or one at a time (queries
//! on both engines, written through each engine's store; then real HTTP in headless
//! Chromium); a schema-v3 file upgrades with its rollups rebuilt from the request rows,
//! nothing lost.
//!
//! The browser test needs Debian's `chromium` and `chromium-driver`; it fails (never
//! skips) without them.

use std::borrow::Cow;
use std::sync::Arc;

use fantoccini::Locator;
use fmd_dashboard::Dashboard;
use fmd_runtime::Database;
use fmd_runtime::model::event::{Event, RequestEvent};
use fmd_runtime::store::histogram::{bucket, bucket_value};
use fmd_runtime::store::read::{DAY_MS, DashboardStore};
use fmd_runtime::store::sqlite::schema::SCHEMA_VERSION;
use fmd_runtime::store::sqlite::{SqliteReader, SqliteStore};
use fmd_runtime::store::{AnyReader, Store, WriteOptions, open_store};
use fmd_tests::both_engines;
use fmd_tests::browser::Browser;
use fmd_tests::dashboard_fixture::{now_ms, serve};
use fmd_tests::engines::{Engine, fresh_database};

fn options(instance: &str) -> WriteOptions {
    WriteOptions {
        version: "2.0.0".into(),
        instance: instance.into(),
        store_source: true,
        normalize_messages: false,
        git_commit: None,
    }
}

fn request(endpoint: &'static str, time_ms: i64, duration_us: u64, status: u16) -> Event {
    Event::Request(Box::new(RequestEvent {
        endpoint: Cow::Borrowed(endpoint),
        route: Arc::from("/weather/{city}"),
        method: Cow::Borrowed("GET"),
        time_ms,
        duration_us,
        status: Some(status),
        cancelled: false,
        level: 1,
        ip: Some("10.0.0.1".into()),
        group_by: None,
        errors: Vec::new(),
        outlier: None,
        profile: None,
        link: None,
    }))
}

/// Two instances write through the real store: `web-1` three fast requests today and one
/// failing request three days ago, `web-2` two slow requests today (one failing).
fn two_instances(database: &Database, now: i64) {
    let mut web1 = open_store(database).expect("open web-1");
    let mut web2 = open_store(database).expect("open web-2");
    let batch1 = [
        request("weather::forecast", now - 3, 1_000, 200),
        request("weather::forecast", now - 2, 1_200, 200),
        request("weather::forecast", now - 1, 1_100, 200),
        request("weather::forecast", now - 3 * DAY_MS, 9_000, 503),
    ];
    let batch2 = [
        request("weather::forecast", now - 5, 50_000, 200),
        request("weather::forecast", now - 4, 60_000, 500),
    ];
    assert_eq!(web1.write_batch(&batch1, &options("web-1")).unwrap(), 4);
    assert_eq!(web2.write_batch(&batch2, &options("web-2")).unwrap(), 2);
}

fn near(median: Option<i64>, exact: i64) -> bool {
    median.is_some_and(|m| (m - exact).abs() <= exact * 22 / 1000 + 1)
}

fn the_overview_and_endpoint_queries_show_all_instances_or_one(engine: Engine) {
    let (database, _dir) = fresh_database(engine);
    let now = now_ms();
    two_instances(&database, now);
    let mut st = AnyReader::open(&database).unwrap();

    let names: Vec<String> = st
        .instances()
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"web-1".to_owned()) && names.contains(&"web-2".to_owned()));

    let all = &st.overview(now, None).unwrap()[0];
    assert_eq!((all.today.hits, all.week.hits, all.all.hits), (5, 6, 6));
    // 1 000, 1 100, 1 200, 9 000, 50 000, 60 000: row 3 is 9 000.
    assert!(near(all.week.median_us, 9_000), "{:?}", all.week.median_us);
    assert_eq!(all.server_errors_week, 2);

    let one = &st.overview(now, Some("web-1")).unwrap()[0];
    assert_eq!((one.today.hits, one.week.hits, one.all.hits), (3, 4, 4));
    assert_eq!(one.today.median_us, Some(bucket_value(bucket(1_100))));
    assert_eq!(one.server_errors_week, 1);
    let two = &st.overview(now, Some("web-2")).unwrap()[0];
    assert_eq!((two.today.hits, two.all.hits), (2, 2));
    assert!(near(two.today.median_us, 60_000));
    let none = &st.overview(now, Some("web-3")).unwrap()[0];
    assert_eq!((none.all.hits, none.all.median_us), (0, None));

    let id = all.id;
    let from = now - 7 * DAY_MS;
    let hits = |cells: Vec<fmd_runtime::store::read::HourCell>| -> u64 {
        cells.iter().map(|c| c.hits).sum()
    };
    assert_eq!(
        hits(st.hourly_load(Some(id), from, now + 1, None).unwrap()),
        6
    );
    assert_eq!(
        hits(
            st.hourly_load(Some(id), from, now + 1, Some("web-2"))
                .unwrap()
        ),
        2
    );
    assert_eq!(
        hits(st.hourly_load(None, from, now + 1, Some("web-1")).unwrap()),
        4
    );
    let per_version = st
        .version_usage(Some(id), from, now + 1, Some("web-2"))
        .unwrap();
    assert_eq!(per_version.iter().map(|v| v.hits).sum::<u64>(), 2);
    let recent = st.recent_requests(id, from, 100, Some("web-2")).unwrap();
    assert_eq!(
        recent.iter().map(|r| r.duration_us).collect::<Vec<_>>(),
        vec![60_000, 50_000]
    );
    let failed = st.failed_requests(id, 0, 10, Some("web-1")).unwrap();
    assert_eq!((failed.total, failed.rows[0].status), (1, Some(503)));
    assert_eq!(st.failed_requests(id, 0, 10, None).unwrap().total, 2);
}

#[test]
fn a_version_3_file_upgrades_with_its_rollups_rebuilt_from_the_request_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fmd.db");
    let now = now_ms();
    two_instances(&Database::Sqlite(path.clone()), now);
    // Turn the file back into what fmd 0.1 with schema 3 left: an hourly rollup without
    // instances, no duration histogram, no instance list, the request index of version 1.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(fmd_tests::request_rows::SQLITE_BACK_TO_V8)
            .unwrap();
        conn.execute_batch(
            "DROP TABLE duration_daily;
             DROP TABLE instance;
             DROP INDEX request_endpoint_time_sample;
             CREATE INDEX request_endpoint_time ON request(endpoint_id, time);
             CREATE TABLE request_hourly_v3 (
                 endpoint_id INTEGER NOT NULL REFERENCES endpoint(id), hour INTEGER NOT NULL,
                 version TEXT NOT NULL, hits INTEGER NOT NULL, duration_us INTEGER NOT NULL,
                 client_errors INTEGER NOT NULL, server_errors INTEGER NOT NULL,
                 cancelled INTEGER NOT NULL, PRIMARY KEY (endpoint_id, hour, version));
             INSERT INTO request_hourly_v3 SELECT endpoint_id, hour, version, sum(hits),
                 sum(duration_us), sum(client_errors), sum(server_errors), sum(cancelled)
                 FROM request_hourly GROUP BY endpoint_id, hour, version;
             DROP TABLE request_hourly;
             ALTER TABLE request_hourly_v3 RENAME TO request_hourly;
             UPDATE fmd_meta SET value = '3' WHERE key = 'schema_version';",
        )
        .unwrap();
    }
    let mut st = SqliteReader::open(&path).unwrap();
    let version: String = st
        .connection()
        .query_row(
            "SELECT value FROM fmd_meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION.to_string());
    let indexes: Vec<String> = st
        .connection()
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'request'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        indexes.iter().any(|i| i == "request_endpoint_sample")
            && !indexes.iter().any(|i| i == "request_endpoint_time"),
        "versions 5 and 9 replace the request index: {indexes:?}"
    );
    let requests: i64 = st
        .connection()
        .query_row("SELECT count(*) FROM request_text", [], |r| r.get(0))
        .unwrap();
    assert_eq!(requests, 6, "the upgrade keeps every request");
    let one = &st.overview(now, Some("web-1")).unwrap()[0];
    assert_eq!((one.today.hits, one.all.hits), (3, 4));
    assert_eq!(one.today.median_us, Some(bucket_value(bucket(1_100))));
    assert_eq!(one.server_errors_week, 1);
    assert_eq!(st.instances().unwrap().len(), 2);
    // The writer carries on into the upgraded file.
    let mut web1 = SqliteStore::open(&path).unwrap();
    web1.write_batch(
        &[request("weather::forecast", now, 1_000, 200)],
        &options("web-1"),
    )
    .unwrap();
    assert_eq!(st.overview(now, Some("web-1")).unwrap()[0].all.hits, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_instance_picker_filters_the_overview_and_the_endpoint_pages_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fmd.db");
    let now = now_ms();
    two_instances(&Database::Sqlite(path.clone()), now);
    let router = axum::Router::new().nest(
        "/dashboard",
        Dashboard::new(&path)
            .admin("admin", "correct-horse-7")
            .router(),
    );
    let base = serve(router).await;
    let b = Browser::start().await;
    let c = &b.client;
    c.goto(&format!("{base}/dashboard")).await.unwrap();
    b.submit_login("admin", "correct-horse-7").await;

    let today_hits = "table.overview tbody tr td:nth-child(2)";
    assert_eq!(b.text(today_hits).await, "5");
    let mut options = Vec::new();
    for o in c
        .find_all(Locator::Css("select#instance option"))
        .await
        .unwrap()
    {
        options.push(o.text().await.unwrap());
    }
    assert_eq!(options.len(), 3, "{options:?}");
    assert_eq!(options[0], "All instances");

    // Choosing an instance submits the form (app.js) and filters the table.
    c.find(Locator::Css("select#instance option[value='web-2']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_query(c, "instance=web-2").await;
    assert_eq!(b.text(today_hits).await, "2");
    let sub = b.text(".sub").await;
    assert!(sub.contains("instance web-2"), "{sub}");
    b.screenshot("instances-overview").await;

    // The endpoint link keeps the filter; its performance page counts web-2 only.
    b.click_and_wait("table.overview tbody a.mono", "nav.tabs")
        .await;
    let here = c.current_url().await.unwrap();
    assert_eq!(here.query(), Some("instance=web-2"), "{here}");
    let source = c.source().await.unwrap();
    assert!(
        source.contains("latest 2 requests"),
        "the distributions use web-2's requests"
    );
    assert_eq!(b.text("select#instance option[selected]").await, "web-2");
    // Failed requests of web-2: one, the 500.
    b.click_and_wait("nav.tabs a[href*='/requests']", "select#instance")
        .await;
    let page = c.source().await.unwrap();
    // The status badges, not any text that holds the digits (a time, an id).
    assert!(
        page.contains(r#"class="badge bad">500<"#) && !page.contains(r#"class="badge bad">503<"#),
        "only web-2's failure"
    );
    b.screenshot("instances-failed-requests").await;
    b.close().await;
}
/// Waits until the browser's URL has this query string (after a form submitted itself).
async fn wait_for_query(c: &fantoccini::Client, query: &str) {
    for _ in 0..100 {
        if c.current_url().await.unwrap().query() == Some(query) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the page never reached ?{query}");
}

both_engines!(the_overview_and_endpoint_queries_show_all_instances_or_one);

#[test]
fn a_current_file_opens_while_another_process_holds_the_write_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fmd.db");
    drop(SqliteStore::open(&path).unwrap());
    // Another process in the middle of a batch.
    let mut writer = rusqlite::Connection::open(&path).unwrap();
    let tx = writer
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    tx.execute(
        "UPDATE fmd_meta SET value = value WHERE key = 'schema_version'",
        [],
    )
    .unwrap();
    let mut reader =
        SqliteReader::open(&path).expect("a current schema is only read, without the write lock");
    assert!(reader.instances().unwrap().is_empty());
    tx.rollback().unwrap();
}
