//! One endpoint's failed requests and its outliers.

use maud::{Markup, html};

use super::Ctx;
use super::components::{pager, query, when};
use super::endpoint_perf::{Tab, endpoint_head};
use super::layout::{Nav, page};
use super::trace::trace;
use crate::charts::bars::{Bar, count_bars, hbars};
use crate::charts::ms;
use crate::format;
use fmd_runtime::store::read::{EndpointInfo, Page};
use fmd_runtime::store::read::{FailedRequest, Outlier};

/// Rows per page of the failed-request list.
pub const FAILED_PER_PAGE: u64 = 50;
/// Outliers per page.
pub const OUTLIERS_PER_PAGE: u64 = 10;

/// A status as a badge: red for 5xx, amber for 4xx, plain otherwise ("cancelled" when the
/// client went away first).
pub fn status_badge(status: Option<u16>, cancelled: bool) -> Markup {
    match (cancelled, status) {
        (true, _) => html! { span.badge { "cancelled" } },
        // A monitored function outside the layer: its answer is not known.
        (false, None) => html! { span.badge title="status unknown" { "—" } },
        (false, Some(s)) if s < 400 => html! { span.badge { (s) } },
        (false, Some(s)) if s >= 500 => html! { span.badge.bad { (s) } },
        (false, Some(s)) => html! { span.badge.warn { (s) } },
    }
}

/// The failed-requests page.
pub fn failed_page(
    ctx: &Ctx<'_>,
    e: &EndpointInfo,
    list: &Page<FailedRequest>,
    page_no: u64,
) -> Markup {
    let mut by_status: Vec<(String, u64)> = Vec::new();
    for r in &list.rows {
        let key = match (r.cancelled, r.status) {
            (true, _) | (_, None) => "cancelled".to_owned(),
            (false, Some(s)) => s.to_string(),
        };
        match by_status.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => by_status.push((key, 1)),
        }
    }
    by_status.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let body = html! {
        (endpoint_head(ctx, e, Tab::Failed))
        p.muted {
            (list.total) " failed requests in store: status 400 or more, or cancelled. Newest first. "
            a href=(ctx.keep(&format!("/endpoint/{}/requests.csv", e.id))) download { "Download all as CSV" }
        }
        @if !list.rows.is_empty() {
            section.card {
                h2 { "Statuses on this page" }
                (hbars(&count_bars(&by_status), "requests", "Failed requests per status on this page"))
            }
        }
        table.data.failed {
            thead { tr { th { "Time (" (format::zone_name()) ")" } th { "Method" } th { "Route" } th { "Status" } th.num { "Duration" } th { "Exception" } } }
            tbody {
                @if list.rows.is_empty() { tr { td.muted colspan="6" { "No failed requests." } } }
                @for r in &list.rows {
                    tr {
                        td { a href=(ctx.url(&format!("/request/{}", r.id))) { (format::datetime(r.time)) } " " span.muted { "(" (format::ago(r.time, ctx.now)) ")" } }
                        td.mono { (r.method) }
                        td.mono { (r.route) }
                        td { (status_badge(r.status, r.cancelled)) }
                        td.num { (format::duration(r.duration_us)) }
                        td {
                            @match r.group_id {
                                Some(g) => a href=(ctx.url(&format!("/endpoint/{}/exceptions?group={g}#group-{g}", e.id))) { "exception group " (g) },
                                None => span.muted { "–" },
                            }
                        }
                    }
                }
            }
        }
        (pager(page_no, FAILED_PER_PAGE, list.total, |p| {
            ctx.url(&format!(
                "/endpoint/{}/requests{}",
                e.id,
                query(&[("page", &p.to_string()), ("instance", ctx.instance.unwrap_or(""))])
            ))
        }))
    };
    page(
        ctx,
        &format!("Failed requests of {}", e.name),
        Nav::Overview,
        body,
    )
}

/// One outlier's card.
pub fn outlier_card(ctx: &Ctx<'_>, o: &Outlier) -> Markup {
    let factor = o.duration_us as f64 / o.threshold_us.max(1) as f64;
    html! {
        section.card.outlier id=(format!("outlier-{}", o.request_id)) {
            div.outlier-head {
                span.mono.url { (o.url) }
                (status_badge(o.status, o.status.is_none()))
            }
            div.facts {
                span { "duration " b { (ms(o.duration_us as f64)) " ms" } }
                span { "threshold " b { (ms(o.threshold_us as f64)) " ms" } " (" (format!("{factor:.1}")) "×)" }
                span { "typical " b { (ms(o.typical_us as f64)) " ms" } }
                span { "CPU " b { @match o.cpu_percent { Some(c) => (format!("{c:.0} %")), None => "–" } } }
                span { "memory " b { @match o.memory_bytes { Some(m) => (format::bytes(m.max(0) as u64)), None => "–" } } }
                span { a href=(ctx.url(&format!("/request/{}", o.request_id))) { (format::datetime_zoned(o.time)) } " · " (when(Some(o.time), ctx.now)) }
            }
            details.headers {
                summary { "Request headers (" (o.headers.len()) ")" }
                dl.kv { @for (k, v) in &o.headers { dt { (k) } dd { (v) } } }
            }
            h2 { "Stack when flagged " span.muted { "(innermost first)" } }
            (trace(&o.stack))
        }
    }
}

/// One bar per outlier: its duration over its threshold (1 = at the threshold).
pub fn threshold_bars(rows: &[Outlier]) -> Vec<Bar> {
    rows.iter()
        .map(|o| Bar {
            label: format!("{} {}", format::datetime(o.time), o.url),
            value: o.duration_us as f64 / o.threshold_us.max(1) as f64,
            tip: format!(
                "{} {}: {} ms against a threshold of {} ms (typical {} ms)",
                format::datetime(o.time),
                o.url,
                ms(o.duration_us as f64),
                ms(o.threshold_us as f64),
                ms(o.typical_us as f64)
            ),
        })
        .collect()
}

/// The outliers page.
pub fn outliers_page(
    ctx: &Ctx<'_>,
    e: &EndpointInfo,
    list: &Page<Outlier>,
    page_no: u64,
) -> Markup {
    let body = html! {
        (endpoint_head(ctx, e, Tab::Outliers))
        p.muted {
            (list.total) " outliers: requests slower than the outlier factor × the endpoint's typical duration (level 2 and up). Newest first."
        }
        @if list.rows.is_empty() { div.card { p.muted { "No outliers recorded for this endpoint." } } }
        @else {
            section.card {
                h2 { "Duration against threshold" }
                (hbars(&threshold_bars(&list.rows), "duration ÷ threshold", "Each outlier's duration as a multiple of its threshold"))
            }
        }
        @for o in &list.rows { (outlier_card(ctx, o)) }
        (pager(page_no, OUTLIERS_PER_PAGE, list.total, |p| {
            ctx.url(&format!(
                "/endpoint/{}/outliers{}",
                e.id,
                query(&[("page", &p.to_string()), ("instance", ctx.instance.unwrap_or(""))])
            ))
        }))
    };
    page(ctx, &format!("Outliers of {}", e.name), Nav::Overview, body)
}
