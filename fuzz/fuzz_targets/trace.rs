//! Traces: grouping and snapshot hashes of arbitrary frames, and the writer storing them
//! (interned types, messages, frames and snapshots) in a real SQLite database.
#![no_main]

use arbitrary::Arbitrary;
use fmd_runtime::model::event::{ErrorKind, ErrorRecord, Event, RequestEvent, TraceFrame};
use fmd_runtime::model::function::{FnInfo, FnKind, FnSite};
use fmd_runtime::store::grouping::{group_hash, snapshot_hash};
use fmd_runtime::store::sqlite::SqliteStore;
use fmd_runtime::store::{Store, WriteOptions};
use libfuzzer_sys::fuzz_target;
use std::borrow::Cow;
use std::sync::{Arc, Mutex, OnceLock};

const SOURCE: &str = "fn f() {\n    g()?;\n}";

static FUNCTIONS: [FnInfo; 3] = [
    FnInfo::new(FnSite { name: "handler", endpoint: None, module: "app", file: "src/app.rs", start_line: 10, end_line: 20, source: SOURCE, verbatim: true, code_hash: 1, kind: FnKind::Monitored { level: None }, crate_name: "app", crate_version: "1.0", manifest_dir: "", build_commit: "", method: false }),
    FnInfo::new(FnSite { name: "inner", endpoint: None, module: "app::db", file: "src/db.rs", start_line: 1, end_line: 3, source: SOURCE, verbatim: true, code_hash: 2, kind: FnKind::Capture, crate_name: "app", crate_version: "1.0", manifest_dir: "", build_commit: "", method: false }),
    FnInfo::new(FnSite { name: "<script>", endpoint: Some("x\"y"), module: "", file: "", start_line: 0, end_line: 0, source: "", verbatim: false, code_hash: 3, kind: FnKind::Capture, crate_name: "", crate_version: "", manifest_dir: "", build_commit: "", method: false }),
];

#[derive(Debug, Arbitrary)]
enum Frame {
    App { which: u8, line: u32, repeat: u32 },
    Other { name: String, file: String, line: u32 },
}

#[derive(Debug, Arbitrary)]
struct Input {
    type_name: String,
    message: String,
    sources: Vec<String>,
    frames: Vec<Frame>,
    omitted: u32,
    in_request: bool,
    normalize: bool,
    endpoint: String,
    route: String,
}

fn store() -> &'static Mutex<SqliteStore> {
    static STORE: OnceLock<Mutex<SqliteStore>> = OnceLock::new();
    STORE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir").keep();
        Mutex::new(SqliteStore::open(&dir.join("fuzz.db")).expect("open store"))
    })
}

fuzz_target!(|input: Input| {
    let frames: Vec<TraceFrame> = input
        .frames
        .into_iter()
        .take(256)
        .map(|f| match f {
            Frame::App { which, line, repeat } => TraceFrame::App {
                info: &FUNCTIONS[which as usize % FUNCTIONS.len()],
                line,
                repeat,
            },
            Frame::Other { name, file, line } => TraceFrame::Other {
                name: Cow::Owned(name),
                file: Cow::Owned(file),
                line,
            },
        })
        .collect();
    let record = ErrorRecord {
        kind: ErrorKind::Uncaught,
        type_name: Cow::Owned(input.type_name),
        message: input.message,
        sources: input.sources,
        frames,
        omitted_frames: input.omitted,
        time_ms: 1,
        native: None,
    };
    assert_eq!(group_hash(&record, input.normalize), group_hash(&record.clone(), input.normalize));
    assert_eq!(snapshot_hash(&record.frames), snapshot_hash(&record.frames.clone()));
    let event = if input.in_request {
        Event::Request(Box::new(RequestEvent {
            endpoint: Cow::Owned(input.endpoint),
            route: Arc::from(input.route),
            method: Cow::Borrowed("GET"),
            time_ms: 1,
            duration_us: 1,
            status: Some(500),
            cancelled: false,
            level: 1,
            ip: None,
            group_by: None,
            errors: vec![record],
            outlier: None,
            profile: None,
            link: None,
        }))
    } else {
        Event::Error(Box::new(record))
    };
    let options = WriteOptions {
        version: "1".into(),
        instance: "fuzz".into(),
        store_source: true,
        normalize_messages: input.normalize,
        git_commit: None,
    };
    let stored = store().lock().unwrap().write_batch(&[event], &options);
    assert_eq!(stored.expect("a well-formed event is stored"), 1);
});
