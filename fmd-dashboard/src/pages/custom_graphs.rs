//! Custom graphs: each value the application registered with `fmd::add_graph`, over time.

use maud::{Markup, html};

use super::Ctx;
use super::components::span_picker;
use super::layout::{Nav, page};
use crate::charts::line::line;
use crate::format;
use fmd_runtime::store::read::{CustomGraph, GraphPoint};

/// Points per graph (values are averaged into this many buckets).
pub const BUCKETS: u32 = 120;

/// The graphs with their points over `[from, to)`.
#[derive(Debug, Clone, Default)]
pub struct CustomGraphsView {
    /// Days shown.
    pub days: i64,
    /// Start of the span.
    pub from: i64,
    /// End of the span.
    pub to: i64,
    /// Each graph with its points.
    pub graphs: Vec<(CustomGraph, Vec<GraphPoint>)>,
}

/// The page.
pub fn custom_graphs_page(ctx: &Ctx<'_>, v: &CustomGraphsView) -> Markup {
    let body = html! {
        h1 { "Custom graphs" }
        div.sub { "Values sampled by the application, averaged into " (BUCKETS) " points per graph; the bar at each point spans the smallest and largest value." }
        (span_picker(ctx, "/custom-graphs", v.days))
        @if v.graphs.is_empty() {
            div.card { p.muted { "No custom graphs yet. Register one in the application with fmd::add_graph(name, every, || value)." } }
        }
        @for (g, points) in &v.graphs {
            section.card.graph id=(format!("graph-{}", g.id)) {
                h2 span.mono { (g.name) }
                div.muted { "registered " (format::datetime_zoned(g.created_at)) " · " (points.iter().map(|p| p.samples).sum::<u64>()) " values in this span" }
                (line(points, v.from, v.to, &g.name, &format!("{} over time", g.name)))
            }
        }
    };
    page(ctx, "Custom graphs", Nav::CustomGraphs, body)
}
