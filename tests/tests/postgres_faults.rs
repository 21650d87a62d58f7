//! PostgreSQL faults the writer must ride out: a server it cannot reach is a transient
//! error (retried, never fatal); a connection lost mid-run is noticed and replaced; many
//! processes migrating one database at once create one schema; a schema-3 database
//! upgrades to 4 with its rollups rebuilt; concurrent writers sharing endpoints and groups
//! (upserts in key order) count every occurrence once.

use std::borrow::Cow;
use std::sync::Arc;

use fmd_runtime::Database;
use fmd_runtime::model::event::{Event, RequestEvent};
use fmd_runtime::store::{WriteOptions, open_store};
use fmd_tests::engines::{Db, fresh_postgres_database, postgres_url};
use fmd_tests::vals;

fn options() -> WriteOptions {
    WriteOptions {
        version: "1.0.0".into(),
        instance: "faults".into(),
        store_source: true,
        normalize_messages: false,
        git_commit: None,
    }
}

fn request(time_ms: i64) -> Event {
    Event::Request(Box::new(RequestEvent {
        endpoint: Cow::Borrowed("app::index"),
        route: Arc::from("/"),
        method: Cow::Borrowed("GET"),
        time_ms,
        duration_us: 1_000,
        status: Some(200),
        cancelled: false,
        level: 1,
        ip: None,
        group_by: None,
        errors: Vec::new(),
        outlier: None,
        profile: None,
        link: None,
    }))
}

#[test]
fn an_unreachable_server_is_a_transient_error_without_the_password() {
    // Port 1 on loopback: nothing listens there.
    let url = "postgres://fmd:s3cret-pass@127.0.0.1:1/fmd";
    let Err(e) = open_store(&Database::parse(url)) else {
        panic!("connected to nothing");
    };
    assert!(e.transient, "retry later: {e}");
    assert!(!e.message.contains("s3cret-pass"), "{e}");
    let Err(e) = open_store(&Database::parse("postgres://127.0.0.1:notaport/x")) else {
        panic!("a malformed URL opened");
    };
    assert!(!e.transient, "a malformed URL is not retried: {e}");
}

#[test]
fn a_lost_connection_is_noticed_and_a_new_one_carries_on() {
    let url = fresh_postgres_database();
    let database = Database::Postgres(url.clone());
    let mut store = open_store(&database).expect("open");
    assert_eq!(store.write_batch(&[request(1_000)], &options()).unwrap(), 1);
    let db_name = url.rsplit('/').next().unwrap_or_default().to_owned();
    let admin = Db::open(&Database::Postgres(postgres_url()));
    let killed = admin
        .query_i64(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE datname = ?1 AND application_name = 'fmd'",
            vals![db_name.as_str()],
        )
        .unwrap_or(0);
    assert_eq!(killed, 1, "the writer's connection is ended by the server");
    let e = store
        .write_batch(&[request(2_000)], &options())
        .expect_err("the connection is gone");
    assert!(e.transient, "{e}");
    assert!(
        store.needs_reopen(),
        "the writer reconnects before the next try"
    );
    let mut store = open_store(&database).expect("reconnect");
    assert_eq!(store.write_batch(&[request(2_000)], &options()).unwrap(), 1);
    let db = Db::open(&database);
    assert_eq!(db.count("request"), 2, "the retried batch is stored once");
}

#[test]
fn eight_writers_migrating_one_database_at_once_create_one_schema() {
    let url = fresh_postgres_database();
    let database = Database::Postgres(url);
    let barrier = Arc::new(std::sync::Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let (database, barrier) = (database.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let mut store = open_store(&database).expect("open while others migrate");
                store
                    .write_batch(&[request(1_000 + i)], &options())
                    .expect("write")
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().expect("writer"), 1);
    }
    let db = Db::open(&database);
    assert_eq!(db.count("request"), 8);
    assert_eq!(db.count("endpoint"), 1, "one endpoint row, not eight");
    assert_eq!(
        db.query_i64(
            "SELECT count(*) FROM fmd_meta WHERE key = 'schema_version'",
            &[]
        ),
        Some(1)
    );
}

#[test]
fn a_version_3_database_upgrades_with_its_rollups_rebuilt_from_the_request_rows() {
    let url = fresh_postgres_database();
    let database = Database::Postgres(url);
    let mut store = open_store(&database).expect("open");
    let now = fmd_tests::dashboard_fixture::now_ms();
    let mut web2 = options();
    web2.instance = "web-2".into();
    store
        .write_batch(&[request(now - 2), request(now - 1)], &options())
        .expect("web-1");
    store.write_batch(&[request(now)], &web2).expect("web-2");
    drop(store);
    // Back to what a schema-3 fmd left: no instances in the rollup, no histogram.
    let db = Db::open(&database);
    fmd_tests::request_rows::back_to_version_8(&db);
    db.batch(
        "DROP TABLE duration_daily;
         DROP TABLE instance;
         ALTER TABLE request_hourly DROP CONSTRAINT request_hourly_v4_pkey;
         ALTER TABLE request_hourly DROP COLUMN instance;
         DROP INDEX request_endpoint_time_sample;
         CREATE INDEX request_endpoint_time ON request(endpoint_id, time, id);
         UPDATE fmd_meta SET value = '3' WHERE key = 'schema_version';",
    );
    let mut reader = fmd_runtime::store::AnyReader::open(&database).expect("upgrade");
    assert_eq!(
        db.query_i64(
            "SELECT value::bigint FROM fmd_meta WHERE key = 'schema_version'",
            &[]
        ),
        Some(fmd_runtime::store::postgres::schema::SCHEMA_VERSION)
    );
    assert_eq!(
        db.query_i64(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'request'
               AND indexname IN ('request_endpoint_sample', 'request_endpoint_time_sample',
                                 'request_endpoint_time')
               AND indexdef LIKE '%INCLUDE (duration_us, version_id)%'",
            &[]
        ),
        Some(1),
        "versions 5 and 9 replace the request index"
    );
    let one = &reader.overview(now, Some("faults")).expect("overview")[0];
    assert_eq!(
        (one.today.hits, one.all.hits),
        (2, 2),
        "the histogram is rebuilt"
    );
    let b = fmd_runtime::store::histogram::bucket(1_000);
    assert_eq!(
        one.today.median_us,
        Some(fmd_runtime::store::histogram::bucket_value(b))
    );
    assert_eq!(reader.instances().expect("instances").len(), 2);
    assert_eq!(
        db.query_i64("SELECT sum(hits)::bigint FROM request_hourly", &[]),
        Some(3)
    );
    // The writer carries on into the upgraded database.
    let mut store = open_store(&database).expect("reopen");
    store
        .write_batch(&[request(now)], &options())
        .expect("write");
    let one = &reader.overview(now, Some("faults")).expect("overview")[0];
    assert_eq!(one.all.hits, 3);
}

#[test]
fn concurrent_writers_sharing_groups_and_endpoints_count_every_occurrence() {
    use fmd_runtime::model::event::{ErrorKind, ErrorRecord, TraceFrame};
    let database = Database::Postgres(fresh_postgres_database());
    const WRITERS: usize = 4;
    const BATCHES: usize = 15;
    const PER_BATCH: usize = 200;
    let barrier = Arc::new(std::sync::Barrier::new(WRITERS));
    let threads: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (database, barrier) = (database.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut store = open_store(&database).expect("open");
                let mut opts = options();
                opts.instance = format!("w{w}");
                barrier.wait();
                let mut stored = 0;
                for b in 0..BATCHES {
                    let events: Vec<Event> = (0..PER_BATCH)
                        .map(|i| {
                            let Event::Request(mut r) = request((b * PER_BATCH + i) as i64) else {
                                unreachable!()
                            };
                            // Endpoints and groups in an order that differs per writer.
                            let k = (i * (w + 1) + b) % 7;
                            r.endpoint = Cow::Owned(format!("app::e{}", k % 3));
                            r.errors = vec![ErrorRecord {
                                kind: ErrorKind::Captured,
                                type_name: Cow::Borrowed("app::Error"),
                                message: format!("failure {k}"),
                                sources: Vec::new(),
                                frames: vec![TraceFrame::Other {
                                    name: format!("lib::f{k}").into(),
                                    file: "lib.rs".into(),
                                    line: k as u32,
                                }],
                                omitted_frames: 0,
                                time_ms: r.time_ms,
                                native: None,
                            }];
                            Event::Request(r)
                        })
                        .collect();
                    stored += store.write_batch(&events, &opts).expect("write");
                }
                stored
            })
        })
        .collect();
    let total: u64 = threads.into_iter().map(|t| t.join().expect("writer")).sum();
    let expected = (WRITERS * BATCHES * PER_BATCH) as i64;
    assert_eq!(total as i64, expected);
    let db = Db::open(&database);
    assert_eq!(db.count("request"), expected);
    assert_eq!(db.count("exception_occurrence"), expected);
    assert_eq!(
        db.query_i64("SELECT sum(count)::bigint FROM exception_group", &[]),
        Some(expected),
        "the groups' counters add up to their occurrences"
    );
    assert_eq!(db.count("endpoint"), 3);
    assert_eq!(db.count("exception_type"), 1);
    assert_eq!(db.count("stack_trace_snapshot"), 7);
    assert_eq!(
        db.query_i64("SELECT sum(hits)::bigint FROM duration_daily", &[]),
        Some(expected)
    );
}
