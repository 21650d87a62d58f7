//! Bars: stacked per day (requests per endpoint, shares per version) and horizontal
//! count bars per category (status codes).

use maud::{Markup, html};
use plotters::prelude::*;

use super::{
    DrawResult, Root, Tip, color, day_label, day_long, empty, font, frame, grid, legend, render,
    right_aligned, short, tick,
};

/// One stacked series: its name and one value per day.
#[derive(Debug, Clone)]
pub struct Series {
    /// Shown in the legend and tooltips (escaped).
    pub name: String,
    /// One value per day, from the first day on.
    pub values: Vec<u64>,
}

/// Stacked bars, one per day from `first_day`; with `shares`, each day's bar is scaled to
/// 100 % (the multi-version chart).
pub fn stacked_days(series: &[Series], first_day: i64, shares: bool, label: &str) -> Markup {
    let days = series.iter().map(|s| s.values.len()).max().unwrap_or(0);
    let totals: Vec<u64> = (0..days)
        .map(|d| {
            series
                .iter()
                .map(|s| s.values.get(d).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    if totals.iter().all(|t| *t == 0) {
        return empty("No requests in this period.");
    }
    let names: Vec<String> = series.iter().map(|s| s.name.clone()).collect();
    let chart = render(340, label, |root| {
        draw_stacked(root, series, &totals, first_day, shares)
    });
    html! { (chart) (legend(&names)) }
}

fn draw_stacked(
    root: &Root<'_>,
    series: &[Series],
    totals: &[u64],
    first_day: i64,
    shares: bool,
) -> DrawResult {
    let days = totals.len() as f64;
    let top = if shares {
        100.0
    } else {
        (*totals.iter().max().unwrap_or(&1) as f64 * 1.08).max(1.0)
    };
    let mut tips = Vec::new();
    {
        let mut chart = frame(root, 44, 70).build_cartesian_2d(0f64..days, 0f64..top)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(grid())
            .x_labels((days as usize).min(16))
            .x_label_formatter(&|x| {
                if x.fract() == 0.0 && *x < days {
                    day_label(first_day + *x as i64)
                } else {
                    String::new()
                }
            })
            .x_desc("day (UTC)")
            .y_label_formatter(&|v| tick(*v))
            .y_desc(if shares {
                "share of requests (%)"
            } else {
                "requests"
            })
            .label_style(font(13))
            .axis_desc_style(font(13))
            .draw()?;
        for (d, total) in totals.iter().enumerate() {
            let mut base = 0.0;
            for (i, s) in series.iter().enumerate() {
                let v = s.values.get(d).copied().unwrap_or(0);
                if v == 0 {
                    continue;
                }
                let h = if shares {
                    v as f64 * 100.0 / *total as f64
                } else {
                    v as f64
                };
                let (x0, x1) = (d as f64 + 0.15, d as f64 + 0.85);
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x0, base), (x1, base + h)],
                    color(i).filled(),
                )))?;
                let share = v as f64 * 100.0 / *total as f64;
                tips.push(Tip::between(
                    chart.backend_coord(&(x0, base)),
                    chart.backend_coord(&(x1, base + h)),
                    format!(
                        "{} · {}: {v} requests ({share:.1} % of {total})",
                        day_long(first_day + d as i64),
                        s.name
                    ),
                ));
                base += h;
            }
        }
    }
    Ok(tips)
}

/// One horizontal bar.
#[derive(Debug, Clone)]
pub struct Bar {
    /// The category, left of the bar (escaped).
    pub label: String,
    /// Its length.
    pub value: f64,
    /// Its tooltip (escaped).
    pub tip: String,
}

/// Bars of counts with their share of the total in the tooltip, in the given order.
pub fn count_bars(items: &[(String, u64)]) -> Vec<Bar> {
    let total: u64 = items.iter().map(|i| i.1).sum();
    items
        .iter()
        .map(|(label, n)| Bar {
            label: label.clone(),
            value: *n as f64,
            tip: format!(
                "{label}: {n} ({:.1} %)",
                *n as f64 * 100.0 / total.max(1) as f64
            ),
        })
        .collect()
}

/// Horizontal bars, top to bottom in the given order; `unit` names the value axis.
pub fn hbars(items: &[Bar], unit: &str, label: &str) -> Markup {
    if items.is_empty() {
        return empty("No requests in this period.");
    }
    let height = (70 + 30 * items.len()).min(900) as u32;
    render(height, label, |root| draw_hbars(root, items, unit))
}

fn draw_hbars(root: &Root<'_>, items: &[Bar], unit: &str) -> DrawResult {
    let n = items.len() as f64;
    let max = items.iter().map(|i| i.value).fold(0.0, f64::max).max(1e-9) * 1.1;
    let mut tips = Vec::new();
    {
        let mut chart = frame(root, 44, 180).build_cartesian_2d(0f64..max, 0f64..n)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .light_line_style(TRANSPARENT)
            .bold_line_style(grid())
            .x_label_formatter(&|v| tick(*v))
            .x_desc(unit)
            .label_style(font(13))
            .axis_desc_style(font(13))
            .draw()?;
        let left = chart.plotting_area().get_pixel_range().0.start;
        for (i, bar) in items.iter().enumerate() {
            let y = n - i as f64 - 1.0;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, y + 0.2), (bar.value, y + 0.8)],
                color(i).filled(),
            )))?;
            let (_, py) = chart.backend_coord(&(0.0, y + 0.5));
            root.draw(&Text::new(
                short(&bar.label, 24),
                (left - 8, py),
                right_aligned(13),
            ))?;
            tips.push(Tip::between(
                chart.backend_coord(&(0.0, y + 0.2)),
                chart.backend_coord(&(bar.value, y + 0.8)),
                bar.tip.clone(),
            ));
        }
    }
    Ok(tips)
}
