//! Helpers of the `fmd` command's tests: a real SQLite file written by the library's
//! store, and the built binary run against it.

#![allow(dead_code)]

use std::borrow::Cow;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use fmd_runtime::Database;
use fmd_runtime::model::event::{ErrorKind, ErrorRecord, Event, RequestEvent};
use fmd_runtime::store::{WriteOptions, open_store};

/// Milliseconds in a day.
pub const DAY: i64 = 86_400_000;

/// Now, Unix ms.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

/// A request of `endpoint` at `time_ms`, failing with one error when `status` is 500.
pub fn request(endpoint: &'static str, time_ms: i64, status: u16) -> Event {
    let errors = if status >= 500 {
        vec![ErrorRecord {
            kind: ErrorKind::Uncaught,
            type_name: Cow::Borrowed("app::Broken"),
            message: format!("broken at {time_ms}"),
            sources: Vec::new(),
            frames: Vec::new(),
            omitted_frames: 0,
            time_ms,
            native: None,
        }]
    } else {
        Vec::new()
    };
    Event::Request(Box::new(RequestEvent {
        endpoint: Cow::Borrowed(endpoint),
        route: Arc::from("/items/{id}"),
        method: Cow::Borrowed("GET"),
        time_ms,
        duration_us: 1_500,
        status: Some(status),
        cancelled: false,
        level: 1,
        ip: Some("10.0.0.9".into()),
        group_by: Some("user,\"one\"".into()),
        errors,
        outlier: None,
        profile: None,
        link: None,
    }))
}

/// A handler's error answered 4xx (a client error) of type `type_name` at `time_ms`.
pub fn client_error(type_name: &'static str, time_ms: i64) -> ErrorRecord {
    ErrorRecord {
        kind: ErrorKind::Client,
        type_name: Cow::Borrowed(type_name),
        message: "no such item".into(),
        sources: Vec::new(),
        frames: Vec::new(),
        omitted_frames: 0,
        time_ms,
        native: None,
    }
}

/// A temporary SQLite file holding `events`, written through the library's store.
pub struct Db {
    _dir: tempfile::TempDir,
    /// The file.
    pub path: PathBuf,
}

impl Db {
    /// Writes `events` in one batch; the store is closed before returning.
    pub fn with(events: &[Event]) -> Db {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("fmd.db");
        let options = WriteOptions {
            version: "1.2.3".into(),
            instance: "web-1".into(),
            store_source: false,
            normalize_messages: false,
            git_commit: None,
        };
        let mut store = open_store(&Database::Sqlite(path.clone())).expect("open the store");
        store.write_batch(events, &options).expect("write a batch");
        drop(store);
        Db { _dir: dir, path }
    }

    /// The standard data: two old requests (one failing), two recent ones (one failing)
    /// on two endpoints.
    pub fn standard() -> Db {
        let now = now_ms();
        Db::with(&[
            request("app::items", now - 40 * DAY, 200),
            request("app::items", now - 40 * DAY + 1, 500),
            request("app::items", now - 1_000, 200),
            request("app::orders", now - 500, 500),
        ])
    }

    /// The file's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        std::fs::read(&self.path).expect("read the database file")
    }

    /// Runs `fmd args…` on this database (through FMD_DATABASE) with `stdin`.
    pub fn fmd(&self, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
        fmd(&[("FMD_DATABASE", path_str(&self.path))], args, stdin, env)
    }
}

/// The path as a `&str` (temp paths are UTF-8 here).
pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}

/// What one run printed and returned.
#[derive(Debug)]
pub struct Run {
    /// Exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs the built `fmd` with a clean fmd environment plus `base` and `env`.
pub fn fmd(base: &[(&str, &str)], args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fmd"));
    for var in [
        "FMD_DATABASE",
        "FMD_PASSWORD",
        "FMD_USERNAME",
        "FMD_DASHBOARD_PATH",
    ] {
        command.env_remove(var);
    }
    command
        .args(args)
        .envs(base.iter().chain(env).copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("run the fmd binary");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("wait for fmd");
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// The number after `label` on a line of `text` (`"requests:   4"` → 4).
pub fn value(text: &str, label: &str) -> u64 {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no number after {label:?} in:\n{text}"))
}
