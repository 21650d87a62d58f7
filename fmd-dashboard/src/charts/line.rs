//! One value over time: a custom graph's mean per bucket, with its min–max range.

use maud::Markup;
use plotters::prelude::*;

use super::{DrawResult, Root, Tip, color, day_label, empty, font, frame, grid, render};
use crate::format;
use fmd_runtime::store::read::DAY_MS;
use fmd_runtime::store::read::GraphPoint;

/// The series of `points` over `[from, to)`; `name` labels the value axis and tooltips.
pub fn line(points: &[GraphPoint], from: i64, to: i64, name: &str, label: &str) -> Markup {
    if points.is_empty() {
        return empty("No values in this period.");
    }
    render(300, label, |root| {
        draw(root, points, from, to.max(from + 1), name)
    })
}

/// A short value for axes and tooltips.
fn num(v: f64) -> String {
    if v.abs() >= 1000.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn draw(root: &Root<'_>, points: &[GraphPoint], from: i64, to: i64, name: &str) -> DrawResult {
    let lo = points.iter().map(|p| p.min).fold(f64::INFINITY, f64::min);
    let hi = points
        .iter()
        .map(|p| p.max)
        .fold(f64::NEG_INFINITY, f64::max);
    let pad = ((hi - lo) * 0.1).max(hi.abs() * 0.05).max(1e-9);
    let (y0, y1) = (if lo >= 0.0 { 0.0 } else { lo - pad }, hi + pad);
    // x is in days since the local midnight before `from`, so whole numbers are midnights
    // of the viewer's zone.
    let local = |t: i64| format::local_ms(t);
    let midnight = local(from) - local(from).rem_euclid(DAY_MS);
    let day = |t: i64| (local(t) - midnight) as f64 / DAY_MS as f64;
    let first_day = midnight / DAY_MS;
    let mut tips = Vec::new();
    {
        let mut chart = frame(root, 44, 80).build_cartesian_2d(day(from)..day(to), y0..y1)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(grid())
            .x_labels(10)
            .x_label_formatter(&|x| {
                if x.fract() == 0.0 {
                    day_label(first_day + *x as i64)
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|y| num(*y))
            .x_desc(format!("time ({})", format::zone_name()))
            .y_desc(super::short(name, 40))
            .label_style(font(13))
            .axis_desc_style(font(13))
            .draw()?;
        let x = |p: &GraphPoint| day(p.time);
        let c = color(0);
        chart.draw_series(points.iter().filter(|p| p.max > p.min).map(|p| {
            PathElement::new(
                vec![(x(p), p.min), (x(p), p.max)],
                c.mix(0.35).stroke_width(3),
            )
        }))?;
        chart.draw_series(LineSeries::new(
            points.iter().map(|p| (x(p), p.mean)),
            c.stroke_width(2),
        ))?;
        chart.draw_series(
            points
                .iter()
                .map(|p| Circle::new((x(p), p.mean), 3, c.filled())),
        )?;
        for p in points {
            let (px, py) = chart.backend_coord(&(x(p), p.mean));
            tips.push(Tip::between(
                (px - 6, py - 6),
                (px + 6, py + 6),
                format!(
                    "{} · {name}: mean {} (min {}, max {}, {} values)",
                    format::datetime_zoned(p.time),
                    num(p.mean),
                    num(p.min),
                    num(p.max),
                    p.samples
                ),
            ));
        }
    }
    Ok(tips)
}
