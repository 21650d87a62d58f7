//! Small formatting helpers shared by the pages: times, durations, counts, paths.

use std::path::Path;

use time::OffsetDateTime;

/// Current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    let now = OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as i64
}

/// `2026-11-03 14:05` (UTC) for a Unix-ms time.
pub fn datetime(ms: i64) -> String {
    match OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        ),
        Err(_) => "?".to_owned(),
    }
}

/// `12 s ago`, `3 min ago`, `5 h ago`, `4 d ago` relative to `now`.
pub fn ago(ms: i64, now: i64) -> String {
    let s = (now - ms).max(0) / 1000;
    match s {
        0..=59 => format!("{s} s ago"),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=86_399 => format!("{} h ago", s / 3600),
        _ => format!("{} d ago", s / 86_400),
    }
}

/// `850 µs`, `12.3 ms`, `1.20 s` for a duration in microseconds.
pub fn duration(us: i64) -> String {
    match us {
        i64::MIN..=999 => format!("{us} µs"),
        1000..=999_999 => format!("{:.1} ms", us as f64 / 1000.0),
        _ => format!("{:.2} s", us as f64 / 1_000_000.0),
    }
}

/// `1.2 MiB` for a byte count.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// A source path as shown (relative to the app, or to the crate for dependencies) and as
/// given on hover (the full path).
pub fn source_path(file: &str) -> (String, String) {
    let cwd = std::env::current_dir().ok();
    let full = match &cwd {
        Some(dir) if Path::new(file).is_relative() => dir.join(file).display().to_string(),
        _ => file.to_owned(),
    };
    let short = if let Some(i) = file.find("/registry/src/") {
        // `~/.cargo/registry/src/<index>/crate-1.0/src/x.rs` -> `crate-1.0/src/x.rs`
        let rest = &file[i + "/registry/src/".len()..];
        rest.split_once('/').map_or(rest, |(_, r)| r).to_owned()
    } else if let Some(i) = file.find("/rustc/") {
        let rest = &file[i + "/rustc/".len()..];
        format!("rustc/{}", rest.split_once('/').map_or(rest, |(_, r)| r))
    } else if let Some(rel) = cwd
        .as_deref()
        .and_then(|dir| Path::new(file).strip_prefix(dir).ok())
    {
        rel.display().to_string()
    } else {
        file.to_owned()
    };
    (short, full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_pick_a_readable_unit() {
        assert_eq!(duration(850), "850 µs");
        assert_eq!(duration(12_300), "12.3 ms");
        assert_eq!(duration(1_200_000), "1.20 s");
    }

    #[test]
    fn datetimes_are_utc() {
        assert_eq!(datetime(0), "1970-01-01 00:00");
        assert_eq!(datetime(1_700_000_000_000), "2023-11-14 22:13");
    }

    #[test]
    fn registry_paths_are_shown_from_the_crate() {
        let (short, full) =
            source_path("/root/.cargo/registry/src/index.crates.io-1949/tokio-1.54.0/src/lib.rs");
        assert_eq!(short, "tokio-1.54.0/src/lib.rs");
        assert!(full.starts_with("/root/.cargo"));
        let (short, full) = source_path("examples/src/main.rs");
        assert_eq!(short, "examples/src/main.rs");
        assert!(full.ends_with("/examples/src/main.rs") && full.starts_with('/'));
    }
}
