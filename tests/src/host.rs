//! The host application as a separate process (`fault_host`), a client that loads it over
//! 127.0.0.1 and measures its latency, and what the fault tests read back.
//!
//! The process is the program under test: it has its own fmd monitor, queue and writer,
//! so the tests can lock, hide, fill or delete its database from outside, `kill -9` it,
//! and run several at once against one file.

use serde_json::Value;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Password of the dashboard's first admin in every host process.
pub const PASSWORD: &str = "fault-test-password";

/// A running `fault_host` process.
pub struct HostProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl HostProcess {
    /// Starts `exe` (pass `env!("CARGO_BIN_EXE_fault_host")`) on `database` (a SQLite
    /// path or a `postgres://` URL), with extra `FMD_*` variables, and waits until it
    /// listens.
    pub fn start(exe: &str, database: impl AsRef<OsStr>, env: &[(&str, &str)]) -> HostProcess {
        let mut cmd = Command::new(exe);
        cmd.env("FMD_DATABASE", database)
            .env("FMD_PASSWORD", PASSWORD)
            .env("FMD_USERNAME", "admin")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start fault_host");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let first = lines
            .recv_timeout(Duration::from_secs(60))
            .expect("fault_host says where it listens");
        let addr = first
            .strip_prefix("listening ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
        HostProcess {
            stdin: child.stdin.take(),
            child,
            lines,
            addr,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// fmd's counters in the process right now.
    pub async fn stats(&self) -> Value {
        let reply = request(self.addr, "GET", "/_stats", &[], "").await;
        assert_eq!(reply.status, 200, "stats: {}", reply.body);
        serde_json::from_str(&reply.body).expect("stats JSON")
    }

    /// Waits until every queued event is stored (or `limit` passes); returns the counters.
    pub async fn settle(&self, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let s = self.stats().await;
            let done = s["events_stored"] == s["events_queued"] && s["storage_failing"] == false;
            if done || Instant::now() > deadline {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clean shutdown: closes standard input, waits for the process to store what is
    /// queued and exit; returns its final `{flushed, stats}`.
    pub fn shutdown(mut self) -> Value {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(60);
        let final_line = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with("final ") => break line,
                Ok(_) => continue,
                Err(_) => panic!("fault_host did not shut down"),
            }
        };
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "fault_host exited with {status}");
        serde_json::from_str(&final_line["final ".len()..]).expect("final JSON")
    }

    /// `kill -9`: the process gets no chance to store anything more.
    pub fn kill9(mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }
}

impl Drop for HostProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response as the raw client saw it.
#[derive(Debug, Default)]
pub struct Reply {
    /// Status code, 0 when the exchange failed.
    pub status: u16,
    /// Header lines, lower-cased names.
    pub headers: Vec<(String, String)>,
    /// Body text.
    pub body: String,
}

impl Reply {
    /// The values of `Set-Cookie` named `name`: (value, the whole header).
    pub fn cookie(&self, name: &str) -> Option<(String, String)> {
        self.headers
            .iter()
            .filter(|(k, _)| k == "set-cookie")
            .find_map(|(_, v)| {
                let (kv, _) = v.split_once(';').unwrap_or((v, ""));
                let (k, val) = kv.split_once('=')?;
                (k == name).then(|| (val.to_owned(), v.clone()))
            })
    }
}

/// One HTTP/1.1 exchange over a new connection, with extra headers and a body.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.ok()?;
        let mut head = format!(
            "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        head.push_str(body);
        stream.write_all(head.as_bytes()).await.ok()?;
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw).await;
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n")?;
        let mut lines = head.lines();
        let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Some(Reply {
            status,
            headers,
            body: body.to_owned(),
        })
    };
    tokio::time::timeout(Duration::from_secs(30), exchange)
        .await
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Logs in to the dashboard of a `fault_host` at `addr`; returns the session cookie header.
pub async fn login(addr: SocketAddr) -> String {
    login_as(addr, "admin", PASSWORD).await
}

/// Logs in to the dashboard at `addr`; returns the session cookie header.
pub async fn login_as(addr: SocketAddr, user: &str, password: &str) -> String {
    let form = request(addr, "GET", "/dashboard/login", &[], "").await;
    let (pre_session, _) = form.cookie("fmd_login").expect("login cookie");
    let cookie = format!("fmd_login={pre_session}");
    let token = crate::dashboard_fixture::csrf_in(&form.body).expect("the form's csrf field");
    let reply = request(
        addr,
        "POST",
        "/dashboard/login",
        &[
            ("Cookie", &cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &format!("username={user}&password={password}&csrf={token}"),
    )
    .await;
    let (sid, _) = reply.cookie("fmd_session").expect("logged in");
    format!("fmd_session={sid}")
}

/// The weather requests the load sends, with the status and a piece of the body each
/// must answer with.
pub const WORKLOAD: &[(&str, u16, &str)] = &[
    ("/forecast/amsterdam", 200, "\"sky\":\"overcast\""),
    ("/forecast/atlantis", 404, "unknown city \"atlantis\""),
    ("/health", 200, "ok"),
];

/// What a load run saw.
#[derive(Debug, Default, Clone)]
pub struct Load {
    /// Requests sent.
    pub sent: u64,
    /// Answered with the right status and body.
    pub correct: u64,
    /// Latency of each correct answer.
    pub latencies: Vec<Duration>,
}

impl Load {
    /// The `q` quantile (0.0–1.0) of the latencies, in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        let mut l = self.latencies.clone();
        if l.is_empty() {
            return 0.0;
        }
        l.sort();
        let i = ((l.len() - 1) as f64 * q).round() as usize;
        l[i].as_secs_f64() * 1000.0
    }

    /// `sent=… correct=… p50=… p99=… max=…` for the figures in RELIABILITY.md.
    pub fn summary(&self) -> String {
        format!(
            "sent={} correct={} p50={:.2}ms p99={:.2}ms max={:.2}ms",
            self.sent,
            self.correct,
            self.quantile_ms(0.5),
            self.quantile_ms(0.99),
            self.quantile_ms(1.0)
        )
    }

    /// Adds another run's figures.
    pub fn merge(&mut self, other: Load) {
        self.sent += other.sent;
        self.correct += other.correct;
        self.latencies.extend(other.latencies);
    }
}

/// Sends [`WORKLOAD`] round-robin from `clients` concurrent clients until `count` requests
/// are sent or `duration` has passed, whichever comes first.
pub async fn load(addr: SocketAddr, clients: usize, count: u64, duration: Duration) -> Load {
    let deadline = Instant::now() + duration;
    let next = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut seen = Load::default();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= count || Instant::now() > deadline {
                    return seen;
                }
                let (path, status, needle) = WORKLOAD[i as usize % WORKLOAD.len()];
                let start = Instant::now();
                let reply = request(addr, "GET", path, &[], "").await;
                seen.sent += 1;
                if reply.status == status && reply.body.contains(needle) {
                    seen.correct += 1;
                    seen.latencies.push(start.elapsed());
                }
            }
        }));
    }
    let mut total = Load::default();
    for t in tasks {
        total.merge(t.await.expect("client task"));
    }
    total
}

/// Rows in the `request` table of `database` (waiting out a writer's lock).
pub fn stored_requests(database: &Path) -> u64 {
    let conn = rusqlite::Connection::open(database).expect("open database");
    conn.busy_timeout(Duration::from_secs(10)).expect("timeout");
    conn.query_row("SELECT count(*) FROM request_text", [], |r| {
        r.get::<_, i64>(0)
    })
    .expect("count requests") as u64
}

/// `PRAGMA integrity_check` of `database`.
pub fn integrity(database: &Path) -> String {
    let conn = rusqlite::Connection::open(database).expect("open database");
    conn.busy_timeout(Duration::from_secs(10)).expect("timeout");
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity check")
}

/// Another process (python3's sqlite3 module) that holds `BEGIN EXCLUSIVE` on `database`
/// for `hold`; returns once it holds the lock.
pub fn lock_from_another_process(database: &Path, hold: Duration) -> Child {
    let script = format!(
        "import sqlite3, sys, time\n\
         c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)\n\
         c.execute('BEGIN EXCLUSIVE')\n\
         print('locked', flush=True)\n\
         time.sleep({})\n\
         c.execute('ROLLBACK')\n",
        hold.as_secs_f64()
    );
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(database)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is needed for the lock test (apt-get install python3)");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    assert_eq!(line.trim(), "locked", "the other process holds the lock");
    child
}

/// Runs a command that must succeed (chattr, mount, ...).
pub fn run(program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} {args:?}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Writes zeroes to `path` until its file system is full (the disk-full test's ballast);
/// returns how many bytes fitted.
pub fn fill(path: &Path) -> u64 {
    let mut f = std::fs::File::create(path).expect("ballast");
    let block = vec![0u8; 64 * 1024];
    let mut written = 0;
    loop {
        match f.write(&block) {
            Ok(0) | Err(_) => break,
            Ok(n) => written += n as u64,
        }
    }
    let _ = f.flush();
    written
}
