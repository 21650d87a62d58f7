//! Raw retention (both engines): requests 60 and 5 days old written through the real
//! writer, then one round of the retention thread with `FMD_RAW_RETENTION_DAYS=30`. The
//! raw rows older than 30 days go; every rollup row stays; the overview, utilization,
//! per-version and reporting answers for the old span are what they were before; the
//! exceptions of old requests stay on their issues; the retention page (over real HTTP)
//! says what is kept for how long. And `FMD_RETENTION_WEEKS` as short as the raw retention
//! deletes everything older, rollups included.

use fmd_dashboard::reporting::{compare, error_rates};
use fmd_dashboard::retention::Retention;
use fmd_runtime::model::event::Event;
use fmd_runtime::store::read::{DAY_MS, IssueFilter, IssueSort, Selection};
use fmd_runtime::store::{AnyReader, StoreError};
use fmd_tests::both_engines;
use fmd_tests::dashboard_fixture::{Fixture, now_ms};
use fmd_tests::engines::{Engine, off_runtime};
use fmd_tests::http;
use fmd_tests::issue_fixture::{self, ADMIN_PASSWORD, error, function, request, write_events};

/// Requests of the old span, of which every tenth failed with an error.
const OLD: i64 = 120;
/// Requests of an endpoint served only in the old span (its first one failed).
const OLD_ONLY: i64 = 30;
/// Requests of the recent span, of which every twentieth failed with an error.
const NEW: i64 = 80;

/// The rollup tables, which raw retention never deletes from.
const ROLLUPS: [&str; 5] = [
    "request_hourly",
    "duration_daily",
    "duration_hourly",
    "app_version",
    "instance",
];

/// `n` requests of `endpoint` a minute apart from `start`, lasting 1–5.5 ms, the ones
/// with `i % fail_every == 0` failed with a `shop::NotFound`.
fn requests(endpoint: &'static str, start: i64, n: i64, fail_every: i64) -> Vec<Event> {
    let f = function("shop::orders", "load", "fn load() {\n    find()?;\n}");
    (0..n)
        .map(|i| {
            let t = start + i * 60_000;
            let failed = i % fail_every == 0;
            let errors = if failed {
                vec![error("shop::NotFound", "order missing", &[f], t)]
            } else {
                vec![]
            };
            let mut e = request(endpoint, t, if failed { 500 } else { 200 }, errors);
            if let Event::Request(r) = &mut e {
                r.duration_us = 1_000 + (i % 10) as u64 * 500;
            }
            e
        })
        .collect()
}

/// Everything the pages named in the issue answer for the old span (and all time).
#[derive(Debug, PartialEq)]
struct Answers {
    overview: Vec<(String, u64, u64, u64, Option<i64>, u64)>,
    heat: Vec<fmd_runtime::store::read::HourCell>,
    daily: Vec<fmd_runtime::store::read::DailyHits>,
    versions: Vec<fmd_runtime::store::read::VersionDay>,
    app_versions: Vec<fmd_runtime::store::read::AppVersion>,
    /// Per endpoint of the period report: its hits and 5xx on both sides, and how many
    /// latency samples each side had.
    period_report: Vec<(String, u64, u64, u64, u64, usize, usize)>,
    /// The same for the version report (1.0.0 against 2.0.0).
    version_report: Vec<(String, u64, u64, u64, u64, usize, usize)>,
    /// Per issue: occurrences and requests on both sides of the period report.
    error_rates: Vec<(u64, u64, u64, u64)>,
    /// Per issue: its occurrence count.
    issues: Vec<(String, u64)>,
}

fn answers(st: &mut AnyReader, now: i64, old: (i64, i64), new: (i64, i64)) -> Answers {
    let r: Result<Answers, StoreError> = (|| {
        let overview = st
            .overview(now, None)?
            .into_iter()
            .map(|e| {
                (
                    e.name,
                    e.all.hits,
                    e.week.hits,
                    e.today.hits,
                    e.all.median_us,
                    e.exception_groups,
                )
            })
            .collect();
        let (a, b) = (
            Selection::Period {
                from: old.0,
                to: old.1,
            },
            Selection::Period {
                from: new.0,
                to: new.1,
            },
        );
        let period_report = compare(&mut **st, &a, &b)?
            .into_iter()
            .map(|e| {
                let samples = e
                    .latency
                    .as_ref()
                    .map_or((0, 0), |l| (l.samples_a, l.samples_b));
                (
                    e.endpoint.name,
                    e.mix_a.hits,
                    e.mix_a.server_errors,
                    e.mix_b.hits,
                    e.mix_b.server_errors,
                    samples.0,
                    samples.1,
                )
            })
            .collect();
        let (va, vb) = (
            Selection::Version("1.0.0".into()),
            Selection::Version("2.0.0".into()),
        );
        let version_report = compare(&mut **st, &va, &vb)?
            .into_iter()
            .map(|e| {
                let samples = e
                    .latency
                    .as_ref()
                    .map_or((0, 0), |l| (l.samples_a, l.samples_b));
                (
                    e.endpoint.name,
                    e.mix_a.hits,
                    e.mix_a.server_errors,
                    e.mix_b.hits,
                    e.mix_b.server_errors,
                    samples.0,
                    samples.1,
                )
            })
            .collect();
        let error_rates = error_rates(&mut **st, &a, &b)?
            .into_iter()
            .map(|c| {
                let c = c.counts;
                (c.occurrences_a, c.requests_a, c.occurrences_b, c.requests_b)
            })
            .collect();
        let issues = st
            .issues(&IssueFilter::default(), IssueSort::Count, true, 0, 50)?
            .rows
            .into_iter()
            .map(|i| (i.type_name, i.count))
            .collect();
        Ok(Answers {
            overview,
            heat: st.hourly_load(None, old.0, old.1, None)?,
            daily: st.daily_hits(old.0, old.1)?,
            versions: st.version_usage(None, old.0, old.1, None)?,
            app_versions: st.versions()?,
            period_report,
            version_report,
            error_rates,
            issues,
        })
    })();
    r.expect("the pages' queries")
}

/// Rows of every rollup table.
fn rollup_rows(fx: &Fixture) -> Vec<i64> {
    ROLLUPS.iter().map(|t| fx.count(t)).collect()
}

/// The old span: the three days around 60 days ago; the new one: the last week.
fn spans(now: i64) -> ((i64, i64), (i64, i64), i64, i64) {
    let today = now.div_euclid(DAY_MS);
    let old_start = (today - 60) * DAY_MS + 3_600_000;
    let new_start = (today - 5) * DAY_MS + 3_600_000;
    (
        ((today - 61) * DAY_MS, (today - 58) * DAY_MS),
        ((today - 6) * DAY_MS, (today + 1) * DAY_MS),
        old_start,
        new_start,
    )
}

/// The seeded database: what the writer stored for both spans.
fn seed(fx: &Fixture, old_start: i64, new_start: i64) {
    let db = fx.database();
    off_runtime(move || {
        let mut old = requests("shop::orders::show", old_start, OLD, 10);
        old.extend(requests("shop::legacy::export", old_start, OLD_ONLY, 1_000));
        write_events(&db, "1.0.0", &old);
        write_events(
            &db,
            "2.0.0",
            &requests("shop::orders::show", new_start, NEW, 20),
        );
    });
}

async fn old_history_outlives_its_raw_rows(engine: Engine) {
    let fx = Fixture::on(engine);
    let now = now_ms();
    let (old, new, old_start, new_start) = spans(now);
    seed(&fx, old_start, new_start);
    let stored = fx.count("request");
    assert_eq!(stored, OLD + OLD_ONLY + NEW);
    let occurrences = fx.count("exception_occurrence");
    assert_eq!(occurrences, OLD / 10 + 1 + NEW / 20);
    let rollups = rollup_rows(&fx);

    let mut reader = fx.reader();
    let before = off_runtime(|| answers(&mut reader, now, old, new));
    // The old span answers something to compare: hits, 5xx, samples, errors.
    assert!(
        before
            .period_report
            .iter()
            .any(|r| r.1 == OLD as u64 && r.2 == 12 && r.5 == 120)
    );
    assert_eq!(
        before.heat.iter().map(|c| c.hits).sum::<u64>(),
        (OLD + OLD_ONLY) as u64
    );

    // One round of the retention thread: raw rows 30 days, no full retention.
    let retention = Retention {
        weeks: None,
        raw_days: Some(30),
    };
    let started = std::time::Instant::now();
    off_runtime(|| retention.run(&mut reader, now).expect("retention"));
    println!(
        "{engine:?}: raw retention round took {:?}",
        started.elapsed()
    );

    assert_eq!(
        fx.count("request"),
        NEW,
        "raw rows older than 30 days are gone"
    );
    assert_eq!(
        fx.db
            .query_i64(
                "SELECT count(*) FROM request WHERE time < ?1",
                fmd_tests::vals![now - 30 * DAY_MS]
            )
            .unwrap(),
        0
    );
    assert_eq!(rollup_rows(&fx), rollups, "every rollup row is kept");
    assert_eq!(
        fx.count("exception_occurrence"),
        occurrences,
        "occurrences stay"
    );
    assert_eq!(
        fx.db
            .query_i64(
                "SELECT count(*) FROM exception_occurrence WHERE request_id IS NULL",
                &[]
            )
            .unwrap(),
        OLD / 10 + 1,
        "the old occurrences lost only their request link"
    );
    let after = off_runtime(|| answers(&mut reader, now, old, new));
    assert_eq!(after, before, "the pages answer as before for the old span");
    // The old span's latency samples now come from the daily histogram: the same
    // number, the median within its bucket (about 2 %).
    let median = |mut v: Vec<i64>| {
        v.sort_unstable();
        v[v.len() / 2]
    };
    let old_sel = Selection::Period {
        from: old.0,
        to: old.1,
    };
    let endpoint = fx.endpoint("shop::orders::show");
    let samples = off_runtime(|| reader.durations(endpoint, &old_sel, 500).expect("samples"));
    assert_eq!(samples.len(), OLD as usize);
    let m = median(samples);
    println!("{engine:?}: old span median from the histogram {m} µs (exact 3500 µs)");
    assert!((m - 3_500).abs() <= 3_500 * 22 / 1000 + 1, "median {m}");

    // A second round finds nothing more to delete.
    off_runtime(|| retention.run(&mut reader, now).expect("retention"));
    assert_eq!(fx.count("request"), NEW);

    // Over real HTTP: the retention page, the issue page, a pruned request's page.
    let addr = issue_fixture::dashboard_with(&fx.database(), "raw-retention-token-0123", |d| {
        d.raw_retention_days(Some(30))
    })
    .await;
    let cookie = http::login(addr, "/dashboard", "admin", ADMIN_PASSWORD).await;
    let page = http::get(addr, "/dashboard/retention", &[("cookie", &cookie)]).await;
    assert_eq!(page.status, 200);
    for text in [
        "What is kept, for how long",
        "30 days",
        "forever",
        "with their issues",
        "were pruned",
        "FMD_RAW_RETENTION_DAYS",
    ] {
        assert!(page.body.contains(text), "retention page lacks {text:?}");
    }
    let issue_id = fx
        .db
        .query_i64("SELECT min(id) FROM issue", &[])
        .expect("an issue");
    let page = http::get(
        addr,
        &format!("/dashboard/issues/{issue_id}"),
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("were pruned (raw retention)"),
        "issue page"
    );
    let endpoint = fx.endpoint("shop::orders::show");
    for path in [
        "/dashboard/reporting".to_owned(),
        format!("/dashboard/endpoint/{endpoint}/requests"),
        format!("/dashboard/endpoint/{endpoint}"),
    ] {
        let page = http::get(addr, &path, &[("cookie", &cookie)]).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(page.body.contains("were pruned (raw retention"), "{path}");
    }
    let gone = http::get(addr, "/dashboard/request/1", &[("cookie", &cookie)]).await;
    assert_eq!(gone.status, 404);
    assert!(gone.body.contains("were pruned"), "{}", gone.body);

    // The JSON API's request log says when its rows were pruned: a window over both
    // spans lists the recent requests only, and the cutoff the retention recorded.
    let cutoff = off_runtime(|| reader.raw_pruned_before().expect("cutoff"));
    assert_eq!(cutoff, Some(now - 30 * DAY_MS));
    let path = format!(
        "/dashboard/api/v1/requests?from={old_start}&to={}&limit=1000",
        now + 1
    );
    let auth = "Bearer raw-retention-token-0123";
    let page = http::get(addr, &path, &[("authorization", auth)]).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let json: serde_json::Value = serde_json::from_str(&page.body).expect("JSON");
    assert_eq!(
        json["requests"].as_array().map(Vec::len),
        Some(NEW as usize)
    );
    assert_eq!(
        json["raw_pruned_before"],
        serde_json::json!(now - 30 * DAY_MS)
    );
}

/// `FMD_RETENTION_WEEKS` keeps its meaning: everything older goes, rollups included; a
/// raw retention as long or longer then deletes nothing more.
fn full_retention_deletes_rollups_too(engine: Engine) {
    let fx = Fixture::on(engine);
    let now = now_ms();
    let (old, _, old_start, new_start) = spans(now);
    seed(&fx, old_start, new_start);
    let mut reader = fx.reader();
    // 52 weeks: nothing is that old; the raw retention alone prunes.
    let long = Retention {
        weeks: Some(52),
        raw_days: Some(30),
    };
    off_runtime(|| long.run(&mut reader, now).expect("retention"));
    assert_eq!(fx.count("request"), NEW);
    let hourly = fx.count("request_hourly");
    // 4 weeks, as short as the raw retention: the full one deletes the old span's
    // rollups and exceptions.
    let short = Retention {
        weeks: Some(4),
        raw_days: Some(30),
    };
    assert_eq!(short.effective_raw_days(), None);
    off_runtime(|| short.run(&mut reader, now).expect("retention"));
    assert_eq!(fx.count("request"), NEW);
    assert!(fx.count("request_hourly") < hourly, "old hours deleted");
    let heat = off_runtime(|| reader.hourly_load(None, old.0, old.1, None).expect("heat"));
    assert!(heat.is_empty(), "nothing left of the old span: {heat:?}");
    assert_eq!(fx.count("exception_occurrence"), NEW / 20);
    assert!(fx.count("request_hourly") > 0, "the recent hours stay");
}

both_engines!(async old_history_outlives_its_raw_rows);
both_engines!(full_retention_deletes_rollups_too);

/// The retention page after a raw pruning, in headless Chromium (SQLite): the table of
/// what is kept renders, with the pruned cutoff; a screenshot for a look.
#[tokio::test]
async fn the_retention_page_in_a_browser() {
    let fx = Fixture::new();
    let now = now_ms();
    let (_, _, old_start, new_start) = spans(now);
    seed(&fx, old_start, new_start);
    let mut reader = fx.reader();
    let retention = Retention {
        weeks: Some(52),
        raw_days: Some(30),
    };
    off_runtime(|| retention.run(&mut reader, now).expect("retention"));
    let addr = issue_fixture::dashboard_with(&fx.database(), "raw-retention-token-0123", |d| {
        d.retention_weeks(Some(52)).raw_retention_days(Some(30))
    })
    .await;
    let b = fmd_tests::browser::Browser::start().await;
    b.client
        .goto(&format!("http://{addr}/dashboard/login"))
        .await
        .expect("login page");
    b.submit_login("admin", ADMIN_PASSWORD).await;
    b.client
        .goto(&format!("http://{addr}/dashboard/retention"))
        .await
        .expect("retention page");
    let kept = b.text("#kept").await;
    for text in ["30 days", "52 weeks", "with their issues"] {
        assert!(kept.contains(text), "{text:?} not in {kept:?}");
    }
    assert!(b.text("#raw-pruned").await.contains("were pruned"));
    let shot = b.screenshot("retention-raw").await;
    println!("screenshot: {}", shot.display());
    // A pruned request's page says so.
    b.client
        .goto(&format!("http://{addr}/dashboard/request/1"))
        .await
        .expect("request page");
    assert!(b.text("main").await.contains("were pruned"));
    let shot = b.screenshot("request-pruned").await;
    println!("screenshot: {}", shot.display());
    b.close().await;
}

/// Stores `n` requests of `/bulk` on `endpoint`, one a millisecond from `start`, all
/// answered `status`, in one statement.
fn bulk(fx: &Fixture, endpoint: i64, start: i64, n: i64, status: i64) {
    use fmd_tests::request_rows::{Texts, ids};
    let texts = Texts::BULK;
    let ids = ids(&fx.db, &texts);
    fx.db.exec(
        "INSERT INTO request (endpoint_id, route_id, time, duration_us, status, version_id, ip_id, user_id, instance_id)
         WITH RECURSIVE k(i) AS (SELECT CAST(0 AS BIGINT) UNION ALL SELECT i + 1 FROM k WHERE i + 1 < CAST(?3 AS BIGINT))
         SELECT ?1, ?5, CAST(?2 AS BIGINT) + i, 1000, ?4, ?6, ?7, ?8, ?9 FROM k",
        fmd_tests::vals![endpoint, start, n, status, ids.route, ids.version, ids.ip, ids.user, ids.instance],
    );
}

/// Raw retention prunes in the same short steps as the full one (one transaction each, so
/// the writer's batches interleave): 25 000 old rows take several steps, the new ones stay.
fn raw_pruning_goes_in_steps(engine: Engine) {
    const MANY: i64 = 25_000;
    let fx = Fixture::on(engine);
    let endpoint = fx.endpoint("/bulk");
    let now = now_ms();
    for (start, n) in [(now - 60 * DAY_MS, MANY), (now - DAY_MS, 500)] {
        bulk(&fx, endpoint, start, n, 200);
    }
    let mut reader = fx.reader();
    let mut steps = Vec::new();
    let report = off_runtime(|| {
        reader
            .prune_raw_observed(
                now - 30 * DAY_MS,
                fmd_runtime::store::prune::STEP_BUDGET,
                &mut |r| steps.push(r.held),
            )
            .expect("raw prune")
    });
    let longest = steps.iter().max().copied().unwrap_or_default();
    println!(
        "{engine:?}: raw-pruned {} requests in {} steps, the longest held the lock {longest:?} ({steps:?})",
        report.requests,
        steps.len()
    );
    assert_eq!(report.requests, MANY as u64);
    assert_eq!(fx.count("request"), 500);
    assert!(
        steps.len() as i64 > MANY / fmd_runtime::store::prune::STEP_REQUESTS,
        "{} steps",
        steps.len()
    );
}

both_engines!(raw_pruning_goes_in_steps);

/// After raw pruning, `FMD_RETENTION_WEEKS` finds old occurrences without requests: it
/// still deletes them in steps (bounded by occurrences as well as requests), not in one
/// long transaction, and the group counters follow.
fn full_pruning_after_raw_pruning_goes_in_steps(engine: Engine) {
    use fmd_tests::dashboard_fixture::{ExceptionSpec, FrameSpec};
    const MANY: i64 = 25_000;
    let fx = Fixture::on(engine);
    let endpoint = fx.endpoint("/bulk");
    let now = now_ms();
    let old = now - 60 * DAY_MS;
    let frame = FrameSpec::app("app", "handler", "src/main.rs", 1, "fn handler() {}", 1);
    let group = fx.exception(
        endpoint,
        "/bulk",
        &ExceptionSpec {
            type_name: "app::Error".into(),
            message: "old".into(),
            chain: vec![],
            frames: vec![frame],
            times: vec![old],
            kind: 1,
        },
    );
    bulk(&fx, endpoint, old + 1, MANY, 500);
    fx.db.exec(
        "INSERT INTO exception_occurrence (group_id, request_id, type_id, message_id, snapshot_id, kind, time, source_chain)
         SELECT g.id, r.id, g.type_id, g.message_id, g.snapshot_id, 1, r.time, '[]'
         FROM request r, exception_group g WHERE g.id = ?1 AND r.endpoint_id = ?2",
        fmd_tests::vals![group, endpoint],
    );
    fx.db.exec(
        "UPDATE exception_group SET count = (SELECT count(*) FROM exception_occurrence o
                                             WHERE o.group_id = exception_group.id)",
        &[],
    );
    let mut reader = fx.reader();
    off_runtime(|| reader.prune_raw(now - 30 * DAY_MS).expect("raw prune"));
    assert_eq!(fx.count("request"), 0);
    let occurrences = fx.count("exception_occurrence");
    assert!(occurrences > MANY, "{occurrences} occurrences kept");
    let mut steps = Vec::new();
    let report = off_runtime(|| {
        reader
            .prune_observed(
                now - 28 * DAY_MS,
                fmd_runtime::store::prune::STEP_BUDGET,
                &mut |r| steps.push(r.held),
            )
            .expect("prune")
    });
    let longest = steps.iter().max().copied().unwrap_or_default();
    println!(
        "{engine:?}: pruned {} detached occurrences in {} steps, the longest {longest:?}",
        report.occurrences,
        steps.len()
    );
    assert_eq!(report.occurrences, occurrences as u64);
    assert_eq!(report.groups, 1, "the emptied group goes");
    assert_eq!(fx.count("exception_occurrence"), 0);
    assert!(
        steps.len() as i64 > MANY / fmd_runtime::store::prune::STEP_REQUESTS,
        "{} steps",
        steps.len()
    );
}

both_engines!(full_pruning_after_raw_pruning_goes_in_steps);
