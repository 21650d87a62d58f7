//! Retention: what is stored, delete old data now, and the schedule.

use maud::{Markup, html};

use super::Ctx;
use super::components::when;
use super::layout::{Nav, csrf_field, page};
use fmd_runtime::store::read::StoreTotals;

/// The page. `scheduled_weeks` is the configured automatic retention, if any.
pub fn retention_page(ctx: &Ctx<'_>, totals: &StoreTotals, scheduled_weeks: Option<u32>) -> Markup {
    let body = html! {
        h1 { "Retention" }
        div.sub { "Delete requests and exceptions older than a cutoff; shared stack traces, frames and code left unused go too." }
        div.card {
            h2 { "Stored" }
            dl.kv {
                dt { "Requests" } dd { (totals.requests) }
                dt { "Oldest request" } dd { (when(totals.oldest_request, ctx.now)) }
                dt { "Exception occurrences" } dd { (totals.occurrences) }
                dt { "Exception groups" } dd { (totals.groups) }
            }
        }
        div.card {
            h2 { "Schedule" }
            @match scheduled_weeks {
                Some(w) => p { "Every hour, data older than " b { (w) " weeks" } " is deleted." },
                None => p.muted { "No automatic pruning. Set " code { "FMD_RETENTION_WEEKS" } " (or " code { "retention_weeks" } " in fmd.toml) to prune hourly." },
            }
        }
        div.card {
            h2 { "Prune now" }
            @if ctx.admin {
                form.toolbar method="post" action=(ctx.url("/retention/prune")) {
                    (csrf_field(ctx))
                    label for="weeks" { "Delete data older than" }
                    input #weeks type="number" name="weeks" min="0" max="5200" value=(scheduled_weeks.unwrap_or(12)) required;
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
