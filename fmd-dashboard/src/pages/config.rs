//! The configuration page: effective settings and the health of the capture pipeline.

use maud::{Markup, html};

use super::Ctx;
use super::layout::{Nav, page};
use crate::format;
use crate::host::HostStatus;
use fmd_runtime::store::queries::StoreTotals;

/// Everything the configuration page shows.
#[derive(Debug, Clone)]
pub struct ConfigView {
    /// What the host application reports.
    pub host: HostStatus,
    /// The database file.
    pub database: String,
    /// File size plus write-ahead log, if readable.
    pub database_bytes: Option<u64>,
    /// Row counts.
    pub totals: StoreTotals,
}

/// The page.
pub fn config_page(ctx: &Ctx<'_>, v: &ConfigView) -> Markup {
    let h = &v.host;
    let body = html! {
        h1 { "Configuration" }
        div.sub { "The effective configuration of this process and the state of its capture pipeline." }
        div.card {
            h2 { "Storage" }
            dl.kv {
                dt { "Database" } dd { (v.database) }
                dt { "Size" } dd { @match v.database_bytes { Some(b) => (format::bytes(b)), None => "unknown" } }
                dt { "Endpoints" } dd { (v.totals.endpoints) }
                dt { "Requests" } dd { (v.totals.requests) }
                dt { "Exception groups" } dd { (v.totals.groups) }
                dt { "Exception occurrences" } dd { (v.totals.occurrences) }
            }
        }
        div.card {
            h2 { "Capture pipeline" }
            dl.kv {
                dt { "Events queued" } dd { (h.events_queued) }
                dt { "Events stored" } dd { (h.events_stored) }
                dt { "Events dropped" } dd { @if h.events_dropped > 0 { span.badge.bad { (h.events_dropped) } } @else { "0" } }
                dt { "Last storage error" } dd { @match &h.last_storage_error { Some(e) => span.badge.bad { (e) }, None => "none" } }
                dt { "Registered functions" } dd { (h.registered_functions) }
            }
        }
        div.card {
            h2 { "Settings" }
            dl.kv {
                @for (k, val) in &h.config { dt { (k) } dd { (val) } }
            }
        }
    };
    page(ctx, "Configuration", Nav::Config, body)
}
