//! The dashboard's store operations on both engines (a SQLite file, a PostgreSQL
//! database): deleting one group touches only that group on that endpoint; pruning
//! removes old data and whatever it leaves orphaned.

use fmd_runtime::store::histogram::{bucket, bucket_value};
use fmd_runtime::store::read::{DAY_MS, DashboardStore, GroupSort};
use fmd_runtime::store::sqlite::SqliteReader;
use fmd_tests::both_engines;
use fmd_tests::dashboard_fixture::{ExceptionSpec, Fixture, FrameSpec, now_ms};
use fmd_tests::engines::Engine;

fn spec(message: &str, times: Vec<i64>, shared_fn: bool) -> ExceptionSpec {
    let mut frames = vec![FrameSpec::app(
        "app",
        "inner",
        "src/a.rs",
        10,
        "fn inner() {\n    x()?;\n}",
        11,
    )];
    if shared_fn {
        frames.push(FrameSpec::app(
            "app",
            "handler",
            "src/h.rs",
            1,
            "fn handler() {\n    inner()?;\n}",
            2,
        ));
    } else {
        frames.push(FrameSpec::app(
            "app",
            &format!("only_{message}"),
            "src/o.rs",
            1,
            &format!("fn only_{message}() {{\n}}"),
            1,
        ));
    }
    ExceptionSpec {
        type_name: "app::Error".into(),
        message: message.into(),
        chain: vec!["cause".into()],
        frames,
        times,
        kind: 1,
    }
}

fn count(fx: &Fixture, table: &str) -> i64 {
    fx.count(table)
}

fn deleting_a_group_keeps_the_same_error_on_other_endpoints(engine: Engine) {
    let fx = Fixture::on(engine);
    let now = now_ms();
    let a = fx.endpoint("a");
    let b = fx.endpoint("b");
    let ga = fx.exception(a, "/a", &spec("same", vec![now - 1000, now - 500], true));
    let gb = fx.exception(b, "/b", &spec("same", vec![now - 800], true));
    let other = fx.exception(a, "/a", &spec("lonely", vec![now - 100], false));
    let mut store = fx.reader();

    assert!(
        !store.delete_group(b, ga).unwrap(),
        "a group is deleted only on its own endpoint"
    );
    assert!(store.delete_group(a, ga).unwrap());
    let left = store
        .groups(None, GroupSort::LastSeen, true, 0, 50)
        .unwrap();
    let ids: Vec<i64> = left.rows.iter().map(|g| g.id).collect();
    assert_eq!(ids, vec![other, gb]);
    assert_eq!(count(&fx, "exception_occurrence"), 2);
    // Shared pieces survive while group b uses them.
    assert!(
        store
            .group_detail(gb, now, 10)
            .unwrap()
            .unwrap()
            .frames
            .len()
            == 2
    );

    assert!(store.delete_group(a, other).unwrap());
    let detail = store.group_detail(gb, now, 10).unwrap().unwrap();
    assert_eq!(
        detail.frames[0].code.as_deref(),
        Some("fn inner() {\n    x()?;\n}")
    );
    assert_eq!(detail.source_chain, vec!["cause".to_owned()]);
    // `only_lonely` is gone with its definition, location and frame.
    assert_eq!(count(&fx, "function_location"), 2);
    assert_eq!(count(&fx, "function_definition"), 2);
    assert_eq!(count(&fx, "exception_message"), 1);
    assert_eq!(count(&fx, "stack_trace_snapshot"), 1);
}

fn pruning_removes_old_requests_occurrences_empty_groups_and_orphans(engine: Engine) {
    let fx = Fixture::on(engine);
    let now = now_ms();
    let old = now - 30 * DAY_MS;
    let e = fx.endpoint("e");
    fx.request(e, "/e", old, 10, 200, "u");
    fx.request(e, "/e", now, 10, 200, "u");
    let gone = fx.exception(e, "/e", &spec("old", vec![old, old + 1], false));
    let mixed = fx.exception(e, "/e", &spec("mixed", vec![old, now - 10], true));
    let mut store = fx.reader();
    let report = store.prune(now - 7 * DAY_MS).unwrap();
    assert_eq!(report.groups, 1);
    assert_eq!(report.occurrences, 3);
    assert_eq!(
        report.requests, 4,
        "the plain old request and the three behind old occurrences"
    );
    assert!(store.group_detail(gone, now, 10).unwrap().is_none());
    let m = store.group_detail(mixed, now, 10).unwrap().unwrap();
    assert_eq!(
        m.summary.count, 1,
        "counters follow the remaining occurrences"
    );
    assert_eq!(m.summary.first_seen, now - 10);
    assert_eq!(count(&fx, "exception_message"), 1);
    assert_eq!(
        count(&fx, "function_location"),
        2,
        "only the mixed group's functions remain"
    );
    let totals = store.totals().unwrap();
    assert_eq!(
        (totals.requests, totals.occurrences, totals.groups),
        (2, 1, 1)
    );
}

fn the_overview_counts_spans_medians_errors_and_groups(engine: Engine) {
    let fx = Fixture::on(engine);
    let now = now_ms();
    let e = fx.endpoint("e");
    for (i, d) in [100, 300, 200].iter().enumerate() {
        fx.request(e, "/e", now - i as i64, *d, 200, "u");
    }
    fx.request(e, "/e", now - 3 * DAY_MS, 900, 503, "u");
    fx.request(e, "/e", now - 30 * DAY_MS, 50, 404, "u");
    fx.exception(e, "/e", &spec("x", vec![now - 60 * DAY_MS], true));
    let mut store = fx.reader();
    let o = store.overview(now, None).unwrap();
    assert_eq!(o.len(), 1);
    let o = &o[0];
    assert_eq!(o.week.hits, 4);
    // Medians come from the daily histogram: the bucket of the middle request (300 µs).
    assert_eq!(o.week.median_us, Some(bucket_value(bucket(300))));
    assert!((o.week.median_us.unwrap() - 300).abs() <= 300 * 23 / 1000);
    assert_eq!(o.all.hits, 6);
    assert_eq!(o.server_errors_week, 1);
    assert_eq!(o.client_errors_week, 0, "the 404 is older than a week");
    assert_eq!(o.exception_groups, 1);
    assert_eq!(o.routes, vec!["/e".to_owned()]);
}

fn users_are_stored_once_by_name(engine: Engine) {
    let fx = Fixture::on(engine);
    let mut store = fx.reader();
    assert_eq!(store.count_users().unwrap(), 0);
    assert!(
        store
            .create_user("ann", "$argon2id$x", "viewer", 1)
            .unwrap()
    );
    assert!(!store.create_user("ann", "$argon2id$y", "admin", 2).unwrap());
    let u = store.user("ann").unwrap().unwrap();
    assert_eq!(
        (u.role.as_str(), u.password_hash.as_str()),
        ("viewer", "$argon2id$x")
    );
    assert!(store.user("bob").unwrap().is_none());
}

/// The overview at a million requests (run with `--ignored --nocapture`; prints timings).
#[test]
#[ignore = "slow: builds a million-row database"]
fn overview_at_a_million_requests() {
    let fx = Fixture::new();
    let now = now_ms();
    let endpoints: Vec<i64> = (0..20)
        .map(|i| fx.endpoint(&format!("app::e{i}")))
        .collect();
    let tx = fx.conn().unchecked_transaction().unwrap();
    tx.execute_batch(
        "INSERT INTO request_route (id, route, method) VALUES (1, '/r', 'GET');
         INSERT INTO request_version (id, version) VALUES (1, '1');
         INSERT INTO request_instance (id, instance) VALUES (1, 'i');",
    )
    .unwrap();
    {
        let mut stmt = tx
            .prepare(
                "INSERT INTO request (endpoint_id, route_id, time, duration_us, status, version_id,
                     instance_id)
                 VALUES (?1, 1, ?2, ?3, ?4, 1, 1)",
            )
            .unwrap();
        for i in 0..1_000_000i64 {
            let e = endpoints[(i % 20) as usize];
            let status = if i % 97 == 0 { 500 } else { 200 };
            stmt.execute(rusqlite::params![
                e,
                now - i * 30_000,
                (i * 7919) % 100_000,
                status
            ])
            .unwrap();
        }
    }
    tx.commit().unwrap();
    // Rows inserted by hand: fill the duration histogram the overview reads.
    fmd_runtime::store::sqlite::schema::backfill_durations(fx.conn()).unwrap();
    let mut store = SqliteReader::open(fx.path()).unwrap();
    for _ in 0..2 {
        let t = std::time::Instant::now();
        let o = store.overview(now, None).unwrap();
        println!(
            "overview of {} endpoints at 1M requests: {:?}",
            o.len(),
            t.elapsed()
        );
    }
    if std::env::var_os("FMD_TRY_DURATION_INDEX").is_some() {
        fx.conn()
            .execute(
                "CREATE INDEX request_endpoint_duration ON request(endpoint_id, duration_us)",
                [],
            )
            .unwrap();
        let mut store = SqliteReader::open(fx.path()).unwrap();
        let t = std::time::Instant::now();
        store.overview(now, None).unwrap();
        println!(
            "with an (endpoint_id, duration_us) index: {:?}",
            t.elapsed()
        );
    }
}

both_engines!(
    deleting_a_group_keeps_the_same_error_on_other_endpoints,
    pruning_removes_old_requests_occurrences_empty_groups_and_orphans,
    the_overview_counts_spans_medians_errors_and_groups,
    users_are_stored_once_by_name,
);
