//! Reporting: Mood's median test against reference values, and period and version
//! comparisons over both engines.

use fmd_dashboard::reporting::{compare, latency_change, mix_changes};
use fmd_dashboard::stats::mood_median_test;
use fmd_runtime::store::read::{Selection, StatusMix};
use fmd_tests::both_engines;
use fmd_tests::dashboard_fixture::Fixture;
use fmd_tests::engines::Engine;
use fmd_tests::perf_fixture::{DAY, HOUR, Perf, Req};

/// Reference values computed with SciPy 1.17.1 (NumPy 2.4.6), Python 3.11:
///
/// ```python
/// from scipy.stats import median_test
/// stat, p, med, table = median_test(a, b)   # defaults: ties="below", correction=True, lambda_=1
/// ```
///
/// Each row: (a, b, statistic, p, grand median, table).
#[allow(clippy::type_complexity)]
fn references() -> Vec<(Vec<f64>, Vec<f64>, f64, f64, f64, [[u64; 2]; 2])> {
    let f = |v: &[i32]| v.iter().map(|x| f64::from(*x)).collect::<Vec<_>>();
    vec![
        // "shifted": B's values lie mostly above A's.
        (
            f(&[12, 15, 11, 18, 20, 14, 13, 16, 19, 17, 25, 30]),
            f(&[22, 28, 24, 31, 19, 27, 26, 35, 29, 21, 23]),
            7.326431932966022,
            0.006794780804801952,
            21.0,
            [[2, 9], [10, 2]],
        ),
        // "ties": many values equal the grand median (counted below).
        (
            f(&[5, 5, 5, 6, 7, 5, 4, 5]),
            f(&[5, 6, 6, 7, 5, 8, 9, 5, 6]),
            1.5158661265432096,
            0.21824614496781577,
            5.0,
            [[2, 6], [6, 3]],
        ),
        // "same": interleaved samples, a balanced table (the correction stops at zero).
        (
            f(&[100, 200, 300, 400, 500, 600]),
            f(&[150, 250, 350, 450, 550, 650]),
            0.0,
            1.0,
            375.0,
            [[3, 3], [3, 3]],
        ),
        // "large": 500 per side, as the reports sample.
        // a = [1000 + (i * 37) % 400 for i in range(500)]
        // b = [1050 + (i * 53) % 400 for i in range(500)]
        (
            (0..500).map(|i| f64::from(1000 + (i * 37) % 400)).collect(),
            (0..500).map(|i| f64::from(1050 + (i * 53) % 400)).collect(),
            15.376061504246017,
            8.80973408642845e-05,
            1224.0,
            [[218, 281], [282, 219]],
        ),
    ]
}

#[test]
fn moods_median_test_matches_scipy() {
    for (a, b, statistic, p, median, table) in references() {
        let t = mood_median_test(&a, &b).expect("both samples have values");
        assert_eq!(t.grand_median, median);
        assert_eq!(t.table, table);
        assert!(
            (t.statistic - statistic).abs() < 1e-9,
            "statistic {} vs {statistic}",
            t.statistic
        );
        assert!(
            (t.p_value - p).abs() <= 1e-9 * p.max(1e-3),
            "p {} vs {p}",
            t.p_value
        );
    }
}

#[test]
fn a_latency_change_is_significant_below_005_and_reports_its_size() {
    let a: Vec<i64> = (0..500).map(|i| 1000 + (i * 37) % 400).collect();
    let b: Vec<i64> = (0..500).map(|i| 1050 + (i * 53) % 400).collect();
    let l = latency_change(&a, &b).unwrap();
    assert!(l.significant && l.test.p_value < 0.05);
    assert_eq!((l.samples_a, l.samples_b), (500, 500));
    // numpy.median(a), numpy.median(b)
    assert_eq!((l.median_a, l.median_b), (1198.5, 1249.5));
    assert!((l.change_pct - 51.0 / 1198.5 * 100.0).abs() < 1e-9);
    let same = latency_change(&a, &a).unwrap();
    assert!(!same.significant);
    assert!(latency_change(&a, &[]).is_none());
}

#[test]
fn a_shift_in_the_response_mix_is_a_finding() {
    let a = StatusMix {
        hits: 100,
        client_errors: 2,
        server_errors: 1,
        cancelled: 0,
    };
    let b = StatusMix {
        hits: 100,
        client_errors: 3,
        server_errors: 12,
        cancelled: 0,
    };
    let changes = mix_changes(&a, &b);
    let classes: Vec<_> = changes.iter().map(|c| c.class).collect();
    assert_eq!(classes, vec!["ok", "5xx"]);
    assert_eq!((changes[1].share_a, changes[1].share_b), (1.0, 12.0));
    let few = StatusMix { hits: 10, ..b };
    assert!(
        mix_changes(&a, &few).is_empty(),
        "too few requests to judge"
    );
}

/// Two weeks of one endpoint: version 1.1.0 in the second week is slower and fails more;
/// another endpoint stays the same.
fn two_weeks(fx: &Fixture, start: i64) -> (i64, i64) {
    let slow = fx.endpoint("shop::checkout");
    let steady = fx.endpoint("shop::index");
    for i in 0..280 {
        let t = start + i * HOUR + 7 * 60_000;
        let second = t >= start + 7 * DAY;
        let jitter = (i * 7919) % 600;
        let (version, duration, status) = if second {
            ("1.1.0", 2_000 + jitter, if i % 5 == 0 { 500 } else { 200 })
        } else {
            ("1.0.0", 1_500 + jitter, 200)
        };
        fx.record(
            slow,
            &Req::at(t, duration).version(version).status(Some(status)),
        );
        fx.record(steady, &Req::at(t, 800 + jitter).version(version));
    }
    (slow, steady)
}

fn comparing_two_periods_and_two_versions_finds_the_slower_endpoint_only(engine: Engine) {
    let fx = Fixture::on(engine);
    let start = 1_793_577_600_000; // 2026-11-02 00:00 UTC
    fx.db.batch("BEGIN");
    let (slow, steady) = two_weeks(&fx, start);
    fx.db.batch("COMMIT");
    let mut st = fx.reader();
    let week = |n: i64| Selection::Period {
        from: start + n * 7 * DAY,
        to: start + (n + 1) * 7 * DAY,
    };
    for (a, b) in [
        (week(0), week(1)),
        (
            Selection::Version("1.0.0".into()),
            Selection::Version("1.1.0".into()),
        ),
    ] {
        let reports = compare(&mut *st, &a, &b).unwrap();
        assert_eq!(reports.len(), 2);
        let first = &reports[0];
        assert_eq!(first.endpoint.id, slow, "findings first");
        assert!(first.has_findings());
        let l = first.latency.as_ref().unwrap();
        assert!(l.significant && l.change_pct > 20.0, "{l:?}");
        assert_eq!((first.mix_a.hits, first.mix_b.hits), (168, 112));
        assert_eq!(first.mix_b.server_errors, 22);
        assert_eq!(
            first
                .mix_changes
                .iter()
                .map(|c| c.class)
                .collect::<Vec<_>>(),
            vec!["ok", "5xx"]
        );
        let other = &reports[1];
        assert_eq!(other.endpoint.id, steady);
        assert!(!other.has_findings(), "{other:?}");
    }
}

both_engines!(comparing_two_periods_and_two_versions_finds_the_slower_endpoint_only);
