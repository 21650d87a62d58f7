//! Issues on both engines, written through the real writer: variants of one bug (edited
//! code, different ids and quoted values in the message) share an issue while another
//! function's error is another issue; each lifecycle transition (resolve, resolve in the
//! next version, regress, late events from old versions, ignore forever / for N / until a
//! date, reopen); deleting and pruning groups (their per-version rows go with them, the
//! issue stays and is found again); and a schema-5 database upgrades with its issues
//! back-filled.

use fmd_runtime::Database;
use fmd_runtime::store::AnyReader;
use fmd_runtime::store::issues::{IssueAction, IssueStatus};
use fmd_runtime::store::read::{IssueFilter, IssueSort, IssueSummary};
use fmd_tests::both_engines;
use fmd_tests::dashboard_fixture::now_ms;
use fmd_tests::engines::{Db, Engine, fresh_database};
use fmd_tests::issue_fixture::{error, function, write};

fn reader(database: &Database) -> AnyReader {
    AnyReader::open(database).expect("open the reader")
}

fn all(database: &Database) -> Vec<IssueSummary> {
    reader(database)
        .issues(&IssueFilter::default(), IssueSort::FirstSeen, false, 0, 100)
        .unwrap()
        .rows
}

fn variants_of_one_bug_share_an_issue(engine: Engine) {
    let (db, _dir) = fresh_database(engine);
    let now = now_ms();
    let handler = function("shop::orders", "show", "fn show() {\n    load()?;\n}");
    let v1 = function("shop::orders", "load", "fn load() {\n    find()?;\n}");
    let v2 = function(
        "shop::orders",
        "load",
        "fn load() {\n    let x = 1;\n    find()?;\n}",
    );
    let other = function("shop::orders", "save", "fn save() {\n    put()?;\n}");
    write(
        &db,
        "1.0.0",
        vec![
            error(
                "shop::NotFound",
                "order 17 of \"bob\" missing",
                &[v1, handler],
                now - 3000,
            ),
            error(
                "shop::NotFound",
                "order 18 of \"eve\" missing",
                &[v1, handler],
                now - 2000,
            ),
        ],
    );
    write(
        &db,
        "1.1.0",
        vec![
            error(
                "shop::NotFound",
                "order 19 of 'amy' missing",
                &[v2, handler],
                now - 1000,
            ),
            error(
                "shop::NotFound",
                "order 20 of \"x\" missing",
                &[other, handler],
                now - 500,
            ),
        ],
    );
    let issues = all(&db);
    assert_eq!(issues.len(), 2, "{issues:#?}");
    let bug = &issues[0];
    assert_eq!(bug.type_name, "shop::NotFound");
    assert_eq!(bug.message, "order <n> of <q> missing");
    assert_eq!(bug.count, 3);
    assert_eq!(
        bug.variants.len(),
        3,
        "three groups (two messages, edited code)"
    );
    assert_eq!(bug.status, IssueStatus::Open);
    assert_eq!(bug.first_version.as_deref(), Some("1.0.0"));
    assert_eq!(bug.last_version.as_deref(), Some("1.1.0"));
    assert_eq!((bug.first_seen, bug.last_seen), (now - 3000, now - 1000));
    assert_eq!(issues[1].count, 1, "another function is another issue");

    let detail = reader(&db).issue(bug.id).unwrap().expect("the issue");
    let newest = &detail.variants[0];
    assert_eq!(
        newest.group.message, "order 19 of 'amy' missing",
        "exact message kept"
    );
    assert_eq!(newest.versions.len(), 1);
    assert_eq!(newest.versions[0].version, "1.1.0");
    assert!(
        newest.frames[0]
            .code
            .as_deref()
            .unwrap()
            .contains("let x = 1")
    );
    assert!(
        detail.variants.iter().all(|v| !v.suspect),
        "no clean stretch"
    );
    let mut r = reader(&db);
    let counts = r.issue_counts(now - 10_000).unwrap();
    assert_eq!((counts.new, counts.open, counts.regressed), (2, 2, 0));
    assert_eq!(r.issue_of_group(newest.group.id).unwrap(), Some(bug.id));
}

/// One issue on `db`, written once in `version` at `t`; returns its id.
fn one_issue(db: &Database, version: &str, t: i64) -> i64 {
    occur(db, version, t);
    all(db)[0].id
}

fn occur(db: &Database, version: &str, t: i64) {
    let f = function("shop::pay", "charge", "fn charge() {\n    card()?;\n}");
    write(
        db,
        version,
        vec![error("shop::Declined", "card 4242 declined", &[f], t)],
    );
}

fn status(db: &Database, id: i64) -> (IssueStatus, u64) {
    let i = reader(db).issue(id).unwrap().unwrap().summary;
    (i.status, i.count)
}

fn act(db: &Database, id: i64, action: IssueAction) {
    assert!(reader(db).set_issue_status(id, action, now_ms()).unwrap());
}

fn resolved_regresses_in_its_version_or_later_never_from_an_older_one(engine: Engine) {
    let (db, _dir) = fresh_database(engine);
    let t = now_ms();
    let id = one_issue(&db, "1.0.0", t);
    occur(&db, "2.0.0", t + 1);
    act(&db, id, IssueAction::Resolve);
    assert_eq!(status(&db, id), (IssueStatus::Resolved, 2));
    occur(&db, "1.0.0", t + 2);
    assert_eq!(
        status(&db, id),
        (IssueStatus::Resolved, 3),
        "a late event from an old version never reopens"
    );
    occur(&db, "2.0.0", t + 3);
    assert_eq!(status(&db, id), (IssueStatus::Regressed, 4));
    assert_eq!(reader(&db).issue_counts(0).unwrap().regressed, 1);
    act(&db, id, IssueAction::Reopen);
    assert_eq!(status(&db, id).0, IssueStatus::Open);
}

fn resolved_in_the_next_version_waits_for_a_newer_one(engine: Engine) {
    let (db, _dir) = fresh_database(engine);
    let t = now_ms();
    let id = one_issue(&db, "2.0.0", t);
    act(&db, id, IssueAction::ResolveNext);
    occur(&db, "2.0.0", t + 1);
    assert_eq!(status(&db, id), (IssueStatus::Resolved, 2));
    occur(&db, "2.1.0", t + 2);
    assert_eq!(status(&db, id), (IssueStatus::Regressed, 3));
}

fn versions_that_are_not_semver_order_by_when_they_were_first_seen(engine: Engine) {
    let (db, _dir) = fresh_database(engine);
    let t = now_ms();
    let id = one_issue(&db, "blue", t);
    std::thread::sleep(std::time::Duration::from_millis(5));
    occur(&db, "green", t + 1);
    act(&db, id, IssueAction::Resolve);
    occur(&db, "blue", t + 2);
    assert_eq!(
        status(&db, id).0,
        IssueStatus::Resolved,
        "blue came before green"
    );
    occur(&db, "red", t + 3);
    assert_eq!(status(&db, id).0, IssueStatus::Regressed, "red is new");
}

fn ignored_forever_for_a_count_or_until_a_date(engine: Engine) {
    let (db, _dir) = fresh_database(engine);
    let t = now_ms();
    let id = one_issue(&db, "1.0.0", t);
    act(
        &db,
        id,
        IssueAction::Ignore {
            count: None,
            until_ms: None,
        },
    );
    for i in 0..3 {
        occur(&db, "1.0.0", t + 1 + i);
    }
    assert_eq!(status(&db, id), (IssueStatus::Ignored, 4), "forever");
    act(
        &db,
        id,
        IssueAction::Ignore {
            count: Some(2),
            until_ms: None,
        },
    );
    occur(&db, "1.0.0", t + 10);
    assert_eq!(status(&db, id).0, IssueStatus::Ignored, "one of two more");
    occur(&db, "1.0.0", t + 11);
    assert_eq!(
        status(&db, id),
        (IssueStatus::Open, 6),
        "two more: open again"
    );
    act(
        &db,
        id,
        IssueAction::Ignore {
            count: None,
            until_ms: Some(t + 1000),
        },
    );
    occur(&db, "1.0.0", t + 500);
    assert_eq!(status(&db, id).0, IssueStatus::Ignored, "before the date");
    occur(&db, "1.0.0", t + 1000);
    assert_eq!(status(&db, id).0, IssueStatus::Open, "at the date");
    assert!(
        !reader(&db)
            .set_issue_status(id + 1000, IssueAction::Reopen, t)
            .unwrap()
    );
}

/// Turns a current database back into schema 5: no issue tables, no `issue_id`.
fn back_to_schema_5(db: &Database) {
    let raw = Db::open(db);
    fmd_tests::request_rows::back_to_version_8(&raw);
    match db {
        Database::Sqlite(_) => {
            for stmt in [
                "DROP TABLE exception_group_version",
                "DROP INDEX exception_group_issue",
                "CREATE TABLE exception_group_v5 (
                     id INTEGER PRIMARY KEY,
                     endpoint_id INTEGER NOT NULL REFERENCES endpoint(id),
                     hash INTEGER NOT NULL,
                     type_id INTEGER NOT NULL REFERENCES exception_type(id),
                     message_id INTEGER NOT NULL REFERENCES exception_message(id),
                     snapshot_id INTEGER NOT NULL REFERENCES stack_trace_snapshot(id),
                     first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
                     count INTEGER NOT NULL, UNIQUE (endpoint_id, hash))",
                "INSERT INTO exception_group_v5 SELECT id, endpoint_id, hash, type_id,
                     message_id, snapshot_id, first_seen, last_seen, count FROM exception_group",
                "PRAGMA foreign_keys = OFF",
                "DROP TABLE exception_group",
                "ALTER TABLE exception_group_v5 RENAME TO exception_group",
                "CREATE INDEX exception_group_last_seen ON exception_group(last_seen)",
                "DROP TABLE issue",
            ] {
                raw.exec(stmt, &[]);
            }
        }
        Database::Postgres(_) => {
            for stmt in [
                "DROP TABLE exception_group_version",
                "ALTER TABLE exception_group DROP COLUMN issue_id",
                "DROP TABLE issue",
            ] {
                raw.exec(stmt, &[]);
            }
        }
    }
    raw.exec(
        "UPDATE fmd_meta SET value = '5' WHERE key = 'schema_version'",
        &[],
    );
}

fn a_schema_5_database_upgrades_with_its_issues_back_filled(engine: Engine) {
    let (db, _dir) = fresh_database(engine);
    let now = now_ms();
    let handler = function("shop::orders", "show", "fn show() {\n    load()?;\n}");
    let v1 = function("shop::orders", "load", "fn load() {\n    find()?;\n}");
    let v2 = function("shop::orders", "load", "fn load() {\n    find2()?;\n}");
    write(
        &db,
        "1.0.0",
        vec![
            error(
                "shop::NotFound",
                "order 1 missing",
                &[v1, handler],
                now - 3000,
            ),
            error(
                "shop::NotFound",
                "order 2 missing",
                &[v1, handler],
                now - 2000,
            ),
            error("shop::Timeout", "after 30 s", &[handler], now - 1500),
        ],
    );
    write(
        &db,
        "1.1.0",
        vec![error(
            "shop::NotFound",
            "order 3 missing",
            &[v2, handler],
            now - 1000,
        )],
    );
    let key = |i: &IssueSummary| {
        (
            i.type_name.clone(),
            i.message.clone(),
            i.count,
            i.first_seen,
            i.last_seen,
            i.first_version.clone(),
            i.last_version.clone(),
            i.variants.len(),
        )
    };
    let before: Vec<_> = all(&db).iter().map(key).collect();
    let raw = Db::open(&db);
    let occurrences = raw.count("exception_occurrence");
    drop(raw);
    back_to_schema_5(&db);

    let after: Vec<_> = all(&db).iter().map(key).collect();
    assert_eq!(after, before, "the upgrade rebuilds the same issues");
    let raw = Db::open(&db);
    assert_eq!(
        raw.query_i64(
            "SELECT CAST(value AS BIGINT) FROM fmd_meta WHERE key = 'schema_version'",
            &[]
        ),
        Some(fmd_runtime::store::sqlite::schema::SCHEMA_VERSION),
        "upgraded through every version"
    );
    assert_eq!(
        raw.count("exception_occurrence"),
        occurrences,
        "nothing lost"
    );
    assert_eq!(raw.count("exception_group_version"), 4);
    // The writer carries on into the back-filled issue: same fingerprint, same issue.
    write(
        &db,
        "1.1.0",
        vec![error(
            "shop::NotFound",
            "order 4 missing",
            &[v2, handler],
            now,
        )],
    );
    let issues = all(&db);
    assert_eq!(issues.len(), 2);
    assert_eq!(issues[0].count, 4);
    assert_eq!(issues[0].variants.len(), 4);
}

fn deleting_and_pruning_groups_keeps_issues_whole(engine: Engine) {
    let (db, _dir) = fresh_database(engine);
    let t = now_ms();
    let id = one_issue(&db, "1.0.0", t - 10_000);
    let f = function("shop::pay", "charge", "fn charge() {\n    card()?;\n}");
    write(
        &db,
        "1.0.0",
        vec![error("shop::Declined", "card 1 declined", &[f], t - 5000)],
    );
    let mut r = reader(&db);
    let detail = r.issue(id).unwrap().unwrap();
    assert_eq!(detail.variants.len(), 2);
    let oldest = &detail.variants[1].group;
    assert!(r.delete_group(oldest.endpoint_id, oldest.id).unwrap());
    assert_eq!(r.issue(id).unwrap().unwrap().variants.len(), 1);
    let report = r.prune(t).unwrap();
    assert_eq!(report.groups, 1, "the other variant is pruned");
    assert!(
        all(&db).is_empty(),
        "an issue without variants is not listed"
    );
    // The writer carries on: the issue is found again by its fingerprint.
    occur(&db, "1.0.0", t + 1);
    let issues = all(&db);
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].id, id);
    assert_eq!(issues[0].variants.len(), 1);
}

fn an_issue_with_many_variants_loads_only_the_newest(engine: Engine) {
    let (db, _dir) = fresh_database(engine);
    let t = now_ms();
    let f = function("shop::pay", "charge", "fn charge() {\n    card()?;\n}");
    let errors = (0..60)
        .map(|i| error("shop::Declined", &format!("card {i} declined"), &[f], t + i))
        .collect();
    write(&db, "1.0.0", errors);
    let issues = all(&db);
    assert_eq!(
        issues.len(),
        1,
        "one issue: ids in messages are placeholders"
    );
    assert_eq!(
        (issues[0].variant_count, issues[0].variants.len()),
        (60, 60)
    );
    let detail = reader(&db).issue(issues[0].id).unwrap().unwrap();
    assert_eq!(detail.variants.len(), 50, "the page loads the newest 50");
    assert_eq!(detail.variants[0].group.message, "card 59 declined");
    assert_eq!(detail.summary.count, 60);
}

both_engines!(
    an_issue_with_many_variants_loads_only_the_newest,
    deleting_and_pruning_groups_keeps_issues_whole,
    variants_of_one_bug_share_an_issue,
    resolved_regresses_in_its_version_or_later_never_from_an_older_one,
    resolved_in_the_next_version_waits_for_a_newer_one,
    versions_that_are_not_semver_order_by_when_they_were_first_seen,
    ignored_forever_for_a_count_or_until_a_date,
    a_schema_5_database_upgrades_with_its_issues_back_filled,
);
