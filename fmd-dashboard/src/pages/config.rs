//! The configuration page: effective settings and the health of the capture pipeline.

use maud::{Markup, html};

use super::Ctx;
use super::layout::{Nav, csrf_field, page};
use crate::format;
use crate::host::HostStatus;
use fmd_runtime::store::read::{StoreTotals, User};

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
    /// Dashboard accounts (admins only see and manage them).
    pub users: Option<Vec<User>>,
}

/// Shortest password accepted for an account (as for `FMD_PASSWORD`).
pub const MIN_PASSWORD: usize = fmd_runtime::config::MIN_PASSWORD_LEN;

fn accounts(ctx: &Ctx<'_>, users: &[User]) -> Markup {
    html! {
        div.card {
            h2 { "Accounts" }
            table.data {
                thead { tr { th { "Username" } th { "Role" } th { "Reset password" } th { "Remove" } } }
                tbody { @for u in users { tr {
                    td.mono { (u.username) }
                    td { (u.role) }
                    td {
                        form.inline method="post" action=(ctx.url("/users/password")) {
                            (csrf_field(ctx))
                            input type="hidden" name="username" value=(u.username);
                            input name="password" type="password" placeholder="new password"
                                aria-label=(format!("new password of {}", u.username)) minlength=(MIN_PASSWORD)
                                autocomplete="new-password" required;
                            " "
                            button.small type="submit" { "Reset" }
                        }
                    }
                    td {
                        @if u.username == ctx.username {
                            span.muted { "you" }
                        } @else {
                            form.inline method="post" action=(ctx.url("/users/delete")) {
                                (csrf_field(ctx))
                                input type="hidden" name="username" value=(u.username);
                                button.danger.small type="submit" { "Remove" }
                            }
                        }
                    }
                } } }
            }
            p.muted { "A reset or removed account is logged out everywhere at once." }
            h2 { "Add an account" }
            form.toolbar method="post" action=(ctx.url("/users")) {
                (csrf_field(ctx))
                input name="username" placeholder="username" aria-label="username" required;
                input name="password" type="password" placeholder=(format!("password (≥ {MIN_PASSWORD} characters)"))
                    aria-label="password" minlength=(MIN_PASSWORD) autocomplete="new-password" required;
                select name="role" aria-label="role" {
                    option value="viewer" selected { "viewer" }
                    option value="admin" { "admin" }
                }
                button type="submit" { "Add" }
            }
        }
    }
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
                @if h.dropped_requests_counted > 0 {
                    dt { "Dropped but counted" }
                    dd { (h.dropped_requests_counted) " raw request rows dropped (queue full) but counted: hits, error counts and medians include them" }
                }
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
    let body = html! {
        (body)
        @if let Some(users) = &v.users { (accounts(ctx, users)) }
    };
    page(ctx, "Configuration", Nav::Config, body)
}
