//! Duration histograms with logarithmic buckets, shared by every storage engine.
//!
//! The writer adds each stored request to a per-day histogram of its endpoint and instance
//! (`duration_daily`); the overview reads medians from it instead of walking millions of
//! request rows. Buckets grow by a factor of 2^(1/16) (about 4.4 %), so a median read from
//! them is within about 2.2 % (plus rounding to whole µs) of the exact one, from 1 µs to hours, with a few dozen
//! buckets for a typical endpoint-day.
//!
//! ```
//! use fmd_runtime::store::histogram::{bucket, bucket_value, median};
//!
//! let b = bucket(1_500);
//! assert!((bucket_value(b) - 1_500).abs() <= 1_500 * 22 / 1000 + 1);
//! assert_eq!(median([(bucket(100), 1), (bucket(300), 2)].into_iter()), Some(bucket_value(bucket(300))));
//! ```

use crate::store::read::dashboard::SpanStats;

/// Buckets per doubling of the duration.
pub const PER_DOUBLING: f64 = 16.0;

/// The bucket of a duration in µs: 0 holds 0 µs, bucket `b ≥ 1` holds durations in
/// `[2^((b-1)/16), 2^(b/16))`.
pub fn bucket(duration_us: i64) -> i64 {
    if duration_us <= 0 {
        return 0;
    }
    ((duration_us as f64).log2() * PER_DOUBLING).floor() as i64 + 1
}

/// The duration a bucket stands for: the geometric middle of its range, rounded to whole
/// µs and kept inside the range's whole numbers.
pub fn bucket_value(bucket: i64) -> i64 {
    if bucket <= 0 {
        return 0;
    }
    let low = ((bucket - 1) as f64 / PER_DOUBLING).exp2();
    let high = (bucket as f64 / PER_DOUBLING).exp2();
    let middle = ((bucket as f64 - 0.5) / PER_DOUBLING).exp2().round();
    middle.clamp(low.ceil(), (high.ceil() - 1.0).max(low.ceil())) as i64
}

/// Hits and median of one span's histogram, as `(bucket, hits)` pairs in any order (the
/// overview's today, last 7 days and all time).
pub(crate) fn span_stats(buckets: impl Iterator<Item = (i64, u64)> + Clone) -> SpanStats {
    SpanStats {
        hits: buckets.clone().map(|(_, hits)| hits).sum(),
        median_us: median(buckets),
    }
}

/// The median of a histogram given as `(bucket, hits)` pairs in any order (the lower
/// median for an even count, as `ORDER BY duration LIMIT 1 OFFSET n/2` on the rows gives
/// the upper one; both lie in the same bucket unless the halves split between buckets).
/// `None` without hits.
pub fn median(buckets: impl Iterator<Item = (i64, u64)>) -> Option<i64> {
    let mut sorted: Vec<(i64, u64)> = buckets.filter(|&(_, hits)| hits > 0).collect();
    sorted.sort_unstable();
    let total: u64 = sorted.iter().map(|&(_, hits)| hits).sum();
    if total == 0 {
        return None;
    }
    // The row `total / 2` (0-based) of the sorted durations, as the row-based query picked.
    let target = total / 2;
    let mut seen = 0;
    for (b, hits) in sorted {
        seen += hits;
        if seen > target {
            return Some(bucket_value(b));
        }
    }
    None
}

/// Up to `limit` durations (µs) standing for the requests of a daily histogram, given as
/// `(day, bucket, hits)` rows newest day first: each bucket's value as often as it has hits,
/// newest days first, and from the day that no longer fits whole, `limit`'s remainder
/// spread evenly over its sorted durations (so its median and quartiles stay). The latency
/// samples of spans whose raw request rows were pruned (see raw retention) read these.
pub fn samples(rows: &[(i64, i64, u64)], limit: usize) -> Vec<i64> {
    let mut out = Vec::new();
    let mut rest = rows;
    while let Some(&(day, _, _)) = rest.first() {
        let n = rest.iter().take_while(|r| r.0 == day).count();
        let (today, older) = rest.split_at(n);
        rest = older;
        let mut buckets: Vec<(i64, u64)> = today.iter().map(|r| (r.1, r.2)).collect();
        buckets.sort_unstable();
        let total: u64 = buckets.iter().map(|b| b.1).sum();
        let room = (limit - out.len()) as u64;
        if total <= room {
            for (b, hits) in buckets {
                out.extend(std::iter::repeat_n(bucket_value(b), hits as usize));
            }
            continue;
        }
        // `room` evenly spaced ranks of the day's sorted durations.
        let (mut i, mut seen) = (0u64, 0u64);
        for (b, hits) in buckets {
            seen += hits;
            while i < room && (2 * i + 1) * total < 2 * room * seen {
                out.push(bucket_value(b));
                i += 1;
            }
        }
        break;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_duration_lands_in_a_bucket_whose_value_is_close() {
        for d in (0..5_000).chain((5_000..100_000_000).step_by(9_973)) {
            let v = bucket_value(bucket(d));
            let err = (v - d).abs() as f64;
            assert!(err <= d as f64 * 0.022 + 1.0, "{d} -> {v}");
        }
    }

    #[test]
    fn small_durations_are_exact() {
        for d in 0..=22 {
            assert_eq!(bucket_value(bucket(d)), d, "{d}");
        }
    }

    #[test]
    fn buckets_are_monotonic() {
        let mut last = 0;
        for d in 0..200_000 {
            let b = bucket(d);
            assert!(b >= last);
            last = b;
        }
    }

    #[test]
    fn samples_take_newest_days_whole_then_spread_the_rest() {
        let (a, b, c) = (bucket(100), bucket(300), bucket(900));
        let v = |b| bucket_value(b);
        // Day 9 fits whole; day 8 (100, 300, 300, 900) gives its ranks 1 and 3.
        let rows = [
            (9, a, 1),
            (9, c, 1),
            (8, a, 1),
            (8, b, 2),
            (8, c, 1),
            (7, a, 5),
        ];
        let got = samples(&rows, 4);
        assert_eq!(got, vec![v(a), v(c), v(b), v(c)]);
        assert_eq!(samples(&rows, 100).len(), 11);
        assert!(samples(&[], 10).is_empty());
        assert!(samples(&rows, 0).is_empty());
    }

    #[test]
    fn median_picks_the_middle_row() {
        assert_eq!(median(std::iter::empty()), None);
        assert_eq!(median([(bucket(7), 0)].into_iter()), None);
        // 100, 200, 300: the middle is 200.
        let h = [(bucket(300), 1), (bucket(100), 1), (bucket(200), 1)];
        assert_eq!(median(h.into_iter()), Some(bucket_value(bucket(200))));
        // 100, 300, 300, 900: row 2 is 300.
        let h = [(bucket(100), 1), (bucket(300), 2), (bucket(900), 1)];
        assert_eq!(median(h.into_iter()), Some(bucket_value(bucket(300))));
    }
}
