//! P1: throughput and p99 of the hello-world service under `wrk`: plain axum, fmd at
//! levels 1–3, and the peers axum-prometheus and autometrics.
//!
//! Every build of the service runs as its own process pinned to core 0 (`taskset -c 0`; the
//! fmd writer thread shares that core, as it would in production), `wrk` runs pinned to
//! core 1. All servers start first; then each round loads each of them in turn, starting
//! with a different one every round, so slow drifts of the machine hit every build alike.
//! A build's ratio to plain axum is taken within each round and the median over rounds is
//! reported. A second plain server measured like the others shows how large the noise is.

use crate::hello::Variant;
use crate::report::{self, Figure};
use crate::util::{self, median};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One build of the service, as started.
struct Server {
    label: String,
    variant: Variant,
    level: Option<u8>,
    failing: bool,
    child: Child,
    url: String,
    database: Option<PathBuf>,
    sent: u64,
    runs: Vec<Run>,
}

/// What one `wrk` run reported.
#[derive(Debug, Clone, Copy, Default)]
struct Run {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    requests: u64,
}

fn start(
    variant: Variant,
    level: Option<u8>,
    failing: bool,
    label: &str,
) -> Result<Server, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut cmd = Command::new("taskset");
    cmd.args(["-c", "0"])
        .arg(exe)
        .args(["server", variant.name()]);
    if failing {
        cmd.arg("--fail");
    }
    let mut database = None;
    if let Some(level) = level {
        let db = util::bench_dir()
            .join("scratch/load")
            .join(format!("{}.db", label.replace([' ', ','], "_")));
        cmd.env("FMD_LEVEL", level.to_string())
            .env("FMD_DATABASE", &db)
            .env("FMD_PASSWORD", "bench-password-1");
        database = Some(db);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start taskset (util-linux): {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let addr = line
        .trim()
        .strip_prefix("listening ")
        .ok_or_else(|| format!("server {label} did not start: {line:?}"))?;
    Ok(Server {
        label: label.to_owned(),
        variant,
        level,
        failing,
        child,
        url: format!("http://{addr}/hello"),
        database,
        sent: 0,
        runs: Vec::new(),
    })
}

/// A `wrk` duration such as `230.12us`, `1.20ms` or `2.00s`, in milliseconds.
fn parse_ms(text: &str) -> Option<f64> {
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (text, 1.0)
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

fn parse_wrk(out: &str) -> Option<Run> {
    let mut run = Run::default();
    for line in out.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", rps] => run.rps = rps.parse().ok()?,
            ["50%", v] => run.p50_ms = parse_ms(v)?,
            ["99%", v] => run.p99_ms = parse_ms(v)?,
            [n, "requests", "in", ..] => run.requests = n.parse().ok()?,
            _ => {}
        }
    }
    (run.rps > 0.0).then_some(run)
}

/// Runs `wrk` on core 1 against `url`.
fn wrk(url: &str, seconds: u32, connections: u32) -> Result<Run, String> {
    let out = Command::new("taskset")
        .args(["-c", "1", "wrk", "-t1", "--latency"])
        .arg(format!("-c{connections}"))
        .arg(format!("-d{seconds}s"))
        .arg(url)
        .output()
        .map_err(|e| format!("cannot run wrk: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    parse_wrk(&text).ok_or_else(|| format!("wrk gave no figures for {url}: {text}"))
}

/// Stops a server with SIGINT (so fmd stores its queue) and waits for it.
fn stop(server: &mut Server) {
    let _ = Command::new("kill")
        .args(["-INT", &server.child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = server.child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = server.child.kill();
    let _ = server.child.wait();
}

fn stored_requests(db: &PathBuf) -> Option<u64> {
    let conn = rusqlite::Connection::open(db).ok()?;
    conn.query_row("SELECT count(*) FROM request", [], |r| r.get::<_, i64>(0))
        .ok()
        .map(|n| n as u64)
}

/// The builds measured: (variant, fmd level, label).
fn builds() -> Vec<(Variant, Option<u8>, &'static str)> {
    vec![
        (Variant::Plain, None, "plain"),
        (Variant::Plain, None, "plain (again)"),
        (Variant::Fmd, Some(1), "fmd level 1"),
        (Variant::Fmd, Some(2), "fmd level 2"),
        (Variant::Fmd, Some(3), "fmd level 3"),
        (Variant::Peer, None, "axum-prometheus"),
        (Variant::Autometrics, None, "autometrics"),
    ]
}

/// Runs P1 and saves its figures.
pub fn run() -> Result<(), String> {
    let rounds = util::pick(8, 1);
    let seconds = util::pick(3, 1);
    let connections = 32;
    util::scratch_dir("load");
    let mut servers = Vec::new();
    for failing in [false, true] {
        for (variant, level, label) in builds() {
            let label = if failing {
                format!("{label}, 10 % failing")
            } else {
                label.to_owned()
            };
            servers.push(start(variant, level, failing, &label)?);
        }
    }
    let result = measure(&mut servers, rounds, seconds, connections);
    for s in &mut servers {
        stop(s);
    }
    result?;
    let figures = figures(&servers, rounds, seconds, connections);
    report::save("load", &figures).map_err(|e| e.to_string())
}

fn measure(
    servers: &mut [Server],
    rounds: usize,
    seconds: u32,
    connections: u32,
) -> Result<(), String> {
    if !util::smoke() {
        for s in servers.iter_mut() {
            s.sent += wrk(&s.url, 1, connections)?.requests; // warm-up, not counted
        }
    }
    let n = servers.len();
    for round in 0..rounds {
        for i in 0..n {
            let s = &mut servers[(round + i) % n];
            let run = wrk(&s.url, seconds, connections)?;
            s.sent += run.requests;
            s.runs.push(run);
        }
        eprintln!("P1: round {} of {rounds} done", round + 1);
    }
    Ok(())
}

fn figures(servers: &[Server], rounds: usize, seconds: u32, connections: u32) -> Vec<Figure> {
    let mut out = Vec::new();
    let setup = format!(
        "{rounds} rounds × {seconds} s, wrk -t1 -c{connections}; server on core 0, wrk on core 1"
    );
    for failing in [false, true] {
        let group: Vec<&Server> = servers.iter().filter(|s| s.failing == failing).collect();
        let Some(plain) = group.iter().find(|s| s.variant == Variant::Plain) else {
            continue;
        };
        let ratio_to = |s: &Server, base: &Server| -> Vec<f64> {
            s.runs
                .iter()
                .zip(&base.runs)
                .map(|(a, b)| a.rps / b.rps)
                .collect()
        };
        for s in &group {
            let rps: Vec<f64> = s.runs.iter().map(|r| r.rps).collect();
            let p99: Vec<f64> = s.runs.iter().map(|r| r.p99_ms).collect();
            let p50: Vec<f64> = s.runs.iter().map(|r| r.p50_ms).collect();
            let ratios = ratio_to(s, plain);
            let spread = format!(
                "ratio per round {:.3}–{:.3}",
                ratios.iter().copied().fold(f64::INFINITY, f64::min),
                ratios.iter().copied().fold(0.0, f64::max)
            );
            let mut note = format!(
                "{:.0} req/s, p50 {:.2} ms, p99 {:.2} ms (medians)",
                median(&rps),
                median(&p50),
                median(&p99)
            );
            if let Some(db) = &s.database
                && let Some(stored) = stored_requests(db)
            {
                note.push_str(&format!(
                    "; {stored} requests stored, wrk counted {}",
                    s.sent
                ));
            }
            if std::ptr::eq(*s, *plain) {
                out.push(
                    Figure::info("P1", &s.label, format!("{:.0} req/s", median(&rps))).note(note),
                );
                continue;
            }
            let ratio = median(&ratios);
            let what = format!("{} / plain, throughput", s.label);
            let figure = if s.level == Some(1) {
                Figure::goal("P1", what, format!("{ratio:.3}"), "≥ 0.97", ratio >= 0.97)
            } else {
                Figure::info("P1", what, format!("{ratio:.3}"))
            };
            out.push(figure.note(format!("{note}; {spread}")));
        }
        let level1 = group.iter().find(|s| s.level == Some(1));
        for peer_variant in [Variant::Peer, Variant::Autometrics] {
            let peer = group.iter().find(|s| s.variant == peer_variant);
            if let (Some(l1), Some(peer)) = (level1, peer) {
                let ratio = median(&ratio_to(l1, peer));
                let what = format!("{} / {}, throughput", l1.label, peer.label);
                let figure = if peer_variant == Variant::Peer {
                    let ahead = ratio > 1.0;
                    Figure::goal(
                        "P1",
                        what,
                        format!("{ratio:.3}"),
                        "> 1 (ahead of the peer)",
                        ahead,
                    )
                } else {
                    // autometrics stores nothing: shown beside fmd, no goal of its own.
                    Figure::info("P1", what, format!("{ratio:.3}"))
                };
                out.push(figure.note(setup.clone()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_output() {
        let out = "Running 1s test @ http://127.0.0.1:1/hello\n  1 threads and 32 connections\n  \
            Latency Distribution\n     50%  228.00us\n     75%  300.00us\n     90%  1.00ms\n     \
            99%    1.20ms\n  12345 requests in 1.00s, 1.80MB read\nRequests/sec:  12345.67\n";
        let run = parse_wrk(out).expect("figures");
        assert_eq!(run.requests, 12345);
        assert!((run.rps - 12345.67).abs() < 1e-6);
        assert!((run.p50_ms - 0.228).abs() < 1e-9);
        assert!((run.p99_ms - 1.2).abs() < 1e-9);
    }
}
