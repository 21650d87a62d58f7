//! Small formatting helpers shared by the pages: times, durations, counts, paths.

use std::path::Path;

use fmd_runtime::store::read::OverviewDays;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use time::OffsetDateTime;

/// Current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    let now = OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as i64
}

/// `2026-11-03 14:05` for a Unix-ms time, in the viewer's time zone ([`zone`]).
pub fn datetime(ms: i64) -> String {
    civil(local_ms(ms))
}

/// `2026-11-03 15:05 CET`: [`datetime`] followed by the zone's abbreviation at that time.
pub fn datetime_zoned(ms: i64) -> String {
    format!("{} {}", datetime(ms), zone_abbreviation(ms))
}

/// The calendar date and clock time of a Unix-ms value read as UTC: `2026-11-03 14:05`.
fn civil(ms: i64) -> String {
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

/// `2026-11-03` for a day number (days since 1970-01-01) of the viewer's calendar.
pub fn date_of_day(day: i64) -> String {
    let d = civil(day.saturating_mul(86_400_000));
    d.get(..10).unwrap_or(&d).to_owned()
}

#[cfg(feature = "axum")]
tokio::task_local! {
    /// The zone of the page being rendered, set per request (see [`zone`]).
    static ZONE: Viewing;
}

/// The zone a page is rendered in, and whether it was fixed for everybody.
#[derive(Clone)]
pub struct Viewing {
    /// The zone.
    pub tz: TimeZone,
    /// Set by `FMD_TIMEZONE`, not taken from the browser.
    pub fixed: bool,
}

#[cfg(not(feature = "axum"))]
static ZONE: sync_zone::Local = sync_zone::Local;

/// Without tokio (no `axum` feature) the zone is a thread-local with the same two calls.
#[cfg(not(feature = "axum"))]
mod sync_zone {
    use std::cell::RefCell;

    use super::Viewing;

    thread_local!(static CURRENT: RefCell<Option<Viewing>> = const { RefCell::new(None) });

    pub struct Local;

    impl Local {
        pub fn try_with<R>(&self, f: impl FnOnce(&Viewing) -> R) -> Result<R, ()> {
            CURRENT.with(|c| c.borrow().as_ref().map(f).ok_or(()))
        }

        pub fn sync_scope<R>(&self, tz: Viewing, f: impl FnOnce() -> R) -> R {
            let old = CURRENT.with(|c| c.replace(Some(tz)));
            let out = f();
            CURRENT.with(|c| *c.borrow_mut() = old);
            out
        }
    }
}

/// The time zone the current page is rendered in: the one the router set for this
/// request (the viewer's browser zone or `FMD_TIMEZONE`), UTC outside a request.
pub fn zone() -> TimeZone {
    ZONE.try_with(|v| v.tz.clone()).unwrap_or(TimeZone::UTC)
}

/// Whether the zone was fixed for every viewer (`FMD_TIMEZONE`) rather than taken from
/// the browser.
pub fn zone_is_fixed() -> bool {
    ZONE.try_with(|v| v.fixed).unwrap_or(false)
}

/// Runs the future `f` (a whole request) with [`zone`] answering `tz`.
#[cfg(feature = "axum")]
pub async fn scope_zone<F: std::future::Future>(tz: Viewing, f: F) -> F::Output {
    ZONE.scope(tz, f).await
}

/// Runs `f` with [`zone`] answering `tz` (pages rendered outside a request, tests).
pub fn with_zone<R>(tz: TimeZone, f: impl FnOnce() -> R) -> R {
    ZONE.sync_scope(Viewing { tz, fixed: false }, f)
}

/// The zone's name as shown on pages: `Europe/Copenhagen`, or `UTC`.
pub fn zone_name() -> String {
    let tz = zone();
    tz.iana_name().unwrap_or("UTC").to_owned()
}

/// The zone's abbreviation at `ms` (`CET`, `CEST`, `UTC`, or an offset like `-03`).
pub fn zone_abbreviation(ms: i64) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(t) => zone().to_offset_info(t).abbreviation().to_owned(),
        Err(_) => "UTC".to_owned(),
    }
}

/// `ms` shifted by the zone's offset at that instant: a value whose UTC calendar reading
/// is the local one (for day numbers and hours of day on charts).
pub fn local_ms(ms: i64) -> i64 {
    match Timestamp::from_millisecond(ms) {
        Ok(t) => ms.saturating_add(i64::from(zone().to_offset(t).seconds()) * 1000),
        Err(_) => ms,
    }
}

/// The viewer's midnight ([`zone`]) beginning `date`, in Unix ms (the day's first
/// instant where daylight saving skips midnight).
pub fn midnight_of(date: jiff::civil::Date) -> Option<i64> {
    let start = date.to_zoned_datetime(zone()).ok()?.start_of_day().ok()?;
    Some(start.timestamp().as_millisecond())
}

/// The viewer's midnight of the day `days_back` days before the one holding `now`.
pub fn midnight_before(now: i64, days_back: i64) -> Option<i64> {
    let today = Timestamp::from_millisecond(now)
        .ok()?
        .to_zoned_datetime(zone())
        .date();
    midnight_of(today.checked_sub(jiff::Span::new().days(days_back)).ok()?)
}

/// Where the overview's "today" and "last 7 days" begin for the viewer: midnight today
/// and six days before in [`zone`] (daylight saving included), each rounded down to its
/// UTC hour (see [`OverviewDays`]).
pub fn overview_days(now: i64) -> OverviewDays {
    match (midnight_before(now, 0), midnight_before(now, 6)) {
        (Some(today), Some(week)) => OverviewDays::starting(now, today, week),
        _ => OverviewDays::utc(now),
    }
}

/// A zone by its IANA name (`Europe/Copenhagen`) or `UTC`; `None` for an unknown or
/// malformed name (a browser cookie or `FMD_TIMEZONE`, so it is checked before lookup).
pub fn parse_zone(name: &str) -> Option<TimeZone> {
    let name = name.trim();
    let plausible = !name.is_empty()
        && name.len() <= 64
        && !name.contains("..")
        && !name.starts_with('/')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b));
    if !plausible {
        return None;
    }
    if name.eq_ignore_ascii_case("utc") {
        return Some(TimeZone::UTC);
    }
    TimeZone::get(name).ok()
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

/// Midnight UTC of a `YYYY-MM-DD` date, in Unix ms.
pub fn date_ms(s: &str) -> Option<i64> {
    let mut parts = s.trim().splitn(3, '-').map(|p| p.parse::<i32>().ok());
    let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
    let month = time::Month::try_from(u8::try_from(m).ok()?).ok()?;
    let date = time::Date::from_calendar_date(y, month, u8::try_from(d).ok()?).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp() * 1000)
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
    fn datetimes_are_utc_outside_a_request() {
        assert_eq!(datetime(0), "1970-01-01 00:00");
        assert_eq!(datetime(1_700_000_000_000), "2023-11-14 22:13");
        assert_eq!(datetime_zoned(0), "1970-01-01 00:00 UTC");
        assert_eq!(zone_name(), "UTC");
    }

    #[test]
    fn datetimes_follow_the_zone_and_its_summer_time() {
        let cph = parse_zone("Europe/Copenhagen").unwrap();
        with_zone(cph, || {
            // 2023-11-14 22:13 UTC is 23:13 in winter (CET, +1) ...
            assert_eq!(datetime_zoned(1_700_000_000_000), "2023-11-14 23:13 CET");
            // ... and 2023-07-01 12:00 UTC is 14:00 in summer (CEST, +2).
            assert_eq!(datetime_zoned(1_688_212_800_000), "2023-07-01 14:00 CEST");
            assert_eq!(local_ms(0), 3_600_000);
            assert_eq!(zone_name(), "Europe/Copenhagen");
        });
        let ny = parse_zone("America/New_York").unwrap();
        with_zone(ny, || {
            // Local midnight of the previous day: day numbers move back.
            assert_eq!(datetime(1_700_000_000_000), "2023-11-14 17:13");
            assert_eq!(local_ms(86_400_000).div_euclid(86_400_000), 0);
        });
    }

    #[test]
    fn overview_days_begin_at_local_midnight() {
        const H: i64 = 3_600_000;
        // 2023-11-14 23:13 CET (22:13 UTC): today began at 2023-11-13 23:00 UTC.
        let now: i64 = 1_700_000_000_000;
        let utc_midnight = now - now.rem_euclid(24 * H);
        with_zone(parse_zone("Europe/Copenhagen").unwrap(), || {
            let d = overview_days(now);
            assert_eq!(d.today_hour * H, utc_midnight - H);
            assert_eq!(d.week_hour * H, utc_midnight - H - 6 * 24 * H);
            assert_eq!(d.rounded_by_ms, 0);
        });
        // 2023-11-15 03:43 IST: today began at 18:30 UTC, read from 18:00.
        with_zone(parse_zone("Asia/Kolkata").unwrap(), || {
            let d = overview_days(now);
            assert_eq!(d.today_hour * H, utc_midnight + 18 * H);
            assert_eq!(d.rounded_by_ms, 30 * 60_000);
        });
        // 2023-11-14 17:13 EST: today began at 05:00 UTC, and so did 8 November (summer
        // time ended on the 5th).
        with_zone(parse_zone("America/New_York").unwrap(), || {
            let d = overview_days(now);
            assert_eq!(d.today_hour * H, utc_midnight + 5 * H);
            assert_eq!(d.week_hour * H, utc_midnight + 5 * H - 6 * 24 * H);
        });
        assert_eq!(overview_days(now), OverviewDays::utc(now));
    }

    #[test]
    fn zone_names_are_checked_before_lookup() {
        for bad in [
            "",
            "../etc/passwd",
            "/etc/localtime",
            "Europe/../../x",
            "No/Such_Zone",
        ] {
            assert!(parse_zone(bad).is_none(), "{bad}");
        }
        assert_eq!(parse_zone("utc"), Some(TimeZone::UTC));
        assert!(parse_zone("Asia/Kolkata").is_some());
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
