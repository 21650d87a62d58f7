//! Many instances, one PostgreSQL: three processes of the example host start at the same
//! moment against one fresh database and take load at once. Every request of every
//! process is stored, under its own instance name; the schema is created once (one
//! `schema_version`, no start-up race); one first admin, not three.

use std::time::Duration;

use fmd_tests::engines::{Db, fresh_postgres_database};
use fmd_tests::host::{self, HostProcess, Load};
use fmd_tests::vals;
use serde_json::Value;

const EXE: &str = env!("CARGO_BIN_EXE_fault_host");

fn n(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} in {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_write_into_one_postgres_at_once() {
    let url = fresh_postgres_database();
    const NAMES: [&str; 3] = ["web-1", "web-2", "web-3"];
    let names = NAMES;
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(names.len()));
    let starts: Vec<_> = NAMES
        .iter()
        .map(|&name| {
            let (url, barrier) = (url.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                HostProcess::start(EXE, &url, &[("FMD_INSTANCE", name)])
            })
        })
        .collect();
    let hosts: Vec<HostProcess> = starts
        .into_iter()
        .map(|t| t.join().expect("start"))
        .collect();
    let loads: Vec<Load> = {
        let tasks: Vec<_> = hosts
            .iter()
            .map(|h| tokio::spawn(host::load(h.addr, 2, 400, Duration::from_secs(60))))
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.expect("load task"));
        }
        out
    };
    let mut sent = 0;
    for l in &loads {
        assert_eq!(l.correct, l.sent, "every answer right");
        assert!(l.sent > 0);
        sent += l.sent;
    }
    for h in hosts {
        let end = h.shutdown();
        assert_eq!(end["flushed"], true, "{end}");
        let s = &end["stats"];
        assert_eq!(n(s, "events_dropped"), 0);
        assert!(s["last_storage_error"].is_null(), "no storage error: {s}");
    }
    let db = Db::open(&fmd_runtime::Database::Postgres(url));
    let stored = db.count("request") as u64;
    println!("FIGURES three PostgreSQL instances: sent={sent} stored={stored}");
    assert_eq!(stored, sent, "every event of every process stored");
    for name in names {
        let own = db
            .query_i64(
                "SELECT count(*) FROM request_text WHERE instance = ?1",
                vals![name],
            )
            .unwrap_or(0);
        assert!(own > 0, "{name} stored its requests under its own name");
    }
    assert_eq!(
        db.query_i64("SELECT count(DISTINCT instance) FROM request_text", &[]),
        Some(3)
    );
    assert_eq!(
        db.query_i64(
            "SELECT count(*) FROM fmd_meta WHERE key = 'schema_version' AND value = ?1",
            vals![fmd_runtime::store::postgres::schema::SCHEMA_VERSION.to_string()]
        ),
        Some(1),
        "one schema, at the current version"
    );
    assert_eq!(db.count("fmd_user"), 1, "one first admin, not three");
    let hourly = db
        .query_i64("SELECT sum(hits)::bigint FROM request_hourly", &[])
        .unwrap_or(0) as u64;
    assert_eq!(hourly, sent, "the hourly rollup counts every request once");
}
