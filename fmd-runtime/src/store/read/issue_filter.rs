//! The issue list's filter: search words, endpoint, version, time range, status and
//! kind (server errors or client errors), turned into the `WHERE` clause both engines run (the words through each engine's
//! full-text index, see [`crate::store::search`]).

use crate::store::issues::IssueStatus;
use crate::store::search;

/// Which issues to list: every field narrows the list, its empty value (the default)
/// leaves it alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssueFilter {
    /// Only issues of this status.
    pub status: Option<IssueStatus>,
    /// Words that must all be in the issue's type, message, function names or files
    /// (prefixes; see [`crate::store::search::words`]).
    pub words: String,
    /// Part of the name of an endpoint the issue happened on (case-insensitive).
    pub endpoint: String,
    /// An endpoint (by id) the issue happened on.
    pub endpoint_id: Option<i64>,
    /// A version the issue happened in (exactly).
    pub version: String,
    /// Only issues with an occurrence at or after this time (Unix ms).
    pub from: Option<i64>,
    /// Only issues with an occurrence before this time (Unix ms).
    pub to: Option<i64>,
    /// Server errors, client errors or both.
    pub kind: IssueKind,
}

/// Which issues by kind: a *client error issue* is one whose every occurrence was a client
/// error (a handler's outcome answered 4xx); any other issue is a server error issue
/// (panics, errors answered 5xx, captured errors).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IssueKind {
    /// Both (the default of the filter; the pages and the API ask for
    /// [`IssueKind::Server`] unless told otherwise).
    #[default]
    All,
    /// Server error issues only.
    Server,
    /// Client error issues only.
    Client,
}

impl IssueKind {
    /// The URL spelling: `all`, `server` or `client`.
    pub fn as_str(self) -> &'static str {
        match self {
            IssueKind::All => "all",
            IssueKind::Server => "server",
            IssueKind::Client => "client",
        }
    }

    /// Reads a `kind=` parameter: `client`, `all`, and anything else (nothing) is
    /// [`IssueKind::Server`], what a developer looks at first.
    pub fn parse(s: &str) -> IssueKind {
        match s {
            "client" => IssueKind::Client,
            "all" => IssueKind::All,
            _ => IssueKind::Server,
        }
    }

    /// The condition on issue `i` (both engines; empty for [`IssueKind::All`]).
    pub(crate) fn condition(self, issue: &str) -> String {
        match self {
            IssueKind::All => String::new(),
            IssueKind::Server => format!(" AND NOT {issue}.client"),
            IssueKind::Client => format!(" AND {issue}.client"),
        }
    }

    /// The condition on exception group `g`: of its issue's kind (both engines).
    pub(crate) fn group_condition(self) -> &'static str {
        match self {
            IssueKind::All => "",
            IssueKind::Server => {
                " AND NOT EXISTS (SELECT 1 FROM issue gi WHERE gi.id = g.issue_id AND gi.client)"
            }
            IssueKind::Client => {
                " AND EXISTS (SELECT 1 FROM issue gi WHERE gi.id = g.issue_id AND gi.client)"
            }
        }
    }
}

impl IssueFilter {
    /// All issues of `status` (or all of them).
    pub fn status(status: Option<IssueStatus>) -> Self {
        IssueFilter {
            status,
            ..IssueFilter::default()
        }
    }
}

/// An owned statement parameter, while a query is put together.
pub(super) enum Arg {
    /// Text.
    Text(String),
    /// An integer.
    Int(i64),
}

/// Only issues that still have a variant, of one status or all (`$1` empty).
const ISSUE_FILTER: &str = "WHERE EXISTS (SELECT 1 FROM exception_group g WHERE g.issue_id = i.id)
      AND ($1 = '' OR i.status = $1)";

/// The `WHERE` clause of the issue list under `f`, and its parameters (`$1` …);
/// `words_match` is the engine's [`IssueSql::words_match`](super::issues::IssueSql::words_match).
pub(super) fn filter_sql(
    f: &IssueFilter,
    words_match: impl Fn(usize, &[String]) -> (String, String),
) -> (String, Vec<Arg>) {
    let mut sql = String::from(ISSUE_FILTER);
    let mut args = vec![Arg::Text(
        f.status.map_or("", IssueStatus::as_str).to_owned(),
    )];
    sql.push_str(&f.kind.condition("i"));
    let words = search::words(&f.words);
    if !words.is_empty() {
        let (clause, query) = words_match(args.len() + 1, &words);
        sql.push_str(" AND ");
        sql.push_str(&clause);
        args.push(Arg::Text(query));
    }
    if !f.endpoint.trim().is_empty() {
        args.push(Arg::Text(search::contains_pattern(f.endpoint.trim())));
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM exception_group g JOIN endpoint e ON e.id = g.endpoint_id
                 WHERE g.issue_id = i.id AND lower(e.name) LIKE lower(${}) ESCAPE '\\')",
            args.len()
        ));
    }
    if let Some(id) = f.endpoint_id {
        args.push(Arg::Int(id));
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM exception_group g
                 WHERE g.issue_id = i.id AND g.endpoint_id = ${})",
            args.len()
        ));
    }
    if !f.version.trim().is_empty() {
        args.push(Arg::Text(f.version.trim().to_owned()));
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM exception_group g
                 JOIN exception_group_version v ON v.group_id = g.id
                 WHERE g.issue_id = i.id AND v.version = ${})",
            args.len()
        ));
    }
    if f.from.is_some() || f.to.is_some() {
        args.push(Arg::Int(f.from.unwrap_or(i64::MIN)));
        args.push(Arg::Int(f.to.unwrap_or(i64::MAX)));
        sql.push_str(&format!(
            " AND i.last_seen >= ${from} AND i.first_seen < ${to}
              AND EXISTS (SELECT 1 FROM exception_group g
                 JOIN exception_occurrence o ON o.group_id = g.id
                 WHERE g.issue_id = i.id AND o.time >= ${from} AND o.time < ${to})",
            from = args.len() - 1,
            to = args.len()
        ));
    }
    (sql, args)
}
