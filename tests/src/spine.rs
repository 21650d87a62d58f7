//! Harness for end-to-end tests of the capture spine: one fmd monitor per test binary
//! writing to a SQLite file in a temporary directory, real servers on 127.0.0.1.

use axum::Router;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

static DATABASE: OnceLock<PathBuf> = OnceLock::new();

/// Starts fmd (once per process) with `adjust` applied to a default configuration whose
/// database is a fresh temporary file; returns the database path.
pub fn start_with(adjust: impl FnOnce(&mut fmd::Config)) -> &'static Path {
    DATABASE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir").keep();
        let database = dir.join("fmd.db");
        let mut config = fmd::Config {
            database: database.clone().into(),
            password: Some("test-password".to_owned()),
            ..fmd::Config::default()
        };
        adjust(&mut config);
        fmd::init(config).expect("fmd starts");
        database
    })
}

/// Starts fmd with the defaults and a temporary database.
pub fn start() -> &'static Path {
    start_with(|_| {})
}

/// Serves `router` through `fmd::axum::bind` on a free port of 127.0.0.1.
pub async fn serve(router: Router) -> SocketAddr {
    start();
    let app = fmd::axum::bind(router);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        let _ = axum::serve(listener, service).await;
    });
    addr
}

/// A response as the raw client saw it.
#[derive(Debug)]
pub struct Reply {
    /// Status code, 0 when the connection failed or was closed without an answer.
    pub status: u16,
    /// Body text.
    pub body: String,
}

/// Sends one HTTP/1.1 request over a new connection.
pub async fn send(addr: SocketAddr, method: &str, path: &str) -> Reply {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.ok()?;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.ok()?;
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw).await;
        let text = String::from_utf8_lossy(&raw).into_owned();
        let status = text.split_whitespace().nth(1)?.parse().ok()?;
        let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
        Some(Reply { status, body })
    };
    match tokio::time::timeout(Duration::from_secs(30), exchange).await {
        Ok(Some(reply)) => reply,
        _ => Reply {
            status: 0,
            body: String::new(),
        },
    }
}

/// `GET path`.
pub async fn get(addr: SocketAddr, path: &str) -> Reply {
    send(addr, "GET", path).await
}

/// Waits until everything queued so far is stored.
pub fn flush() {
    assert!(
        fmd::monitor().flush(Duration::from_secs(20)),
        "the writer stored the queue"
    );
}

/// Opens the database read-only-ish for assertions.
pub fn db(path: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).expect("open database");
    conn.busy_timeout(Duration::from_secs(10))
        .expect("busy timeout");
    conn
}

/// One stored frame of a group's trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFrame {
    /// Function name.
    pub function: String,
    /// The line inside it (0: unknown).
    pub line: u32,
    /// Recursion count.
    pub repeat: u32,
    /// Its source text.
    pub code: Option<String>,
}

/// The trace stored for the latest occurrence of `message` on `endpoint`, innermost first.
pub fn trace_of(conn: &rusqlite::Connection, message: &str) -> Vec<StoredFrame> {
    let mut stmt = conn
        .prepare(
            "SELECT l.name, f.line, s.repeat, d.code
             FROM exception_occurrence o
             JOIN exception_message m ON m.id = o.message_id
             JOIN exception_stackline s ON s.snapshot_id = o.snapshot_id
             JOIN exception_frame f ON f.id = s.frame_id
             JOIN function_location l ON l.id = f.location_id
             LEFT JOIN function_definition d ON d.id = l.definition_id
             WHERE m.message = ?1
               AND o.id = (SELECT max(o2.id) FROM exception_occurrence o2
                           JOIN exception_message m2 ON m2.id = o2.message_id
                           WHERE m2.message = ?1)
             ORDER BY s.position",
        )
        .expect("prepare");
    stmt.query_map([message], |r| {
        Ok(StoredFrame {
            function: r.get(0)?,
            line: r.get(1)?,
            repeat: r.get(2)?,
            code: r.get(3)?,
        })
    })
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

/// The line of `file_text` that contains `marker` (1-based).
pub fn line_of(file_text: &str, marker: &str) -> u32 {
    let index = file_text
        .lines()
        .position(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("marker {marker:?} not found"));
    index as u32 + 1
}

/// The occurrence counts of the groups whose message is `message`, smallest first.
pub fn group_counts(conn: &rusqlite::Connection, message: &str) -> Vec<i64> {
    conn.prepare(
        "SELECT g.count FROM exception_group g JOIN exception_message m ON m.id = g.message_id
         WHERE m.message = ?1 ORDER BY g.count",
    )
    .expect("prepare")
    .query_map([message], |r| r.get(0))
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}
