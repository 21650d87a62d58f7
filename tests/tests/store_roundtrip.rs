//! What the writer stores, read back through the dashboard's queries, on both engines: the
//! same events written through each engine's `Store` give the same pages' data — errors
//! grouped with their traces and counters, outliers with their stack, call trees, custom
//! graph values, levels. Also texts PostgreSQL is strict about: a message longer than a
//! B-tree entry, and NUL characters.

use std::borrow::Cow;
use std::sync::Arc;

use fmd::prelude::*;
use fmd_runtime::FnInfo;
use fmd_runtime::model::event::{
    ErrorKind, ErrorRecord, Event, OutlierEvent, ProfileCall, ProfileEvent, RequestEvent, Sample,
    TraceFrame,
};
use fmd_runtime::store::read::GroupSort;
use fmd_runtime::store::sqlite::SqliteReader;
use fmd_runtime::store::{AnyReader, WriteOptions, open_store};
use fmd_tests::both_engines;
use fmd_tests::dashboard_fixture::now_ms;
use fmd_tests::engines::{Engine, fresh_database};

/// Innermost traced function.
#[capture]
fn lookup(id: u32) -> Result<u32, std::fmt::Error> {
    if id == 0 {
        return Err(std::fmt::Error);
    }
    Ok(id)
}

/// Outer traced function.
#[capture]
fn handle(id: u32) -> Result<u32, std::fmt::Error> {
    let found = lookup(id)?;
    Ok(found)
}

fn info(name: &str) -> &'static FnInfo {
    fmd_runtime::registry::functions()
        .find(|f| f.name == name && f.module == module_path!())
        .unwrap_or_else(|| panic!("{name} is registered"))
}

fn error(message: &str, time_ms: i64) -> ErrorRecord {
    ErrorRecord {
        kind: ErrorKind::Uncaught,
        type_name: Cow::Borrowed("app::LookupError"),
        message: message.to_owned(),
        sources: vec!["disk\0full".to_owned()],
        frames: vec![
            TraceFrame::App {
                info: info("lookup"),
                line: info("lookup").start_line + 3,
                repeat: 1,
            },
            TraceFrame::App {
                info: info("handle"),
                line: info("handle").start_line + 2,
                repeat: 2,
            },
            TraceFrame::Other {
                name: "tokio::runtime::poll".into(),
                file: "tokio/src/runtime.rs".into(),
                line: 7,
            },
        ],
        omitted_frames: 0,
        time_ms,
        native: None,
    }
}

fn request(time_ms: i64, duration_us: u64, status: u16) -> RequestEvent {
    RequestEvent {
        endpoint: Cow::Borrowed("app::handle"),
        route: Arc::from("/items/{id}"),
        method: Cow::Borrowed("GET"),
        time_ms,
        duration_us,
        status: Some(status),
        cancelled: false,
        level: 3,
        ip: Some("10.0.0.9".into()),
        group_by: Some("user\0one".into()),
        errors: Vec::new(),
        outlier: None,
        profile: None,
        link: None,
    }
}

fn the_writer_stores_what_the_pages_read(engine: Engine) {
    let (database, _dir) = fresh_database(engine);
    let now = now_ms();
    let long = format!("record {} not found\0", "x".repeat(10_000));
    let mut failing = request(now - 2_000, 5_000, 500);
    failing.errors = vec![error(&long, now - 2_000), error(&long, now - 1_999)];
    let mut slow = request(now - 1_000, 90_000, 200);
    slow.outlier = Some(Box::new(OutlierEvent {
        url: "/items/7?token=[scrubbed]".into(),
        headers: vec![("accept".into(), "text/html".into())],
        typical_us: 10_000,
        threshold_us: 25_000,
        stack: vec![TraceFrame::App {
            info: info("handle"),
            line: info("handle").start_line + 2,
            repeat: 1,
        }],
        cpu_percent: Some(12.5),
        memory_bytes: Some(1 << 20),
    }));
    slow.profile = Some(Box::new(ProfileEvent {
        calls: vec![
            ProfileCall {
                parent: None,
                info: info("handle"),
                calls: 1,
                total_us: 80_000,
            },
            ProfileCall {
                parent: Some(0),
                info: info("lookup"),
                calls: 3,
                total_us: 60_000,
            },
        ],
        cut: 2,
    }));
    let mut unstored = request(now - 500, 100, 200);
    unstored.level = 0;
    let events = vec![
        Event::Request(Box::new(failing)),
        Event::Request(Box::new(slow)),
        Event::Request(Box::new(unstored)),
        Event::Error(Box::new(error("background job failed", now - 100))),
        Event::Sample(Box::new(Sample {
            graph: Arc::from("queue depth"),
            time_ms: now - 100,
            value: 4.0,
        })),
    ];
    let options = WriteOptions {
        version: "3.1.0".into(),
        instance: "web-1".into(),
        store_source: true,
        normalize_messages: false,
        git_commit: Some("abc1234".into()),
    };
    let mut store = open_store(&database).expect("open the store");
    assert_eq!(store.write_batch(&events, &options).expect("write"), 5);
    // A second batch meets everything cached: the group's counter grows.
    let mut again = request(now - 10, 4_000, 500);
    again.errors = vec![error(&long, now - 10)];
    store
        .write_batch(&[Event::Request(Box::new(again))], &options)
        .expect("write again");

    let mut st = AnyReader::open(&database).expect("reader");
    let overview = st.overview(now, None).expect("overview");
    let names: Vec<&str> = overview.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["(background)", "app::handle"]);
    let e = &overview[1];
    assert_eq!(
        (e.today.hits, e.all.hits),
        (3, 3),
        "level 0 stores no request row"
    );
    assert_eq!(
        e.last_requested,
        Some(now - 10),
        "every request moves last_requested"
    );
    assert_eq!((e.server_errors_week, e.exception_groups), (2, 1));

    let groups = st
        .groups(Some(e.id), GroupSort::Count, true, 0, 10)
        .expect("groups");
    assert_eq!(groups.total, 1);
    let g = &groups.rows[0];
    assert_eq!(g.count, 3, "three occurrences over two batches");
    assert_eq!(g.type_name, "app::LookupError");
    assert!(g.message.starts_with("record ") && g.message.len() > 10_000);
    if engine == Engine::Postgres {
        // PostgreSQL text cannot hold NUL: it is stored as U+FFFD, the rest kept.
        assert!(g.message.ends_with('\u{FFFD}'), "{}", &g.message[10_000..]);
    }
    let detail = st
        .group_detail(g.id, now, 10)
        .expect("detail")
        .expect("group");
    assert_eq!(detail.source_chain.len(), 1);
    assert_eq!(detail.histogram.counts.iter().sum::<u64>(), 3);
    let frames: Vec<(&str, bool, u32)> = detail
        .frames
        .iter()
        .map(|f| (f.name.as_str(), f.in_app, f.repeat))
        .collect();
    assert_eq!(
        frames,
        [
            ("lookup", true, 1),
            ("handle", true, 2),
            ("tokio::runtime::poll", false, 1)
        ]
    );
    assert!(
        detail.frames[0]
            .code
            .as_deref()
            .unwrap_or("")
            .contains("fn lookup")
    );

    let outliers = st.outliers(e.id, 0, 10, None).expect("outliers");
    assert_eq!(outliers.total, 1);
    let o = &outliers.rows[0];
    assert_eq!((o.duration_us, o.threshold_us), (90_000, 25_000));
    assert_eq!(
        o.headers,
        vec![("accept".to_owned(), "text/html".to_owned())]
    );
    assert_eq!(o.cpu_percent, Some(12.5));
    assert_eq!(o.stack.len(), 1);

    let trees = st
        .profiled_requests(e.id, 10, Some("web-1"))
        .expect("profiles");
    assert_eq!(trees.len(), 1);
    let nodes: Vec<(u32, Option<u32>, &str, u64)> = trees[0]
        .nodes
        .iter()
        .map(|n| (n.position, n.parent, n.name.as_str(), n.calls))
        .collect();
    assert_eq!(nodes[0], (0, None, "handle", 1));
    assert_eq!(nodes[1], (1, Some(0), "lookup", 3));
    assert_eq!(
        (nodes[2].1, nodes[2].3),
        (None, 2),
        "the cut calls as one last root"
    );

    let graphs = st.custom_graphs().expect("graphs");
    assert_eq!(graphs.len(), 1);
    let points = st
        .graph_points(graphs[0].id, now - 1_000, now, 10)
        .expect("points");
    assert_eq!(points.iter().map(|p| p.samples).sum::<u64>(), 1);
    let versions = st.versions().expect("versions");
    assert_eq!(versions[0].git_commit.as_deref(), Some("abc1234"));
    assert_eq!(st.instances().expect("instances").len(), 1);

    assert_eq!(
        st.set_endpoint_level(e.id, Some(2)).expect("level"),
        Some("app::handle".to_owned())
    );
    assert_eq!(
        store.stored_levels().expect("levels"),
        [("app::handle".to_owned(), 2)]
    );
    let failed = st.failed_requests(e.id, 0, 10, None).expect("failed");
    assert_eq!(failed.total, 2);
    assert_eq!(failed.rows[0].group_id, Some(g.id));
    let _ = handle(1);

    // Every reference stored holds, also after retention removed the older rows.
    if let Some(reader) = st.downcast_mut::<SqliteReader>() {
        assert_eq!(dangling_references(reader), Vec::<String>::new());
        let report = st.prune(now - 1_500).expect("prune");
        assert!(report.requests >= 1, "{report:?}");
        let reader = st.downcast_mut::<SqliteReader>().expect("still SQLite");
        assert_eq!(dangling_references(reader), Vec::<String>::new());
    }
}

/// `PRAGMA foreign_key_check`: every row whose reference points nowhere, as text.
fn dangling_references(reader: &mut SqliteReader) -> Vec<String> {
    let conn = reader.connection();
    let mut stmt = conn.prepare("PRAGMA foreign_key_check").unwrap();
    stmt.query_map([], |r| {
        Ok(format!(
            "{} row {:?} -> {}",
            r.get::<_, String>(0)?,
            r.get::<_, Option<i64>>(1)?,
            r.get::<_, String>(2)?
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

both_engines!(the_writer_stores_what_the_pages_read);

/// Error B: another type, message and trace than [`error`]'s.
fn other_error(time_ms: i64) -> ErrorRecord {
    ErrorRecord {
        kind: ErrorKind::Uncaught,
        type_name: Cow::Borrowed("app::OtherError"),
        message: "error B".to_owned(),
        sources: vec!["cause B".to_owned()],
        frames: vec![TraceFrame::Other {
            name: "other::b".into(),
            file: "other/src/b.rs".into(),
            line: 42,
        }],
        omitted_frames: 0,
        time_ms,
        native: None,
    }
}

/// What the endpoint's groups show: (type, message, frame names), newest first.
fn shown_groups(st: &mut AnyReader, now: i64) -> Vec<(String, String, Vec<String>)> {
    let groups = st
        .groups(None, GroupSort::LastSeen, true, 0, 10)
        .expect("groups");
    groups
        .rows
        .iter()
        .map(|g| {
            let detail = st.group_detail(g.id, now, 10).unwrap().unwrap();
            let frames = detail.frames.iter().map(|f| f.name.clone()).collect();
            (g.type_name.clone(), g.message.clone(), frames)
        })
        .collect()
}

/// Stores error A, lets the dashboard remove it (`remove`), stores B, then A again: the
/// writer's cached ids of A's type, message, frames and snapshot must not now name B's
/// rows (SQLite hands the largest rowid out again once it is deleted).
fn after_removal_each_error_keeps_its_own(engine: Engine, remove: fn(&mut AnyReader, i64)) {
    let (database, _dir) = fresh_database(engine);
    let now = now_ms();
    let options = WriteOptions {
        version: "1".into(),
        instance: "web-1".into(),
        store_source: true,
        normalize_messages: false,
        git_commit: None,
    };
    let mut store = open_store(&database).expect("open the store");
    let a = |t| Event::Error(Box::new(error("error A", t)));
    store.write_batch(&[a(now - 3_000)], &options).unwrap();
    let mut st = AnyReader::open(&database).expect("reader");
    assert_eq!(shown_groups(&mut st, now).len(), 1);
    remove(&mut st, now);
    assert_eq!(shown_groups(&mut st, now), vec![], "the group is gone");

    let b = Event::Error(Box::new(other_error(now - 2_000)));
    store.write_batch(&[b], &options).unwrap();
    store.write_batch(&[a(now - 1_000)], &options).unwrap();
    let a_frames = vec![
        "lookup".to_owned(),
        "handle".to_owned(),
        "tokio::runtime::poll".to_owned(),
    ];
    assert_eq!(
        shown_groups(&mut st, now),
        vec![
            ("app::LookupError".into(), "error A".into(), a_frames),
            (
                "app::OtherError".into(),
                "error B".into(),
                vec!["other::b".to_owned()]
            ),
        ]
    );
    let detail = |st: &mut AnyReader, i: usize| {
        let id = st
            .groups(None, GroupSort::LastSeen, true, 0, 10)
            .unwrap()
            .rows[i]
            .id;
        st.group_detail(id, now, 10).unwrap().unwrap().source_chain
    };
    assert_eq!(detail(&mut st, 0), ["disk\0full"]);
    assert_eq!(detail(&mut st, 1), ["cause B"]);
    if let Some(reader) = st.downcast_mut::<SqliteReader>() {
        assert_eq!(dangling_references(reader), Vec::<String>::new());
    }
}

fn deleting_a_group_never_aliases_cached_ids(engine: Engine) {
    after_removal_each_error_keeps_its_own(engine, |st, _| {
        let groups = st.groups(None, GroupSort::LastSeen, true, 0, 10).unwrap();
        let newest = &groups.rows[0];
        assert!(st.delete_group(newest.endpoint_id, newest.id).unwrap());
    });
}

fn pruning_never_aliases_cached_ids(engine: Engine) {
    after_removal_each_error_keeps_its_own(engine, |st, now| {
        let report = st.prune(now - 2_500).expect("prune");
        assert_eq!(report.groups, 1, "{report:?}");
    });
}

both_engines!(
    deleting_a_group_never_aliases_cached_ids,
    pruning_never_aliases_cached_ids
);
