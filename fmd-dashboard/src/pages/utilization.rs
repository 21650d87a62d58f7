//! Utilization: when the service is used, which endpoints and versions serve it, and how
//! fast each endpoint answers.

use maud::{Markup, html};

use super::Ctx;
use super::components::{PERF_SAMPLES, day_series, span_picker};
use super::layout::{Nav, page};
use crate::charts::bars::stacked_days;
use crate::charts::boxplot::boxplots;
use crate::charts::heatmap::heatmap;
use crate::format;
use crate::stats::BoxStats;
use fmd_runtime::store::read::{AppVersion, DailyHits, HourCell, VersionDay};

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
        div.sub { (total) " requests in the last " (v.days) " days · hours in " (format::zone_name()) ", days in UTC · from the hourly rollup" }
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
                                td { (format::datetime_zoned(a.first_seen)) }
                                td { (format::datetime_zoned(a.last_seen)) }
                            }
                        }
                    }
                }
            }
        }
        section.card id="performance" {
            h2 { "API performance" }
            p.muted { "Durations per endpoint over the last " (v.days) " days (at most the latest " (PERF_SAMPLES) " requests each): box from the 25th to the 75th percentile, the median as a black bar, whiskers to 1.5 × the box." }
            (boxplots(&v.performance, "Request durations per endpoint"))
        }
    };
    page(ctx, "Utilization", Nav::Utilization, body)
}
