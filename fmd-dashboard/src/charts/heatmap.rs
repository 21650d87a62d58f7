//! Requests per hour of day (rows) and day (columns), in the viewer's time zone.
//!
//! The hourly rollup counts UTC hours; each is moved to the local day and hour it falls
//! in before drawing (an hour that occurs twice when clocks go back gets both counts).

use maud::Markup;
use plotters::prelude::*;

use super::{DrawResult, Root, Tip, day_label, day_long, empty, font, frame, ms, render};
use crate::format;
use fmd_runtime::store::read::HourCell;

/// Height of the drawing.
const HEIGHT: u32 = 420;

/// Cell colour: white to the dashboard's blue by share of the busiest hour.
fn shade(share: f64) -> RGBColor {
    let s = share.clamp(0.0, 1.0).sqrt();
    let mix = |from: f64, to: f64| (from + (to - from) * s).round() as u8;
    RGBColor(mix(240.0, 31.0), mix(244.0, 84.0), mix(250.0, 180.0))
}

/// The heatmap of `cells` (UTC hours) over the UTC days `first_day..=last_day`, drawn in
/// the viewer's zone.
pub fn heatmap(cells: &[HourCell], first_day: i64, last_day: i64, label: &str) -> Markup {
    if cells.iter().all(|c| c.hits == 0) {
        return empty("No requests in this period.");
    }
    let local = to_local(cells);
    let day_of = |ms: i64| format::local_ms(ms).div_euclid(DAY_MS);
    let (first, last) = (
        day_of(first_day * DAY_MS),
        day_of((last_day.max(first_day) + 1) * DAY_MS - 1),
    );
    render(HEIGHT, label, |root| draw(root, &local, first, last))
}

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// The cells moved to the local day and hour of their UTC hour; cells landing on the same
/// local hour are added up.
pub fn to_local(cells: &[HourCell]) -> Vec<HourCell> {
    let mut out: Vec<HourCell> = Vec::with_capacity(cells.len());
    for c in cells {
        let at = format::local_ms((c.day * 24 + i64::from(c.hour)) * HOUR_MS);
        let (day, hour) = (
            at.div_euclid(DAY_MS),
            (at.rem_euclid(DAY_MS) / HOUR_MS) as u8,
        );
        match out
            .iter_mut()
            .rev()
            .find(|o| o.day == day && o.hour == hour)
        {
            Some(o) => {
                o.hits += c.hits;
                o.duration_us += c.duration_us;
            }
            None => out.push(HourCell {
                day,
                hour,
                ..c.clone()
            }),
        }
    }
    out
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
            .x_desc(format!("day ({})", format::zone_name()))
            .y_desc(format!("hour of day ({})", format::zone_name()))
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
                    "{} {:02}:00–{:02}:00: {} requests, mean {} ms",
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
