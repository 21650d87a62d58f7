//! Alerts shared by instances: two processes of the monitored host write one database
//! (a PostgreSQL database, a SQLite file) and alert to one webhook receiver this test
//! starts on 127.0.0.1. A new issue both see alerts once; the rate rule counts the
//! occurrences of both; the quiet hour of an issue holds for both, and what it held is
//! told by the next alert ("and N more"), whichever instance sends it.
//!
//! The hour is not waited for: the test moves the issue's `alerted_at` an hour back, as
//! the clock would.

use fmd_runtime::Database;
use fmd_tests::engines::{Db, Engine, fresh_database};
use fmd_tests::host::HostProcess;
use fmd_tests::webhook::{Received, receiver, until};

const HOST: &str = env!("CARGO_BIN_EXE_fault_host");

/// One instance of the host (the radar always panics: one occurrence of one issue per
/// request) alerting to `hook` with the rate rule 5 in 10 minutes.
fn instance(database: &Database, name: &str, hook: &str) -> HostProcess {
    let target = match database {
        Database::Sqlite(path) => path.as_os_str().to_owned(),
        Database::Postgres(url) => url.into(),
    };
    HostProcess::start(
        HOST,
        target,
        &[
            ("FMD_INSTANCE", name),
            ("FMD_ALERT_WEBHOOK", hook),
            ("FMD_ALERT_RATE", "5/10m"),
        ],
    )
}

async fn radar(h: &HostProcess, times: usize) {
    for _ in 0..times {
        let r = fmd_tests::http::get(h.addr, "/radar", &[]).await;
        assert!(r.status >= 500, "the radar always panics: {}", r.status);
    }
}

/// Waits until `n` occurrences are stored, by either instance.
async fn stored(db: &Db, n: i64) {
    until(&format!("{n} stored occurrences"), || {
        db.count("exception_occurrence") == n
    })
    .await;
}

fn events(got: &Received) -> Vec<(String, i64)> {
    got.lock()
        .iter()
        .map(|a| {
            (
                a["event"].as_str().unwrap_or("").to_owned(),
                a["held_back"].as_i64().unwrap_or(-1),
            )
        })
        .collect()
}

/// The issue's quiet hour is over, as if an hour had passed.
fn an_hour_later(db: &Db) {
    db.exec("UPDATE issue SET alerted_at = alerted_at - 3600000", &[]);
}

async fn two_instances_alert_once_between_them(engine: Engine) {
    let (hook, got) = receiver().await;
    let (database, _dir) = fresh_database(engine);
    let a = instance(&database, "web-1", &hook);
    let b = instance(&database, "web-2", &hook);
    let db = Db::open(&database);

    // The new issue, seen by both at once: one alert.
    tokio::join!(radar(&a, 1), radar(&b, 1));
    until("the new issue's alert", || !got.lock().is_empty()).await;
    stored(&db, 2).await;

    // The rate rule over both: 3 on A and 1 on B are 4 of 5, no alert; B's second is the
    // fifth in ten minutes: a rate alert.
    an_hour_later(&db);
    radar(&a, 2).await;
    stored(&db, 4).await;
    radar(&b, 1).await;
    until("the rate alert", || got.lock().len() == 2).await;
    assert_eq!(
        events(&got),
        [("new_issue".to_owned(), 0), ("rate".to_owned(), 0)],
        "one new-issue alert, then one rate alert at the fifth occurrence"
    );

    // In the issue's quiet hour, over the rate on either instance: held, and counted in
    // the database for both.
    radar(&a, 1).await;
    radar(&b, 1).await;
    until("two held alerts", || {
        db.query_i64("SELECT alert_held FROM issue", &[]) == Some(2)
    })
    .await;
    assert_eq!(got.lock().len(), 2, "held alerts are not sent");

    // The hour over, nothing new: one digest (from whichever instance looks first) tells
    // the newest held alert and the one more.
    an_hour_later(&db);
    until("the digest", || got.lock().len() == 3).await;
    a.shutdown();
    b.shutdown();
    let all = events(&got);
    println!("FIGURES shared alerts {engine:?}: deliveries={all:?}");
    assert_eq!(
        all,
        [
            ("new_issue".to_owned(), 0),
            ("rate".to_owned(), 0),
            ("rate".to_owned(), 1)
        ]
    );
    let text = got.lock()[2]["text"].as_str().unwrap_or("").to_owned();
    assert!(text.contains("and 1 more in the last hour"), "{text}");
    assert_eq!(db.query_i64("SELECT alert_held FROM issue", &[]), Some(0));
    assert_eq!(db.count("issue"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_postgres_instances_alert_once_between_them() {
    two_instances_alert_once_between_them(Engine::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_sqlite_file_alert_once_between_them() {
    two_instances_alert_once_between_them(Engine::Sqlite).await;
}

/// One occurrence at `at` written by `store`, and the alerts it makes under `rule`.
fn occur(
    store: &mut dyn fmd_runtime::store::Store,
    rule: &fmd_runtime::store::issues::AlertRule,
    at: i64,
) -> Vec<(fmd_runtime::store::issues::Change, u32)> {
    use fmd_tests::issue_fixture::{error, function, options, request};
    let f = function("shop::pay", "charge", "fn charge() {}");
    let e = error("shop::Declined", "card declined", &[f], at);
    let batch = [request("shop::pay", at, 500, vec![e])];
    store.write_batch(&batch, &options("1.0.0")).expect("write");
    let told = store.take_issue_changes(rule);
    told.iter().map(|c| (c.change, c.held_back)).collect()
}

/// A database of schema 7 (no alert columns) upgrades to 8 without losing its issue, and
/// the writer's store then decides alerts in it: over a 2-in-10-minutes rule the second
/// occurrence alerts, the one after it is held in the issue's quiet hour and sent as its
/// digest when the hour is over (once); what the digest's hour holds is told by the next
/// alert after it ("and 1 more").
fn a_schema_7_database_upgrades_to_shared_alerts(engine: Engine) {
    use fmd_runtime::store::issues::{AlertRule, Change};
    use fmd_tests::issue_fixture::{error, function, write};
    let (database, _dir) = fresh_database(engine);
    let f = function("shop::pay", "charge", "fn charge() {}");
    let now = fmd_tests::dashboard_fixture::now_ms();
    write(
        &database,
        "1.0.0",
        vec![error("shop::Declined", "card declined", &[f], now)],
    );
    let raw = Db::open(&database);
    fmd_tests::request_rows::back_to_version_8(&raw);
    raw.exec("DROP INDEX issue_alert_held", &[]);
    raw.exec("ALTER TABLE issue DROP COLUMN alerted_at", &[]);
    raw.exec("ALTER TABLE issue DROP COLUMN alert_held", &[]);
    raw.exec(
        "UPDATE fmd_meta SET value = '7' WHERE key = 'schema_version'",
        &[],
    );
    drop(raw);

    let mut store = fmd_runtime::store::open_store(&database).expect("open and upgrade");
    let rule = AlertRule {
        rate: Some((2, 10)),
        now,
    };
    let raw = Db::open(&database);
    assert_eq!(
        occur(&mut *store, &rule, now + 1),
        [(Change::Seen, 0)],
        "the second in ten minutes"
    );
    assert_eq!(
        occur(&mut *store, &rule, now + 2),
        [],
        "held in the quiet hour"
    );
    an_hour_later(&raw);
    let digest: Vec<_> = store
        .take_due_digests(now)
        .iter()
        .map(|c| c.held_back)
        .collect();
    assert_eq!(digest, [0], "the held alert, and none more");
    assert!(store.take_due_digests(now).is_empty(), "claimed once");
    assert_eq!(
        occur(&mut *store, &rule, now + 3),
        [],
        "held in the digest's quiet hour"
    );
    an_hour_later(&raw);
    assert_eq!(
        occur(&mut *store, &rule, now + 4),
        [(Change::Seen, 1)],
        "told with the one held"
    );
    assert_eq!(
        raw.query_i64(
            "SELECT CAST(value AS BIGINT) FROM fmd_meta WHERE key = 'schema_version'",
            &[]
        ),
        Some(fmd_runtime::store::sqlite::schema::SCHEMA_VERSION)
    );
    assert_eq!(raw.count("issue"), 1, "the stored issue kept");
    assert_eq!(raw.query_i64("SELECT count FROM issue", &[]), Some(5));
    assert_eq!(raw.query_i64("SELECT alert_held FROM issue", &[]), Some(0));
    assert_eq!(
        raw.query_i64("SELECT alerted_at FROM issue", &[]),
        Some(now)
    );
}

#[test]
fn a_schema_7_sqlite_file_upgrades_to_shared_alerts() {
    a_schema_7_database_upgrades_to_shared_alerts(Engine::Sqlite);
}

#[test]
fn a_schema_7_postgres_database_upgrades_to_shared_alerts() {
    a_schema_7_database_upgrades_to_shared_alerts(Engine::Postgres);
}
