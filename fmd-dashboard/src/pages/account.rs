//! The account page: one's own password and sessions.

use maud::{Markup, html};

use super::Ctx;
use super::config::MIN_PASSWORD;
use super::layout::{Nav, csrf_field, page};
use crate::format;

/// What the account page shows about the current session.
#[derive(Debug, Clone, Copy)]
pub struct AccountView {
    /// When this session was created (Unix ms).
    pub session_created: i64,
    /// A session unused this long ends (ms).
    pub idle_ms: i64,
    /// A session ends this long after its login (ms).
    pub lifetime_ms: i64,
}

/// `2 h`, `90 min`, `5 s`: a configured span in its largest whole unit.
fn span(ms: i64) -> String {
    let s = ms / 1000;
    match s {
        _ if s >= 3600 && s % 3600 == 0 => format!("{} h", s / 3600),
        _ if s >= 60 && s % 60 == 0 => format!("{} min", s / 60),
        _ => format!("{s} s"),
    }
}

/// The page: change the password (the current one required), log out everywhere.
pub fn account_page(ctx: &Ctx<'_>, v: &AccountView) -> Markup {
    let body = html! {
        h1 { "Your account" }
        div.sub { (ctx.username) " · " @if ctx.admin { "admin" } @else { "viewer" } }
        div.card {
            h2 { "Change your password" }
            form method="post" action=(ctx.url("/account/password")) {
                (csrf_field(ctx))
                div.toolbar {
                    input name="current" type="password" placeholder="current password"
                        aria-label="current password" autocomplete="current-password" required;
                    input name="new" type="password" placeholder=(format!("new password (≥ {MIN_PASSWORD} characters)"))
                        aria-label="new password" minlength=(MIN_PASSWORD) autocomplete="new-password" required;
                    input name="confirm" type="password" placeholder="new password again"
                        aria-label="new password again" minlength=(MIN_PASSWORD) autocomplete="new-password" required;
                    button type="submit" { "Change password" }
                }
            }
            p.muted { "Your other sessions end when the password changes; this one stays." }
        }
        div.card {
            h2 { "Sessions" }
            dl.kv {
                dt { "This session started" } dd { (format::ago(v.session_created, ctx.now)) }
                dt { "Sessions end after" } dd { (span(v.idle_ms)) " without use, "
                    (span(v.lifetime_ms)) " after the login at the latest" }
            }
            form.inline method="post" action=(ctx.url("/logout")) {
                (csrf_field(ctx))
                input type="hidden" name="everywhere" value="1";
                button.danger type="submit" { "Log out everywhere" }
            }
        }
    };
    page(ctx, "Your account", Nav::Account, body)
}
