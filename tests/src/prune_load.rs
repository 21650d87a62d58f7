//! Pruning a large table while the application keeps serving, shared by the SQLite and
//! PostgreSQL tests: retention deletes in steps, each stopped and rolled back once it has
//! run for its budget, so the writer's batches interleave and it drops no event with the
//! normal (default) queue.
//!
//! Old request rows are generated with SQL (every tenth with an old occurrence of a group
//! the application keeps adding to), then pruned on a thread of their own (as the
//! retention thread does) while 2 clients keep sending requests: everything older
//! (`FMD_RETENTION_WEEKS`), or the raw rows only (`FMD_RAW_RETENTION_DAYS`). The figures
//! are printed (`--nocapture`); the asserts are on counts, including that no step
//! committed after its budget was out (the bound holds by construction: a step commits
//! only if its budget has not run out when its commit begins, see
//! `fmd_runtime::store::prune`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use fmd::prelude::*;
use fmd_runtime::Database;
use fmd_runtime::store::AnyReader;
use fmd_runtime::store::prune::{MIN_STEP_REQUESTS, STEP_BUDGET};
use fmd_runtime::store::read::StepRecord;

use crate::engines::{Db, Engine, fresh_postgres_database};
use crate::request_rows::{self, Texts};
use crate::{spine, vals};

/// Requests of `/ping` answered.
static PINGS: AtomicU64 = AtomicU64::new(0);

/// The message of the error every tenth ping captures.
const HICCUP: &str = "ping hiccup";

/// Answers `pong`; every tenth request captures an error first (an occurrence of one
/// group, whose counter the writer raises while pruning lowers it).
#[monitored]
async fn ping() -> &'static str {
    if PINGS.fetch_add(1, Ordering::Relaxed).is_multiple_of(10) {
        fmd::capture!(std::io::Error::other(HICCUP));
    }
    "pong"
}

/// One test at a time (they share the process's monitor and database).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Old rows are at `now - 30 days + i` ms.
const DAY_MS: i64 = 86_400_000;

/// How the rows are pruned: everything older (`FMD_RETENTION_WEEKS`) or the raw rows only
/// (`FMD_RAW_RETENTION_DAYS`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pruning {
    /// [`fmd_runtime::store::read::DashboardStore::prune`].
    All,
    /// [`fmd_runtime::store::read::DashboardStore::prune_raw`].
    Raw,
}

/// Requests of `/ping` stored.
fn pings(db: &Db) -> i64 {
    db.query_i64(
        "SELECT count(*) FROM request_text WHERE route = '/ping'",
        &[],
    )
    .expect("count")
}

/// Groups whose counter or first sighting differs from their occurrences.
fn inconsistent(db: &Db) -> i64 {
    db.query_i64(
        "SELECT count(*) FROM exception_group g
         WHERE g.count <> (SELECT count(*) FROM exception_occurrence o WHERE o.group_id = g.id)
            OR g.first_seen <> (SELECT min(time) FROM exception_occurrence o
                                WHERE o.group_id = g.id)",
        &[],
    )
    .expect("inconsistent groups")
}

/// Generates `n` old requests of `/bulk` in one transaction, every tenth with an old
/// occurrence of the ping's group, and sets the group's counters to match; returns how
/// long it took.
fn generate(db: &Db, n: i64, now: i64) -> Duration {
    let started = Instant::now();
    db.batch("BEGIN");
    db.exec(
        "INSERT INTO endpoint (name, created_at) VALUES ('/bulk', 0) ON CONFLICT DO NOTHING",
        &[],
    );
    let texts = Texts::BULK;
    let ids = request_rows::ids(db, &texts);
    let endpoint = db
        .query_i64("SELECT id FROM endpoint WHERE name = '/bulk'", &[])
        .expect("endpoint");
    db.exec(
        "INSERT INTO request (endpoint_id, route_id, time, duration_us, status, version_id, ip_id,
                              user_id, instance_id)
         WITH RECURSIVE k(i) AS (SELECT CAST(0 AS BIGINT) UNION ALL
                                 SELECT i + 1 FROM k WHERE i + 1 < CAST(?3 AS BIGINT))
         SELECT ?1, CAST(?4 AS BIGINT), CAST(?2 AS BIGINT) + i, 1000, 200, CAST(?5 AS BIGINT),
                CAST(?6 AS BIGINT), CAST(?7 AS BIGINT), CAST(?8 AS BIGINT) FROM k",
        vals![
            endpoint,
            now - 30 * DAY_MS,
            n,
            ids.route,
            ids.version,
            ids.ip,
            ids.user,
            ids.instance
        ],
    );
    db.exec(
        "INSERT INTO exception_occurrence (group_id, request_id, type_id, message_id, snapshot_id,
                                           kind, time, source_chain)
         SELECT g.id, r.id, g.type_id, g.message_id, g.snapshot_id, 1, r.time, '[]'
         FROM request r, exception_group g
         WHERE r.endpoint_id = ?1 AND r.id % 10 = 0
           AND g.id = (SELECT max(id) FROM exception_group)",
        vals![endpoint],
    );
    db.exec(
        "UPDATE exception_group SET
             count = (SELECT count(*) FROM exception_occurrence o
                      WHERE o.group_id = exception_group.id),
             first_seen = (SELECT min(time) FROM exception_occurrence o
                           WHERE o.group_id = exception_group.id)",
        &[],
    );
    db.batch("COMMIT");
    started.elapsed()
}

/// What the steps of a pruning run did, for the figures and the asserts.
struct Steps<'a>(&'a [StepRecord]);

impl Steps<'_> {
    fn count(&self, f: impl Fn(&StepRecord) -> bool) -> usize {
        self.0.iter().filter(|s| f(s)).count()
    }

    fn print(&self, label: &str) {
        let mut held: Vec<Duration> = self.0.iter().map(|s| s.held).collect();
        held.sort();
        let median = held.get(held.len() / 2).copied().unwrap_or_default();
        let longest_of = |f: &dyn Fn(&StepRecord) -> bool| {
            self.0
                .iter()
                .filter(|s| f(s))
                .map(|s| s.held)
                .max()
                .unwrap_or_default()
        };
        let last = self.0.last().map(|s| s.held).unwrap_or_default();
        println!(
            "FIGURES {label}: {} steps, {} stopped and rolled back, {} unbounded; the lock \
             held {median:?} (median), {:?} (longest), {:?} (longest committed budgeted \
             step), {:?} (longest rollback), {:?} (longest unbounded), {last:?} (the last, \
             with the clean-up); the latest commit began {:?} after the lock (budget \
             {STEP_BUDGET:?})",
            self.0.len(),
            self.count(StepRecord::stopped),
            self.count(|s| s.budget.is_none()),
            held.last().copied().unwrap_or_default(),
            longest_of(&|s| !s.stopped() && s.budget.is_some()),
            longest_of(&StepRecord::stopped),
            longest_of(&|s| s.budget.is_none()),
            self.0
                .iter()
                .filter_map(|s| s.committing_at)
                .max()
                .unwrap_or_default(),
        );
    }

    /// No step could hold the lock past its budget but by its commit or rollback: every
    /// step had the budget, or was the unbounded minimum step right after a stopped
    /// minimum step; none committed once its budget was out.
    fn assert_bounded(&self) {
        let late_commits =
            self.count(|s| s.budget.zip(s.committing_at).is_some_and(|(b, at)| at >= b));
        assert_eq!(
            late_commits, 0,
            "no step committed after its budget was out"
        );
        let other_budgets = self.count(|s| s.budget.is_some_and(|b| b != STEP_BUDGET));
        assert_eq!(
            other_budgets, 0,
            "every budgeted step had the default budget"
        );
        let unearned = self
            .0
            .iter()
            .enumerate()
            .filter(|(i, s)| {
                s.budget.is_none()
                    && !(s.requests == MIN_STEP_REQUESTS
                        && i.checked_sub(1).is_some_and(|p| {
                            let p = &self.0[p];
                            p.stopped() && p.requests == MIN_STEP_REQUESTS
                        }))
            })
            .count();
        assert_eq!(
            unearned, 0,
            "only a minimum step right after a stopped one runs unbounded"
        );
        assert_eq!(
            self.count(|s| s.stopped() && s.budget.is_none()),
            0,
            "an unbounded step is never stopped"
        );
    }
}

/// Prunes `rows` old requests on `engine` as `how` while 2 clients keep sending
/// requests, and checks that nothing was dropped or lost, the counters match and no
/// step ran past its budget but by its commit or rollback.
pub async fn prune_while_serving(engine: Engine, rows: i64, how: Pruning) {
    let _serial = SERIAL.lock().await;
    // One database per process, as the monitor is.
    static PG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let pg = match engine {
        Engine::Sqlite => None,
        Engine::Postgres => Some(PG.get_or_init(fresh_postgres_database).clone()),
    };
    // The test prunes on its own thread: the hourly retention thread (30 days of raw rows
    // by default, its first run a minute after start) must not prune the generated rows
    // meanwhile.
    let path = spine::start_with(|c| {
        c.raw_retention_days = None;
        if let Some(url) = &pg {
            c.database = Database::Postgres(url.clone());
        }
    });
    let database = match &pg {
        Some(url) => Database::Postgres(url.clone()),
        None => Database::Sqlite(path.to_owned()),
    };
    let addr = spine::serve(Router::new().route("/ping", get(ping))).await;
    assert_eq!(spine::get(addr, "/ping").await.status, 200);
    spine::flush();
    let db = Db::open(&database);
    let stored_before = pings(&db);
    let now = crate::dashboard_fixture::now_ms();
    let generated = generate(&db, rows, now);
    assert_eq!(inconsistent(&db), 0, "consistent before");
    // Raw pruning keeps occurrences: an earlier raw run in this process left its old
    // ones, which a full prune deletes with the generated ones.
    let old_occurrences = db
        .query_i64(
            "SELECT count(*) FROM exception_occurrence WHERE time < $1",
            vals![now - 7 * DAY_MS],
        )
        .unwrap_or(0);
    let before = fmd::monitor().stats();

    // The application keeps serving: 2 clients, a request every few milliseconds each,
    // until pruning is done.
    let done = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = (0..2)
        .map(|_| {
            let (done, sent) = (done.clone(), sent.clone());
            tokio::spawn(async move {
                while !done.load(Ordering::Relaxed) {
                    assert_eq!(spine::get(addr, "/ping").await.status, 200);
                    sent.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            })
        })
        .collect();
    let pruned_db = database.clone();
    let pruning = std::thread::spawn(move || {
        let started = Instant::now();
        let mut steps = Vec::new();
        let mut reader = AnyReader::open(&pruned_db).expect("open");
        let mut observe = |s: &StepRecord| steps.push(*s);
        let report = match how {
            Pruning::All => reader.prune_observed(now - 7 * DAY_MS, STEP_BUDGET, &mut observe),
            Pruning::Raw => reader.prune_raw_observed(now - 7 * DAY_MS, STEP_BUDGET, &mut observe),
        }
        .expect("prune");
        (report, steps, started.elapsed())
    });
    let (report, steps, took) = tokio::task::spawn_blocking(move || pruning.join())
        .await
        .expect("join")
        .expect("pruning thread");
    done.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.expect("client");
    }
    spine::flush();
    let after = fmd::monitor().stats();
    let sent = sent.load(Ordering::Relaxed);
    let stored = pings(&db) - stored_before;
    let label = format!("prune {engine:?} ({how:?}) {rows} rows");
    println!(
        "FIGURES {label}: generated in {generated:?}; pruned {} requests and {} occurrences \
         in {took:?}; meanwhile {sent} requests served, {} events dropped",
        report.requests,
        report.occurrences,
        after.events_dropped - before.events_dropped,
    );
    let steps = Steps(&steps);
    steps.print(&label);
    assert_eq!(report.requests, rows as u64);
    if how == Pruning::All {
        assert!(
            old_occurrences >= rows / 10,
            "every tenth generated request failed"
        );
        assert_eq!(
            report.occurrences, old_occurrences as u64,
            "the old occurrences went"
        );
    }
    assert!(steps.0.len() > 1, "pruned in steps");
    steps.assert_bounded();
    assert!(sent > 0, "the application served while pruning");
    assert_eq!(
        after.events_dropped, before.events_dropped,
        "the writer dropped no event"
    );
    assert_eq!(stored as u64, sent, "every request served is stored");
    assert_eq!(
        inconsistent(&db),
        0,
        "every group's counters match its remaining occurrences"
    );
}
