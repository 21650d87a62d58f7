//! Requests per hour of day (rows, UTC) and day (columns).

use maud::Markup;
use plotters::prelude::*;

use super::{DrawResult, Root, Tip, day_label, day_long, empty, font, frame, ms, render};
use fmd_runtime::store::read::HourCell;

/// Height of the drawing.
const HEIGHT: u32 = 420;

/// Cell colour: white to the dashboard's blue by share of the busiest hour.
fn shade(share: f64) -> RGBColor {
    let s = share.clamp(0.0, 1.0).sqrt();
    let mix = |from: f64, to: f64| (from + (to - from) * s).round() as u8;
    RGBColor(mix(240.0, 31.0), mix(244.0, 84.0), mix(250.0, 180.0))
}

/// The heatmap of `cells` over the days `first_day..=last_day`.
pub fn heatmap(cells: &[HourCell], first_day: i64, last_day: i64, label: &str) -> Markup {
    if cells.iter().all(|c| c.hits == 0) {
        return empty("No requests in this period.");
    }
    render(HEIGHT, label, |root| {
        draw(root, cells, first_day, last_day.max(first_day))
    })
}

fn draw(root: &Root<'_>, cells: &[HourCell], first_day: i64, last_day: i64) -> DrawResult {
    let days = (last_day - first_day + 1) as f64;
    let max = cells.iter().map(|c| c.hits).max().unwrap_or(1).max(1) as f64;
    let mut tips = Vec::new();
    {
        let mut chart = frame(root, 44, 64).build_cartesian_2d(0f64..days, 24f64..0f64)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels((days as usize).min(16))
            .y_labels(13)
            .x_label_formatter(&|x| {
                if x.fract() == 0.0 && *x < days {
                    day_label(first_day + *x as i64)
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|y| match *y as i64 {
                h @ 0..=23 => format!("{h:02}:00"),
                _ => String::new(),
            })
            .x_desc("day (UTC)")
            .y_desc("hour of day (UTC)")
            .label_style(font(13))
            .axis_desc_style(font(13))
            .draw()?;
        chart.draw_series(
            cells
                .iter()
                .filter(|c| c.day >= first_day && c.day <= last_day)
                .map(|c| {
                    let x = (c.day - first_day) as f64;
                    let y = f64::from(c.hour);
                    Rectangle::new(
                        [(x + 0.04, y + 0.06), (x + 0.96, y + 0.94)],
                        shade(c.hits as f64 / max).filled(),
                    )
                }),
        )?;
        for c in cells
            .iter()
            .filter(|c| c.day >= first_day && c.day <= last_day && c.hits > 0)
        {
            let x = (c.day - first_day) as f64;
            let y = f64::from(c.hour);
            let mean = c.duration_us as f64 / c.hits as f64;
            tips.push(Tip::between(
                chart.backend_coord(&(x, y)),
                chart.backend_coord(&(x + 1.0, y + 1.0)),
                format!(
                    "{} {:02}:00–{:02}:00 UTC: {} requests, mean {} ms",
                    day_long(c.day),
                    c.hour,
                    c.hour + 1,
                    c.hits,
                    ms(mean)
                ),
            ));
        }
    }
    Ok(tips)
}
