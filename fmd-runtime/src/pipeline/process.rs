//! This process's CPU use and resident memory, read on the writer thread when an outlier
//! is stored (never on the request path).
//!
//! CPU use is measured over a sliding window of about one second: the writer calls
//! [`CpuMeter::tick`] at least once a second and each reading covers the time since the
//! tick before last. 100 % is one core fully busy. Both are `None` where the platform does
//! not say (CPU time needs a Unix; resident memory is read from `/proc` on Linux).

use std::time::{Duration, Instant};

/// CPU time this process has used (user + system), if the platform tells.
pub fn cpu_time() -> Option<Duration> {
    #[cfg(unix)]
    {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: getrusage writes a complete `rusage` into the pointer it is given and
        // reads nothing from it; the buffer is zeroed and lives for the call.
        let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
        if rc != 0 {
            return None;
        }
        // SAFETY: getrusage returned 0, so it filled the struct (and it was zeroed anyway).
        let usage = unsafe { usage.assume_init() };
        let micros = |t: libc::timeval| t.tv_sec as i128 * 1_000_000 + t.tv_usec as i128;
        let total = micros(usage.ru_utime) + micros(usage.ru_stime);
        Some(Duration::from_micros(u64::try_from(total).ok()?))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Resident memory of this process in bytes (Linux), else `None`.
pub fn resident_bytes() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
        let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
        // SAFETY: sysconf only reads a configuration value.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        Some(pages.saturating_mul(u64::try_from(page).ok().filter(|&p| p > 0)?))
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// CPU use over about the last second, from readings taken as time passes.
#[derive(Debug, Default)]
pub struct CpuMeter {
    /// The reading a second or more ago, and the latest one.
    older: Option<(Instant, Duration)>,
    newer: Option<(Instant, Duration)>,
}

impl CpuMeter {
    /// Takes a reading if the latest is a second old (call it often; it is cheap).
    pub fn tick(&mut self) {
        let now = Instant::now();
        if self
            .newer
            .is_some_and(|(t, _)| now.duration_since(t) < Duration::from_secs(1))
        {
            return;
        }
        if let Some(cpu) = cpu_time() {
            self.older = self.newer.take();
            self.newer = Some((now, cpu));
        }
    }

    /// CPU use in percent of one core since the oldest kept reading.
    pub fn percent(&mut self) -> Option<f64> {
        self.tick();
        let (since, base) = self.older.or(self.newer)?;
        let wall = since.elapsed();
        if wall < Duration::from_millis(50) {
            return None;
        }
        let used = cpu_time()?.checked_sub(base)?;
        Some(100.0 * used.as_secs_f64() / wall.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn linux_reports_cpu_time_and_memory() {
        let before = cpu_time().expect("getrusage works");
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(cpu_time().unwrap() >= before);
        assert!(resident_bytes().expect("statm") > 1024 * 1024);
    }
}
