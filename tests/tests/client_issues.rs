//! Client error issues on both engines, written through the real writer: an issue is a
//! client error issue while every occurrence it had was a client error (kind 3), its
//! first other occurrence makes it a server error issue for good, the issue filter's kind
//! lists each apart, and a schema-8 database (no `issue.client`) upgrades with its stored
//! issues marked from their stored occurrences.

use fmd_runtime::Database;
use fmd_runtime::model::event::{ErrorKind, ErrorRecord};
use fmd_runtime::store::AnyReader;
use fmd_runtime::store::read::{IssueFilter, IssueKind, IssueSort};
use fmd_tests::both_engines;
use fmd_tests::dashboard_fixture::now_ms;
use fmd_tests::engines::{Db, Engine, fresh_database};
use fmd_tests::issue_fixture::{error, function, write};

/// `(type, client)` of the issues of `kind`, by type.
fn listed(database: &Database, kind: IssueKind) -> Vec<(String, bool)> {
    let filter = IssueFilter {
        kind,
        ..IssueFilter::default()
    };
    let mut rows: Vec<_> = AnyReader::open(database)
        .expect("open the reader")
        .issues(&filter, IssueSort::FirstSeen, false, 0, 100)
        .expect("issues")
        .rows
        .into_iter()
        .map(|i| (i.type_name, i.client))
        .collect();
    rows.sort();
    rows
}

fn client(e: ErrorRecord) -> ErrorRecord {
    ErrorRecord {
        kind: ErrorKind::Client,
        ..e
    }
}

fn client_error_issues_stay_apart_until_a_server_error_joins_them(engine: Engine) {
    let (db, _dir) = fresh_database(engine);
    let now = now_ms();
    let f = function("shop::orders", "show", "fn show() {}");
    write(
        &db,
        "1.0.0",
        vec![
            client(error("shop::NotFound", "order 7 missing", &[f], now - 3000)),
            error("shop::Timeout", "after 30 s", &[f], now - 2000),
            client(error("shop::Conflict", "name taken", &[f], now - 1500)),
        ],
    );
    let own = |t: &str, c: bool| (t.to_owned(), c);
    assert_eq!(
        listed(&db, IssueKind::Client),
        [own("shop::Conflict", true), own("shop::NotFound", true)]
    );
    assert_eq!(
        listed(&db, IssueKind::Server),
        [own("shop::Timeout", false)]
    );
    // The same error once answered 5xx (or captured): a server error from now on.
    write(
        &db,
        "1.0.0",
        vec![error("shop::Conflict", "name taken", &[f], now - 1000)],
    );
    // And a client error again does not make it one.
    write(
        &db,
        "1.0.0",
        vec![client(error(
            "shop::Conflict",
            "name taken",
            &[f],
            now - 500,
        ))],
    );
    let server = [own("shop::Conflict", false), own("shop::Timeout", false)];
    assert_eq!(listed(&db, IssueKind::Server), server);
    assert_eq!(
        listed(&db, IssueKind::Client),
        [own("shop::NotFound", true)]
    );
    assert_eq!(listed(&db, IssueKind::All).len(), 3);

    // Back to schema 8: the column gone; the upgrade marks the stored issues again.
    let raw = Db::open(&db);
    raw.exec("ALTER TABLE issue DROP COLUMN client", &[]);
    // The requests too: schema 8 stored their texts in their rows.
    fmd_tests::request_rows::back_to_version_8(&raw);
    drop(raw);
    drop(fmd_runtime::store::open_store(&db).expect("open and upgrade"));
    assert_eq!(listed(&db, IssueKind::Server), server);
    assert_eq!(
        listed(&db, IssueKind::Client),
        [own("shop::NotFound", true)]
    );
    let raw = Db::open(&db);
    assert_eq!(
        raw.query_i64(
            "SELECT CAST(value AS BIGINT) FROM fmd_meta WHERE key = 'schema_version'",
            &[]
        ),
        Some(fmd_runtime::store::sqlite::schema::SCHEMA_VERSION)
    );
    assert_eq!(raw.count("issue"), 3, "the stored issues kept");
}

both_engines!(client_error_issues_stay_apart_until_a_server_error_joins_them);
