//! The issue list's filter: search words, endpoint, version, time range and status,
//! turned into the `WHERE` clause both engines run (the words through each engine's
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
