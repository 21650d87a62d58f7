//! One endpoint's performance: hourly load, versions, users, IPs and status codes; and the
//! tab bar shared by every per-endpoint page.

use std::collections::BTreeMap;

use maud::{Markup, html};

use super::Ctx;
use super::components::{day_series, instance_picker, pruned_note, span_picker, when};
use super::layout::{Nav, page};
use crate::charts::bars::{count_bars, hbars, stacked_days};
use crate::charts::boxplot::boxplots;
use crate::charts::heatmap::heatmap;
use crate::format;
use crate::stats::{BoxStats, by_key};
use fmd_runtime::store::read::EndpointInfo;
use fmd_runtime::store::read::{HourCell, RequestSample, VersionDay};

/// Requests read per endpoint for its distributions (the latest ones in the span).
pub const SAMPLE_LIMIT: u32 = 5000;
/// Users or IPs shown (the busiest).
pub const TOP_GROUPS: usize = 15;

/// The per-endpoint pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Load and distributions.
    Performance,
    /// Failed requests.
    Failed,
    /// Outliers.
    Outliers,
    /// Latest call trees.
    Profiler,
    /// Merged call trees.
    Grouped,
    /// Exception groups.
    Exceptions,
}

/// The endpoint's name and the links to its pages (and, on the pages of raw rows, that
/// older ones were pruned).
pub fn endpoint_head(ctx: &Ctx<'_>, e: &EndpointInfo, active: Tab) -> Markup {
    let tabs = [
        (Tab::Performance, "", "Performance"),
        (Tab::Failed, "/requests", "Failed requests"),
        (Tab::Outliers, "/outliers", "Outliers"),
        (Tab::Profiler, "/profiler", "Profiler"),
        (Tab::Grouped, "/grouped-profiler", "Grouped profiler"),
        (Tab::Exceptions, "/exceptions", "Exceptions"),
    ];
    html! {
        h1 span.mono { (e.name) }
        div.sub {
            "Last requested " (when(e.last_requested, ctx.now))
            " · level " @match e.level { Some(l) => (l), None => "default" }
        }
        nav.tabs aria-label="endpoint pages" {
            @for (tab, path, label) in tabs {
                a href=(ctx.keep(&format!("/endpoint/{}{path}", e.id)))
                    class=[(tab == active).then_some("active")] { (label) }
            }
        }
        @if active != Tab::Exceptions {
            @for (tab, path, _) in tabs {
                @if tab == active {
                    (instance_picker(ctx, &ctx.url(&format!("/endpoint/{}{path}", e.id)), &[]))
                }
            }
        }
        (pruned_note(ctx))
    }
}

/// Everything the endpoint's performance page shows.
#[derive(Debug, Clone)]
pub struct EndpointPerfView {
    /// The endpoint.
    pub info: EndpointInfo,
    /// Days shown.
    pub days: i64,
    /// First UTC day number shown.
    pub first_day: i64,
    /// Last UTC day number shown.
    pub last_day: i64,
    /// Its requests per day and hour.
    pub heat: Vec<HourCell>,
    /// Its requests per day and version.
    pub versions: Vec<VersionDay>,
    /// Its latest requests in the span (at most [`SAMPLE_LIMIT`]).
    pub samples: Vec<RequestSample>,
}

/// A table of per-group summaries next to their box plots.
pub fn summary_table(key: &str, rows: &[(String, BoxStats)]) -> Markup {
    html! {
        table.data.compact {
            thead { tr { th { (key) } th.num { "Requests" } th.num { "Median" } th.num { "p90" } th.num { "Max" } } }
            tbody {
                @for (k, b) in rows {
                    tr {
                        td.mono { (k) }
                        td.num { (b.count) }
                        td.num { (format::duration(b.median.round() as i64)) }
                        td.num { (format::duration(b.p90.round() as i64)) }
                        td.num { (format::duration(b.max.round() as i64)) }
                    }
                }
            }
        }
    }
}

/// Status codes of the samples, most frequent first; cancelled requests as "cancelled".
pub fn status_counts(samples: &[RequestSample]) -> Vec<(String, u64)> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for s in samples {
        let key = match (s.cancelled, s.status) {
            (true, _) | (_, None) => "cancelled".to_owned(),
            (false, Some(code)) => code.to_string(),
        };
        *counts.entry(key).or_default() += 1;
    }
    let mut out: Vec<_> = counts.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

/// The page.
pub fn endpoint_perf_page(ctx: &Ctx<'_>, v: &EndpointPerfView) -> Markup {
    let e = &v.info;
    let version_series = day_series(
        &v.versions,
        v.first_day,
        v.last_day,
        |r| &r.version,
        |r| r.day,
        |r| r.hits,
    );
    let per_version = by_key(&v.samples, |s| Some(s.version.as_str()), TOP_GROUPS);
    let per_user = by_key(&v.samples, |s| s.group_by.as_deref(), TOP_GROUPS);
    let per_ip = by_key(&v.samples, |s| s.ip.as_deref(), TOP_GROUPS);
    let statuses = status_counts(&v.samples);
    let path = format!("/endpoint/{}", e.id);
    let body = html! {
        (endpoint_head(ctx, e, Tab::Performance))
        (span_picker(ctx, &path, v.days))
        p.muted {
            "Distributions use the latest " (v.samples.len()) " requests of the last " (v.days)
            " days (at most " (SAMPLE_LIMIT) "). Times in " (format::zone_name()) ", days in UTC. "
            a href=(ctx.keep(&format!("/endpoint/{}/log.csv", e.id))) download { "Download every stored request (CSV)" }
        }
        section.card id="load" {
            h2 { "Hourly load" }
            (heatmap(&v.heat, v.first_day, v.last_day, &format!("Requests per hour of {}", e.name)))
        }
        section.card id="versions" {
            h2 { "Per version" }
            (stacked_days(&version_series, v.first_day, true, "Share of requests per version per day"))
            (boxplots(&per_version, "Durations per version"))
        }
        section.card id="users" {
            h2 { "Per user" }
            @if per_user.is_empty() {
                p.muted { "No group-by value (user) was recorded for these requests." }
            } @else {
                (boxplots(&per_user, "Durations per user"))
                (summary_table("User", &per_user))
            }
        }
        section.card id="ips" {
            h2 { "Per IP" }
            @if per_ip.is_empty() {
                p.muted { "No client IP was recorded for these requests." }
            } @else {
                (boxplots(&per_ip, "Durations per client IP"))
                (summary_table("IP", &per_ip))
            }
        }
        section.card id="statuses" {
            h2 { "Status codes" }
            (hbars(&count_bars(&statuses), "requests", "Requests per status code"))
        }
    };
    page(
        ctx,
        &format!("Performance of {}", e.name),
        Nav::Overview,
        body,
    )
}
