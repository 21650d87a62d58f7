//! PostgreSQL speed, kept out of the default run (it writes a million rows), with the
//! same measurement on SQLite beside it:
//!
//! ```text
//! scripts/test.d/pre-40-postgres.sh starts a server; with FMD_TEST_POSTGRES_URL set:
//! cargo test --release -p fmd-bench --test postgres_speed -- --ignored --nocapture --test-threads 1
//! ```
//!
//! - the writer's store: events per second `Store::write_batch` takes from realistic
//!   events (20 endpoints, one in five with a 5-frame error trace, 500 distinct messages)
//!   in batches of 2 048, the writer's default (`FMD_BATCH_SIZE` for others), a million
//!   of them (`FMD_BENCH_EVENTS` for others: `FMD_BENCH_EVENTS=10000000` for 10 M);
//! - the overview's latency over what was written (two weeks of those events), right
//!   after the load and, on PostgreSQL, after a `VACUUM`.

use std::time::{Duration, Instant};

use fmd_bench::events::EventMaker;
use fmd_runtime::Database;
use fmd_runtime::model::event::Event;
use fmd_runtime::store::read::DAY_MS;
use fmd_runtime::store::{AnyReader, WriteOptions, open_store};

/// Events written in the measurement: `FMD_BENCH_EVENTS`, else a million.
fn events() -> usize {
    std::env::var("FMD_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}
/// Events per transaction: `FMD_BATCH_SIZE`, else the writer's default.
fn batch_size() -> usize {
    std::env::var("FMD_BATCH_SIZE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_048)
}

/// A fresh database on the server of `FMD_TEST_POSTGRES_URL`.
fn fresh_database() -> String {
    let base = std::env::var("FMD_TEST_POSTGRES_URL").expect(
        "FMD_TEST_POSTGRES_URL is not set: start a server with scripts/test.d/pre-40-postgres.sh \
         (scripts/test does) or point it at one where this user may CREATE DATABASE",
    );
    let name = format!("fmd_speed_{}", std::process::id());
    let mut admin = postgres::Client::connect(&base, postgres::NoTls).expect("connect");
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create database");
    let (head, _) = base.rsplit_once('/').expect("a URL with a database name");
    format!("{head}/{name}")
}

#[test]
#[ignore = "slow: writes a million events into PostgreSQL; see the module docs"]
fn writer_events_per_second_and_overview_latency_on_postgres() {
    measure("postgres", Database::Postgres(fresh_database()));
}

/// The same on SQLite, for comparison on the same machine and moment.
#[test]
#[ignore = "slow: writes a million events into SQLite; see the module docs"]
fn writer_events_per_second_and_overview_latency_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    measure("sqlite", Database::Sqlite(dir.path().join("fmd.db")));
}

fn measure(engine: &str, database: Database) {
    let batch_len = batch_size();
    let total = events();
    let mut store = open_store(&database).expect("open");
    let options = WriteOptions {
        version: "1.0.0".into(),
        instance: "bench".into(),
        store_source: true,
        normalize_messages: false,
        git_commit: None,
    };
    let mut maker = EventMaker::new(7);
    let now = fmd_runtime::clock::now_ms();
    let span = 14 * DAY_MS;
    let mut batch = |i: usize| -> Vec<Event> {
        (0..batch_len)
            .map(|j| {
                let k = (i * batch_len + j) as i64;
                let t = now - span + k * span / total as i64;
                Event::Request(Box::new(maker.next(t)))
            })
            .collect()
    };
    // Warm-up: endpoints, functions, snapshots and most messages are stored and cached.
    store.write_batch(&batch(0), &options).expect("warm-up");
    // Only the writes are timed; each batch is made before its clock starts, so ten
    // million events never sit in memory at once.
    let mut elapsed = Duration::ZERO;
    let mut stored = 0;
    for i in 1..total / batch_len {
        let b = batch(i);
        let start = Instant::now();
        stored += store.write_batch(&b, &options).expect("write");
        elapsed += start.elapsed();
    }
    println!(
        "FIGURES {engine} writer: {stored} events in {:.2} s = {:.0} events/s (batches of {batch_len})",
        elapsed.as_secs_f64(),
        stored as f64 / elapsed.as_secs_f64()
    );

    let mut reader = AnyReader::open(&database).expect("reader");
    let requests = stored + batch_len as u64;
    overview_latency(
        &mut reader,
        now,
        &format!("{engine} overview over {requests} requests"),
    );
    if let Database::Postgres(url) = &database {
        // Right after the load the rollup tables are full of dead row versions (every
        // batch updates its groups and histogram rows); autovacuum clears them in time.
        let mut c = postgres::Client::connect(url, postgres::NoTls).expect("connect");
        c.batch_execute("VACUUM ANALYZE").expect("vacuum");
        overview_latency(&mut reader, now, &format!("{engine} overview after VACUUM"));
        // A million rows are not left behind on the server.
        drop((reader, store, c));
        let (base, name) = url.rsplit_once('/').expect("a database name");
        let mut admin = postgres::Client::connect(&format!("{base}/postgres"), postgres::NoTls)
            .expect("connect");
        admin
            .batch_execute(&format!("DROP DATABASE {name}"))
            .expect("drop the database");
    }
}

/// Prints the median, lowest and highest of seven overviews.
fn overview_latency(reader: &mut AnyReader, now: i64, what: &str) {
    let mut times: Vec<Duration> = (0..7)
        .map(|_| {
            let t = Instant::now();
            let rows = reader.overview(now, None).expect("overview");
            assert_eq!(rows.len(), 20);
            t.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "FIGURES {what}, 20 endpoints: median {:?}, min {:?}, max {:?}",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    );
}
