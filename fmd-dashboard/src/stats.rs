//! Statistics of the performance pages: box-plot summaries of duration samples, Mood's
//! median test for the reports, and the test of two error rates ([`rate_test`]).
//!
//! Quantiles, the chi-square, normal and hypergeometric distributions come from `statrs`;
//! only the 2×2 tables, Mood's continuity correction and which tables count as "at least
//! as extreme" are spelled out here.

use statrs::distribution::{ChiSquared, ContinuousCDF, Discrete, Hypergeometric, Normal};
use statrs::statistics::{Data, Max, Min, OrderStatistics};

use fmd_runtime::store::read::RequestSample;

/// The summary a box plot draws, in µs.
#[derive(Debug, Clone, PartialEq)]
pub struct BoxStats {
    /// Samples.
    pub count: usize,
    /// Smallest sample.
    pub min: f64,
    /// First quartile.
    pub q1: f64,
    /// Median.
    pub median: f64,
    /// Third quartile.
    pub q3: f64,
    /// 90th percentile.
    pub p90: f64,
    /// Largest sample.
    pub max: f64,
    /// Smallest sample within 1.5 × IQR below the first quartile.
    pub lo_whisker: f64,
    /// Largest sample within 1.5 × IQR above the third quartile.
    pub hi_whisker: f64,
}

impl BoxStats {
    /// The summary of `samples` (µs); `None` when there are none.
    pub fn of(samples: impl IntoIterator<Item = i64>) -> Option<BoxStats> {
        let values: Vec<f64> = samples.into_iter().map(|v| v as f64).collect();
        if values.is_empty() {
            return None;
        }
        let mut data = Data::new(values.clone());
        let (q1, median, q3, p90) = (
            data.quantile(0.25),
            data.median(),
            data.quantile(0.75),
            data.quantile(0.9),
        );
        let (min, max) = (data.min(), data.max());
        let iqr = q3 - q1;
        let inside = values
            .iter()
            .copied()
            .filter(|v| *v >= q1 - 1.5 * iqr && *v <= q3 + 1.5 * iqr);
        let lo_whisker = inside.clone().fold(f64::INFINITY, f64::min).min(q1);
        let hi_whisker = inside.fold(f64::NEG_INFINITY, f64::max).max(q3);
        Some(BoxStats {
            count: values.len(),
            min,
            q1,
            median,
            q3,
            p90,
            max,
            lo_whisker,
            hi_whisker,
        })
    }
}

/// Groups of samples by a key (version, user, IP): the `top` largest groups by count,
/// largest first (ties by key), each summarized. Samples without a key are left out.
pub fn by_key<'a>(
    samples: &'a [RequestSample],
    key: impl Fn(&'a RequestSample) -> Option<&'a str>,
    top: usize,
) -> Vec<(String, BoxStats)> {
    let mut groups: std::collections::BTreeMap<&str, Vec<i64>> = Default::default();
    for s in samples {
        if let Some(k) = key(s) {
            groups.entry(k).or_default().push(s.duration_us);
        }
    }
    let mut out: Vec<(String, BoxStats)> = groups
        .into_iter()
        .filter_map(|(k, v)| BoxStats::of(v).map(|b| (k.to_owned(), b)))
        .collect();
    out.sort_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(&b.0)));
    out.truncate(top);
    out
}

/// The outcome of Mood's median test on two samples.
#[derive(Debug, Clone, PartialEq)]
pub struct MoodTest {
    /// The median of both samples together.
    pub grand_median: f64,
    /// `[[a above, b above], [a at or below, b at or below]]` the grand median.
    pub table: [[u64; 2]; 2],
    /// Pearson's chi-square statistic with Yates' continuity correction.
    pub statistic: f64,
    /// Probability of a statistic at least this large if both medians were equal.
    pub p_value: f64,
}

/// Mood's median test, as `scipy.stats.median_test(a, b)` computes it with its defaults
/// (`ties="below"`, `correction=True`, `lambda_=1`): count each sample's values above and
/// at-or-below the grand median, then a chi-square test of independence on that 2×2 table
/// with Yates' correction (each cell moved toward its expected count by at most ½).
///
/// `None` when a sample is empty. When no value lies above the grand median (all equal),
/// the table carries no evidence: statistic 0, p = 1 (scipy raises an error there).
pub fn mood_median_test(a: &[f64], b: &[f64]) -> Option<MoodTest> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let grand_median = Data::new([a, b].concat()).median();
    let above = |s: &[f64]| s.iter().filter(|v| **v > grand_median).count() as u64;
    let (above_a, above_b) = (above(a), above(b));
    let table = [
        [above_a, above_b],
        [a.len() as u64 - above_a, b.len() as u64 - above_b],
    ];
    let rows = [table[0][0] + table[0][1], table[1][0] + table[1][1]];
    let cols = [table[0][0] + table[1][0], table[0][1] + table[1][1]];
    let total = (rows[0] + rows[1]) as f64;
    if rows.contains(&0) {
        return Some(MoodTest {
            grand_median,
            table,
            statistic: 0.0,
            p_value: 1.0,
        });
    }
    let mut statistic = 0.0;
    for (i, row) in table.iter().enumerate() {
        for (j, observed) in row.iter().enumerate() {
            let expected = rows[i] as f64 * cols[j] as f64 / total;
            let diff = expected - *observed as f64;
            let corrected = *observed as f64 + diff.signum() * diff.abs().min(0.5);
            statistic += (corrected - expected).powi(2) / expected;
        }
    }
    let p_value = ChiSquared::new(1.0).map_or(1.0, |d| d.sf(statistic));
    Some(MoodTest {
        grand_median,
        table,
        statistic,
        p_value,
    })
}

/// Largest smallest margin of a 2×2 table that [`rate_test`] tests exactly: Fisher's
/// exact test sums at most this many + 1 tables, so its cost stays bounded.
pub const FISHER_MAX_MARGIN: u64 = 10_000;

/// Which test [`rate_test`] ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateTestKind {
    /// Fisher's exact test, two-sided.
    FisherExact,
    /// The pooled two-proportion z-test, two-sided.
    TwoProportionZ,
}

/// The outcome of [`rate_test`].
#[derive(Debug, Clone, PartialEq)]
pub struct RateTest {
    /// The test that ran.
    pub kind: RateTestKind,
    /// `[[a failing, a not failing], [b failing, b not failing]]`.
    pub table: [[u64; 2]; 2],
    /// The z statistic of the z-test (B − A); `None` for Fisher's test.
    pub z: Option<f64>,
    /// Probability of a table at least this extreme if both rates were equal.
    pub p_value: f64,
}

/// Fisher's exact test of a 2×2 table, two-sided, as `scipy.stats.fisher_exact(table)`
/// computes it: the probability, with all margins fixed (a hypergeometric distribution),
/// of every table no more likely than the observed one (within a relative 10⁻⁷, SciPy's
/// tolerance for ties).
pub fn fisher_exact(table: [[u64; 2]; 2]) -> f64 {
    let [[a, b], [c, d]] = table;
    let (row_a, failing, total) = (a + b, a + c, a + b + c + d);
    let Ok(h) = Hypergeometric::new(total, failing, row_a) else {
        return 1.0;
    };
    let observed = h.ln_pmf(a) + 1e-7_f64.ln_1p();
    let low = (row_a + failing).saturating_sub(total);
    let high = failing.min(row_a);
    let p: f64 = (low..=high)
        .map(|x| h.ln_pmf(x))
        .filter(|l| *l <= observed)
        .map(f64::exp)
        .sum();
    p.min(1.0)
}

/// The pooled two-proportion z-test of `k_a` in `n_a` against `k_b` in `n_b`: the z
/// statistic (positive when B's rate is higher) and its two-sided p-value. Both sides
/// need a request; a pooled rate of 0 or 1 carries no evidence (z 0, p 1).
pub fn two_proportion_z(k_a: u64, n_a: u64, k_b: u64, n_b: u64) -> (f64, f64) {
    let (na, nb) = (n_a as f64, n_b as f64);
    let pooled = (k_a + k_b) as f64 / (na + nb);
    let se = (pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb)).sqrt();
    if se == 0.0 || !se.is_finite() {
        return (0.0, 1.0);
    }
    let z = (k_b as f64 / nb - k_a as f64 / na) / se;
    let p = Normal::standard().sf(z.abs()) * 2.0;
    (z, p.min(1.0))
}

/// Tests whether the rate of `k_a` failing in `n_a` requests differs from `k_b` in `n_b`.
///
/// The rule: Fisher's exact test when the table's smallest margin (requests of a side,
/// failing or not failing requests of both) is at most [`FISHER_MAX_MARGIN`], else the
/// two-proportion z-test, whose normal approximation is close there. A count above its
/// requests (several occurrences in one request) counts as every request failing.
/// `None` when a side has no requests.
pub fn rate_test(k_a: u64, n_a: u64, k_b: u64, n_b: u64) -> Option<RateTest> {
    if n_a == 0 || n_b == 0 {
        return None;
    }
    let (k_a, k_b) = (k_a.min(n_a), k_b.min(n_b));
    let table = [[k_a, n_a - k_a], [k_b, n_b - k_b]];
    let failing = k_a + k_b;
    let margin = n_a.min(n_b).min(failing).min(n_a + n_b - failing);
    Some(if margin <= FISHER_MAX_MARGIN {
        RateTest {
            kind: RateTestKind::FisherExact,
            table,
            z: None,
            p_value: fisher_exact(table),
        }
    } else {
        let (z, p_value) = two_proportion_z(k_a, n_a, k_b, n_b);
        RateTest {
            kind: RateTestKind::TwoProportionZ,
            table,
            z: Some(z),
            p_value,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_stats_of_a_small_sample() {
        let b = BoxStats::of([10, 20, 30, 40, 50, 60, 70, 80, 90, 1000]).unwrap();
        assert_eq!((b.count, b.min, b.median, b.max), (10, 10.0, 55.0, 1000.0));
        assert!(b.q1 > 20.0 && b.q1 < 30.0 && b.q3 > 80.0 && b.q3 < 90.0);
        assert_eq!(b.hi_whisker, 90.0, "1000 is an outlier beyond the whisker");
        assert_eq!(b.lo_whisker, 10.0);
        assert_eq!(BoxStats::of(Vec::<i64>::new()), None);
    }

    #[test]
    fn identical_samples_are_not_different() {
        let t = mood_median_test(&[5.0; 4], &[5.0; 3]).unwrap();
        assert_eq!((t.statistic, t.p_value), (0.0, 1.0));
        assert_eq!(mood_median_test(&[], &[1.0]), None);
    }

    /// Reference values computed with SciPy 1.17.1 (NumPy 2.4.6), Python 3.11:
    /// `scipy.stats.fisher_exact([[ka, na - ka], [kb, nb - kb]]).pvalue`.
    #[test]
    fn fishers_exact_test_matches_scipy() {
        let cases: [(u64, u64, u64, u64, f64); 6] = [
            (1, 1000, 40, 1000, 2.6158359207675076e-11),
            (1, 1000, 2, 1000, 1.0),
            (3, 20, 12, 25, 0.02739453066059108),
            (0, 50, 5, 50, 0.05628449442882433),
            (7, 7, 0, 9, 8.741258741258743e-05),
            (250, 10000, 200, 10000, 0.01937866544708717),
        ];
        for (ka, na, kb, nb, p) in cases {
            let t = rate_test(ka, na, kb, nb).unwrap();
            assert_eq!(t.kind, RateTestKind::FisherExact, "{ka}/{na} {kb}/{nb}");
            assert_eq!(t.table, [[ka, na - ka], [kb, nb - kb]]);
            assert!(
                (t.p_value - p).abs() <= 1e-9 * p,
                "{ka}/{na} {kb}/{nb}: p {} vs {p}",
                t.p_value
            );
        }
    }

    /// Reference values computed with SciPy 1.17.1: the pooled statistic
    /// `z = (kb/nb - ka/na) / sqrt(p*(1-p)*(1/na + 1/nb))` with `p = (ka+kb)/(na+nb)`,
    /// and `2 * scipy.stats.norm.sf(abs(z))`.
    #[test]
    fn the_two_proportion_z_test_matches_scipy() {
        let cases: [(u64, u64, u64, u64, f64, f64); 2] = [
            (
                12000,
                200000,
                12600,
                200000,
                3.9488129143536623,
                7.853970192809304e-05,
            ),
            (
                15000,
                300000,
                14400,
                250000,
                12.47670255551208,
                1.0004466787833837e-35,
            ),
        ];
        for (ka, na, kb, nb, z, p) in cases {
            let t = rate_test(ka, na, kb, nb).unwrap();
            assert_eq!(t.kind, RateTestKind::TwoProportionZ, "margins above 10 000");
            assert!((t.z.unwrap() - z).abs() < 1e-9, "z {:?} vs {z}", t.z);
            assert!(
                (t.p_value - p).abs() <= 1e-6 * p,
                "{ka}/{na} {kb}/{nb}: p {} vs {p}",
                t.p_value
            );
        }
    }

    #[test]
    fn rates_without_requests_or_evidence() {
        assert_eq!(rate_test(0, 0, 3, 10), None);
        let none = rate_test(0, 500, 0, 700).unwrap();
        assert_eq!(none.p_value, 1.0, "no failures on either side");
        let capped = rate_test(30, 20, 0, 20).unwrap();
        assert_eq!(capped.table[0], [20, 0], "more occurrences than requests");
        assert_eq!(two_proportion_z(0, 10, 0, 10), (0.0, 1.0));
    }
}
