//! Helpers for the level 2 / level 3 tests: requests with headers, the raw bytes of the
//! database files, and the stored call trees and outliers.

use crate::spine::Reply;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends one HTTP/1.1 request with extra header lines over a new connection.
pub async fn send_with(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Reply {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.ok()?;
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("Content-Length: 0\r\nConnection: close\r\n\r\n");
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

/// Every byte SQLite keeps for the database at `path`: the file, its write-ahead log and
/// its shared-memory index (those that exist).
pub fn database_bytes(path: &Path) -> Vec<u8> {
    let mut all = std::fs::read(path).expect("read the database file");
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        if let Ok(bytes) = std::fs::read(&name) {
            all.extend(bytes);
        }
    }
    all
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// One stored call-tree node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Pre-order position.
    pub position: i64,
    /// Parent position.
    pub parent: Option<i64>,
    /// Depth, 0 for a root.
    pub depth: i64,
    /// The function's name.
    pub function: String,
    /// Merged calls.
    pub calls: i64,
    /// Inclusive time (µs).
    pub total_us: i64,
    /// Own time (µs).
    pub self_us: i64,
}

/// The call tree stored for a request, in pre-order.
pub fn profile_of(conn: &rusqlite::Connection, request_id: i64) -> Vec<Node> {
    let mut stmt = conn
        .prepare(
            "SELECT p.position, p.parent, p.depth, l.name, p.calls, p.total_us, p.self_us
             FROM profile_node p JOIN function_location l ON l.id = p.location_id
             WHERE p.request_id = ?1 ORDER BY p.position",
        )
        .expect("prepare");
    stmt.query_map([request_id], |r| {
        Ok(Node {
            position: r.get(0)?,
            parent: r.get(1)?,
            depth: r.get(2)?,
            function: r.get(3)?,
            calls: r.get(4)?,
            total_us: r.get(5)?,
            self_us: r.get(6)?,
        })
    })
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

/// The function names of a stored snapshot, innermost first.
pub fn snapshot_functions(conn: &rusqlite::Connection, snapshot_id: i64) -> Vec<String> {
    let mut stmt = conn
        .prepare(
            "SELECT l.name FROM exception_stackline s
             JOIN exception_frame f ON f.id = s.frame_id
             JOIN function_location l ON l.id = f.location_id
             WHERE s.snapshot_id = ?1 ORDER BY s.position",
        )
        .expect("prepare");
    stmt.query_map([snapshot_id], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}
