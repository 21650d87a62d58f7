//! The issue list of the exceptions page: a status filter, sortable columns, a link to
//! each issue's page.

use maud::{Markup, html};

use super::Ctx;
use super::components::{kind_param, pager, query, sort_th, when};
use super::exceptions::excerpt;
use super::issue::{client_badge, status_badge};
use super::layout::csrf_field;
use fmd_runtime::store::issues::IssueStatus;
use fmd_runtime::store::read::{IssueKind, IssueSort, IssueSummary, Page};

/// Issues per page.
pub const PER_PAGE: u64 = 25;

/// The statuses the filter offers, after "all".
const STATUSES: [IssueStatus; 4] = [
    IssueStatus::Open,
    IssueStatus::Regressed,
    IssueStatus::Resolved,
    IssueStatus::Ignored,
];

/// The URL name of an issue sort key.
pub fn sort_key(s: IssueSort) -> &'static str {
    match s {
        IssueSort::LastSeen => "last_seen",
        IssueSort::FirstSeen => "first_seen",
        IssueSort::Count => "count",
    }
}

/// Parses an issue sort key; unknown keys sort by last seen.
pub fn parse_sort(s: &str) -> IssueSort {
    match s {
        "first_seen" => IssueSort::FirstSeen,
        "count" => IssueSort::Count,
        _ => IssueSort::LastSeen,
    }
}

/// Parses the status filter; anything unknown is "all".
pub fn parse_status(s: &str) -> Option<IssueStatus> {
    STATUSES.into_iter().find(|st| st.as_str() == s)
}

/// The search as typed into the list's form (kept in every link of the list).
#[derive(Clone, Copy, Default)]
pub struct Search<'a> {
    /// Words.
    pub q: &'a str,
    /// Part of an endpoint name.
    pub endpoint: &'a str,
    /// A version.
    pub version: &'a str,
    /// First day, `YYYY-MM-DD`.
    pub from: &'a str,
    /// Last day, `YYYY-MM-DD`.
    pub to: &'a str,
}

impl Search<'_> {
    fn is_empty(&self) -> bool {
        [self.q, self.endpoint, self.version, self.from, self.to]
            .iter()
            .all(|s| s.trim().is_empty())
    }
}

/// What the list shows: one page, its filter and order.
pub struct IssueList<'a> {
    /// The page of issues.
    pub issues: &'a Page<IssueSummary>,
    /// The status filter.
    pub status: Option<IssueStatus>,
    /// Server errors, client errors or both.
    pub kind: IssueKind,
    /// The search.
    pub search: Search<'a>,
    /// The order.
    pub sort: IssueSort,
    /// Descending.
    pub desc: bool,
    /// Page number from 0.
    pub page: u64,
}

/// The filter, the table and its pager.
pub fn issue_list(ctx: &Ctx<'_>, l: &IssueList<'_>) -> Markup {
    let status = l.status.map_or("", IssueStatus::as_str);
    let key = sort_key(l.sort);
    let f = l.search;
    let kind = kind_param(l.kind);
    // The list's links and its download keep the search and the kind; only the list has
    // pages.
    let url_of = |path: &str, status: &str, k: &str, d: bool, page: Option<u64>| {
        let page = page.map(|p| p.to_string()).unwrap_or_default();
        ctx.url(&format!(
            "{path}{}",
            query(&[
                ("kind", kind),
                ("status", status),
                ("q", f.q),
                ("endpoint", f.endpoint),
                ("version", f.version),
                ("from", f.from),
                ("to", f.to),
                ("isort", k),
                ("idir", if d { "desc" } else { "asc" }),
                ("ipage", &page),
            ])
        ))
    };
    let url =
        |status: &str, k: &str, d: bool, page: u64| url_of("/exceptions", status, k, d, Some(page));
    let link = |k: &str, d: bool| url(status, k, d, 0);
    let csv = url_of("/exceptions/issues.csv", status, key, l.desc, None);
    html! {
        h2 { "Issues " span.muted { "(" (l.issues.total) ": the groups of one bug across code versions)" } }
        nav.filters aria-label="issue status" {
            "Status: "
            a href=(url("", key, l.desc, 0)) class=[l.status.is_none().then_some("active")] { "all" }
            @for st in STATUSES {
                " · "
                a href=(url(st.as_str(), key, l.desc, 0)) class=[(l.status == Some(st)).then_some("active")] { (st.as_str()) }
            }
        }
        form.search method="get" action=(ctx.url("/exceptions")) role="search" aria-label="search issues" {
            input type="hidden" name="status" value=(status);
            @if !kind.is_empty() { input type="hidden" name="kind" value=(kind); }
            input type="hidden" name="isort" value=(key);
            input type="hidden" name="idir" value=(if l.desc { "desc" } else { "asc" });
            label { "Words " input type="search" name="q" value=(f.q) placeholder="type, message, function, file" size="28"; }
            " " label { "Endpoint " input type="text" name="endpoint" value=(f.endpoint) size="14"; }
            " " label { "Version " input type="text" name="version" value=(f.version) size="8"; }
            " " label { "From " input type="date" name="from" value=(f.from); }
            " " label { "to " input type="date" name="to" value=(f.to); }
            " " button.small type="submit" { "Search" }
            @if !f.is_empty() {
                " " a href=(ctx.url(&format!("/exceptions{}", query(&[("kind", kind), ("status", status)])))) { "clear" }
            }
            " · " a href=(csv) download { "Download these issues (CSV)" }
        }
        form.bulk method="post" action=(ctx.url("/issues/bulk")) {
        @if ctx.admin {
            div.actions {
                (csrf_field(ctx))
                select name="action" aria-label="action for the selected issues" {
                    option value="resolve" { "Resolve" }
                    option value="resolve-next" { "Resolve in next version" }
                    option value="ignore" { "Ignore" }
                    option value="reopen" { "Reopen" }
                }
                " " button.small type="submit" { "Apply to selected" }
            }
        }
        table.data.issues {
            thead { tr {
                @if ctx.admin { th { span.muted { "✓" } } }
                th { "Status" }
                (sort_th("Last seen", "last_seen", key, l.desc, Some("num"), link))
                (sort_th("First seen", "first_seen", key, l.desc, Some("num"), link))
                th { "Type" }
                th { "Message" }
                th { "Versions" }
                th.num { "Variants" }
                (sort_th("Count", "count", key, l.desc, Some("num"), link))
            } }
            tbody {
                @if l.issues.rows.is_empty() {
                    tr { td.muted colspan="9" { @if f.is_empty() { "No issues." } @else { "No issue matches this search." } } }
                }
                @for i in &l.issues.rows {
                    tr {
                        @if ctx.admin { td { input type="checkbox" name="ids" value=(i.id) aria-label=(format!("select issue {}", i.id)); } }
                        td { (status_badge(i)) @if i.client { " " (client_badge()) } }
                        td.num { (when(Some(i.last_seen), ctx.now)) }
                        td.num { (when(Some(i.first_seen), ctx.now)) }
                        td.mono { (i.type_name) }
                        td { a href=(ctx.url(&format!("/issues/{}", i.id))) title=(i.message) { (excerpt(&i.message, 100)) } }
                        td.mono {
                            (i.first_version.as_deref().unwrap_or("?"))
                            @if i.last_version != i.first_version { " … " (i.last_version.as_deref().unwrap_or("?")) }
                        }
                        td.num { (i.variant_count) }
                        td.num { (i.count) }
                    }
                }
            }
        }
        }
        (pager(l.page, PER_PAGE, l.issues.total, |p| url(status, key, l.desc, p)))
    }
}
