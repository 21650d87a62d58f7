//! Reporting: two periods or two versions compared endpoint by endpoint and issue by
//! issue, as findings.

use maud::{Markup, html};

use super::Ctx;
use super::components::when;
use super::exceptions::excerpt;
use super::layout::{Nav, page};
use crate::charts::boxplot::boxplots_colored;
use crate::charts::{color, css_color};
use crate::format;
use crate::reporting::{ALPHA, EndpointReport, ErrorRateChange, MIX_POINTS, SAMPLES};
use crate::stats::{BoxStats, FISHER_MAX_MARGIN, RateTestKind};
use fmd_runtime::store::read::DAY_MS;
use fmd_runtime::store::read::{AppVersion, Selection};

/// Endpoints drawn in the comparison chart (those with findings first).
pub const CHARTED: usize = 8;

/// The report form's fields (from the query string).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct ReportQuery {
    /// `periods` (the default) or `versions`.
    pub mode: String,
    /// First day of period A (`YYYY-MM-DD`, a day of the viewer's zone).
    pub a_from: String,
    /// Last day of period A.
    pub a_to: String,
    /// First day of period B.
    pub b_from: String,
    /// Last day of period B.
    pub b_to: String,
    /// Version A.
    pub a: String,
    /// Version B.
    pub b: String,
}

/// `YYYY-MM-DD` as a calendar date.
fn parse_date(s: &str) -> Option<jiff::civil::Date> {
    let mut parts = s.trim().splitn(3, '-').map(|p| p.parse::<i16>().ok());
    let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
    jiff::civil::Date::new(y, i8::try_from(m).ok()?, i8::try_from(d).ok()?).ok()
}

/// `YYYY-MM-DD` as the Unix ms of its midnight in the viewer's zone ([`format::zone`]).
pub fn parse_day(s: &str) -> Option<i64> {
    format::midnight_of(parse_date(s)?)
}

/// The Unix ms of the viewer's midnight after the day `YYYY-MM-DD` (a period's end).
pub fn parse_day_end(s: &str) -> Option<i64> {
    format::midnight_of(parse_date(s)?.tomorrow().ok()?)
}

/// `YYYY-MM-DD` of a Unix-ms time.
pub fn day_string(ms: i64) -> String {
    format::datetime(ms).get(..10).unwrap_or("").to_owned()
}

impl ReportQuery {
    /// The query with its blanks filled: the last 7 days against the 7 before them, or
    /// the two newest versions.
    pub fn completed(mut self, now: i64, versions: &[AppVersion]) -> ReportQuery {
        // The viewer's days: today and the 6 before, against the 7 before them.
        let fill = |f: &mut String, days_back: i64| {
            if parse_day(f).is_none() {
                let day = format::midnight_before(now, days_back);
                *f = day_string(day.unwrap_or(now - days_back * DAY_MS));
            }
        };
        fill(&mut self.b_to, 0);
        fill(&mut self.b_from, 6);
        fill(&mut self.a_to, 7);
        fill(&mut self.a_from, 13);
        if self.b.is_empty() {
            self.b = versions
                .first()
                .map(|v| v.version.clone())
                .unwrap_or_default();
        }
        if self.a.is_empty() {
            self.a = versions
                .get(1)
                .or(versions.first())
                .map(|v| v.version.clone())
                .unwrap_or_default();
        }
        if self.mode != "versions" {
            self.mode = "periods".into();
        }
        self
    }

    /// The two sides to compare (periods end after their last day).
    pub fn selections(&self) -> (Selection, Selection) {
        if self.mode == "versions" {
            return (
                Selection::Version(self.a.clone()),
                Selection::Version(self.b.clone()),
            );
        }
        let period = |from: &str, to: &str| {
            let from = parse_day(from).unwrap_or(0);
            let to = parse_day_end(to).unwrap_or(from).max(from);
            Selection::Period { from, to }
        };
        (
            period(&self.a_from, &self.a_to),
            period(&self.b_from, &self.b_to),
        )
    }

    /// "A" and "B" described for headings.
    pub fn side_names(&self) -> (String, String) {
        if self.mode == "versions" {
            (format!("version {}", self.a), format!("version {}", self.b))
        } else {
            (
                format!("{} – {}", self.a_from, self.a_to),
                format!("{} – {}", self.b_from, self.b_to),
            )
        }
    }
}

fn form(ctx: &Ctx<'_>, q: &ReportQuery, versions: &[AppVersion]) -> Markup {
    let version_select = |name: &str, current: &str| {
        html! {
            select name=(name) aria-label=(format!("version {}", name.to_uppercase())) {
                @for v in versions { option value=(v.version) selected[v.version == current] { (v.version) } }
            }
        }
    };
    html! {
        div.card.report-form {
            form method="get" action=(ctx.url("/reporting")) {
                input type="hidden" name="mode" value="periods";
                b { "Two periods" } " "
                "A " input type="date" name="a_from" aria-label="period A from" value=(q.a_from);
                " to " input type="date" name="a_to" aria-label="period A to" value=(q.a_to);
                " · B " input type="date" name="b_from" aria-label="period B from" value=(q.b_from);
                " to " input type="date" name="b_to" aria-label="period B to" value=(q.b_to);
                " " button type="submit" { "Compare periods" }
            }
            @if versions.len() > 1 {
                form method="get" action=(ctx.url("/reporting")) {
                    input type="hidden" name="mode" value="versions";
                    b { "Two versions" } " A " (version_select("a", &q.a)) " · B " (version_select("b", &q.b))
                    " " button type="submit" { "Compare versions" }
                }
            }
        }
    }
}

/// `= 0.0123`, or `< 0.0001` for smaller values.
pub fn p_value(p: f64) -> String {
    if p < 1e-4 {
        "< 0.0001".to_owned()
    } else {
        format!("= {p:.4}")
    }
}

fn finding(r: &EndpointReport) -> Markup {
    html! {
        li.finding {
            span.mono { (r.endpoint.name) }
            ul {
                @if let Some(l) = &r.latency {
                    @if l.significant {
                        li class=(if l.change_pct > 0.0 { "worse" } else { "better" }) {
                            "Median latency " (if l.change_pct > 0.0 { "rose" } else { "fell" })
                            " by " b { (format!("{:.1} %", l.change_pct.abs())) }
                            ": " (format::duration(l.median_a.round() as i64)) " → " (format::duration(l.median_b.round() as i64))
                            span.muted { " (Mood's median test p " (p_value(l.test.p_value)) ", " (l.samples_a) " and " (l.samples_b) " samples)" }
                        }
                    }
                }
                @for m in &r.mix_changes {
                    li class=(if (m.class == "ok") == (m.share_b > m.share_a) { "better" } else { "worse" }) {
                        "Share of " b { (m.class) } " responses went from "
                        (format!("{:.1} %", m.share_a)) " to " (format!("{:.1} %", m.share_b))
                        span.muted { " (" (r.mix_a.hits) " and " (r.mix_b.hits) " requests)" }
                    }
                }
            }
        }
    }
}

/// A rate in percent: two decimals, four below 0.01 %.
pub fn rate(pct: f64) -> String {
    if pct > 0.0 && pct < 0.01 {
        format!("{pct:.4} %")
    } else {
        format!("{pct:.2} %")
    }
}

fn rate_finding(ctx: &Ctx<'_>, r: &ErrorRateChange) -> Markup {
    let c = &r.counts;
    let test = match r.test.kind {
        RateTestKind::FisherExact => "Fisher's exact test",
        RateTestKind::TwoProportionZ => "two-proportion z-test",
    };
    let [[k_a, _], [k_b, _]] = r.test.table;
    html! {
        li.finding.issue-rate {
            a href=(ctx.url(&format!("/issues/{}", c.issue_id))) { "issue #" (c.issue_id) }
            " " span.mono { (c.type_name) }
            span.muted title=(c.message) { " " (excerpt(&c.message, 80)) }
            ul {
                li class=(if r.rate_b > r.rate_a { "worse" } else { "better" }) {
                    "Error rate " (if r.rate_b > r.rate_a { "rose" } else { "fell" }) ": "
                    b { (rate(r.rate_a)) " → " (rate(r.rate_b)) } " of requests, p " (p_value(r.test.p_value)) ", significant"
                    span.muted { " (" (test) "; " (k_a) " of " (c.requests_a) " and " (k_b) " of " (c.requests_b) " requests)" }
                }
            }
        }
    }
}

/// Box-plot rows for the charted endpoints: each endpoint's A then B.
pub fn chart_rows(reports: &[EndpointReport]) -> Vec<(String, BoxStats)> {
    reports
        .iter()
        .filter_map(|r| r.latency.as_ref().map(|l| (r, l)))
        .take(CHARTED)
        .flat_map(|(r, l)| {
            [
                (format!("{} · A", r.endpoint.name), l.box_a.clone()),
                (format!("{} · B", r.endpoint.name), l.box_b.clone()),
            ]
        })
        .collect()
}

/// The page.
pub fn reporting_page(
    ctx: &Ctx<'_>,
    q: &ReportQuery,
    versions: &[AppVersion],
    reports: &[EndpointReport],
    rates: &[ErrorRateChange],
) -> Markup {
    let names = q.side_names();
    let findings: Vec<&EndpointReport> = reports.iter().filter(|r| r.has_findings()).collect();
    let rate_findings: Vec<&ErrorRateChange> = rates.iter().filter(|r| r.significant).collect();
    let found = findings.len() + rate_findings.len();
    let body = html! {
        h1 { "Reporting" }
        div.sub {
            "A: " b { (names.0) } " · B: " b { (names.1) }
            @if q.mode != "versions" { " (days in " (format::zone_name()) ")" }
            " · latency from up to " (SAMPLES) " requests per side, significant at p < " (ALPHA)
            " · response mix from the hourly rollup, a change of " (MIX_POINTS) " points or more"
            " · issues' occurrences per request on their endpoints, significant at p < " (ALPHA)
            " (Fisher's exact test; the two-proportion z-test when every margin exceeds " (FISHER_MAX_MARGIN) ")"
        }
        (form(ctx, q, versions))
        @if let Some(before) = ctx.raw_pruned_before {
            p.muted.pruned-note {
                "Raw request rows before " (when(Some(before), ctx.now)) " were pruned (raw retention): latency of a period or a version served before then comes from the daily histograms (a version: the days an instance served only that version). Hits, responses and error rates come from the rollups either way."
            }
        }
        section.card id="findings" {
            h2 { (found) " finding" @if found != 1 { "s" } }
            @if found == 0 {
                p.muted { "No significant change between A and B on " (counted(reports.len(), "endpoint", "endpoints")) " with requests and " (counted(rates.len(), "issue", "issues")) "." }
            } @else {
                ul.findings {
                    @for r in &findings { (finding(r)) }
                    @for r in &rate_findings { (rate_finding(ctx, r)) }
                }
                p.muted {
                    "Beside these, " (counted(reports.len() - findings.len(), "endpoint", "endpoints")) " with requests and "
                    (counted(rates.len() - rate_findings.len(), "issue", "issues")) " show no significant change."
                }
            }
        }
        section.card id="compare" {
            h2 { "Latency, A against B" }
            (boxplots_colored(&chart_rows(reports), "Request durations of A and B per endpoint", |i| color(if i % 2 == 0 { 8 } else { 0 })))
            ul.legend {
                li { span.swatch style=(format!("background:{}", css_color(8))) {} "A: " (names.0) }
                li { span.swatch style=(format!("background:{}", css_color(0))) {} "B: " (names.1) }
            }
        }
    };
    page(ctx, "Reporting", Nav::Reporting, body)
}

/// `n` with the noun that fits it: `1 issue`, `2 issues`.
fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    #[test]
    fn periods_are_the_viewers_days() {
        let tokyo = format::parse_zone("Asia/Tokyo").unwrap();
        // 2023-11-14 22:13 UTC is 2023-11-15 07:13 in Tokyo.
        let now = 1_700_000_000_000;
        format::with_zone(tokyo, || {
            let q = ReportQuery::default().completed(now, &[]);
            assert_eq!(
                (q.b_from.as_str(), q.b_to.as_str()),
                ("2023-11-09", "2023-11-15")
            );
            assert_eq!(
                (q.a_from.as_str(), q.a_to.as_str()),
                ("2023-11-02", "2023-11-08")
            );
            let (_, b) = q.selections();
            // Tokyo's 9 November began at 15:00 UTC on the 8th; its 15th ends at 15:00 UTC.
            let start = parse_day("2023-11-09").unwrap();
            assert_eq!(start, 1_699_401_600_000 + 15 * H);
            match b {
                Selection::Period { from, to } => {
                    assert_eq!((from, to), (start, start + 7 * 24 * H))
                }
                _ => panic!("a period"),
            }
        });
        // In UTC, the same instant is still the 14th.
        let q = ReportQuery::default().completed(now, &[]);
        assert_eq!(q.b_to, "2023-11-14");
    }
}
