//! Horizontal box plots of durations, one row per category (endpoint, version, user, IP).
//!
//! The box spans the quartiles with the median marked; whiskers reach the furthest samples
//! within 1.5 × the interquartile range. The axis is logarithmic when the durations span
//! more than two orders of magnitude, so a 0.4 ms and a 50 ms endpoint both stay readable.

use maud::Markup;
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::{
    DrawResult, Root, Tip, color, empty, font, frame, grid, ms, render, right_aligned, short,
};
use crate::stats::BoxStats;

type Chart<'a, 'b, X> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<X, RangedCoordf64>>;

/// Box plots of `rows` (label, statistics in µs), top to bottom in the given order, one
/// colour per row.
pub fn boxplots(rows: &[(String, BoxStats)], label: &str) -> Markup {
    boxplots_colored(rows, label, |i| color(i % 9))
}

/// Box plots with the colour of each row chosen by `color_of(row index)`. The axis spans
/// the whiskers; samples beyond them are in the tooltip's min and max.
pub fn boxplots_colored(
    rows: &[(String, BoxStats)],
    label: &str,
    color_of: impl Fn(usize) -> RGBColor,
) -> Markup {
    if rows.is_empty() {
        return empty("No requests in this period.");
    }
    let lo = rows
        .iter()
        .map(|r| r.1.lo_whisker)
        .fold(f64::INFINITY, f64::min)
        .max(1.0)
        / 1000.0;
    let hi = rows
        .iter()
        .map(|r| r.1.hi_whisker)
        .fold(0.0, f64::max)
        .max(1.0)
        / 1000.0;
    let height = (70 + 34 * rows.len()).min(1400) as u32;
    render(height, label, |root| {
        if hi / lo > 100.0 {
            draw(root, rows, (lo * 0.8..hi * 1.25).log_scale(), &color_of)
        } else {
            draw(root, rows, 0f64..(hi * 1.08).max(0.01), &color_of)
        }
    })
}

fn draw<R>(
    root: &Root<'_>,
    rows: &[(String, BoxStats)],
    x: R,
    color_of: &dyn Fn(usize) -> RGBColor,
) -> DrawResult
where
    R: AsRangedCoord<Value = f64>,
    R::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let n = rows.len() as f64;
    let longest = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(8);
    let label_area = (longest.min(36) as u32 * 7 + 16).clamp(90, 280);
    let mut tips = Vec::new();
    {
        let mut chart = frame(root, 44, label_area).build_cartesian_2d(x, 0f64..n)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .light_line_style(TRANSPARENT)
            .bold_line_style(grid())
            .x_label_formatter(&|v| ms(*v * 1000.0))
            .x_desc("duration (ms)")
            .label_style(font(13))
            .axis_desc_style(font(13))
            .draw()?;
        for (i, (name, b)) in rows.iter().enumerate() {
            let y = n - i as f64 - 0.5;
            marks(&mut chart, y, b, color_of(i))?;
            let (_, py) = chart.backend_coord(&(b.median / 1000.0, y));
            let left = chart.plotting_area().get_pixel_range().0.start;
            root.draw(&Text::new(
                short(name, 36),
                (left - 8, py),
                right_aligned(13),
            ))?;
            tips.push(Tip::between(
                chart.backend_coord(&(b.lo_whisker / 1000.0, y - 0.35)),
                chart.backend_coord(&(b.hi_whisker / 1000.0, y + 0.35)),
                format!(
                    "{name}: {} requests · median {} ms · p25 {} ms · p75 {} ms · p90 {} ms · min {} ms · max {} ms",
                    b.count,
                    ms(b.median),
                    ms(b.q1),
                    ms(b.q3),
                    ms(b.p90),
                    ms(b.min),
                    ms(b.max)
                ),
            ));
        }
    }
    Ok(tips)
}

/// Whiskers, box and median of one row centred on `y`.
fn marks<X: Ranged<ValueType = f64>>(
    chart: &mut Chart<'_, '_, X>,
    y: f64,
    b: &BoxStats,
    c: RGBColor,
) -> Result<(), Box<dyn std::error::Error>> {
    // Never 0 ms: the logarithmic axis has no place for it.
    let v = |us: f64| (us / 1000.0).max(1e-3);
    let line = c.stroke_width(2);
    chart.draw_series([
        PathElement::new(vec![(v(b.lo_whisker), y), (v(b.q1), y)], line),
        PathElement::new(vec![(v(b.q3), y), (v(b.hi_whisker), y)], line),
        PathElement::new(
            vec![(v(b.lo_whisker), y - 0.15), (v(b.lo_whisker), y + 0.15)],
            line,
        ),
        PathElement::new(
            vec![(v(b.hi_whisker), y - 0.15), (v(b.hi_whisker), y + 0.15)],
            line,
        ),
    ])?;
    chart.draw_series([
        Rectangle::new(
            [(v(b.q1), y - 0.3), (v(b.q3), y + 0.3)],
            c.mix(0.25).filled(),
        ),
        Rectangle::new([(v(b.q1), y - 0.3), (v(b.q3), y + 0.3)], c.stroke_width(2)),
    ])?;
    chart.draw_series([PathElement::new(
        vec![(v(b.median), y - 0.3), (v(b.median), y + 0.3)],
        BLACK.stroke_width(3),
    )])?;
    Ok(())
}
