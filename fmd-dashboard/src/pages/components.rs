//! Small pieces shared by several pages: pagination, sortable headers, times, the
//! occurrences sparkline, highlighted code blocks, the time-span picker, per-day series and
//! the exception lists' filter by kind.

use std::collections::BTreeMap;

use fmd_runtime::store::issues::VersionCount;
use maud::{Markup, html};

use super::Ctx;
use crate::charts::bars::Series;
use crate::format;
use crate::highlight;
use fmd_runtime::store::read::{Histogram, IssueKind};

/// Series drawn separately in stacked charts; the rest is summed into "other".
pub const STACKED: usize = 8;

/// The spans a page can show, in days.
pub const SPANS: [i64; 4] = [7, 14, 30, 90];

/// Requests read per endpoint for the API-performance box plots.
pub const PERF_SAMPLES: u32 = 500;

/// A query string from pairs, values percent-encoded (`?a=1&b=x%20y`).
pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if !v.is_empty() {
            s.append_pair(k, v);
        }
    }
    let q = s.finish();
    if q.is_empty() { q } else { format!("?{q}") }
}

/// The `kind=` value of a list's links: nothing for server errors (the default).
pub fn kind_param(kind: IssueKind) -> &'static str {
    match kind {
        IssueKind::Server => "",
        other => other.as_str(),
    }
}

/// The filter of an exception list by kind: server errors (the default), client errors
/// (a handler's outcome answered 4xx), or all; `link(kind)` builds a choice's URL.
pub fn kind_filter(kind: IssueKind, link: impl Fn(IssueKind) -> String) -> Markup {
    let choices = [
        (IssueKind::Server, "server errors"),
        (IssueKind::Client, "client errors (4xx)"),
        (IssueKind::All, "all"),
    ];
    html! {
        nav.filters.kinds aria-label="error kind" {
            "Show: "
            @for (i, (k, label)) in choices.into_iter().enumerate() {
                @if i > 0 { " · " }
                a href=(link(k)) data-kind=(k.as_str()) class=[(k == kind).then_some("active")]
                    aria-current=[(k == kind).then_some("page")] { (label) }
            }
        }
    }
}

/// Page links: `link(page)` builds the URL of a page (0-based).
pub fn pager(page: u64, per_page: u64, total: u64, link: impl Fn(u64) -> String) -> Markup {
    let pages = total.div_ceil(per_page.max(1)).max(1);
    if pages <= 1 {
        return html! {};
    }
    let shown: Vec<u64> = (0..pages)
        .filter(|p| *p < 2 || p + 2 >= pages || p.abs_diff(page) <= 2)
        .collect();
    html! {
        nav.pager aria-label="pages" {
            @if page > 0 { a href=(link(page - 1)) rel="prev" { "‹ Prev" } }
            @for (i, p) in shown.iter().enumerate() {
                @if i > 0 && shown[i - 1] + 1 != *p { span.muted { "…" } }
                @if *p == page { span.current { (p + 1) } }
                @else { a href=(link(*p)) { (p + 1) } }
            }
            @if page + 1 < pages { a href=(link(page + 1)) rel="next" { "Next ›" } }
            span.muted { (total) " rows" }
        }
    }
}

/// A column header that sorts by `key`; clicking the current key flips the direction.
pub fn sort_th(
    label: &str,
    key: &str,
    current: &str,
    desc: bool,
    class: Option<&str>,
    link: impl Fn(&str, bool) -> String,
) -> Markup {
    let active = key == current;
    let arrow = if !active {
        ""
    } else if desc {
        " ↓"
    } else {
        " ↑"
    };
    // A new key starts descending (largest / newest first), except text columns.
    let next_desc = if active { !desc } else { class == Some("num") };
    html! {
        th class=[class] aria-sort=[active.then_some(if desc { "descending" } else { "ascending" })] {
            a href=(link(key, next_desc)) { (label) (arrow) }
        }
    }
}

/// A `<time>` with the absolute UTC time on hover and "… ago" as text.
pub fn when(ms: Option<i64>, now: i64) -> Markup {
    match ms {
        Some(ms) => html! {
            time datetime=(ms) title=(format::datetime_zoned(ms)) { (format::ago(ms, now)) }
        },
        None => html! { span.muted { "never" } },
    }
}

/// On the pages that list raw request rows: that rows older than the raw retention were
/// pruned (nothing when none were).
pub fn pruned_note(ctx: &super::Ctx<'_>) -> Markup {
    html! {
        @if let Some(before) = ctx.raw_pruned_before {
            p.muted.pruned-note {
                "Raw request rows before " (when(Some(before), ctx.now)) " were pruned (raw retention, see "
                a href=(ctx.url("/retention")) { "Retention" } "): older requests are counted in the overview, utilization and reporting pages but no longer listed here."
            }
        }
    }
}

/// An SVG bar sparkline of occurrences over time (no script, no external library).
pub fn sparkline(h: &Histogram) -> Markup {
    const W: f64 = 160.0;
    const H: f64 = 32.0;
    let n = h.counts.len().max(1) as f64;
    let max = h.counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let bw = W / n;
    let total: u64 = h.counts.iter().sum();
    let end = h.start + h.bucket_ms * h.counts.len() as i64;
    let title = format!(
        "{total} occurrences from {} to {}",
        format::datetime(h.start),
        format::datetime_zoned(end)
    );
    html! {
        svg.spark width=(W) height=(H) viewBox=(format!("0 0 {W} {H}")) role="img" aria-label=(title) {
            title { (title) }
            line x1="0" y1=(H - 0.5) x2=(W) y2=(H - 0.5) {}
            @for (i, c) in h.counts.iter().enumerate() {
                @if *c > 0 {
                    @let bh = ((*c as f64 / max) * (H - 2.0)).max(2.0);
                    rect x=(format!("{:.2}", i as f64 * bw + 0.5)) y=(format!("{:.2}", H - 1.0 - bh))
                        width=(format!("{:.2}", (bw - 1.0).max(1.0))) height=(format!("{bh:.2}")) {
                        title { (c) " at " (format::datetime(h.start + h.bucket_ms * i as i64)) }
                    }
                }
            }
        }
    }
}

/// Occurrences per application version (oldest first) as small horizontal bars under
/// the occurrences chart: version, bar, count.
pub fn version_bars(versions: &[VersionCount]) -> Markup {
    let max = versions.iter().map(|v| v.count).max().unwrap_or(0).max(1) as f64;
    html! {
        @if !versions.is_empty() {
            table.version-bars aria-label="occurrences per version" {
                @for v in versions {
                    tr {
                        td.mono { (v.version) }
                        td { span.bar style=(format!("width: {:.0}px", (v.count as f64 / max * 80.0).max(2.0))) {} }
                        td.num { (v.count) }
                    }
                }
            }
        }
    }
}

/// A whole function with real line numbers, highlighted, `mark` (a file line) flagged.
pub fn code_block(code: &str, first_line: u32, mark: u32) -> Markup {
    let lines = highlight::rust_lines(code);
    html! {
        div.code role="region" aria-label="source" {
            @for (i, text) in lines.into_iter().enumerate() {
                @let n = first_line + i as u32;
                @let fail = n == mark && mark != 0;
                div class=(if fail { "l fail" } else { "l" }) data-line=(n) {
                    span.t { (text) }
                }
            }
        }
    }
}

/// The instance filter: a GET form with one select (all instances, or one), shown when
/// there is more than one instance to choose from or a filter is on. `hidden` are the
/// page's other query parameters, kept when the choice changes.
pub fn instance_picker(ctx: &Ctx<'_>, action: &str, hidden: &[(&str, &str)]) -> Markup {
    if ctx.instances.len() < 2 && ctx.instance.is_none() {
        return html! {};
    }
    let selected = ctx.instance.unwrap_or("");
    let known = ctx.instances.iter().any(|i| i.name == selected);
    html! {
        form.toolbar.instances method="get" action=(action) {
            label for="instance" { "Instance" }
            select #instance name="instance" data-autosubmit {
                option value="" selected[selected.is_empty()] { "All instances" }
                @if !selected.is_empty() && !known {
                    option value=(selected) selected { (selected) }
                }
                @for i in ctx.instances {
                    option value=(i.name) selected[i.name == selected]
                        title=(format!("last seen {}", format::datetime(i.last_seen))) { (i.name) }
                }
            }
            @for (k, v) in hidden {
                @if !v.is_empty() { input type="hidden" name=(k) value=(v); }
            }
            noscript { button.small type="submit" { "Show" } }
        }
    }
}

/// The `?days=` selector shared by the time-span pages.
pub fn span_picker(ctx: &Ctx<'_>, path: &str, days: i64) -> Markup {
    html! {
        nav.spans aria-label="time span" {
            span.muted { "Last " }
            @for d in SPANS {
                @if d == days { span.current { (d) " days" } }
                @else {
                    a href=(ctx.url(&format!("{path}{}", query(&[
                        ("days", &d.to_string()),
                        ("instance", ctx.instance.unwrap_or("")),
                    ])))) { (d) " days" }
                }
            }
        }
    }
}

/// Per-day series of `rows` keyed by `key`: the [`STACKED`] largest by total, then
/// "other" for the rest, each with one value per day from `first_day` to `last_day`.
pub fn day_series<T>(
    rows: &[T],
    first_day: i64,
    last_day: i64,
    key: impl Fn(&T) -> &str,
    day: impl Fn(&T) -> i64,
    hits: impl Fn(&T) -> u64,
) -> Vec<Series> {
    let days = (last_day - first_day + 1).max(1) as usize;
    let mut by_key: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for r in rows {
        let d = day(r) - first_day;
        if (0..days as i64).contains(&d) {
            by_key.entry(key(r)).or_insert_with(|| vec![0; days])[d as usize] += hits(r);
        }
    }
    let mut all: Vec<(&str, Vec<u64>)> = by_key.into_iter().collect();
    all.sort_by_key(|(_, v)| std::cmp::Reverse(v.iter().sum::<u64>()));
    let mut out: Vec<Series> = all
        .iter()
        .take(STACKED)
        .map(|(k, v)| Series {
            name: (*k).to_owned(),
            values: v.clone(),
        })
        .collect();
    if all.len() > STACKED {
        let mut other = vec![0; days];
        for (_, v) in &all[STACKED..] {
            for (o, x) in other.iter_mut().zip(v) {
                *o += x;
            }
        }
        out.push(Series {
            name: format!("other ({} more)", all.len() - STACKED),
            values: other,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_encoded_and_skip_empty_values() {
        assert_eq!(query(&[("q", "a b&c"), ("page", "")]), "?q=a+b%26c");
        assert_eq!(query(&[]), "");
    }

    #[test]
    fn the_failing_line_is_marked_with_its_real_number() {
        let html = code_block("fn f() {\n    g()?;\n}\n", 40, 41).into_string();
        assert!(
            html.contains(r#"<div class="l fail" data-line="41">"#),
            "{html}"
        );
        assert!(html.contains(r#"data-line="42""#));
    }

    #[test]
    fn pager_elides_far_pages() {
        let html = pager(10, 10, 1000, |p| format!("?page={p}")).into_string();
        assert!(html.contains("…") && html.contains("?page=9") && !html.contains("?page=50"));
    }
}
