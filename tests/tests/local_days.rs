//! The overview's "today" and "7 days" are the viewer's days, in real headless Chromium:
//! requests that straddle UTC midnight but not the viewer's (Lagos, UTC+1), and the other
//! way round (Cape Verde, UTC-1), count where the viewer's calendar puts them, hits and
//! medians; so do the requests either side of the week's first midnight. Zones with
//! minutes in their offset (India, +05:30) say on the page how their days are rounded.
//! `FMD_TIMEZONE` (set here through [`Dashboard::timezone`], which it configures) wins over
//! the browser's zone. Screenshots: `target/screenshots/local-days-*.png`.
//!
//! The pages read the real clock, so each case places its requests around the midnights
//! before now; a case that cannot fit before now (Cape Verde in the first 70 minutes of a
//! UTC day, Lagos in its last hour) is skipped with a message, and the other one always
//! fits.

use fmd_dashboard::Dashboard;
use fmd_runtime::store::histogram::{bucket, bucket_value};
use fmd_tests::browser::{Browser, Look};
use fmd_tests::dashboard_fixture::{Fixture, now_ms, serve_dashboard};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

/// What the overview must show for one endpoint: today's hits and median, the week's hits.
#[derive(Debug, PartialEq)]
struct Expected {
    today_hits: String,
    today_median: String,
    week_hits: String,
}

fn median_text(us: i64) -> String {
    fmd_dashboard::format::duration(bucket_value(bucket(us)))
}

/// Requests of `days::east` around the last UTC midnight `m`, for a viewer at UTC+1 (whose
/// midnight was at `m - 1 h`): `m - 70 min` (the viewer's yesterday), `m - 10 min` (the
/// viewer's today, UTC's yesterday), just after `m` (today for both); and either side of
/// the viewer's week start `m - 1 h - 6 d`. `None` in the UTC day's last hour, when the
/// viewer's next day has begun.
fn east(fx: &Fixture, now: i64) -> Option<Expected> {
    let m = now - now.rem_euclid(DAY);
    if now >= m + 23 * HOUR {
        println!("east skipped: {} min into the UTC day", (now - m) / MIN);
        return None;
    }
    let e = fx.endpoint("days::east");
    let after = m + ((now - m) / 2).min(10 * MIN);
    for (t, us) in [
        (m - 70 * MIN, 5_000),
        (m - 10 * MIN, 300_000),
        (after, 20_000),
        (m - HOUR - 6 * DAY - 10 * MIN, 7_000),
        (m - HOUR - 6 * DAY + 10 * MIN, 7_000),
    ] {
        fx.request(e, "/east", t, us, 200, "alice");
    }
    // UTC would say: today 1 hit (20 ms), week 3.
    Some(Expected {
        today_hits: "2".into(),
        today_median: median_text(300_000),
        week_hits: "4".into(),
    })
}

/// Requests of `days::west` around the viewer's midnight `m + 1 h` at UTC-1, inside one
/// UTC day: `m + 50 min` (the viewer's yesterday) and `m + 65 min` (today); and either
/// side of the viewer's week start `m + 1 h - 6 d`. `None` when now is too early in the
/// UTC day for them.
fn west(fx: &Fixture, now: i64) -> Option<Expected> {
    let m = now - now.rem_euclid(DAY);
    if now < m + 70 * MIN {
        println!("west skipped: {} min into the UTC day", (now - m) / MIN);
        return None;
    }
    let e = fx.endpoint("days::west");
    for (t, us) in [
        (m + 50 * MIN, 300_000),
        (m + 65 * MIN, 20_000),
        (m + HOUR - 6 * DAY - 10 * MIN, 7_000),
        (m + HOUR - 6 * DAY + 10 * MIN, 7_000),
    ] {
        fx.request(e, "/west", t, us, 200, "alice");
    }
    // UTC would say: today 2 hits (300 ms), week 4.
    Some(Expected {
        today_hits: "1".into(),
        today_median: median_text(20_000),
        week_hits: "3".into(),
    })
}

/// The overview's today hits, today median and week hits of `endpoint`.
async fn shown(b: &Browser, base: &str, endpoint: &str) -> Expected {
    b.client.goto(&format!("{base}/dashboard")).await.unwrap();
    let script = format!(
        "var rows = document.querySelectorAll('table.overview tbody tr');
         for (var i = 0; i < rows.length; i++) {{
             var a = rows[i].querySelector('td a.mono');
             if (a && a.textContent === {endpoint:?}) {{
                 var c = rows[i].querySelectorAll('td');
                 return [c[1].textContent, c[2].textContent, c[3].textContent];
             }}
         }}
         return document.querySelector('main').innerHTML.slice(0, 3000);"
    );
    let v = b.client.execute(&script, vec![]).await.unwrap();
    let cells: Vec<String> = serde_json::from_value(v.clone()).unwrap_or_else(|_| panic!("{v}"));
    Expected {
        today_hits: cells[0].trim().to_owned(),
        today_median: cells[1].trim().to_owned(),
        week_hits: cells[2].trim().to_owned(),
    }
}

async fn browser(zone: &'static str, base: &str) -> Browser {
    let b = Browser::start_with(Look {
        timezone: Some(zone),
        ..Look::default()
    })
    .await;
    b.client
        .goto(&format!("{base}/dashboard/login"))
        .await
        .unwrap();
    b.submit_login("admin", "correct-horse-7").await;
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn today_and_the_week_are_the_browsers_days() {
    let fx = Fixture::new();
    let now = now_ms();
    let east_expected = east(&fx, now);
    let west_expected = west(&fx, now);
    let base = serve_dashboard(Dashboard::new(fx.path())).await;

    let mut checked = 0;
    if let Some(expected) = east_expected {
        let b = browser("Africa/Lagos", &base).await;
        assert_eq!(b.text("header.top .zone").await, "Africa/Lagos");
        assert_eq!(shown(&b, &base, "days::east").await, expected);
        let sub = b.text("main .sub").await;
        assert!(sub.contains("days in Africa/Lagos"), "{sub}");
        assert!(
            sub.contains(" 00:00 WAT"),
            "today since local midnight: {sub}"
        );
        b.screenshot("local-days-lagos-overview").await;
        b.close().await;
        // The same requests seen from UTC: UTC's days.
        let b = browser("UTC", &base).await;
        let utc = shown(&b, &base, "days::east").await;
        assert_eq!(
            (utc.today_hits.as_str(), utc.week_hits.as_str()),
            ("1", "3")
        );
        assert_eq!(utc.today_median, median_text(20_000));
        b.close().await;
        checked += 1;
    }
    if let Some(expected) = west_expected {
        let b = browser("Atlantic/Cape_Verde", &base).await;
        assert_eq!(shown(&b, &base, "days::west").await, expected);
        b.screenshot("local-days-cape-verde-overview").await;
        b.close().await;
        checked += 1;
    }
    assert!(checked >= 1, "one of the two cases fits at any time of day");

    // India: midnight is at hh:30 UTC; the page says the days begin 30 minutes early.
    let b = browser("Asia/Kolkata", &base).await;
    let sub = b.text("main .sub").await;
    assert!(
        sub.contains("days begin 30 min before local midnight"),
        "{sub}"
    );
    assert!(sub.contains(" 23:30 IST"), "{sub}");
    b.screenshot("local-days-kolkata-overview").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zone_set_for_everybody_decides_the_days() {
    let fx = Fixture::new();
    let now = now_ms();
    // Lagos if its case fits now, else Cape Verde (whose case then does).
    let (zone, endpoint, expected) = match east(&fx, now) {
        Some(e) => ("Africa/Lagos", "days::east", e),
        None => ("Atlantic/Cape_Verde", "days::west", west(&fx, now).unwrap()),
    };
    let for_all = Dashboard::new(fx.path())
        .timezone(zone)
        .expect("a known zone");
    let base = serve_dashboard(for_all).await;
    let b = browser("America/Los_Angeles", &base).await;
    assert_eq!(b.text("header.top .zone").await, zone);
    assert_eq!(shown(&b, &base, endpoint).await, expected);
    b.screenshot("local-days-fixed-zone-overview").await;
    b.close().await;
}
