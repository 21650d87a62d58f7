//! All issues and exception groups of every endpoint: issues filtered by status, both
//! sortable and paginated.

use maud::{Markup, html};

use super::Ctx;
use super::components::{kind_filter, kind_param, pager, query, sort_th, when};
use super::layout::{Nav, page};
use fmd_runtime::store::read::{GroupSort, GroupSummary, IssueKind, Page};

/// Groups per page.
pub const PER_PAGE: u64 = 50;

/// The URL name of a sort key.
pub fn sort_key(s: GroupSort) -> &'static str {
    match s {
        GroupSort::LastSeen => "last_seen",
        GroupSort::FirstSeen => "first_seen",
        GroupSort::Count => "count",
        GroupSort::Endpoint => "endpoint",
        GroupSort::Type => "type",
    }
}

/// Parses a sort key from the URL; unknown keys sort by last seen.
pub fn parse_sort(s: &str) -> GroupSort {
    match s {
        "first_seen" => GroupSort::FirstSeen,
        "count" => GroupSort::Count,
        "endpoint" => GroupSort::Endpoint,
        "type" => GroupSort::Type,
        _ => GroupSort::LastSeen,
    }
}

/// Shortens a message for a table cell.
pub fn excerpt(s: &str, max: usize) -> String {
    let first = s.lines().next().unwrap_or("");
    if first.chars().count() > max || first.len() < s.len() {
        let cut: String = first.chars().take(max).collect();
        format!("{cut}…")
    } else {
        first.to_owned()
    }
}

/// How the group list is shown: its kind, order and page.
pub struct GroupList<'a> {
    /// One page of groups.
    pub groups: &'a Page<GroupSummary>,
    /// Server errors, client errors or both (the issue list above shows the same).
    pub kind: IssueKind,
    /// The order.
    pub sort: GroupSort,
    /// Descending.
    pub desc: bool,
    /// Page number from 0.
    pub page: u64,
}

/// The page; `issues` is the issue list above the groups (`pages::issues`).
pub fn all_page(ctx: &Ctx<'_>, issues: Markup, list: &GroupList<'_>) -> Markup {
    let (groups, desc, page_no) = (list.groups, list.desc, list.page);
    let key = sort_key(list.sort);
    let dir = if desc { "desc" } else { "asc" };
    let kind = kind_param(list.kind);
    let link = |k: &str, d: bool| {
        ctx.url(&format!(
            "/exceptions{}",
            query(&[
                ("kind", kind),
                ("sort", k),
                ("dir", if d { "desc" } else { "asc" })
            ])
        ))
    };
    let by_kind =
        |k: IssueKind| ctx.url(&format!("/exceptions{}", query(&[("kind", kind_param(k))])));
    let body = html! {
        h1 { "Exceptions" }
        (kind_filter(list.kind, by_kind))
        (issues)
        h2 { "Groups" }
        div.sub { (groups.total) " groups over all endpoints" @if list.kind != IssueKind::All { " (" (list.kind.as_str()) " errors)" } }
        table.data.groups {
            thead { tr {
                (sort_th("Last seen", "last_seen", key, desc, Some("num"), link))
                (sort_th("First seen", "first_seen", key, desc, Some("num"), link))
                (sort_th("Endpoint", "endpoint", key, desc, None, link))
                (sort_th("Type", "type", key, desc, None, link))
                th { "Message" }
                (sort_th("Count", "count", key, desc, Some("num"), link))
                th { "Issue" }
            } }
            tbody {
                @if groups.rows.is_empty() { tr { td.muted colspan="7" { "No exceptions of this kind recorded yet." } } }
                @for g in &groups.rows {
                    tr {
                        td.num { (when(Some(g.last_seen), ctx.now)) }
                        td.num { (when(Some(g.first_seen), ctx.now)) }
                        td.mono { a href=(ctx.url(&format!("/endpoint/{}/exceptions{}", g.endpoint_id, query(&[("kind", kind)])))) { (g.endpoint) } }
                        td.mono { (g.type_name) }
                        td { a href=(ctx.url(&format!("/endpoint/{}/exceptions?group={}#group-{}", g.endpoint_id, g.id, g.id))) title=(g.message) { (excerpt(&g.message, 120)) } }
                        td.num { (g.count) }
                        td { @if let Some(i) = g.issue_id { a href=(ctx.url(&format!("/issues/{i}"))) { "#" (i) } } }
                    }
                }
            }
        }
        (pager(page_no, PER_PAGE, groups.total, |p| {
            ctx.url(&format!("/exceptions{}", query(&[("kind", kind), ("sort", key), ("dir", dir), ("page", &p.to_string())])))
        }))
    };
    page(ctx, "Exceptions", Nav::Exceptions, body)
}
