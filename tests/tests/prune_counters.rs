//! Pruning in steps keeps every group's counters equal to the occurrences that remain
//! (both engines): 25 000 old and 5 000 new requests, occurrences of three groups among
//! them (one group only old, one with late occurrences of old requests), pruned in
//! several steps (transactions) of at most `STEP_REQUESTS` requests; and again with a
//! budget of zero, so that every budgeted step is stopped and rolled back and only the
//! unbounded minimum steps commit.

use std::time::Duration;

use fmd_runtime::store::prune::{MIN_STEP_REQUESTS, STEP_BUDGET, STEP_REQUESTS};
use fmd_runtime::store::read::StepRecord;
use fmd_tests::both_engines;
use fmd_tests::dashboard_fixture::{ExceptionSpec, Fixture, FrameSpec};
use fmd_tests::engines::{Engine, off_runtime};
use fmd_tests::request_rows::{self, Texts};
use fmd_tests::vals;

const OLD: i64 = 25_000;
const NEW: i64 = 5_000;
/// Old requests are at `T0 + i`, new ones at `CUTOFF + i` (ms).
const T0: i64 = 1_700_000_000_000;
const CUTOFF: i64 = T0 + 1_000_000;

/// `n` requests of `endpoint` at `start`, `start + 1`, … ms (one statement, both engines).
fn requests(fx: &Fixture, endpoint: i64, start: i64, n: i64) {
    let texts = Texts::BULK;
    let ids = request_rows::ids(&fx.db, &texts);
    fx.db.exec(
        "INSERT INTO request (endpoint_id, route_id, time, duration_us, status, version_id, ip_id,
                              user_id, instance_id)
         WITH RECURSIVE k(i) AS (SELECT CAST(0 AS BIGINT) UNION ALL SELECT i + 1 FROM k WHERE i + 1 < CAST(?3 AS BIGINT))
         SELECT ?1, CAST(?4 AS BIGINT), CAST(?2 AS BIGINT) + i, 1000, 500, CAST(?5 AS BIGINT),
                CAST(?6 AS BIGINT), CAST(?7 AS BIGINT), CAST(?8 AS BIGINT) FROM k",
        vals![endpoint, start, n, ids.route, ids.version, ids.ip, ids.user, ids.instance],
    );
}

/// An occurrence of `group` (its type, message and trace) for every request `r` with
/// `r.id % modulus == rest`, at `shift` ms after the request.
fn occurrences(fx: &Fixture, group: i64, modulus: i64, rest: i64, shift: i64) {
    fx.db.exec(
        "INSERT INTO exception_occurrence (group_id, request_id, type_id, message_id, snapshot_id, kind, time, source_chain)
         SELECT g.id, r.id, g.type_id, g.message_id, g.snapshot_id, 1, r.time + ?4, '[]'
         FROM request_text r, exception_group g
         WHERE g.id = ?1 AND r.route = '/bulk' AND r.id % ?2 = ?3",
        vals![group, modulus, rest, shift],
    );
}

fn group(fx: &Fixture, endpoint: i64, message: &str, time: i64) -> i64 {
    let frame = FrameSpec::app("app", "handler", "src/main.rs", 1, "fn handler() {}", 1);
    fx.exception(
        endpoint,
        "/bulk",
        &ExceptionSpec {
            type_name: "app::Error".into(),
            message: message.into(),
            chain: vec![],
            frames: vec![frame],
            times: vec![time],
            kind: 1,
        },
    )
}

/// Groups whose counter or first sighting differs from their occurrences.
fn inconsistent(fx: &Fixture) -> i64 {
    fx.db
        .query_i64(
            "SELECT count(*) FROM exception_group g
             WHERE g.count <> (SELECT count(*) FROM exception_occurrence o WHERE o.group_id = g.id)
                OR g.first_seen <> (SELECT min(time) FROM exception_occurrence o WHERE o.group_id = g.id)",
            &[],
        )
        .unwrap_or(-1)
}

/// Prunes the fixture with each step's `budget`, checks every count and counter, and
/// returns the steps.
fn prune_and_check(engine: Engine, budget: Duration) -> Vec<StepRecord> {
    let fx = Fixture::on(engine);
    let endpoint = fx.endpoint("/bulk");
    requests(&fx, endpoint, T0, OLD);
    requests(&fx, endpoint, CUTOFF, NEW);
    // Old and new occurrences; only old ones; late ones (new times) of old requests.
    let mixed = group(&fx, endpoint, "mixed", T0);
    let only_old = group(&fx, endpoint, "only old", T0);
    let late = group(&fx, endpoint, "late", CUTOFF + 10);
    occurrences(&fx, mixed, 3, 0, 0);
    occurrences(&fx, only_old, 7, 1, 0);
    fx.db.exec(
        "DELETE FROM exception_occurrence WHERE group_id = ?1 AND time >= ?2",
        vals![only_old, CUTOFF],
    );
    occurrences(&fx, late, 11, 2, 2_000_000);
    fx.db.exec(
        "UPDATE exception_group SET
             count = (SELECT count(*) FROM exception_occurrence o WHERE o.group_id = exception_group.id),
             first_seen = (SELECT min(time) FROM exception_occurrence o WHERE o.group_id = exception_group.id)",
        &[],
    );
    assert_eq!(inconsistent(&fx), 0, "consistent before");
    let before = fx.count("exception_occurrence");

    let mut steps = Vec::new();
    let mut reader = fx.reader();
    let report = off_runtime(|| {
        reader
            .prune_observed(CUTOFF, budget, &mut |r| steps.push(*r))
            .expect("prune")
    });
    let longest = steps.iter().map(|s| s.held).max().unwrap_or_default();
    println!(
        "{engine:?} (budget {budget:?}): pruned {} requests and {} of {before} occurrences \
         in {} steps ({} stopped), the longest {longest:?}",
        report.requests,
        report.occurrences,
        steps.len(),
        steps.iter().filter(|s| s.stopped()).count(),
    );
    // Two of the groups' own first requests are old, one is new.
    assert_eq!(report.requests, OLD as u64 + 2);
    assert_eq!(fx.count("request"), NEW + 1);
    assert!(
        steps.len() as i64 > OLD / STEP_REQUESTS,
        "{} steps",
        steps.len()
    );
    assert_eq!(
        inconsistent(&fx),
        0,
        "every counter matches its occurrences"
    );
    assert_eq!(
        report.groups, 1,
        "the group with only old occurrences is gone"
    );
    let gone = fx.db.query_i64(
        "SELECT count(*) FROM exception_group WHERE id = ?1",
        vals![only_old],
    );
    assert_eq!(gone, Some(0));
    let remaining = fx.count("exception_occurrence");
    assert_eq!(report.occurrences as i64, before - remaining);
    let late_left = fx.db.query_i64(
        "SELECT count FROM exception_group WHERE id = ?1",
        vals![late],
    );
    let mixed_left = fx.db.query_i64(
        "SELECT count FROM exception_group WHERE id = ?1",
        vals![mixed],
    );
    println!("left: mixed {mixed_left:?}, late {late_left:?}, occurrences {remaining}");
    assert!(mixed_left.is_some_and(|n| n > 0));
    steps
}

fn counters_match_the_remaining_occurrences(engine: Engine) {
    let steps = prune_and_check(engine, STEP_BUDGET);
    assert!(
        steps
            .iter()
            .all(|s| s.budget == Some(STEP_BUDGET) || s.budget.is_none())
    );
}

both_engines!(counters_match_the_remaining_occurrences);

/// A budget of zero: every budgeted step is stopped (interrupted or refused its commit)
/// and rolled back, changing nothing; each stopped minimum step is followed by an
/// unbounded one, which commits. Pruning still completes with the same counts.
fn stopped_steps_change_nothing_and_pruning_completes(engine: Engine) {
    let steps = prune_and_check(engine, Duration::ZERO);
    let committed: Vec<_> = steps.iter().filter(|s| !s.stopped()).collect();
    let stopped = steps.len() - committed.len();
    assert!(
        committed
            .iter()
            .all(|s| s.budget.is_none() && s.requests == MIN_STEP_REQUESTS),
        "only unbounded minimum steps commit"
    );
    assert!(
        committed.len() as i64 >= OLD / MIN_STEP_REQUESTS,
        "{} committed",
        committed.len()
    );
    assert!(
        steps
            .iter()
            .filter(|s| s.stopped())
            .all(|s| s.budget.is_some()),
        "only budgeted steps are stopped"
    );
    assert!(stopped >= committed.len(), "{stopped} stopped");
}

both_engines!(stopped_steps_change_nothing_and_pruning_completes);
