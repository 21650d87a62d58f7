//! Settings shared by every benchmark: where data and reports go, quick (smoke) mode, and
//! resident memory.
//!
//! `scripts/bench` sets `FMD_BENCH_DIR` (under the cargo target directory) and, for
//! `--smoke`, `FMD_BENCH_SMOKE=1`.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where generated data and reports live: `FMD_BENCH_DIR`, else `bench/` in the cargo
/// target directory.
pub fn bench_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("FMD_BENCH_DIR") {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("bench")
}

/// Generated databases, kept between runs.
pub fn data_dir() -> PathBuf {
    let dir = bench_dir().join("data");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// Scratch files of one run (servers' and writers' databases), emptied by each step.
pub fn scratch_dir(step: &str) -> PathBuf {
    let dir = bench_dir().join("scratch").join(step);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// The figures of this run.
pub fn report_dir() -> PathBuf {
    let dir = bench_dir().join("report");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// Smoke mode: every measurement about a second, tiny data.
pub fn smoke() -> bool {
    std::env::var("FMD_BENCH_SMOKE").is_ok_and(|v| v == "1")
}

/// `full` normally, `quick` in smoke mode.
pub fn pick<T>(full: T, quick: T) -> T {
    if smoke() { quick } else { full }
}

/// Seconds as a `Duration`.
pub fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// Resident memory of process `pid` in bytes (`VmRSS`), `None` if it cannot be read.
pub fn rss_of(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Resident memory of this process in bytes.
pub fn rss() -> u64 {
    rss_of(std::process::id()).unwrap_or(0)
}

/// The median of `values` (0 when empty).
pub fn median(values: &[f64]) -> f64 {
    percentile(values, 50.0)
}

/// The `p`-th percentile of `values`, nearest rank (0 when empty).
pub fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
