//! One endpoint's exceptions: a card per group with its trace, chain and sparkline.

use maud::{Markup, html};

use super::Ctx;
use super::components::{kind_filter, kind_param, pager, query, sparkline, version_bars, when};
use super::endpoint_perf::{Tab, endpoint_head};
use super::layout::{Nav, csrf_field, page};
use super::trace::{compact_trace, trace};
use fmd_runtime::store::issues::VersionCount;
use fmd_runtime::store::read::{EndpointInfo, GroupDetail, IssueKind};

/// Groups per page on this page.
pub const PER_PAGE: u64 = 10;

/// Label of an occurrence kind (0 panic, 1 uncaught `Err`, 2 captured, 3 client error).
pub fn kind_label(kind: u8) -> (&'static str, &'static str) {
    match kind {
        0 => ("panic", "badge bad"),
        1 => ("uncaught error", "badge warn"),
        3 => ("client error (4xx)", "badge client"),
        _ => ("captured", "badge"),
    }
}

/// `9 days`, `5 hours`, `30 min` for a span of milliseconds.
pub fn span_label(ms: i64) -> String {
    let min = ms / 60_000;
    match min {
        0..=119 => format!("{min} min"),
        120..=2879 => format!("{} hours", min / 60),
        _ => format!("{} days", min / 1440),
    }
}

/// The page.
pub fn exceptions_page(
    ctx: &Ctx<'_>,
    endpoint: &EndpointInfo,
    groups: &[(GroupDetail, Vec<VersionCount>)],
    page_no: u64,
    total: u64,
    full: bool,
    kind: IssueKind,
) -> Markup {
    let path = format!("/endpoint/{}/exceptions", endpoint.id);
    let by_kind = |k: IssueKind| ctx.url(&format!("{path}{}", query(&[("kind", kind_param(k))])));
    let body = html! {
        (endpoint_head(ctx, endpoint, Tab::Exceptions))
        (kind_filter(kind, by_kind))
        p.muted {
            (total) " exception group" @if total != 1 { "s" }
            " · " a href=(ctx.url(&format!("/exceptions{}", query(&[("kind", kind_param(kind))])))) { "all exceptions" }
        }
        @if groups.is_empty() { div.card { p.muted { "No exceptions of this kind recorded for this endpoint." } } }
        @for (g, versions) in groups { (card(ctx, endpoint.id, g, versions, !full)) }
        (pager(page_no, PER_PAGE, total, |p| {
            ctx.url(&format!("{path}{}", query(&[("kind", kind_param(kind)), ("page", &p.to_string())])))
        }))
    };
    page(
        ctx,
        &format!("Exceptions of {}", endpoint.name),
        Nav::Exceptions,
        body,
    )
}

/// One group's card; `versions` are its occurrences per version, shown under the chart;
/// `compact`: only the failing function's code, the rest of the trace on the group's page
/// with `full=true`.
pub fn card(
    ctx: &Ctx<'_>,
    endpoint_id: i64,
    g: &GroupDetail,
    versions: &[VersionCount],
    compact: bool,
) -> Markup {
    let s = &g.summary;
    let (kind, kind_class) = kind_label(g.kind);
    html! {
        section.card.group id=(format!("group-{}", s.id)) {
            div.group-head {
                div.what {
                    span.type { (s.type_name) } " " span class=(kind_class) { (kind) }
                    pre.message { (s.message) }
                    @if !g.source_chain.is_empty() {
                        div.muted { "Caused by:" }
                        ol.chain { @for c in &g.source_chain { li { (c) } } }
                    }
                    div.facts {
                        span { b { (s.count) } " occurrence" @if s.count != 1 { "s" } }
                        span { "first seen " (when(Some(s.first_seen), ctx.now)) }
                        span { "last seen " (when(Some(s.last_seen), ctx.now)) }
                    }
                }
                div.side {
                    (sparkline(&g.histogram))
                    div.spark-caption { "occurrences, last " (span_label(g.histogram.bucket_ms * g.histogram.counts.len() as i64)) }
                    (version_bars(versions))
                    @if let Some(issue) = s.issue_id {
                        div.spark-caption { a href=(ctx.url(&format!("/issues/{issue}"))) { "issue #" (issue) } }
                    }
                    @if ctx.admin {
                        form.inline method="post"
                            action=(ctx.url(&format!("/endpoint/{endpoint_id}/exceptions/{}/delete", s.id))) {
                            (csrf_field(ctx))
                            button.danger.small type="submit" title="Delete this group on this endpoint only" { "Delete group" }
                        }
                    }
                }
            }
            h2 { "Stack trace " span.muted { "(innermost first)" } }
            @if compact {
                (compact_trace(&g.frames, &full_trace_url(ctx, endpoint_id, s.id)))
            } @else {
                (trace(&g.frames))
            }
        }
    }
}

/// The page of one group alone with every frame's code.
pub fn full_trace_url(ctx: &Ctx<'_>, endpoint_id: i64, group: i64) -> String {
    ctx.url(&format!(
        "/endpoint/{endpoint_id}/exceptions{}",
        query(&[("group", &group.to_string()), ("full", "true")])
    ))
}
