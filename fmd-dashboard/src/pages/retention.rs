//! Retention: what is kept for how long, delete old data now, and the schedule.

use maud::{Markup, html};

use super::Ctx;
use super::components::when;
use super::layout::{Nav, csrf_field, page};
use crate::retention::Retention;
use fmd_runtime::store::read::StoreTotals;

/// "N days" / "N weeks", or "forever".
fn span(n: Option<u32>, unit: &str) -> String {
    match n {
        Some(1) => format!("1 {unit}"),
        Some(n) => format!("{n} {unit}s"),
        None => "forever".to_owned(),
    }
}

/// The page. `scheduled` is the configured automatic retention.
pub fn retention_page(ctx: &Ctx<'_>, totals: &StoreTotals, scheduled: &Retention) -> Markup {
    let raw = scheduled.effective_raw_days();
    // Raw rows go after the raw retention, or with everything after the full one.
    let raw_kept = match (raw, scheduled.weeks) {
        (Some(d), _) => span(Some(d), "day"),
        (None, Some(w)) => span(Some(w), "week"),
        (None, None) => span(None, ""),
    };
    let all_kept = span(scheduled.weeks, "week");
    let body = html! {
        h1 { "Retention" }
        div.sub { "Raw request rows are kept for a while; the rollups the overview, utilization, per-version and reporting pages read, and the exceptions, are kept longer." }
        div.card {
            h2 { "What is kept, for how long" }
            table.data #kept {
                thead { tr { th { "Data" } th { "Kept" } th { "Oldest" } th { "Rows" } } }
                tbody {
                    tr {
                        td { "Raw requests (request log, a request's page, samples, outliers, call trees)" }
                        td { b { (raw_kept) } }
                        td { (when(totals.oldest_request, ctx.now)) }
                        td { (totals.requests) }
                    }
                    tr {
                        td { "Rollups (hourly counts and errors, daily latency histograms, versions, instances)" }
                        td { b { (all_kept) } }
                        td { (when(totals.oldest_rollup, ctx.now)) }
                        td { "–" }
                    }
                    tr {
                        td { "Exceptions (issues, groups, occurrences, traces)" }
                        td { b { "with their issues" } " (" (all_kept) ")" }
                        td { "–" }
                        td { (totals.occurrences) " occurrences in " (totals.groups) " groups" }
                    }
                }
            }
            @if let Some(before) = totals.raw_pruned_before {
                p #raw-pruned {
                    "Raw request rows before " (when(Some(before), ctx.now)) " were pruned: for older spans the overview, utilization, per-version and reporting pages answer from the rollups (latency samples from the daily histograms), and issues keep their occurrences."
                }
            }
        }
        div.card {
            h2 { "Schedule" }
            @if scheduled.scheduled() {
                p { "Every hour:" }
                ul {
                    @if let Some(w) = scheduled.weeks {
                        li { "everything older than " b { (span(Some(w), "week")) } " is deleted (" code { "FMD_RETENTION_WEEKS" } ")" }
                    }
                    @if let Some(d) = raw {
                        li { "raw request rows older than " b { (span(Some(d), "day")) } " are deleted, the rollups and exceptions kept (" code { "FMD_RAW_RETENTION_DAYS" } ")" }
                    }
                }
            } @else {
                p.muted { "No automatic pruning here: everything is kept. Set " code { "FMD_RAW_RETENTION_DAYS" } " (raw rows, default 30 in the application; " code { "off" } " keeps them) or " code { "FMD_RETENTION_WEEKS" } " (everything), or " code { "raw_retention_days" } " / " code { "retention_weeks" } " in fmd.toml." }
            }
        }
        div.card {
            h2 { "Prune now" }
            @if ctx.admin {
                form.toolbar method="post" action=(ctx.url("/retention/prune")) {
                    (csrf_field(ctx))
                    label for="weeks" { "Delete all data older than" }
                    input #weeks type="number" name="weeks" min="0" max="5200" value=(scheduled.weeks.unwrap_or(12)) required;
                    span { "weeks" }
                    button.danger type="submit" { "Prune" }
                }
            } @else {
                p.muted { "Only admins can prune." }
            }
        }
    };
    page(ctx, "Retention", Nav::Retention, body)
}
