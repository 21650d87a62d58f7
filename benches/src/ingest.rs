//! P4 and P6: how many events per second the writer thread stores, by batch size, and what
//! happens when the load outruns it.
//!
//! Each measurement runs in a child process of its own (`fmd-bench ingest-child`), so each
//! has a fresh monitor, a fresh database and its own resident memory. The producer pushes
//! realistic events ([`EventMaker`]) through the public `Monitor::send_request`:
//!
//! - *sustain*: it keeps the queue between a quarter and three quarters full, so the writer
//!   always has a full batch waiting and nothing is dropped: the stored rate is the
//!   writer's capacity.
//! - *overload*: it pushes as fast as it can; the queue fills, new events are dropped and
//!   counted, and resident memory is sampled every 20 ms (P6: the extra over the resident
//!   memory before the load).

use crate::events::EventMaker;
use crate::report::{self, Figure};
use crate::util;
use serde::{Deserialize, Serialize};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What one child measured.
#[derive(Debug, Serialize, Deserialize)]
pub struct Outcome {
    /// `sustain` or `overload`.
    pub mode: String,
    /// Events per transaction.
    pub batch: usize,
    /// Events stored per second while loaded.
    pub stored_per_s: f64,
    /// Events pushed while loaded.
    pub pushed: u64,
    /// Events dropped while loaded.
    pub dropped: u64,
    /// Resident memory before the load, bytes.
    pub rss_before: u64,
    /// Highest resident memory during the load, bytes.
    pub rss_peak: u64,
    /// Queue capacity in events.
    pub queue_capacity: usize,
}

/// The child: measures one mode at one batch size and prints an [`Outcome`] as JSON.
pub fn child(mode: &str, batch: usize, seconds: f64) -> Result<(), String> {
    let database = util::bench_dir()
        .join("scratch/ingest")
        .join(format!("{mode}-{batch}.db"));
    let _ = std::fs::remove_file(&database);
    let config = fmd::Config {
        database: database.into(),
        batch_size: batch,
        password: Some("bench-password-1".to_owned()),
        ..fmd::Config::default()
    };
    let capacity = config.queue_capacity as u64;
    let monitor = fmd::init(config).map_err(|e| e.to_string())?;
    let mut maker = EventMaker::new(7);
    let now = fmd_runtime::clock::now_ms;
    // Warm up: the writer opens the file and has seen every endpoint and function once.
    for _ in 0..4096 {
        monitor.send_request(maker.next(now()));
    }
    if !monitor.flush(Duration::from_secs(60)) {
        return Err("the writer did not store the warm-up events".into());
    }
    let rss_before = util::rss();
    let peak = Arc::new(AtomicU64::new(rss_before));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(util::rss(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let before = monitor.stats();
    let start = Instant::now();
    let mut pushed = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        if mode == "sustain" {
            let s = monitor.stats();
            let backlog = s.events_queued - s.events_stored;
            if backlog > capacity * 3 / 4 {
                std::thread::sleep(Duration::from_micros(200));
                continue;
            }
        }
        for _ in 0..256 {
            monitor.send_request(maker.next(now()));
        }
        pushed += 256;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let after = monitor.stats();
    done.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    let outcome = Outcome {
        mode: mode.to_owned(),
        batch,
        stored_per_s: (after.events_stored - before.events_stored) as f64 / elapsed,
        pushed,
        dropped: after.events_dropped - before.events_dropped,
        rss_before,
        rss_peak: peak.load(Ordering::Relaxed),
        queue_capacity: capacity as usize,
    };
    monitor.flush(Duration::from_secs(60));
    println!(
        "{}",
        serde_json::to_string(&outcome).map_err(|e| e.to_string())?
    );
    Ok(())
}

/// Pushes exactly `n` events after a warm-up and waits until they are stored. Run under
/// `valgrind --tool=callgrind` at two `n` and difference the totals: the instructions one
/// event costs producer and writer together, exact on a noisy machine (P4's profile).
pub fn count(n: u64) -> Result<(), String> {
    let database = util::bench_dir().join("scratch/ingest/count.db");
    let _ = std::fs::remove_file(&database);
    let config = fmd::Config {
        database: database.into(),
        queue_capacity: n as usize + 8192,
        password: Some("bench-password-1".to_owned()),
        ..fmd::Config::default()
    };
    let monitor = fmd::init(config).map_err(|e| e.to_string())?;
    let mut maker = EventMaker::new(7);
    let now = fmd_runtime::clock::now_ms;
    for _ in 0..4096 {
        monitor.send_request(maker.next(now()));
    }
    if !monitor.flush(Duration::from_secs(600)) {
        return Err("the writer did not store the warm-up events".into());
    }
    for _ in 0..n {
        monitor.send_request(maker.next(now()));
    }
    if !monitor.flush(Duration::from_secs(600)) {
        return Err("the writer did not store the events".into());
    }
    let s = monitor.stats();
    println!("stored {} dropped {}", s.events_stored, s.events_dropped);
    Ok(())
}

fn measure(mode: &str, batch: usize, seconds: f64) -> Result<Outcome, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new(exe)
        .args([
            "ingest-child",
            mode,
            &batch.to_string(),
            &seconds.to_string(),
        ])
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).map_err(|e| {
        format!(
            "ingest {mode} {batch}: no result ({e}): {text}{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

const MB: f64 = 1024.0 * 1024.0;

/// Runs P4 and P6 and saves their figures.
pub fn run() -> Result<(), String> {
    util::scratch_dir("ingest");
    let default_batch = fmd::Config::default().batch_size;
    let batches = util::pick(vec![16, 64, 256, 1024, 2048, 8192], vec![64, 2048]);
    let seconds = util::pick(4.0, 1.0);
    let mut figures = Vec::new();
    for batch in batches {
        let o = measure("sustain", batch, seconds)?;
        let what = format!("writer throughput into SQLite, batch {batch}");
        let value = format!("{:.0} events/s", o.stored_per_s);
        let figure = if batch == default_batch {
            Figure::goal(
                "P4",
                format!("{what} (the default)"),
                value,
                "≥ 200 000 events/s",
                o.stored_per_s >= 200_000.0,
            )
        } else {
            Figure::info("P4", what, value)
        };
        figures.push(figure.note(format!("20 % with a 5-frame trace; {} dropped", o.dropped)));
        eprintln!("P4: batch {batch}: {:.0} events/s", o.stored_per_s);
    }
    let o = measure("overload", default_batch, util::pick(6.0, 1.5))?;
    let share = o.dropped as f64 / o.pushed.max(1) as f64;
    figures.push(
        Figure::info(
            "P4",
            "at overload: stored while the producer outruns the writer",
            format!("{:.0} events/s", o.stored_per_s),
        )
        .note(format!(
            "{} pushed, {} dropped and counted ({:.0} %), queue {} events",
            o.pushed,
            o.dropped,
            share * 100.0,
            o.queue_capacity
        )),
    );
    let extra = o.rss_peak.saturating_sub(o.rss_before) as f64 / MB;
    figures.push(
        Figure::goal(
            "P6",
            "extra resident memory while the writer is slower than the load",
            format!("{extra:.1} MB"),
            "< 32 MB",
            extra < 32.0,
        )
        .note(format!(
            "peak {:.1} MB over {:.1} MB before the load (full queue of {} events)",
            o.rss_peak as f64 / MB,
            o.rss_before as f64 / MB,
            o.queue_capacity
        )),
    );
    report::save("ingest", &figures).map_err(|e| e.to_string())
}
