//! An icicle chart of the grouped profiler: one row per depth, each function path as wide
//! as its share of the profiled requests' time, children under their parent.

use maud::Markup;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{DrawResult, Root, Tip, color, empty, font, frame, ms, render};
use crate::profile::GroupedProfile;

/// Rows of the chart at most (deeper paths are in the table).
const MAX_DEPTH: usize = 12;

/// Left and right edge (0–1 of the requests' time) of every path, in path order.
pub fn layout(p: &GroupedProfile) -> Vec<(f64, f64)> {
    let whole = p.request_us.max(1) as f64;
    let mut spans = vec![(0.0, 0.0); p.paths.len()];
    // Next free position inside each parent (and at the top level).
    let mut next: Vec<f64> = vec![0.0; p.paths.len()];
    let mut top = 0.0f64;
    for (i, path) in p.paths.iter().enumerate() {
        let (start, limit) = match path.parent {
            Some(parent) => (next[parent], spans[parent].1),
            None => (top, 1.0),
        };
        let end = (start + path.total_us as f64 / whole).min(limit);
        spans[i] = (start, end);
        next[i] = start;
        match path.parent {
            Some(parent) => next[parent] = end,
            None => top = end,
        }
    }
    spans
}

/// The chart.
pub fn icicle(p: &GroupedProfile, label: &str) -> Markup {
    if p.paths.is_empty() {
        return empty("No profiled requests yet: set the endpoint's level to 3.");
    }
    let depth = p
        .paths
        .iter()
        .map(|x| x.depth())
        .max()
        .unwrap_or(0)
        .min(MAX_DEPTH - 1)
        + 1;
    render((70 + 30 * depth) as u32, label, |root| draw(root, p, depth))
}

fn draw(root: &Root<'_>, p: &GroupedProfile, depth: usize) -> DrawResult {
    let spans = layout(p);
    let rows = depth as f64;
    let mut tips = Vec::new();
    {
        let mut chart = frame(root, 40, 20).build_cartesian_2d(0f64..100f64, rows..0f64)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .y_labels(0)
            .x_labels(11)
            .x_label_formatter(&|x| format!("{x:.0} %"))
            .x_desc("share of the profiled requests' time")
            .label_style(font(13))
            .axis_desc_style(font(13))
            .draw()?;
        let text = font(12).pos(Pos::new(HPos::Left, VPos::Center));
        for (i, (path, (x0, x1))) in p.paths.iter().zip(spans).enumerate() {
            let d = path.depth();
            if d >= MAX_DEPTH || x1 <= x0 {
                continue;
            }
            let (a, b) = ((x0 * 100.0, d as f64 + 0.05), (x1 * 100.0, d as f64 + 0.95));
            let c = color(path.path.first().map_or(i, |r| (*r as usize) % 9));
            chart.draw_series([
                Rectangle::new([a, b], c.mix(0.3 + 0.5 / (d as f64 + 1.0)).filled()),
                Rectangle::new([a, b], WHITE.stroke_width(1)),
            ])?;
            let (pa, pb) = (chart.backend_coord(&a), chart.backend_coord(&b));
            let width = (pb.0 - pa.0) as usize;
            if width > 40 {
                let fits = (width - 8) / 7;
                root.draw(&Text::new(
                    super::short(&path.name, fits.max(4)),
                    (pa.0 + 4, (pa.1 + pb.1) / 2),
                    text.clone(),
                ))?;
            }
            tips.push(Tip::between(
                pa,
                pb,
                format!(
                    "{}: {:.1} % of the time · {} hits · mean {} ms ± {} ms · total {} ms",
                    path.qualified(),
                    path.share * 100.0,
                    path.hits,
                    ms(path.mean_us),
                    ms(path.std_us),
                    ms(path.total_us as f64)
                ),
            ));
        }
    }
    Ok(tips)
}
