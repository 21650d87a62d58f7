//! The alerts page: where alerts go (secrets hidden), the rules, "send a test alert", and
//! every delivery attempt the application's alerts thread keeps.

use maud::{Markup, html};

use super::Ctx;
use super::layout::{Nav, csrf_field, page};
use crate::format;
use crate::host::AlertsView;

/// The page; `view` is `None` when no channel is configured (or no application runs).
pub fn alerts_page(ctx: &Ctx<'_>, view: Option<&AlertsView>) -> Markup {
    let body = html! {
        h1 { "Alerts" }
        div.sub {
            "A new issue, a regression, or an issue over the rate rule is told to the channels \
             below, at most once per issue per hour (a digest of what was held back follows)."
        }
        @match view {
            None => div.card {
                p { "No alert channel is configured for this application." }
                p.muted {
                    "Set FMD_ALERT_WEBHOOK (JSON to an http(s) URL; Slack and Mattermost show its \
                     text field) and/or FMD_ALERT_SMTP with FMD_ALERT_EMAIL_TO, optionally \
                     FMD_ALERT_RATE (such as 50/10m) and FMD_PUBLIC_URL for links, then restart it."
                }
            },
            Some(v) => {
                section.card {
                    h2 { "Channels" }
                    table.data.compact {
                        thead { tr { th { "Channel" } th { "Target" } } }
                        tbody {
                            @for c in &v.channels { tr { td { (c.kind) } td.mono { (c.target) } } }
                        }
                    }
                    p.muted {
                        @match v.rate {
                            Some((n, m)) => { "Rate rule: " (n) " occurrences of one issue in " (m) " minutes." }
                            None => "No rate rule (FMD_ALERT_RATE).",
                        }
                        @if v.dropped > 0 { " " (v.dropped) " alerts were dropped: the alerts thread was too far behind." }
                    }
                    @if ctx.admin {
                        form.inline method="post" action=(ctx.url("/alerts/test")) {
                            (csrf_field(ctx))
                            button type="submit" { "Send a test alert" }
                        }
                    }
                }
                h2 { "Deliveries" }
                table.data {
                    thead { tr { th { "Time (" (format::zone_name()) ")" } th { "Channel" } th { "Event" } th { "Issue" } th.num { "Attempt" } th { "Outcome" } } }
                    tbody {
                        @if v.deliveries.is_empty() { tr { td.muted colspan="6" { "Nothing sent yet." } } }
                        @for d in &v.deliveries {
                            tr {
                                td { (format::datetime_zoned(d.time)) }
                                td { (d.channel) }
                                td.mono { (d.event.as_str()) }
                                td {
                                    @if d.issue_id > 0 {
                                        a href=(ctx.url(&format!("/issues/{}", d.issue_id))) { "#" (d.issue_id) }
                                    } @else { span.muted { "–" } }
                                }
                                td.num { (d.attempt) }
                                td {
                                    @if d.outcome == "sent" { span.badge.ok { "sent" } }
                                    @else { span.badge.bad { (d.outcome) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page(ctx, "Alerts", Nav::Alerts, body)
}
