//! The overview: one row per endpoint with hits, medians, errors, level and exceptions.

use maud::{Markup, html};

use super::Ctx;
use super::components::{instance_picker, pager, query, sort_th, when};
use super::layout::{Nav, csrf_field, page};
use crate::format;
use fmd_runtime::store::read::{EndpointOverview, HOUR_MS, IssueCounts, OverviewDays, SpanStats};

/// Endpoints per page.
pub const PER_PAGE: usize = 50;

/// How the overview table is filtered, sorted and paged (from the query string).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct OverviewQuery {
    /// Substring of the endpoint name or a route.
    pub q: String,
    /// Sort key: name, today, week, all, median, errors, last, groups.
    pub sort: String,
    /// `asc` or `desc`.
    pub dir: String,
    /// 0-based page.
    pub page: u64,
}

impl OverviewQuery {
    fn desc(&self) -> bool {
        self.dir != "asc"
    }
    fn key(&self) -> &str {
        if self.sort.is_empty() {
            "last"
        } else {
            &self.sort
        }
    }
}

/// Filters and sorts the rows as the query asks; returns the rows of the requested page
/// and the number of matching rows.
pub fn select(
    mut rows: Vec<EndpointOverview>,
    q: &OverviewQuery,
) -> (Vec<EndpointOverview>, usize) {
    let needle = q.q.to_lowercase();
    if !needle.is_empty() {
        rows.retain(|r| {
            r.name.to_lowercase().contains(&needle)
                || r.routes.iter().any(|x| x.to_lowercase().contains(&needle))
        });
    }
    match q.key() {
        "name" => rows.sort_by(|a, b| a.name.cmp(&b.name)),
        "today" => rows.sort_by_key(|r| r.today.hits),
        "week" => rows.sort_by_key(|r| r.week.hits),
        "all" => rows.sort_by_key(|r| r.all.hits),
        "median" => rows.sort_by_key(|r| r.week.median_us),
        "errors" => rows.sort_by_key(|r| r.client_errors_week + r.server_errors_week),
        "groups" => rows.sort_by_key(|r| r.exception_groups),
        _ => rows.sort_by_key(|r| r.last_requested),
    }
    if q.desc() {
        rows.reverse();
    }
    let total = rows.len();
    let page: Vec<_> = rows
        .into_iter()
        .skip(q.page as usize * PER_PAGE)
        .take(PER_PAGE)
        .collect();
    (page, total)
}

fn span_cells(s: &SpanStats) -> Markup {
    html! {
        td.num { (s.hits) }
        td.num { @match s.median_us { Some(m) => (format::duration(m)), None => span.muted { "–" } } }
    }
}

/// The level in force for an endpoint when none is set from the dashboard, and where it
/// comes from (`attribute`, `configuration`); `None` when unknown (no application behind
/// the dashboard).
pub type DefaultLevel<'a> = &'a dyn Fn(&str) -> Option<(u8, &'static str)>;

/// The level cell: a selector for admins, the value for viewers. "default" names the level
/// it stands for and where that comes from, so `#[monitored(level = 3)]` reads as 3.
pub fn level_cell(ctx: &Ctx<'_>, e: &EndpointOverview, default: DefaultLevel<'_>) -> Markup {
    let label = |l: Option<u8>| match (l, default(&e.name)) {
        (None, Some((level, from))) => format!("default: {level} ({from})"),
        (None, None) => "default".to_owned(),
        (Some(l), _) => l.to_string(),
    };
    if !ctx.admin {
        return html! { td { (label(e.level)) } };
    }
    html! {
        td {
            form.inline method="post" action=(ctx.url(&format!("/endpoint/{}/level", e.id))) {
                (csrf_field(ctx))
                select.small name="level" data-autosubmit aria-label=(format!("monitoring level of {}", e.name)) {
                    @for l in [None, Some(0u8), Some(1), Some(2), Some(3)] {
                        option value=(l.map(|l| l.to_string()).unwrap_or_default()) selected[l == e.level] { (label(l)) }
                    }
                }
                noscript { button.small type="submit" { "Set" } }
            }
        }
    }
}

/// The page.
pub fn overview_page(
    ctx: &Ctx<'_>,
    rows: &[EndpointOverview],
    total: usize,
    q: &OverviewQuery,
    issues: &IssueCounts,
    default: DefaultLevel<'_>,
    days: &OverviewDays,
) -> Markup {
    let key = q.key();
    let today_from = days.today_hour * HOUR_MS;
    let desc = q.desc();
    let link = |k: &str, d: bool| {
        ctx.home(&query(&[
            ("q", &q.q),
            ("sort", k),
            ("dir", if d { "desc" } else { "asc" }),
            ("instance", ctx.instance.unwrap_or("")),
        ]))
    };
    let body = html! {
        h1 { "Overview" }
        div.sub {
            (total) " endpoint" @if total != 1 { "s" }
            @if let Some(i) = ctx.instance { " · instance " span.mono { (i) } }
            " · medians and errors per span · days in " (format::zone_name())
            ": today since " span.today-from { (format::datetime_zoned(today_from)) }
            ", 7 days: today and the six days before"
            @if days.rounded_by_ms > 0 {
                " · the zone's offset is not a whole number of hours: days begin "
                (days.rounded_by_ms / 60_000) " min before local midnight, at the start of its UTC hour"
            }
        }
        div.issue-counts {
            "Issues: "
            a href=(ctx.url("/exceptions?isort=first_seen")) { b.new-issues { (issues.new) } " new in 24 h" }
            " · "
            a href=(ctx.url("/exceptions?status=regressed")) { b.regressed-issues { (issues.regressed) } " regressed" }
            " · "
            a href=(ctx.url("/exceptions?status=open")) { b { (issues.open) } " open" }
        }
        form.toolbar method="get" action=(ctx.home("")) {
            input type="search" name="q" value=(q.q) placeholder="Search endpoints or routes" aria-label="search";
            input type="hidden" name="sort" value=(key);
            input type="hidden" name="dir" value=(if desc { "desc" } else { "asc" });
            @if let Some(i) = ctx.instance { input type="hidden" name="instance" value=(i); }
            button type="submit" { "Search" }
        }
        (instance_picker(ctx, &ctx.home(""), &[("q", &q.q), ("sort", &q.sort), ("dir", &q.dir)]))
        table.data.overview {
            thead {
                tr {
                    th rowspan="2" { a href=(link("name", false)) { "Endpoint" } }
                    th.group colspan="2" { "Today" }
                    th.group colspan="2" { "7 days" }
                    th.group colspan="2" { "All" }
                    th.num rowspan="2" { a href=(link("errors", true)) { "4xx / 5xx" } }
                    th rowspan="2" { a href=(link("last", true)) { "Last requested" } }
                    th rowspan="2" { "Level" }
                    th.num rowspan="2" { a href=(link("groups", true)) { "Exceptions" } }
                }
                tr {
                    (sort_th("Hits", "today", key, desc, Some("num"), link))
                    th.num { "Median" }
                    (sort_th("Hits", "week", key, desc, Some("num"), link))
                    (sort_th("Median", "median", key, desc, Some("num"), link))
                    (sort_th("Hits", "all", key, desc, Some("num"), link))
                    th.num { "Median" }
                }
            }
            tbody {
                @if rows.is_empty() { tr { td.muted colspan="11" { "No endpoints yet: they appear with their first request." } } }
                @for e in rows {
                    tr {
                        td {
                            a.mono href=(ctx.keep(&format!("/endpoint/{}", e.id))) { (e.name) }
                            @if !e.routes.is_empty() { div.routes { (e.routes.join(", ")) } }
                        }
                        (span_cells(&e.today))
                        (span_cells(&e.week))
                        (span_cells(&e.all))
                        td.num {
                            span class=[(e.client_errors_week > 0).then_some("badge warn")] { (e.client_errors_week) }
                            " / "
                            span class=[(e.server_errors_week > 0).then_some("badge bad")] { (e.server_errors_week) }
                        }
                        td { (when(e.last_requested, ctx.now)) }
                        (level_cell(ctx, e, default))
                        td.num {
                            a href=(ctx.url(&format!("/endpoint/{}/exceptions", e.id))) class=[(e.exception_groups > 0).then_some("badge bad")] {
                                (e.exception_groups)
                            }
                        }
                    }
                }
            }
        }
        (pager(q.page, PER_PAGE as u64, total as u64, |p| {
            ctx.home(&query(&[
                ("q", &q.q),
                ("sort", key),
                ("dir", &q.dir),
                ("page", &p.to_string()),
                ("instance", ctx.instance.unwrap_or("")),
            ]))
        }))
    };
    page(ctx, "Overview", Nav::Overview, body)
}
