//! The performance pages' queries on both engines: exact numbers for seeded data, pruning
//! of the new tables; and on SQLite, query plans that read the rollup and bounded index
//! ranges.

use std::sync::Arc;

use fmd_dashboard::profile::group;
use fmd_runtime::store::read::{PerfStore, Selection, StatusMix};
use fmd_runtime::store::sqlite::SqliteReader;
use fmd_tests::both_engines;
use fmd_tests::engines::Engine;
use fmd_tests::perf_fixture::{D, DAY, HOUR, MIN, seed, seed_on};
use parking_lot::Mutex;
use rusqlite::trace::{TraceEvent, TraceEventCodes};

const DAY_NO: i64 = 20_759;

fn the_rollup_queries_count_per_hour_day_endpoint_and_version(engine: Engine) {
    let s = seed_on(engine);
    let mut st = s.fx.reader();
    let cells: Vec<_> = st
        .hourly_load(None, D, D + 2 * DAY, None)
        .unwrap()
        .into_iter()
        .map(|c| (c.day, c.hour, c.hits, c.duration_us))
        .collect();
    assert_eq!(
        cells,
        vec![
            (DAY_NO, 9, 3, 4700),
            (DAY_NO, 14, 1, 2000),
            (DAY_NO + 1, 9, 2, 4900),
            (DAY_NO + 1, 10, 1, 5000)
        ]
    );
    let one: Vec<_> = st
        .hourly_load(Some(s.a), D, D + 2 * DAY, None)
        .unwrap()
        .into_iter()
        .map(|c| (c.day, c.hour, c.hits))
        .collect();
    assert_eq!(
        one,
        vec![
            (DAY_NO, 9, 2),
            (DAY_NO, 14, 1),
            (DAY_NO + 1, 9, 1),
            (DAY_NO + 1, 10, 1)
        ]
    );
    assert!(
        st.hourly_load(None, D + 2 * DAY, D + 3 * DAY, None)
            .unwrap()
            .is_empty()
    );

    let daily: Vec<_> = st
        .daily_hits(D, D + 2 * DAY)
        .unwrap()
        .into_iter()
        .map(|d| (d.day, d.endpoint, d.hits))
        .collect();
    let row = |day, e: &str, n| (day, e.to_owned(), n);
    assert_eq!(
        daily,
        vec![
            row(DAY_NO, "shop::checkout", 3),
            row(DAY_NO, "shop::index", 1),
            row(DAY_NO + 1, "shop::checkout", 2),
            row(DAY_NO + 1, "shop::index", 1)
        ]
    );
    let versions: Vec<_> = st
        .version_usage(None, D, D + 2 * DAY, None)
        .unwrap()
        .into_iter()
        .map(|v| (v.day, v.version, v.hits))
        .collect();
    let row = |day, v: &str, n| (day, v.to_owned(), n);
    assert_eq!(
        versions,
        vec![
            row(DAY_NO, "1.0.0", 3),
            row(DAY_NO, "1.1.0", 1),
            row(DAY_NO + 1, "1.1.0", 3)
        ]
    );
    let of_a: Vec<_> = st
        .version_usage(Some(s.a), D, D + 2 * DAY, None)
        .unwrap()
        .into_iter()
        .map(|v| (v.day, v.version, v.hits))
        .collect();
    assert_eq!(
        of_a,
        vec![
            row(DAY_NO, "1.0.0", 2),
            row(DAY_NO, "1.1.0", 1),
            row(DAY_NO + 1, "1.1.0", 2)
        ]
    );
    let seen: Vec<_> = st
        .versions()
        .unwrap()
        .into_iter()
        .map(|v| (v.version, v.first_seen, v.last_seen))
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                "1.1.0".to_owned(),
                D + 14 * HOUR + 5 * MIN,
                D + DAY + 10 * HOUR
            ),
            (
                "1.0.0".to_owned(),
                D + 9 * HOUR + 10 * MIN,
                D + 9 * HOUR + 40 * MIN
            )
        ]
    );
    let mix = st
        .status_mix(
            s.a,
            &Selection::Period {
                from: D,
                to: D + 2 * DAY,
            },
        )
        .unwrap();
    assert_eq!(
        mix,
        StatusMix {
            hits: 5,
            client_errors: 1,
            server_errors: 1,
            cancelled: 1
        }
    );
    assert_eq!(mix.ok(), 2);
    let v11 = st
        .status_mix(s.a, &Selection::Version("1.1.0".into()))
        .unwrap();
    assert_eq!(
        v11,
        StatusMix {
            hits: 3,
            client_errors: 0,
            server_errors: 1,
            cancelled: 1
        }
    );
    assert_eq!(
        st.status_mix(
            s.b,
            &Selection::Period {
                from: D,
                to: D + DAY
            }
        )
        .unwrap()
        .hits,
        1
    );
}

fn samples_are_the_latest_requests_of_a_period_or_version(engine: Engine) {
    let s = seed_on(engine);
    let mut st = s.fx.reader();
    let recent = st.recent_requests(s.a, D, 3, None).unwrap();
    assert_eq!(
        recent.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![s.r[4], s.r[3], s.r[2]]
    );
    assert_eq!(recent[1].status, None);
    assert!(recent[1].cancelled);
    assert_eq!(
        (recent[0].group_by.as_deref(), recent[0].ip.as_deref()),
        (Some("alice"), Some("10.0.0.1"))
    );
    assert_eq!(recent[2].version, "1.1.0");
    assert_eq!(
        st.recent_requests(s.a, D + DAY, 100, None).unwrap().len(),
        2
    );

    let period = Selection::Period {
        from: D,
        to: D + DAY,
    };
    assert_eq!(
        st.durations(s.a, &period, 10).unwrap(),
        vec![2000, 3000, 1000]
    );
    assert_eq!(st.durations(s.a, &period, 2).unwrap(), vec![2000, 3000]);
    assert_eq!(
        st.durations(s.a, &Selection::Version("1.1.0".into()), 2)
            .unwrap(),
        vec![5000, 4000]
    );
    assert_eq!(
        st.durations(s.a, &Selection::Version("1.0.0".into()), 10)
            .unwrap(),
        vec![3000, 1000]
    );
    assert!(
        st.durations(s.a, &Selection::Version("9.9.9".into()), 10)
            .unwrap()
            .is_empty()
    );
}

fn failed_requests_outliers_profiles_and_graphs(engine: Engine) {
    let s = seed_on(engine);
    let mut st = s.fx.reader();
    let failed = st.failed_requests(s.a, 0, 10, None).unwrap();
    assert_eq!(failed.total, 3);
    let rows: Vec<_> = failed
        .rows
        .iter()
        .map(|f| (f.id, f.status, f.cancelled, f.group_id))
        .collect();
    assert_eq!(
        rows,
        vec![
            (s.r[3], None, true, None),
            (s.r[2], Some(500), false, Some(s.group)),
            (s.r[1], Some(404), false, None)
        ]
    );
    assert_eq!(failed.rows[1].duration_us, 2000);
    assert_eq!(
        (
            failed.rows[1].method.as_str(),
            failed.rows[1].route.as_str()
        ),
        ("GET", "/")
    );
    let second = st.failed_requests(s.a, 1, 1, None).unwrap();
    assert_eq!((second.total, second.rows[0].id), (3, s.r[2]));

    let outliers = st.outliers(s.a, 0, 10, None).unwrap();
    assert_eq!(outliers.total, 2);
    let o = &outliers.rows[0];
    assert_eq!(
        (o.request_id, o.duration_us, o.typical_us, o.threshold_us),
        (s.r[4], 5000, 1500, 3750)
    );
    assert_eq!(
        (o.cpu_percent, o.memory_bytes, o.status),
        (Some(12.5), Some(50 << 20), Some(200))
    );
    assert_eq!(
        o.headers[1],
        ("authorization".to_owned(), "[scrubbed]".to_owned())
    );
    assert_eq!(o.stack.len(), 2);
    assert_eq!(
        (o.stack[0].name.as_str(), o.stack[0].line),
        ("load_cart", 21)
    );
    assert!(o.stack[0].code.as_deref().unwrap().contains("db.query()?"));
    assert!(outliers.rows[1].stack.is_empty());

    let trees = st.profiled_requests(s.a, 10, None).unwrap();
    assert_eq!(
        trees.iter().map(|t| t.request_id).collect::<Vec<_>>(),
        vec![s.r[4], s.r[2]]
    );
    let t = &trees[1];
    assert_eq!(t.duration_us, 2000);
    let nodes: Vec<_> = t
        .nodes
        .iter()
        .map(|n| {
            (
                n.position,
                n.parent,
                n.depth,
                n.name.as_str(),
                n.calls,
                n.total_us,
                n.self_us,
            )
        })
        .collect();
    assert_eq!(
        nodes,
        vec![
            (0, None, 0, "checkout", 1, 1800, 300),
            (1, Some(0), 1, "load_cart", 1, 1000, 1000),
            (2, Some(0), 1, "price", 2, 500, 500)
        ]
    );
    assert_eq!(st.profiled_requests(s.a, 1, None).unwrap().len(), 1);

    // The grouped profiler over both trees.
    let g = group(&trees);
    assert_eq!((g.requests, g.request_us), (2, 7000));
    let paths: Vec<_> = g
        .paths
        .iter()
        .map(|p| (p.name.as_str(), p.depth(), p.hits, p.calls, p.total_us))
        .collect();
    assert_eq!(
        paths,
        vec![
            ("checkout", 0, 2, 2, 6400),
            ("load_cart", 1, 2, 2, 5000),
            ("price", 1, 1, 2, 500)
        ]
    );
    assert_eq!(g.paths[0].mean_us, 3200.0);
    // Sample standard deviation of 1800 and 4600: 1400 × √2.
    assert!((g.paths[0].std_us - 1400.0 * 2f64.sqrt()).abs() < 1e-9);
    assert!((g.paths[1].share - 5000.0 / 7000.0).abs() < 1e-12);
    assert_eq!((g.paths[2].std_us, g.paths[2].parent), (0.0, Some(0)));

    let graphs = st.custom_graphs().unwrap();
    assert_eq!(graphs.len(), 1);
    let points: Vec<_> = st
        .graph_points(graphs[0].id, D, D + 3 * HOUR, 3)
        .unwrap()
        .into_iter()
        .map(|p| (p.time, p.mean, p.min, p.max, p.samples))
        .collect();
    assert_eq!(
        points,
        vec![
            (D, 2.0, 1.0, 3.0, 2),
            (D + HOUR, 5.0, 5.0, 5.0, 1),
            (D + 2 * HOUR, 7.0, 7.0, 7.0, 1)
        ]
    );
}

fn pruning_removes_old_outliers_profiles_rollups_and_graph_values_first(engine: Engine) {
    let s = seed_on(engine);
    let mut st = s.fx.reader();
    let report = st.prune(D + DAY).unwrap();
    assert_eq!(
        (
            report.requests,
            report.outliers,
            report.profile_nodes,
            report.hourly_rows,
            report.graph_values,
            report.occurrences,
            report.groups
        ),
        (4, 1, 3, 3, 4, 1, 1)
    );
    // What is left still resolves: the newer outlier's stack and the newer call tree.
    let outliers = st.outliers(s.a, 0, 10, None).unwrap();
    assert_eq!((outliers.total, outliers.rows[0].stack.len()), (1, 2));
    let trees = st.profiled_requests(s.a, 10, None).unwrap();
    assert_eq!(trees.len(), 1);
    assert_eq!(trees[0].nodes[1].name, "load_cart");
    assert_eq!(st.hourly_load(None, D, D + 2 * DAY, None).unwrap().len(), 2);
    // Pruning again finds nothing more.
    let again = st.prune(D + DAY).unwrap();
    assert_eq!(
        (
            again.requests,
            again.outliers,
            again.profile_nodes,
            again.hourly_rows
        ),
        (0, 0, 0, 0)
    );
}

/// Runs `f` and returns the query plan of every statement it ran.
fn plans(st: &mut SqliteReader, f: impl FnOnce(&mut SqliteReader)) -> Vec<(String, Vec<String>)> {
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = log.clone();
    st.connection()
        .trace_v2(
            TraceEventCodes::SQLITE_TRACE_STMT,
            Some(move |e: TraceEvent<'_>| {
                if let TraceEvent::Stmt(stmt, _) = e {
                    sink.lock().extend(stmt.expanded_sql());
                }
            }),
        )
        .unwrap();
    f(st);
    st.connection()
        .trace_v2(TraceEventCodes::empty(), None::<fn(TraceEvent<'_>)>)
        .unwrap();
    let sqls = log.lock().clone();
    sqls.into_iter()
        .map(|sql| {
            let conn = st.connection();
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let details = stmt
                .query_map([], |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            (sql, details)
        })
        .collect()
}

fn touches_request(detail: &str) -> bool {
    let d = detail.split_whitespace().collect::<Vec<_>>();
    d.len() >= 2 && matches!(d[0], "SCAN" | "SEARCH") && matches!(d[1], "request" | "r")
}

#[test]
fn utilization_reads_the_rollup_and_samples_read_bounded_index_ranges() {
    let s = seed();
    let mut st = SqliteReader::open(s.fx.path()).unwrap();
    let (a, b) = (s.a, s.b);
    let rollup = plans(&mut st, |st| {
        st.hourly_load(None, D, D + 2 * DAY, None).unwrap();
        st.hourly_load(Some(a), D, D + 2 * DAY, None).unwrap();
        st.daily_hits(D, D + 2 * DAY).unwrap();
        st.version_usage(None, D, D + 2 * DAY, None).unwrap();
        st.version_usage(Some(b), D, D + 2 * DAY, None).unwrap();
        st.status_mix(
            a,
            &Selection::Period {
                from: D,
                to: D + DAY,
            },
        )
        .unwrap();
    });
    assert_eq!(rollup.len(), 6);
    for (sql, plan) in &rollup {
        assert!(
            !plan.iter().any(|d| touches_request(d)),
            "{sql} reads `request`: {plan:?}"
        );
        assert!(
            !plan
                .iter()
                .any(|d| d.starts_with("SCAN h") || d == "SCAN request_hourly"),
            "{sql}: {plan:?}"
        );
    }
    let samples = plans(&mut st, |st| {
        st.recent_requests(a, D, 100, None).unwrap();
        st.durations(
            a,
            &Selection::Period {
                from: D,
                to: D + DAY,
            },
            500,
        )
        .unwrap();
        st.failed_requests(a, 0, 50, None).unwrap();
        st.outliers(a, 0, 10, None).unwrap();
    });
    let all: Vec<String> = samples.iter().flat_map(|(_, p)| p.clone()).collect();
    assert!(
        all.iter()
            .any(|d| d.contains("USING INDEX request_endpoint_sample")),
        "{all:?}"
    );
    // Latency samples come from the index alone, without a table lookup per row.
    assert!(
        all.iter()
            .any(|d| d.contains("USING COVERING INDEX request_endpoint_sample")),
        "{all:?}"
    );
    assert!(
        all.iter().any(|d| d.contains("USING INDEX request_failed")),
        "{all:?}"
    );
    assert!(
        all.iter().any(|d| d.contains("outlier_endpoint_time")),
        "{all:?}"
    );
    for (sql, plan) in &samples {
        assert!(
            !plan.iter().any(|d| d == "SCAN request" || d == "SCAN r"),
            "{sql} scans `request`: {plan:?}"
        );
    }
}

both_engines!(
    the_rollup_queries_count_per_hour_day_endpoint_and_version,
    samples_are_the_latest_requests_of_a_period_or_version,
    failed_requests_outliers_profiles_and_graphs,
    pruning_removes_old_outliers_profiles_rollups_and_graph_values_first,
);
