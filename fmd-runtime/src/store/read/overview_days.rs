//! The overview's "today" and "last 7 days" in the viewer's calendar.
//!
//! Spans begin at the viewer's local midnights, given as whole UTC hours
//! ([`OverviewDays`]). Each engine reads the whole UTC days of a span from the daily
//! histogram `duration_daily` and its first, partial UTC day from the hourly one
//! `duration_hourly` (kept for the last [`RECENT_HOURS`]): either the hours of that day
//! inside the span are added, or the whole day is taken and its hours before the span are
//! subtracted, whichever reads fewer hours. A viewer in UTC reads no hourly
//! row; one in Copenhagen one hour per span; the most any zone reads is 12 hours per span.
//!
//! A zone whose offset is not a whole number of hours (India +05:30, Nepal +05:45) has its
//! local midnight inside a UTC hour: the span then begins at the start of that hour, up to
//! 45 minutes before the local midnight (the page says so, see
//! [`OverviewDays::rounded_by_ms`]).

use std::collections::HashMap;

use crate::store::histogram;
use crate::store::read::dashboard::{OverviewDays, SpanStats};
use crate::store::read::perf::HOUR_MS;

/// How many hours back the hourly duration histogram is kept: the start of "7 days" is at
/// most 7 days and a daylight-saving hour back, and its UTC day begins up to a day before.
pub const RECENT_HOURS: i64 = 9 * 24;

/// The edges of "today" and "last 7 days".
pub(crate) fn edges(days: &OverviewDays) -> [Edge; 2] {
    let now_hour = days.now.div_euclid(HOUR_MS);
    [
        Edge::of(days.today_hour, now_hour),
        Edge::of(days.week_hour, now_hour),
    ]
}

/// How a span's first UTC day is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Edge {
    /// The first UTC day read whole from `duration_daily`.
    pub whole_from: i64,
    /// Hours `[from, to)` read from `duration_hourly` (empty when the span starts at a UTC
    /// midnight).
    pub hours: (i64, i64),
    /// +1: those hours are added; -1: subtracted from the whole day before them.
    pub sign: i64,
}

impl Edge {
    /// The edge of a span beginning at hour `start`, read at hour `now_hour`.
    fn of(start: i64, now_hour: i64) -> Edge {
        let (day, k) = (start.div_euclid(24), start.rem_euclid(24));
        if k == 0 {
            return Edge {
                whole_from: day,
                hours: (start, start),
                sign: 1,
            };
        }
        // Hours of that day inside the span that can have rows (none after now).
        let inside = (now_hour + 1 - day * 24).clamp(0, 24) - k;
        if inside <= k {
            Edge {
                whole_from: day + 1,
                hours: (start, day * 24 + 24),
                sign: 1,
            }
        } else {
            Edge {
                whole_from: day,
                hours: (day * 24, start),
                sign: -1,
            }
        }
    }

    /// Whether the daily row of `day` counts in the span.
    fn has_day(&self, day: i64) -> bool {
        day >= self.whole_from
    }

    /// What an hourly row of `hour` adds to the span: its hits times this.
    fn hour_sign(&self, hour: i64) -> i64 {
        if hour >= self.hours.0 && hour < self.hours.1 {
            self.sign
        } else {
            0
        }
    }
}

/// One span's histogram: hits per duration bucket (negative only while hours are being
/// subtracted).
#[derive(Default)]
struct SpanHistogram(HashMap<i64, i64>);

impl SpanHistogram {
    fn add(&mut self, bucket: i64, hits: i64) {
        *self.0.entry(bucket).or_default() += hits;
    }

    fn stats(&self) -> SpanStats {
        histogram::span_stats(self.0.iter().map(|(&b, &h)| (b, h.max(0) as u64)))
    }
}

/// The three spans (today, last 7 days, all time) of every endpoint, summed from the rows
/// an engine reads.
pub(crate) struct SpanSums {
    edges: [Edge; 2],
    endpoints: HashMap<i64, [SpanHistogram; 3]>,
}

impl SpanSums {
    pub(crate) fn new(days: OverviewDays) -> Self {
        SpanSums {
            edges: edges(&days),
            endpoints: HashMap::new(),
        }
    }

    /// The edges of today and the week (which days and hours to read).
    pub(crate) fn edges(&self) -> [Edge; 2] {
        self.edges
    }

    /// Hits of one bucket already summed per span: `[today, week, all]`.
    pub(crate) fn add_sums(&mut self, endpoint: i64, bucket: i64, hits: [i64; 3]) {
        let spans = self.endpoints.entry(endpoint).or_default();
        for (span, n) in spans.iter_mut().zip(hits) {
            if n != 0 {
                span.add(bucket, n);
            }
        }
    }

    /// A row of `duration_daily`.
    pub(crate) fn add_day(&mut self, endpoint: i64, day: i64, bucket: i64, hits: i64) {
        let [today, week] = self.edges;
        let of = |e: Edge| if e.has_day(day) { hits } else { 0 };
        self.add_sums(endpoint, bucket, [of(today), of(week), hits]);
    }

    /// A row of `duration_hourly` inside one of the edges' hours.
    pub(crate) fn add_hour(&mut self, endpoint: i64, hour: i64, bucket: i64, hits: i64) {
        let [today, week] = self.edges;
        let sums = [hits * today.hour_sign(hour), hits * week.hour_sign(hour), 0];
        self.add_sums(endpoint, bucket, sums);
    }

    /// The spans `[today, week, all]` of `endpoint` (empty ones without rows).
    pub(crate) fn take(&mut self, endpoint: i64) -> [SpanStats; 3] {
        let spans = self.endpoints.remove(&endpoint).unwrap_or_default();
        spans.each_ref().map(SpanHistogram::stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = HOUR_MS;

    #[test]
    fn a_utc_midnight_reads_no_hour() {
        let d = OverviewDays::utc(20_000 * 24 * H + 5 * H);
        let [today, week] = edges(&d);
        assert_eq!(today.whole_from, 20_000);
        assert_eq!(today.hours.0, today.hours.1);
        assert_eq!(week.whole_from, 19_994);
    }

    #[test]
    fn east_of_utc_adds_the_last_hours_of_the_day_before() {
        // Copenhagen in winter: midnight is 23:00 UTC of the day before.
        let now = 20_000 * 24 * H + 10 * H;
        let d = OverviewDays::starting(now, 20_000 * 24 * H - H, 19_994 * 24 * H - H);
        let [today, week] = edges(&d);
        assert_eq!(
            today,
            Edge {
                whole_from: 20_000,
                hours: (20_000 * 24 - 1, 20_000 * 24),
                sign: 1
            }
        );
        assert_eq!(week.whole_from, 19_994);
    }

    #[test]
    fn west_of_utc_subtracts_the_first_hours_of_the_day() {
        // New York in winter, 10:00 UTC: midnight was 05:00 UTC today.
        let now = 20_000 * 24 * H + 10 * H;
        let d = OverviewDays::starting(now, 20_000 * 24 * H + 5 * H, 19_994 * 24 * H + 5 * H);
        let [today, week] = edges(&d);
        assert_eq!(
            today,
            Edge {
                whole_from: 20_000,
                hours: (20_000 * 24, 20_000 * 24 + 5),
                sign: -1
            }
        );
        assert_eq!(week.sign, -1);
        // At 06:00 UTC one hour has passed since midnight: it is added.
        let d = OverviewDays::starting(now - 4 * H, 20_000 * 24 * H + 5 * H, 0);
        assert_eq!(edges(&d)[0].sign, 1);
        assert_eq!(edges(&d)[0].whole_from, 20_001);
    }

    #[test]
    fn spans_sum_days_and_hours() {
        let now = 20_000 * 24 * H + 10 * H;
        let d = OverviewDays::starting(now, 20_000 * 24 * H + 5 * H, 19_994 * 24 * H + 5 * H);
        let mut s = SpanSums::new(d);
        // Today's UTC day: 10 requests, 4 of them before 05:00 UTC.
        s.add_day(1, 20_000, 7, 10);
        s.add_hour(1, 20_000 * 24 + 2, 7, 4);
        // An older day, inside the week only (whose edge is days before).
        s.add_day(1, 19_999, 7, 3);
        let [today, week, all] = s.take(1);
        assert_eq!((today.hits, week.hits, all.hits), (6, 13, 13));
        assert_eq!(s.take(2)[0].hits, 0);
    }

    #[test]
    fn minutes_of_the_offset_round_to_the_hour() {
        // India: midnight is 18:30 UTC.
        let midnight = 20_000 * 24 * H - 5 * H - 30 * 60_000;
        let d = OverviewDays::starting(midnight + 3 * H, midnight, midnight - 6 * 24 * H);
        assert_eq!(d.today_hour, 20_000 * 24 - 6);
        assert_eq!(d.rounded_by_ms, 30 * 60_000);
    }
}
