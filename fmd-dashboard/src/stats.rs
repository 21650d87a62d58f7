//! Statistics of the performance pages: box-plot summaries of duration samples and Mood's
//! median test for the reports.
//!
//! Quantiles and the chi-square distribution come from `statrs`; only the 2×2 table of
//! Mood's test and its continuity correction are spelled out here.

use statrs::distribution::{ChiSquared, ContinuousCDF};
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
}
