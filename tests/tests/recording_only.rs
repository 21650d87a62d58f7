//! Recording without the pages: `fmd = { default-features = false, features = ["axum"] }`
//! builds none of the dashboard's heavy crates, and still records.
//!
//! The dependency check reads `cargo tree`; the recording check builds the small app of
//! examples/hello with that feature set (its own workspace, so nothing of the dashboard is
//! unified in), runs it, sends it a real request and reads the stored row back from its
//! SQLite file.

use fmd_tests::spine;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What recording only must leave out (and their trees): the pages' templates, the
/// highlighter, the charts, password hashing, the OpenAPI document, the statistics.
const DASHBOARD_ONLY: [&str; 6] = ["maud", "syntect", "plotters", "argon2", "utoipa", "statrs"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_owned()
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
}

/// The crate names of `cargo tree -e normal -p fmd` with `features`.
fn normal_dependencies(features: &[&str]) -> Vec<String> {
    let out = cargo()
        .current_dir(root())
        .args(["tree", "-e", "normal", "-p", "fmd", "--prefix", "none"])
        .args(features)
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn recording_only_leaves_the_dashboard_crates_out() {
    let recording = normal_dependencies(&["--no-default-features", "--features", "axum"]);
    let full = normal_dependencies(&[]);
    println!(
        "crates: {} recording only, {} with the dashboard",
        recording.len(),
        full.len()
    );
    for name in DASHBOARD_ONLY {
        assert!(
            full.iter().any(|n| n == name),
            "{name} is in the default tree"
        );
        assert!(
            !recording.iter().any(|n| n == name),
            "{name} is built for recording only"
        );
    }
    for needed in ["fmd-runtime", "fmd-macros", "axum", "rusqlite"] {
        assert!(recording.iter().any(|n| n == needed), "{needed} is missing");
    }
}

#[tokio::test]
async fn an_app_built_for_recording_only_stores_its_requests() {
    let app = root().join("examples/hello");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
        .join("hello-record");
    let built = cargo()
        .current_dir(&app)
        .args(["build", "--features", "record"])
        .env("CARGO_TARGET_DIR", &target)
        // a smaller build dir; line numbers are not what this test looks at
        .env("CARGO_PROFILE_DEV_DEBUG", "0")
        .status()
        .expect("run cargo build");
    assert!(
        built.success(),
        "examples/hello builds with --features record"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let database = dir.path().join("fmd.db");
    let mut child = Command::new(target.join("debug/fmd-hello"))
        .env("PORT", "0")
        .env("FMD_DATABASE", &database)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start fmd-hello");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("fmd-hello says where it listens");
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("listening on ")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));

    let hello = spine::get(addr, "/hello/world").await;
    assert_eq!(hello.status, 200);
    assert_eq!(hello.body, "hello, world");
    // bind mounted no dashboard
    assert_eq!(spine::get(addr, "/dashboard").await.status, 404);

    let sent = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("kill");
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "fmd-hello did not exit");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "a clean exit after SIGTERM: {status}");

    let rows: Vec<(String, String, i64)> = {
        let db = spine::db(&database);
        let mut q = db
            .prepare("SELECT method, route, status FROM request_text ORDER BY id")
            .expect("query requests");
        q.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("read requests")
            .map(|r| r.expect("a row"))
            .collect()
    };
    println!("stored: {rows:?}");
    assert!(
        rows.contains(&("GET".to_owned(), "/hello/{name}".to_owned(), 200)),
        "the monitored request is stored: {rows:?}"
    );
}
