//! The `fmd` binary, run as a user runs it, against SQLite files the library wrote: exit
//! codes, output, and what each command changes (or, for `check` and dry runs, does not).

mod common;

use common::{Db, fmd, value};
use fmd_runtime::Database;
use fmd_runtime::store::AnyReader;

const PASSWORD: &str = "correct horse battery";

#[test]
fn check_reports_version_size_and_counts_and_changes_nothing() {
    let db = Db::standard();
    let before = db.bytes();
    let run = db.fmd(&["check"], "", &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let out = &run.stdout;
    let current = fmd_runtime::store::sqlite::schema::SCHEMA_VERSION as u64;
    assert_eq!(value(out, "schema version:"), current, "{out}");
    assert_eq!(value(out, "this build:"), current, "{out}");
    assert!(out.contains("migration pending: no"), "{out}");
    assert_eq!(value(out, "size:"), before.len() as u64, "{out}");
    assert_eq!(value(out, "requests:"), 4, "{out}");
    assert_eq!(value(out, "endpoints:"), 2, "{out}");
    assert_eq!(value(out, "exception groups:"), 2, "{out}");
    assert_eq!(value(out, "occurrences:"), 2, "{out}");
    assert_eq!(value(out, "users:"), 0, "{out}");
    assert!(db.bytes() == before, "check changed the database file");
}

#[test]
fn check_of_an_empty_sqlite_file_says_a_migration_is_pending_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("empty.db");
    std::fs::write(&path, b"").expect("create an empty file");
    let run = fmd(
        &[],
        &["check", "--database", common::path_str(&path)],
        "",
        &[],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("schema version:    none"), "{run:?}");
    assert!(run.stdout.contains("migration pending: yes"), "{run:?}");
    assert!(
        run.stdout.contains("requests:          (no table)"),
        "{run:?}"
    );
    assert_eq!(
        std::fs::read(&path).expect("read").len(),
        0,
        "check wrote to the file"
    );
}

#[test]
fn a_database_that_cannot_be_opened_is_a_clear_message_and_exit_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("missing.db");
    let missing = common::path_str(&missing);
    for args in [
        vec!["check"],
        vec!["prune", "--older-than", "30d"],
        vec!["users", "list"],
        vec!["serve", "--listen", "127.0.0.1:0"],
        vec!["export", "requests", "--since", "0"],
    ] {
        let run = fmd(&[("FMD_DATABASE", missing)], &args, "", &[]);
        assert_eq!(run.code, Some(1), "{args:?}: {run:?}");
        assert!(
            run.stderr.contains("no database file at"),
            "{args:?}: {run:?}"
        );
    }
    assert!(
        !dir.path().join("missing.db").exists(),
        "a command created the file"
    );
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, b"not a database, not at all, just some text").expect("write");
    let run = fmd(&[], &["check", "-d", common::path_str(&garbage)], "", &[]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("not a database"), "{run:?}");
}

#[test]
fn bad_arguments_exit_2_with_clap_s_message_and_every_subcommand_has_help() {
    for args in [
        vec!["check", "--bogus"],
        vec!["frobnicate"],
        vec!["prune"],
        vec!["prune", "--older-than", "30x"],
        vec!["prune", "--older-than", "d"],
        vec!["serve", "--listen", "not-an-address"],
        vec!["users", "add"],
        vec!["export", "requests", "--since", "yesterday"],
        vec!["export", "requests", "--since", "0", "--format", "xml"],
    ] {
        let run = fmd(&[], &args, "", &[]);
        assert_eq!(run.code, Some(2), "{args:?}: {run:?}");
        assert!(run.stderr.contains("error:"), "{args:?}: {run:?}");
        assert!(run.stdout.is_empty(), "{args:?}: {run:?}");
    }
    for args in [
        vec!["--help"],
        vec!["check", "--help"],
        vec!["serve", "--help"],
        vec!["prune", "--help"],
        vec!["users", "--help"],
        vec!["users", "add", "--help"],
        vec!["users", "passwd", "--help"],
        vec!["users", "remove", "--help"],
        vec!["users", "list", "--help"],
        vec!["export", "requests", "--help"],
    ] {
        let run = fmd(&[], &args, "", &[]);
        assert_eq!(run.code, Some(0), "{args:?}: {run:?}");
        assert!(run.stdout.contains("Usage: fmd"), "{args:?}: {run:?}");
    }
}

fn hash_of(db: &Db, name: &str) -> Option<String> {
    let mut reader = AnyReader::open(&Database::Sqlite(db.path.clone())).expect("open");
    reader
        .user(name)
        .expect("read user")
        .map(|u| u.password_hash)
}

#[test]
fn users_add_list_passwd_remove_round_trip() {
    let db = Db::standard();
    // From standard input, then from FMD_PASSWORD.
    let run = db.fmd(
        &["users", "add", "alice", "--admin"],
        &format!("{PASSWORD}\n"),
        &[],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    let run = db.fmd(
        &["users", "add", "bob"],
        "",
        &[("FMD_PASSWORD", "another long secret")],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    let alice = hash_of(&db, "alice").expect("alice exists");
    assert!(fmd_dashboard::auth::password::verify(PASSWORD, &alice));
    assert!(!alice.contains(PASSWORD), "only the hash is stored");

    let run = db.fmd(&["users", "list"], "", &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "alice\tadmin\nbob\tviewer\n");

    // Refusals: a short password, a taken name, an unknown account.
    let run = db.fmd(&["users", "add", "carol"], "too short\n", &[]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("at least 12 characters"), "{run:?}");
    let run = db.fmd(&["users", "add", "bob"], &format!("{PASSWORD}\n"), &[]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("already exists"), "{run:?}");
    let run = db.fmd(
        &["users", "passwd", "nobody"],
        &format!("{PASSWORD}\n"),
        &[],
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("no account named \"nobody\""),
        "{run:?}"
    );

    let run = db.fmd(
        &["users", "passwd", "alice"],
        "a brand new password\r\n",
        &[],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    let changed = hash_of(&db, "alice").expect("alice exists");
    assert!(fmd_dashboard::auth::password::verify(
        "a brand new password",
        &changed
    ));
    assert!(!fmd_dashboard::auth::password::verify(PASSWORD, &changed));

    let run = db.fmd(&["users", "remove", "alice"], "", &[]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("last admin"), "{run:?}");
    assert!(hash_of(&db, "alice").is_some(), "the last admin stays");
    let run = db.fmd(&["users", "remove", "bob"], "", &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let run = db.fmd(&["users", "list"], "", &[]);
    assert_eq!(run.stdout, "alice\tadmin\n", "{run:?}");
}

#[test]
fn users_add_creates_a_new_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("new.db");
    let base = [("FMD_DATABASE", common::path_str(&path))];
    let run = fmd(
        &base,
        &["users", "add", "root", "--admin"],
        &format!("{PASSWORD}\n"),
        &[],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    let run = fmd(&base, &["check"], "", &[]);
    assert_eq!(value(&run.stdout, "users:"), 1, "{run:?}");
}

#[test]
fn prune_dry_run_changes_nothing_and_prune_deletes_the_old_rows() {
    let db = Db::standard();
    let before = db.bytes();
    let run = db.fmd(&["prune", "--older-than", "30d", "--dry-run"], "", &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("dry run: nothing deleted"), "{run:?}");
    assert_eq!(value(&run.stdout, "requests:"), 2, "{run:?}");
    assert_eq!(value(&run.stdout, "occurrences:"), 1, "{run:?}");
    assert_eq!(value(&run.stdout, "exception groups:"), 1, "{run:?}");
    let preview = run.stdout.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert!(db.bytes() == before, "a dry run changed the database file");
    assert_eq!(value(&db.fmd(&["check"], "", &[]).stdout, "requests:"), 4);

    let run = db.fmd(&["prune", "--older-than", "30d"], "", &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.starts_with("deleted data before"), "{run:?}");
    let report = run.stdout.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(
        report, preview,
        "the dry run predicted what pruning deleted"
    );
    let check = db.fmd(&["check"], "", &[]).stdout;
    assert_eq!(value(&check, "requests:"), 2, "{check}");
    assert_eq!(value(&check, "occurrences:"), 1, "{check}");
    assert_eq!(value(&check, "exception groups:"), 1, "{check}");

    // Nothing older than 2 weeks is left.
    let run = db.fmd(&["prune", "--older-than", "2w", "--dry-run"], "", &[]);
    assert_eq!(value(&run.stdout, "requests:"), 0, "{run:?}");
}

#[test]
fn prune_raw_deletes_old_request_rows_and_keeps_rollups_and_exceptions() {
    let db = Db::standard();
    let run = db.fmd(
        &["prune", "--older-than", "30d", "--raw", "--dry-run"],
        "",
        &[],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("raw request rows before"), "{run:?}");
    assert_eq!(value(&run.stdout, "requests:"), 2, "{run:?}");
    assert_eq!(value(&run.stdout, "occurrences:"), 0, "{run:?}");
    assert_eq!(value(&run.stdout, "hourly rows:"), 0, "{run:?}");
    let preview = run.stdout.lines().skip(1).collect::<Vec<_>>().join("\n");
    let run = db.fmd(&["prune", "--older-than", "30d", "--raw"], "", &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let report = run.stdout.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(
        report, preview,
        "the dry run predicted what raw pruning deleted"
    );
    let check = db.fmd(&["check"], "", &[]).stdout;
    assert_eq!(value(&check, "requests:"), 2, "{check}");
    // The old error stays with its group.
    assert_eq!(value(&check, "occurrences:"), 2, "{check}");
    assert_eq!(value(&check, "exception groups:"), 2, "{check}");
}

#[test]
fn export_requests_streams_csv_and_json_in_a_window() {
    let db = Db::standard();
    let now = common::now_ms();
    let since = (now - 2 * common::DAY).to_string();
    let run = db.fmd(&["export", "requests", "--since", &since], "", &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{run:?}");
    assert!(
        lines[0].starts_with("id,time,endpoint_id,endpoint,route,method,"),
        "{run:?}"
    );
    assert!(lines[1].contains(",app::items,/items/{id},GET,1500,200,false,1.2.3,web-1,"));
    assert!(
        lines[1].ends_with(",10.0.0.9,\"user,\"\"one\"\"\""),
        "{}",
        lines[1]
    );

    let run = db.fmd(
        &[
            "export",
            "requests",
            "--since",
            "1970-01-01T00:00:00Z",
            "--format",
            "json",
        ],
        "",
        &[],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    let rows: serde_json::Value = serde_json::from_str(&run.stdout).expect("valid JSON");
    let rows = rows.as_array().expect("an array");
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[3]["endpoint"], "app::orders");
    assert_eq!(rows[3]["status"], 500);

    let run = db.fmd(
        &[
            "export",
            "requests",
            "--since",
            "0",
            "--endpoint",
            "app::orders",
            "--format",
            "json",
        ],
        "",
        &[],
    );
    let rows: serde_json::Value = serde_json::from_str(&run.stdout).expect("valid JSON");
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{run:?}");
    let run = db.fmd(
        &["export", "requests", "--since", "0", "--endpoint", "nope"],
        "",
        &[],
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("no endpoint named"), "{run:?}");
}

#[test]
fn export_issues_in_a_window_as_csv_and_json() {
    let db = Db::standard();
    let now = common::now_ms();
    // Both failures ("broken at <n>", no in-app frames) are one issue on two endpoints.
    let run = db.fmd(&["export", "issues", "--since", "0"], "", &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "id,status,type_name,message,count,first_seen,last_seen,first_version,last_version,variants,resolved_version,client_error"
    );
    assert_eq!(lines.len(), 2, "{run:?}");
    assert!(
        lines[1].starts_with("1,open,app::Broken,broken at <n>,2,"),
        "{}",
        lines[1]
    );
    assert!(lines[1].ends_with(",1.2.3,1.2.3,2,,false"), "{}", lines[1]);
    // Only the recent occurrence is in the last two days: the issue is still listed.
    let since = (now - 2 * common::DAY).to_string();
    let run = db.fmd(
        &["export", "issues", "--since", &since, "--format", "json"],
        "",
        &[],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    let rows: serde_json::Value = serde_json::from_str(&run.stdout).expect("valid JSON");
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{run:?}");
    assert_eq!(rows[0]["type_name"], "app::Broken");
    assert_eq!(rows[0]["status"], "open");
    // A window without occurrences, and an endpoint without the issue's recent one.
    let until = (now - 39 * common::DAY).to_string();
    let old = db.fmd(
        &["export", "issues", "--since", &since, "--until", &until],
        "",
        &[],
    );
    assert_eq!(old.code, Some(1), "--until before --since: {old:?}");
    // A window without any occurrence.
    let (from, to) = (
        (now - 35 * common::DAY).to_string(),
        (now - 30 * common::DAY).to_string(),
    );
    let run = db.fmd(
        &["export", "issues", "--since", &from, "--until", &to],
        "",
        &[],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout.lines().count(), 1, "only the header: {run:?}");
    // By endpoint: the issue happened on both.
    for endpoint in ["app::items", "app::orders"] {
        let run = db.fmd(
            &["export", "issues", "--since", "0", "--endpoint", endpoint],
            "",
            &[],
        );
        assert_eq!(run.stdout.lines().count(), 2, "{run:?}");
    }
    let run = db.fmd(
        &["export", "issues", "--since", "0", "--endpoint", "nope"],
        "",
        &[],
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    let run = db.fmd(&["export", "issues", "--since", "soon"], "", &[]);
    assert_eq!(run.code, Some(2), "a bad argument: {run:?}");
}

#[test]
fn export_issues_lists_server_errors_unless_asked_for_client_errors() {
    let now = common::now_ms();
    let mut missing = common::request("app::items", now - 2_000, 404);
    if let fmd_runtime::model::event::Event::Request(r) = &mut missing {
        r.errors
            .push(common::client_error("app::NotFound", now - 2_000));
    }
    let db = Db::with(&[missing, common::request("app::orders", now - 1_000, 500)]);
    let types = |args: &[&str]| {
        let mut all = vec!["export", "issues", "--since", "0"];
        all.extend_from_slice(args);
        let run = db.fmd(&all, "", &[]);
        assert_eq!(run.code, Some(0), "{args:?}: {run:?}");
        let mut rows: Vec<String> = run
            .stdout
            .lines()
            .skip(1)
            .map(|l| {
                let fields: Vec<&str> = l.split(',').collect();
                format!("{} {}", fields[2], fields[fields.len() - 1])
            })
            .collect();
        rows.sort();
        rows
    };
    let server = ["app::Broken false"];
    assert_eq!(types(&[]), server, "server errors by default");
    assert_eq!(types(&["--kind", "server"]), server);
    assert_eq!(types(&["--kind", "client"]), ["app::NotFound true"]);
    assert_eq!(
        types(&["--kind", "all"]),
        ["app::Broken false", "app::NotFound true"]
    );
    let run = db.fmd(
        &[
            "export", "issues", "--since", "0", "--kind", "client", "--format", "json",
        ],
        "",
        &[],
    );
    let rows: serde_json::Value = serde_json::from_str(&run.stdout).expect("valid JSON");
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{run:?}");
    assert_eq!(rows[0]["client"], true);
    let bad = db.fmd(
        &["export", "issues", "--since", "0", "--kind", "4xx"],
        "",
        &[],
    );
    assert_eq!(bad.code, Some(2), "an unknown kind: {bad:?}");
    let help = common::fmd(&[], &["export", "issues", "--help"], "", &[]);
    assert!(
        help.stdout.contains("--kind") && help.stdout.contains("client"),
        "{help:?}"
    );
    // Requests have no kind.
    let run = db.fmd(
        &["export", "requests", "--since", "0", "--kind", "all"],
        "",
        &[],
    );
    assert_eq!(run.code, Some(2), "{run:?}");
}

#[test]
fn export_pages_through_more_rows_than_one_page() {
    let base = common::now_ms() - common::DAY;
    let events: Vec<_> = (0..2_500)
        .map(|i| common::request("app::bulk", base + i / 3, 200))
        .collect();
    let db = Db::with(&events);
    let run = db.fmd(&["export", "requests", "--since", "0"], "", &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let ids: Vec<i64> = run
        .stdout
        .lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .next()
                .and_then(|id| id.parse().ok())
                .expect("an id")
        })
        .collect();
    assert_eq!(ids.len(), 2_500);
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 2_500, "no row twice across pages");
}
