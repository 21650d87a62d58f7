//! One issue: its status and actions, its variants (exception groups) with their versions,
//! "suspect change" marks, what changed in the code between variants, and each trace.
//!
//! Every text from the database (messages, source code, versions) goes through maud's
//! escaping; the diff is plain text lines with a class per line, never markup.

use maud::{Markup, html};

use super::Ctx;
use super::components::{pager, when};
use super::exceptions::excerpt;
use super::layout::{Nav, csrf_field, page};
use super::requests::status_badge as request_status;
use super::trace::trace;
use crate::format;
use crate::issue_diff::FunctionDiff;
use fmd_runtime::store::issues::IssueStatus;
use fmd_runtime::store::read::{IssueDetail, IssueSummary, Page, RequestRow};

/// Requests listed per page of an issue.
pub const REQUESTS_PER_PAGE: u64 = 25;

/// One page of the requests an issue happened in.
pub struct IssueRequests<'a> {
    /// The page shown (0-based).
    pub page: u64,
    /// Rows per page.
    pub per_page: u64,
    /// Its rows and how many there are in all.
    pub list: &'a Page<RequestRow>,
    /// Raw request rows before this time were pruned (raw retention), if any were.
    pub pruned_before: Option<i64>,
}

/// The status badge of an issue.
pub fn status_badge(s: &IssueSummary) -> Markup {
    let class = match s.status {
        IssueStatus::Open => "badge warn",
        IssueStatus::Regressed => "badge bad",
        IssueStatus::Resolved => "badge ok",
        IssueStatus::Ignored => "badge lib",
    };
    html! { span class=(class) data-status=(s.status.as_str()) { (s.status.as_str()) } }
}

/// The badge of a client error issue: every occurrence was a handler's outcome answered
/// 4xx; it never alerts.
pub fn client_badge() -> Markup {
    html! {
        span.badge.client data-kind="client" title="every occurrence was answered 4xx: the client's mistake; never alerts" { "client error" }
    }
}

/// What the status means in words (resolved in which version, ignored until when).
fn status_note(s: &IssueSummary, now: i64) -> Markup {
    html! {
        @match s.status {
            IssueStatus::Resolved => {
                @if let Some(v) = &s.resolved_version {
                    @if s.resolve_next {
                        "resolved in the next version after " code { (v) }
                    } @else {
                        "resolved in " code { (v) } "; an occurrence in it or a later version regresses it"
                    }
                }
            }
            IssueStatus::Ignored => {
                "ignored"
                @if let Some(n) = s.ignore_until_count { " until it has " (n) " occurrences" }
                @if let Some(t) = s.ignore_until { " until " (when(Some(t), now)) }
                @if s.ignore_until_count.is_none() && s.ignore_until.is_none() { " forever" }
            }
            IssueStatus::Regressed => { "happened again after it was resolved" }
            IssueStatus::Open => {}
        }
    }
}

fn action(ctx: &Ctx<'_>, id: i64, verb: &str, label: &str, title: &str) -> Markup {
    html! {
        form.inline method="post" action=(ctx.url(&format!("/issues/{id}/{verb}"))) {
            (csrf_field(ctx))
            button.small type="submit" name="action" value=(verb) title=(title) { (label) }
        }
    }
}

/// The action buttons (admins only).
fn actions(ctx: &Ctx<'_>, s: &IssueSummary) -> Markup {
    html! {
        div.actions {
            (action(ctx, s.id, "resolve", "Resolve", "Fixed: an occurrence in the latest version or a later one regresses it"))
            " "
            (action(ctx, s.id, "resolve-next", "Resolve in next version", "Fixed in the next deploy: occurrences in the current version do not regress it"))
            " "
            @if s.status != IssueStatus::Open { (action(ctx, s.id, "reopen", "Reopen", "Back to open")) " " }
            form.inline method="post" action=(ctx.url(&format!("/issues/{}/ignore", s.id))) {
                (csrf_field(ctx))
                button.small type="submit" title="Hide it: forever, or until the count or date given" { "Ignore" }
                " for " input.small type="number" name="count" min="1" placeholder="N" aria-label="more occurrences";
                " more or until " input.small type="date" name="until" aria-label="until date";
            }
        }
    }
}

/// The requests the issue happened in, newest first, with a link to each one's page.
fn requests_table(ctx: &Ctx<'_>, issue: i64, r: &IssueRequests<'_>) -> Markup {
    html! {
        h2 id="requests" { "Requests " span.muted { "(that recorded this issue, newest first)" } }
        @if let Some(before) = r.pruned_before {
            p.muted.pruned-note { "Request rows before " (when(Some(before), ctx.now)) " were pruned (raw retention): the occurrences above still count them, this list shows the newer ones." }
        }
        @if r.list.total == 0 {
            p.muted { "No stored request recorded it (it happened outside requests, or their rows were pruned)." }
        } @else {
            table.data.issue-requests {
                thead { tr {
                    th { "Time (" (format::zone_name()) ")" } th { "Method" } th { "Route" } th { "Status" }
                    th.num { "Duration" } th { "Version" } th { "User" } th { "Client" }
                } }
                tbody {
                    @for q in &r.list.rows {
                        tr {
                            td { a href=(ctx.url(&format!("/request/{}", q.id))) { (format::datetime(q.time)) } " " span.muted { "(" (format::ago(q.time, ctx.now)) ")" } }
                            td.mono { (q.method) }
                            td.mono { (q.route) }
                            td { (request_status(q.status, q.cancelled)) }
                            td.num { (format::duration(q.duration_us)) }
                            td.mono { (q.version) }
                            td.mono { (q.group_by.as_deref().unwrap_or("–")) }
                            td.mono { (q.ip.as_deref().unwrap_or("–")) }
                        }
                    }
                }
            }
            (pager(r.page, r.per_page, r.list.total, |p| ctx.url(&format!("/issues/{issue}?page={p}#requests"))))
        }
    }
}

/// The page.
pub fn issue_page(
    ctx: &Ctx<'_>,
    detail: &IssueDetail,
    diffs: &[FunctionDiff],
    requests: &IssueRequests<'_>,
) -> Markup {
    let s = &detail.summary;
    let body = html! {
        h1 { span.type { (s.type_name) } " " (status_badge(s)) @if s.client { " " (client_badge()) } }
        pre.message { (s.message) }
        div.facts {
            span { b { (s.count) } " occurrence" @if s.count != 1 { "s" } }
            span { "first seen " (when(Some(s.first_seen), ctx.now)) @if let Some(v) = &s.first_version { " in " code { (v) } } }
            span { "last seen " (when(Some(s.last_seen), ctx.now)) @if let Some(v) = &s.last_version { " in " code { (v) } } }
            span.muted { (status_note(s, ctx.now)) }
        }
        @if ctx.admin { (actions(ctx, s)) }
        h2 { "Variants " span.muted { "(newest first: same bug, different code or message)" } }
        @if s.variant_count > detail.variants.len() as u64 {
            p.muted { "The newest " (detail.variants.len()) " of " (s.variant_count) " variants." }
        }
        table.data.variants {
            thead { tr {
                th { "Group" } th { "Endpoint" } th { "Message" } th.num { "First seen" } th.num { "Last seen" }
                th.num { "Count" } th { "Versions" }
            } }
            tbody {
                @for v in &detail.variants {
                    tr id=(format!("variant-{}", v.group.id)) {
                        td.mono {
                            a href=(ctx.url(&format!("/endpoint/{}/exceptions?group={}#group-{}", v.group.endpoint_id, v.group.id, v.group.id))) { "#" (v.group.id) }
                            @if v.suspect { " " span.badge.bad.suspect title="First seen in a version after a version without this issue" { "suspect change" } }
                        }
                        td.mono { (v.group.endpoint) }
                        td title=(v.group.message) { (excerpt(&v.group.message, 100)) }
                        td.num { (when(Some(v.group.first_seen), ctx.now)) }
                        td.num { (when(Some(v.group.last_seen), ctx.now)) }
                        td.num { (v.group.count) }
                        td.mono.versions {
                            @for (i, c) in v.versions.iter().enumerate() {
                                @if i > 0 { br; }
                                (c.version) " ×" (c.count)
                            }
                        }
                    }
                }
            }
        }
        h2 { "What changed " span.muted { "(functions whose code differs between consecutive variants)" } }
        @if diffs.is_empty() { p.muted { "No function on these traces changed between variants." } }
        @for d in diffs {
            section.card.diff-card {
                h3.mono { span.muted { (d.module) "::" } (d.name) " " span.muted { "#" (d.older) " → #" (d.newer) } }
                div.code.diff role="region" aria-label="code diff" {
                    @for l in &d.lines {
                        @let class = match l.tag.as_str() { "+" => "l add", "-" => "l del", "…" => "l gap", _ => "l" };
                        div class=(class) { span.n { (l.tag) } span.t { (l.text) } }
                    }
                }
            }
        }
        (requests_table(ctx, s.id, requests))
        h2 { "Traces" }
        @for v in &detail.variants {
            details.card {
                summary { "Variant #" (v.group.id) " · " (v.group.count) " occurrence" @if v.group.count != 1 { "s" } }
                (trace(&v.frames))
            }
        }
    };
    page(ctx, &format!("Issue #{}", s.id), Nav::Exceptions, body)
}
