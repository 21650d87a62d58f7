//! A process stopped with Ctrl-C (SIGINT) or SIGTERM loses none of its recent requests when
//! it serves with `fmd::axum::serve`: the server drains, fmd stores what is queued, then
//! the process exits. (With a bare `axum::serve(..).await; fmd::shutdown();` the shutdown
//! never ran on Ctrl-C: 0 of 20 recent requests were stored.)

use fmd_tests::spine;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_signal_host");

async fn stop_with(signal: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = dir.path().join("fmd.db");
    let mut child = Command::new(EXE)
        .env("FMD_DATABASE", &database)
        .env("FMD_USERNAME", "admin")
        .env("FMD_PASSWORD", "signal-test-password")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start signal_host");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("signal_host says where it listens");
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("listening ")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    for _ in 0..20 {
        assert_eq!(spine::get(addr, "/work").await.status, 200);
    }
    // At once: the writer is still gathering its first batch.
    let sent = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .expect("kill");
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "signal_host did not exit after {signal}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "a clean exit after {signal}: {status}");
    let (stored, with_address): (i64, i64) = spine::db(&database)
        .query_row(
            "SELECT count(*), count(ip) FROM request_text WHERE route = '/work'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("count requests");
    println!("{signal}: {stored} of 20 requests stored, {with_address} with the client address");
    assert_eq!(stored, 20, "every request before {signal} was stored");
    assert_eq!(with_address, 20, "serve passes the client address");
}

#[tokio::test]
async fn ctrl_c_stores_every_recent_request() {
    stop_with("INT").await;
}

#[tokio::test]
async fn sigterm_stores_every_recent_request() {
    stop_with("TERM").await;
}
