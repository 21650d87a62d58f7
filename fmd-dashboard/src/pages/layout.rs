//! The frame around every page: head, embedded stylesheet, navigation, logout.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::Ctx;
use crate::format;

/// The stylesheet, compiled into the binary.
pub const STYLE: &str = include_str!("../assets/style.css");
/// The one script (auto-submitting selects), served at `/assets/app.js`.
pub const SCRIPT: &str = include_str!("../assets/app.js");

/// Top-level sections, for highlighting the current one in the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// Endpoints.
    Overview,
    /// Exception groups.
    Exceptions,
    /// Heatmap, daily requests, versions, API performance.
    Utilization,
    /// User-registered values over time.
    CustomGraphs,
    /// Two periods or versions compared.
    Reporting,
    /// Effective configuration.
    Config,
    /// Pruning.
    Retention,
    /// Alert channels and deliveries.
    Alerts,
    /// One's own account (password, sessions); reached from the user name.
    Account,
}

/// `<head>` shared by all pages (the login page included).
pub fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="referrer" content="same-origin";
            title { (title) " · fmd" }
            // Our own constant stylesheet, not user data.
            style { (PreEscaped(STYLE)) }
        }
    }
}

/// A full authenticated page.
pub fn page(ctx: &Ctx<'_>, title: &str, active: Nav, body: Markup) -> Markup {
    let item = |nav: Nav, path: &str, label: &str| {
        let href = if path.is_empty() {
            ctx.home("")
        } else {
            ctx.url(path)
        };
        html! { a href=(href) class=[(nav == active).then_some("active")] { (label) } }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body data-base=(cookie_path(ctx.base)) data-tz=(format::zone_name()) data-tz-fixed=[format::zone_is_fixed().then_some("")] {
                header.top {
                    a.brand href=(ctx.home("")) { "fmd" span { " dashboard" } }
                    nav {
                        (item(Nav::Overview, "", "Overview"))
                        (item(Nav::Utilization, "/utilization", "Utilization"))
                        (item(Nav::Exceptions, "/exceptions", "Exceptions"))
                        (item(Nav::Reporting, "/reporting", "Reporting"))
                        (item(Nav::CustomGraphs, "/custom-graphs", "Custom graphs"))
                        (item(Nav::Config, "/config", "Configuration"))
                        (item(Nav::Retention, "/retention", "Retention"))
                        (item(Nav::Alerts, "/alerts", "Alerts"))
                    }
                    div.who {
                        span.zone title="Times on these pages are in this zone" { (format::zone_name()) }
                        a href=(ctx.url("/account")) title="Your account: password, sessions" {
                            (ctx.username) @if ctx.admin { " (admin)" }
                        }
                        form.inline method="post" action=(ctx.url("/logout")) {
                            (csrf_field(ctx))
                            button.small type="submit" { "Log out" }
                        }
                    }
                }
                main {
                    @if let Some(n) = ctx.notice { div.notice { (n) } }
                    (body)
                }
                script src=(ctx.url("/assets/app.js")) defer {}
            }
        }
    }
}

/// The path the dashboard's cookies are scoped to.
fn cookie_path(base: &str) -> &str {
    if base.is_empty() { "/" } else { base }
}

/// The hidden CSRF input every form carries.
pub fn csrf_field(ctx: &Ctx<'_>) -> Markup {
    html! { input type="hidden" name="csrf" value=(ctx.csrf); }
}
