//! Server-side SVG charts, drawn with plotters' SVG backend into a `String`.
//!
//! plotters draws the axes, grid and marks (and escapes every text it writes); each chart
//! then gets a transparent overlay of `<title>`d shapes over its marks, built with maud, so
//! hovering a mark shows its exact numbers. Legends are HTML next to the SVG. Every text
//! that comes from stored data is escaped twice over: by plotters inside the SVG and by
//! maud in the overlay and legends.
//!
//! | module | chart |
//! |---|---|
//! | [`heatmap`] | requests per hour of day × day |
//! | [`bars`] | stacked bars per day (counts or shares) and horizontal count bars |
//! | [`boxplot`] | duration distributions per category |
//! | [`line`](mod@line) | a value over time |
//! | [`icicle`] | the grouped profiler's call paths |

pub mod bars;
pub mod boxplot;
pub mod heatmap;
pub mod icicle;
pub mod line;

use maud::{Markup, PreEscaped, html};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::format;

/// Width of every chart's drawing, in SVG units (scaled to the page by CSS).
pub const WIDTH: u32 = 1000;

/// Series colours, in order; the last one is reused for "other".
pub const PALETTE: [(u8, u8, u8); 10] = [
    (47, 111, 222),
    (229, 132, 34),
    (24, 121, 78),
    (200, 49, 43),
    (124, 77, 189),
    (17, 150, 170),
    (196, 80, 150),
    (133, 109, 52),
    (100, 116, 139),
    (160, 168, 181),
];

/// The colour of series `i`.
pub fn color(i: usize) -> RGBColor {
    let (r, g, b) = PALETTE[i.min(PALETTE.len() - 1)];
    RGBColor(r, g, b)
}

/// The colour of series `i` as CSS, for HTML legends.
pub fn css_color(i: usize) -> String {
    let (r, g, b) = PALETTE[i.min(PALETTE.len() - 1)];
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// plotters' drawing area of one chart.
pub type Root<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// What a chart's drawing returns: the tooltips of its marks.
pub type DrawResult = Result<Vec<Tip>, Box<dyn std::error::Error>>;

/// Draws a chart `height` units tall with `draw` onto a white canvas and turns it into the
/// page's markup; a drawing failure becomes a line of text instead of a broken page.
pub fn render(height: u32, label: &str, draw: impl FnOnce(&Root<'_>) -> DrawResult) -> Markup {
    let mut svg = String::new();
    let drawn = (|| {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let tips = draw(&root)?;
        root.present()?;
        Ok::<_, Box<dyn std::error::Error>>(tips)
    })();
    match drawn {
        Ok(tips) => finish(&svg, label, &tips),
        Err(e) => empty(&format!("The chart could not be drawn: {e}")),
    }
}

/// The frame every chart shares: margins and the sizes of the two label areas.
pub fn frame<'a, 'b>(
    root: &'a Root<'b>,
    x_area: u32,
    y_area: u32,
) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut builder = ChartBuilder::on(root);
    builder
        .margin(12)
        .margin_right(36)
        .x_label_area_size(x_area)
        .y_label_area_size(y_area);
    builder
}

/// Axis and label text.
pub fn font<'a>(size: u32) -> TextStyle<'a> {
    ("sans-serif", size)
        .into_font()
        .color(&RGBColor(52, 64, 84))
}

/// Light grid lines.
pub fn grid() -> ShapeStyle {
    RGBColor(228, 231, 236).stroke_width(1)
}

/// A text style anchored at its right end, vertically centred (category labels).
pub fn right_aligned<'a>(size: u32) -> TextStyle<'a> {
    font(size).pos(Pos::new(HPos::Right, VPos::Center))
}

/// A transparent shape over a mark, carrying its tooltip.
#[derive(Debug, Clone)]
pub struct Tip {
    /// Left edge in SVG units.
    pub x: f64,
    /// Top edge in SVG units.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
    /// The tooltip's text (escaped when rendered).
    pub text: String,
}

impl Tip {
    /// A tip over the rectangle between two backend points (any corner order).
    pub fn between(a: (i32, i32), b: (i32, i32), text: String) -> Tip {
        let (x0, x1) = (a.0.min(b.0), a.0.max(b.0));
        let (y0, y1) = (a.1.min(b.1), a.1.max(b.1));
        Tip {
            x: f64::from(x0),
            y: f64::from(y0),
            w: f64::from((x1 - x0).max(3)),
            h: f64::from((y1 - y0).max(3)),
            text,
        }
    }
}

/// Turns plotters' SVG into the page's chart: a class and an accessible label on the
/// `<svg>`, the tooltip overlay appended, sized by CSS through its `viewBox`.
pub fn finish(svg: &str, label: &str, tips: &[Tip]) -> Markup {
    let label = html! { (label) }.into_string();
    let overlay = html! {
        g.tips {
            @for t in tips {
                rect x=(format!("{:.1}", t.x)) y=(format!("{:.1}", t.y)) width=(format!("{:.1}", t.w))
                    height=(format!("{:.1}", t.h)) { title { (t.text) } }
            }
        }
    }
    .into_string();
    let body = svg.trim_end();
    let body = body.strip_suffix("</svg>").unwrap_or(body);
    let body = body.replacen(
        "<svg ",
        &format!(r#"<svg class="chart" role="img" aria-label="{label}" "#),
        1,
    );
    // Our own markup from numbers; every stored text in it was escaped by plotters or maud.
    PreEscaped(format!("{body}{overlay}</svg>"))
}

/// An empty-state line instead of a chart.
pub fn empty(message: &str) -> Markup {
    html! { p.muted.empty-chart { (message) } }
}

/// Shortens a label for an axis (the tooltip keeps the whole text).
pub fn short(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        return label.to_owned();
    }
    let keep: String = label
        .chars()
        .rev()
        .take(max.saturating_sub(1))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{keep}")
}

/// `11-03` for a day number (days since 1970-01-01, of whichever calendar the chart uses).
pub fn day_label(day: i64) -> String {
    let d = format::date_of_day(day);
    d.get(5..10).unwrap_or(&d).to_owned()
}

/// `2026-11-03` for a day number.
pub fn day_long(day: i64) -> String {
    format::date_of_day(day)
}

/// Milliseconds with a sensible number of decimals, for axes and tooltips.
pub fn ms(us: f64) -> String {
    let ms = us / 1000.0;
    if ms >= 100.0 {
        format!("{ms:.0}")
    } else if ms >= 10.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.2}")
    }
}

/// An axis number: no decimals when it is whole (`200`), one otherwise (`0.5`).
pub fn tick(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A legend: a colour swatch and an (escaped) name per series.
pub fn legend(names: &[String]) -> Markup {
    html! {
        ul.legend {
            @for (i, n) in names.iter().enumerate() {
                li { span.swatch style=(format!("background:{}", css_color(i))) {} (n) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_labels_keep_their_end() {
        assert_eq!(short("weather::handlers::forecast", 12), "…s::forecast");
        assert_eq!(short("index", 12), "index");
    }

    #[test]
    fn stored_text_in_tips_and_labels_is_escaped() {
        let svg = r#"<svg width="10" height="10" viewBox="0 0 10 10" xmlns="http://www.w3.org/2000/svg"></svg>"#;
        let tip = Tip::between((0, 0), (5, 5), "<script>alert(1)</script>".into());
        let out = finish(svg, "a \"<b>\"", &[tip]).into_string();
        assert!(!out.contains("<script>") && !out.contains("<b>"), "{out}");
        assert!(out.contains("&lt;script&gt;") && out.ends_with("</g></svg>"));
        assert!(out.starts_with(r#"<svg class="chart" role="img""#));
    }
}
