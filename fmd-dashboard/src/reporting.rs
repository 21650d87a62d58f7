//! Reports: compare two periods or two versions, endpoint by endpoint.
//!
//! Per endpoint: the median latency of each side from at most [`SAMPLES`] of its latest
//! requests, tested with Mood's median test (a change is a finding when p < [`ALPHA`], as
//! the Flask Monitoring Dashboard does); and the mix of responses (ok, 4xx, 5xx,
//! cancelled) from the hourly rollup, a finding when a class's share moves by at least
//! [`MIX_POINTS`] percentage points with [`MIX_MIN_HITS`] requests or more on each side.
//!
//! Per issue: its occurrences per request on each side (see
//! [`IssueRates`]), tested with [`rate_test`] (Fisher's exact test, or the two-proportion
//! z-test for large tables); a finding under the latency's rule, p < [`ALPHA`] and the
//! rates differ. [`report`] reads both, the issues' requests taken from the endpoints'
//! response mixes rather than read from the rollup a second time.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::stats::{BoxStats, MoodTest, RateTest, mood_median_test, rate_test};
use fmd_runtime::store::StoreError;
use fmd_runtime::store::read::{EndpointInfo, IssueRateCounts, IssueRates};
use fmd_runtime::store::read::{PerfStore, Selection, StatusMix};

/// Latency samples per side.
pub const SAMPLES: u32 = 500;
/// Significance level of the median test.
pub const ALPHA: f64 = 0.05;
/// Smallest change of a response class's share that counts, in percentage points.
pub const MIX_POINTS: f64 = 5.0;
/// Requests each side needs before its response mix is compared.
pub const MIX_MIN_HITS: u64 = 20;

/// The median latency of both sides and the test between them.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyChange {
    /// Samples on side A.
    pub samples_a: usize,
    /// Samples on side B.
    pub samples_b: usize,
    /// Median of side A (µs).
    pub median_a: f64,
    /// Median of side B (µs).
    pub median_b: f64,
    /// Distribution of side A.
    pub box_a: BoxStats,
    /// Distribution of side B.
    pub box_b: BoxStats,
    /// (B − A) / A in percent.
    pub change_pct: f64,
    /// Mood's median test of A against B.
    pub test: MoodTest,
    /// p < [`ALPHA`] and the medians differ.
    pub significant: bool,
}

/// One response class whose share changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MixChange {
    /// `ok`, `4xx`, `5xx` or `cancelled`.
    pub class: &'static str,
    /// Share on side A, percent.
    pub share_a: f64,
    /// Share on side B, percent.
    pub share_b: f64,
}

/// The comparison of one endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointReport {
    /// The endpoint.
    pub endpoint: EndpointInfo,
    /// `None` when a side has no requests.
    pub latency: Option<LatencyChange>,
    /// Responses of side A.
    pub mix_a: StatusMix,
    /// Responses of side B.
    pub mix_b: StatusMix,
    /// Classes whose share moved by at least [`MIX_POINTS`].
    pub mix_changes: Vec<MixChange>,
}

impl EndpointReport {
    /// Whether anything about this endpoint is worth reading.
    pub fn has_findings(&self) -> bool {
        self.latency.as_ref().is_some_and(|l| l.significant) || !self.mix_changes.is_empty()
    }
}

/// Compares the latency of two samples of durations (µs).
pub fn latency_change(a: &[i64], b: &[i64]) -> Option<LatencyChange> {
    let (box_a, box_b) = (
        BoxStats::of(a.iter().copied())?,
        BoxStats::of(b.iter().copied())?,
    );
    let a: Vec<f64> = a.iter().map(|v| *v as f64).collect();
    let b: Vec<f64> = b.iter().map(|v| *v as f64).collect();
    let test = mood_median_test(&a, &b)?;
    let (median_a, median_b) = (box_a.median, box_b.median);
    let change_pct = if median_a > 0.0 {
        (median_b - median_a) / median_a * 100.0
    } else {
        0.0
    };
    Some(LatencyChange {
        samples_a: a.len(),
        samples_b: b.len(),
        median_a,
        median_b,
        box_a,
        box_b,
        change_pct,
        significant: test.p_value < ALPHA && median_a != median_b,
        test,
    })
}

/// The classes whose share moved by at least [`MIX_POINTS`] percentage points.
pub fn mix_changes(a: &StatusMix, b: &StatusMix) -> Vec<MixChange> {
    if a.hits < MIX_MIN_HITS || b.hits < MIX_MIN_HITS {
        return Vec::new();
    }
    let shares = |m: &StatusMix| {
        let pct = |n: u64| n as f64 * 100.0 / m.hits as f64;
        [
            ("ok", pct(m.ok())),
            ("4xx", pct(m.client_errors)),
            ("5xx", pct(m.server_errors)),
            ("cancelled", pct(m.cancelled)),
        ]
    };
    shares(a)
        .into_iter()
        .zip(shares(b))
        .filter(|((_, x), (_, y))| (y - x).abs() >= MIX_POINTS)
        .map(|((class, share_a), (_, share_b))| MixChange {
            class,
            share_a,
            share_b,
        })
        .collect()
}

/// Compares every endpoint between the two sides (of an
/// [`AnyReader`](fmd_runtime::store::AnyReader): `compare(&mut *reader, ..)`).
pub fn compare<S: PerfStore + ?Sized>(
    store: &mut S,
    a: &Selection,
    b: &Selection,
) -> Result<Vec<EndpointReport>, StoreError> {
    let mut out = endpoint_reports(store, a, b)?;
    sort_reports(&mut out);
    Ok(out)
}

/// Every endpoint with requests on a side, in the order of [`PerfStore::endpoint_list`].
fn endpoint_reports<S: PerfStore + ?Sized>(
    store: &mut S,
    a: &Selection,
    b: &Selection,
) -> Result<Vec<EndpointReport>, StoreError> {
    let mut out = Vec::new();
    for endpoint in store.endpoint_list()? {
        let mix_a = store.status_mix(endpoint.id, a)?;
        let mix_b = store.status_mix(endpoint.id, b)?;
        if mix_a.hits == 0 && mix_b.hits == 0 {
            continue;
        }
        let da = store.durations(endpoint.id, a, SAMPLES)?;
        let db = store.durations(endpoint.id, b, SAMPLES)?;
        out.push(EndpointReport {
            latency: latency_change(&da, &db),
            mix_changes: mix_changes(&mix_a, &mix_b),
            endpoint,
            mix_a,
            mix_b,
        });
    }
    Ok(out)
}

/// Findings first, the largest latency change first among them.
fn sort_reports(reports: &mut [EndpointReport]) {
    reports.sort_by(|x, y| {
        let key = |r: &EndpointReport| r.latency.as_ref().map_or(0.0, |l| l.change_pct.abs());
        y.has_findings()
            .cmp(&x.has_findings())
            .then_with(|| key(y).total_cmp(&key(x)))
    });
}

/// One issue's error rate on both sides and the test between them.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorRateChange {
    /// The issue and its counts.
    pub counts: IssueRateCounts,
    /// Occurrences per request on side A, percent (at most 100).
    pub rate_a: f64,
    /// Occurrences per request on side B, percent.
    pub rate_b: f64,
    /// The test of A's rate against B's.
    pub test: RateTest,
    /// p < [`ALPHA`] and the rates differ.
    pub significant: bool,
}

/// Tests one issue's rates; `None` when a side had no requests to its endpoints.
pub fn error_rate_change(counts: IssueRateCounts) -> Option<ErrorRateChange> {
    let test = rate_test(
        counts.occurrences_a,
        counts.requests_a,
        counts.occurrences_b,
        counts.requests_b,
    )?;
    let pct = |row: [u64; 2]| row[0] as f64 * 100.0 / (row[0] + row[1]) as f64;
    let (rate_a, rate_b) = (pct(test.table[0]), pct(test.table[1]));
    Some(ErrorRateChange {
        significant: test.p_value < ALPHA && rate_a != rate_b,
        counts,
        rate_a,
        rate_b,
        test,
    })
}

/// Every issue's error rate on both sides (of an
/// [`AnyReader`](fmd_runtime::store::AnyReader): `error_rates(&mut *reader, ..)`),
/// significant changes first, the smallest p-value first among them.
pub fn error_rates<S: IssueRates + ?Sized>(
    store: &mut S,
    a: &Selection,
    b: &Selection,
) -> Result<Vec<ErrorRateChange>, StoreError> {
    Ok(rate_changes(store.issue_rate_counts(a, b)?))
}

/// The tested, sorted rates of the issues' counts.
fn rate_changes(counts: Vec<IssueRateCounts>) -> Vec<ErrorRateChange> {
    let mut out: Vec<ErrorRateChange> = counts.into_iter().filter_map(error_rate_change).collect();
    out.sort_by(|x, y| {
        y.significant
            .cmp(&x.significant)
            .then_with(|| x.test.p_value.total_cmp(&y.test.p_value))
            .then_with(|| x.counts.issue_id.cmp(&y.counts.issue_id))
    });
    out
}

/// The whole report: [`compare`] and [`error_rates`] of the same sides, the issues'
/// requests summed from the endpoints' response mixes (the same rollup rows), so the
/// hourly rollup is read once per endpoint and side.
pub fn report<S: PerfStore + IssueRates + ?Sized>(
    store: &mut S,
    a: &Selection,
    b: &Selection,
) -> Result<(Vec<EndpointReport>, Vec<ErrorRateChange>), StoreError> {
    let mut reports = endpoint_reports(store, a, b)?;
    let hits = |mix: fn(&EndpointReport) -> &StatusMix| -> BTreeMap<i64, u64> {
        reports
            .iter()
            .map(|r| (r.endpoint.id, mix(r).hits))
            .collect()
    };
    let (hits_a, hits_b) = (hits(|r| &r.mix_a), hits(|r| &r.mix_b));
    let counts = store.issue_rate_counts_with_hits(a, b, [&hits_a, &hits_b])?;
    sort_reports(&mut reports);
    Ok((reports, rate_changes(counts)))
}
