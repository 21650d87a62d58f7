//! The profiler (the latest profiled requests' call trees) and the grouped profiler (the
//! trees of the last profiled requests merged by function path).

use maud::{Markup, html};

use super::Ctx;
use super::endpoint_perf::{Tab, endpoint_head};
use super::layout::{Nav, page};
use crate::charts::icicle::icicle;
use crate::charts::ms;
use crate::format;
use crate::profile::{GroupedProfile, group};
use fmd_runtime::store::read::EndpointInfo;
use fmd_runtime::store::read::ProfiledRequest;

/// Call trees shown on the profiler page.
pub const PROFILER_REQUESTS: u32 = 10;
/// Requests merged by the grouped profiler.
pub const GROUPED_REQUESTS: u32 = 100;

fn indent(depth: u32) -> String {
    format!("padding-left:{}px", 10 + depth * 18)
}

/// One request's call tree as an indented table.
pub fn call_tree(r: &ProfiledRequest) -> Markup {
    let whole = r.duration_us.max(1) as f64;
    html! {
        table.data.compact.tree {
            thead { tr { th { "Function" } th.num { "Calls" } th.num { "Total" } th.num { "Own" } th.num { "Share" } } }
            tbody {
                @for n in &r.nodes {
                    tr {
                        td.mono style=(indent(n.depth)) {
                            @if n.depth > 0 { span.muted { "└ " } }
                            span.muted { (n.module) "::" } (n.name)
                        }
                        td.num { (n.calls) }
                        td.num { (format::duration(n.total_us)) }
                        td.num { (format::duration(n.self_us)) }
                        td.num { (format!("{:.1} %", n.total_us as f64 * 100.0 / whole)) }
                    }
                }
            }
        }
    }
}

fn no_profiles() -> Markup {
    html! {
        div.card { p.muted { "No profiled requests yet. Set this endpoint's level to 3 on the overview: each request then records the call tree of its #[capture] functions." } }
    }
}

/// The profiler page: the latest request's tree as a chart, then each tree as a table.
pub fn profiler_page(ctx: &Ctx<'_>, e: &EndpointInfo, requests: &[ProfiledRequest]) -> Markup {
    let body = html! {
        (endpoint_head(ctx, e, Tab::Profiler))
        @match requests.first() {
            None => (no_profiles()),
            Some(latest) => {
                section.card {
                    h2 { "Latest profiled request" }
                    p.muted { (format::datetime_zoned(latest.time)) " · " (ms(latest.duration_us as f64)) " ms" }
                    (icicle(&group(std::slice::from_ref(latest)), "Call tree of the latest profiled request"))
                }
                @for r in requests {
                    section.card.profiled id=(format!("request-{}", r.request_id)) {
                        h2 { "Request at " (format::datetime_zoned(r.time)) " " span.muted { "· " (format::duration(r.duration_us)) } }
                        (call_tree(r))
                    }
                }
            }
        }
    };
    page(ctx, &format!("Profiler of {}", e.name), Nav::Overview, body)
}

/// The grouped-profiler page.
pub fn grouped_page(ctx: &Ctx<'_>, e: &EndpointInfo, g: &GroupedProfile) -> Markup {
    let body = html! {
        (endpoint_head(ctx, e, Tab::Grouped))
        @if g.paths.is_empty() { (no_profiles()) } @else {
            p.muted {
                "The call trees of the last " (g.requests) " profiled requests (at most " (GROUPED_REQUESTS)
                ") merged by function path; shares are of those requests' "
                (ms(g.request_us as f64)) " ms in total."
            }
            section.card {
                h2 { "Where the time goes" }
                (icicle(g, "Function paths by share of the endpoint's time"))
            }
            table.data.compact.tree.grouped {
                thead { tr {
                    th { "Function path" } th.num { "Hits" } th.num { "Calls" } th.num { "Mean" }
                    th.num { "Std dev" } th.num { "Total" } th.num { "Share" }
                } }
                tbody {
                    @for p in &g.paths {
                        tr {
                            td.mono style=(indent(p.depth() as u32)) title=(p.qualified()) {
                                @if p.depth() > 0 { span.muted { "└ " } }
                                (p.name)
                            }
                            td.num { (p.hits) }
                            td.num { (p.calls) }
                            td.num { (ms(p.mean_us)) " ms" }
                            td.num { (ms(p.std_us)) " ms" }
                            td.num { (ms(p.total_us as f64)) " ms" }
                            td.num {
                                span.sharebar style=(format!("width:{:.0}px", (p.share * 60.0).clamp(0.0, 60.0))) {}
                                (format!("{:.1} %", p.share * 100.0))
                            }
                        }
                    }
                }
            }
        }
    };
    page(
        ctx,
        &format!("Grouped profiler of {}", e.name),
        Nav::Overview,
        body,
    )
}
