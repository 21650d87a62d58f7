//! Schema version 11 on both engines: the overview's "today" and "7 days" begin at the
//! viewer's midnight, read from the daily duration histogram and, for the spans' first
//! UTC days, the hourly one of the recent days (`duration_hourly`) — added hours east of
//! UTC, subtracted ones west of it, a half-hour zone rounded down to its UTC hour; and a
//! version 10 database upgrades with the recent hours filled from its request rows, the
//! overview reading the same after as before.

use fmd_runtime::store::histogram::{bucket, bucket_value};
use fmd_runtime::store::read::{OverviewDays, overview_days::RECENT_HOURS};
use fmd_tests::both_engines;
use fmd_tests::dashboard_fixture::{Fixture, now_ms};
use fmd_tests::engines::Engine;

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

/// Yesterday's UTC midnight: every request and every `now` below lie before the real now.
fn midnight() -> i64 {
    let now = now_ms();
    now - now.rem_euclid(DAY) - DAY
}

/// Requests of `shop::pay` around two UTC midnights `m` and `m - 6 d` (durations 1..8 ms
/// in order), and one 12 days back (older than the recent hours).
fn seed(fx: &Fixture, m: i64) -> i64 {
    let e = fx.endpoint("shop::pay");
    let times = [
        m - 90 * MIN,
        m - 30 * MIN,
        m + 2 * HOUR,
        m + 5 * HOUR + 30 * MIN,
        m - 6 * DAY - 90 * MIN,
        m - 6 * DAY - 30 * MIN,
        m - 6 * DAY + 5 * HOUR + 30 * MIN,
        m - 6 * DAY + 2 * HOUR,
        m - 12 * DAY,
    ];
    for (i, t) in times.into_iter().enumerate() {
        fx.request(e, "/pay", t, (i as i64 + 1) * 1_000, 200, "alice");
    }
    e
}

/// The spans of a viewer whose midnights are `offset` before the UTC ones (east: positive).
fn zone(now: i64, m: i64, offset: i64) -> OverviewDays {
    OverviewDays::starting(now, m - offset, m - offset - 6 * DAY)
}

/// `(today hits, today median, week hits, all hits)` of the one endpoint.
type Shown = (u64, Option<i64>, u64, u64);

fn read(fx: &Fixture, days: OverviewDays, instance: Option<&str>) -> Shown {
    let mut reader = fx.reader();
    let o = &reader.overview_in(days, instance).expect("overview")[0];
    (o.today.hits, o.today.median_us, o.week.hits, o.all.hits)
}

/// Every case: the spans and what they hold.
fn cases(m: i64) -> Vec<(&'static str, OverviewDays, Shown)> {
    let ms = |n: i64| Some(bucket_value(bucket(n * 1_000)));
    vec![
        // UTC: today = 3, 4 ms; week = 1-4, 7, 8.
        ("UTC", OverviewDays::utc(m + 12 * HOUR), (2, ms(4), 6, 9)),
        // UTC+1: hours 23 added; today = 2-4, week = 1-4, 6-8.
        ("UTC+1", zone(m + 12 * HOUR, m, HOUR), (3, ms(3), 7, 9)),
        // UTC-5 at 12:00 UTC: hours 0-4 subtracted; today = 4, week = 1-4, 7.
        ("UTC-5", zone(m + 12 * HOUR, m, -5 * HOUR), (1, ms(4), 5, 9)),
        // UTC-5 at 06:00 UTC: today's hour 5 added instead.
        (
            "UTC-5 early",
            zone(m + 6 * HOUR, m, -5 * HOUR),
            (1, ms(4), 5, 9),
        ),
        // UTC+05:30: from 18:00 UTC, half an hour early; today = 1-4, week = 1-8.
        (
            "UTC+05:30",
            zone(m + 12 * HOUR, m, 5 * HOUR + 30 * MIN),
            (4, ms(3), 8, 9),
        ),
    ]
}

fn spans_begin_at_the_viewers_midnight(engine: Engine) {
    let fx = Fixture::on(engine);
    let m = midnight();
    seed(&fx, m);
    for (name, days, expected) in cases(m) {
        assert_eq!(read(&fx, days, None), expected, "{name}: {days:?}");
        assert_eq!(
            read(&fx, days, Some("test")),
            expected,
            "{name}, its instance"
        );
        assert_eq!(read(&fx, days, Some("other")), (0, None, 0, 0), "{name}");
    }
}

/// The recent hours' histogram, one line per row.
fn hourly_rows(fx: &Fixture) -> Vec<String> {
    fx.db.strings(
        "SELECT CAST(hour AS TEXT) || ' ' || CAST(endpoint_id AS TEXT) || ' ' || instance
             || ' ' || CAST(bucket AS TEXT) || ' ' || CAST(hits AS TEXT)
         FROM duration_hourly ORDER BY hour, endpoint_id, instance, bucket",
    )
}

fn a_version_10_database_upgrades_with_its_recent_hours_filled(engine: Engine) {
    let fx = Fixture::on(engine);
    let m = midnight();
    seed(&fx, m);
    let before: Vec<_> = cases(m)
        .into_iter()
        .map(|(_, days, _)| read(&fx, days, None))
        .collect();
    // The writer keeps the recent hours only; the hand-made fixture row 12 days back is
    // older than the upgrade fills.
    let floor = now_ms() / HOUR - RECENT_HOURS;
    let recent: Vec<String> = hourly_rows(&fx)
        .into_iter()
        .filter(|r| r.split(' ').next().unwrap().parse::<i64>().unwrap() >= floor)
        .collect();
    assert_eq!(recent.len(), 8, "{recent:?}");

    fx.db.batch(
        "DROP TABLE duration_hourly;
         UPDATE fmd_meta SET value = '10' WHERE key = 'schema_version';",
    );
    let t = std::time::Instant::now();
    let after: Vec<_> = cases(m)
        .into_iter()
        .map(|(_, days, _)| read(&fx, days, None)) // the first open upgrades
        .collect();
    println!("upgrade and reads: {:?}", t.elapsed());
    assert_eq!(
        fx.db
            .strings("SELECT value FROM fmd_meta WHERE key = 'schema_version'"),
        vec!["11".to_owned()]
    );
    assert_eq!(
        hourly_rows(&fx),
        recent,
        "the recent hours, from the request rows"
    );
    assert_eq!(after, before, "the overview reads the same");
    // Opening again changes nothing.
    drop(fx.reader());
    assert_eq!(hourly_rows(&fx), recent);
}

both_engines!(
    spans_begin_at_the_viewers_midnight,
    a_version_10_database_upgrades_with_its_recent_hours_filled,
);
