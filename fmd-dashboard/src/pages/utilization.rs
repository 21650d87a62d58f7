//! Utilization: when the service is used, which endpoints and versions serve it, and how
//! fast each endpoint answers.

use std::collections::BTreeMap;

use maud::{Markup, html};

use super::Ctx;
use super::components::query;
use super::layout::{Nav, page};
use crate::charts::bars::{Series, stacked_days};
use crate::charts::boxplot::boxplots;
use crate::charts::heatmap::heatmap;
use crate::format;
use crate::stats::BoxStats;
use fmd_runtime::store::perf::{AppVersion, DailyHits, HourCell, VersionDay};

/// Series drawn separately in stacked charts; the rest is summed into "other".
pub const STACKED: usize = 8;

/// The spans a page can show, in days.
pub const SPANS: [i64; 4] = [7, 14, 30, 90];

/// Everything the utilization page shows.
#[derive(Debug, Clone, Default)]
pub struct UtilizationView {
    /// Days shown.
    pub days: i64,
    /// First UTC day number shown.
    pub first_day: i64,
    /// Last UTC day number shown (today).
    pub last_day: i64,
    /// Requests per day and hour.
    pub heat: Vec<HourCell>,
    /// Requests per day and endpoint.
    pub daily: Vec<DailyHits>,
    /// Requests per day and version.
    pub versions: Vec<VersionDay>,
    /// Every version seen.
    pub app_versions: Vec<AppVersion>,
    /// Duration summaries per endpoint (name, stats), slowest median first.
    pub performance: Vec<(String, BoxStats)>,
}

/// The `?days=` selector shared by the time-span pages.
pub fn span_picker(ctx: &Ctx<'_>, path: &str, days: i64) -> Markup {
    html! {
        nav.spans aria-label="time span" {
            span.muted { "Last " }
            @for d in SPANS {
                @if d == days { span.current { (d) " days" } }
                @else {
                    a href=(ctx.url(&format!("{path}{}", query(&[
                        ("days", &d.to_string()),
                        ("instance", ctx.instance.unwrap_or("")),
                    ])))) { (d) " days" }
                }
            }
        }
    }
}

/// Per-day series of `rows` keyed by `key`: the [`STACKED`] largest by total, then
/// "other" for the rest, each with one value per day from `first_day` to `last_day`.
pub fn day_series<T>(
    rows: &[T],
    first_day: i64,
    last_day: i64,
    key: impl Fn(&T) -> &str,
    day: impl Fn(&T) -> i64,
    hits: impl Fn(&T) -> u64,
) -> Vec<Series> {
    let days = (last_day - first_day + 1).max(1) as usize;
    let mut by_key: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for r in rows {
        let d = day(r) - first_day;
        if (0..days as i64).contains(&d) {
            by_key.entry(key(r)).or_insert_with(|| vec![0; days])[d as usize] += hits(r);
        }
    }
    let mut all: Vec<(&str, Vec<u64>)> = by_key.into_iter().collect();
    all.sort_by_key(|(_, v)| std::cmp::Reverse(v.iter().sum::<u64>()));
    let mut out: Vec<Series> = all
        .iter()
        .take(STACKED)
        .map(|(k, v)| Series {
            name: (*k).to_owned(),
            values: v.clone(),
        })
        .collect();
    if all.len() > STACKED {
        let mut other = vec![0; days];
        for (_, v) in &all[STACKED..] {
            for (o, x) in other.iter_mut().zip(v) {
                *o += x;
            }
        }
        out.push(Series {
            name: format!("other ({} more)", all.len() - STACKED),
            values: other,
        });
    }
    out
}

/// The page.
pub fn utilization_page(ctx: &Ctx<'_>, v: &UtilizationView) -> Markup {
    let daily = day_series(
        &v.daily,
        v.first_day,
        v.last_day,
        |r| &r.endpoint,
        |r| r.day,
        |r| r.hits,
    );
    let versions = day_series(
        &v.versions,
        v.first_day,
        v.last_day,
        |r| &r.version,
        |r| r.day,
        |r| r.hits,
    );
    let total: u64 = v.heat.iter().map(|c| c.hits).sum();
    let body = html! {
        h1 { "Utilization" }
        div.sub { (total) " requests in the last " (v.days) " days · all times UTC · from the hourly rollup" }
        (span_picker(ctx, "/utilization", v.days))
        section.card id="heatmap" {
            h2 { "Requests per hour" }
            (heatmap(&v.heat, v.first_day, v.last_day, "Requests per hour of day and day"))
        }
        section.card id="daily" {
            h2 { "Requests per day per endpoint" }
            (stacked_days(&daily, v.first_day, false, "Requests per day, stacked by endpoint"))
        }
        section.card id="versions" {
            h2 { "Versions in use" }
            p.muted { "Share of each day's requests served by each application version." }
            (stacked_days(&versions, v.first_day, true, "Share of requests per version per day"))
            @if !v.app_versions.is_empty() {
                table.data.compact {
                    thead { tr { th { "Version" } th { "Git commit" } th { "First seen" } th { "Last seen" } } }
                    tbody {
                        @for a in &v.app_versions {
                            tr {
                                td.mono { (a.version) }
                                td.mono { @match &a.git_commit { Some(c) => (c), None => span.muted { "–" } } }
                                td { (format::datetime(a.first_seen)) " UTC" }
                                td { (format::datetime(a.last_seen)) " UTC" }
                            }
                        }
                    }
                }
            }
        }
        section.card id="performance" {
            h2 { "API performance" }
            p.muted { "Durations per endpoint over the last " (v.days) " days (at most the latest " (super::endpoint_perf::PERF_SAMPLES) " requests each): box from the 25th to the 75th percentile, the median as a black bar, whiskers to 1.5 × the box." }
            (boxplots(&v.performance, "Request durations per endpoint"))
        }
    };
    page(ctx, "Utilization", Nav::Utilization, body)
}
