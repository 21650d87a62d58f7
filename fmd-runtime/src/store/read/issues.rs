//! The issues' read model: lists, one issue with its variants, status changes from the
//! dashboard, and the overview's counts — written once for both engines.
//!
//! None of these queries is on a hot path, so they run through a small engine-neutral
//! executor, [`IssueSql`]: each engine runs a statement with [`Param`]s and hands back
//! owned rows; everything else (SQL, row mapping, version order, suspect changes) is here.

use serde::Serialize;

use crate::store::StoreError;
use crate::store::issues::{self, IssueAction, IssueStatus, VersionCount};
use crate::store::read::dashboard::{GroupSummary, Page, StackFrame};
use crate::store::read::issue_filter::{Arg, IssueFilter, filter_sql};
use crate::store::read::request_log::RequestRow;
use crate::store::rows::{self, Columns};
use crate::store::sql;

/// Most variant ids listed per issue.
pub const MAX_VARIANT_IDS: usize = 100;

/// Most variants one issue's detail loads (with traces and code), newest first.
pub const MAX_DETAIL_VARIANTS: i64 = 50;

/// One issue as listed.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IssueSummary {
    /// `issue.id`.
    pub id: i64,
    /// Where it stands.
    pub status: IssueStatus,
    /// The error's type name.
    pub type_name: String,
    /// The normalized message (placeholders for numbers, ids, quoted values).
    pub message: String,
    /// Occurrences over all its variants.
    pub count: u64,
    /// First occurrence.
    pub first_seen: i64,
    /// Latest occurrence.
    pub last_seen: i64,
    /// Version of its first occurrence.
    pub first_version: Option<String>,
    /// Version of its latest occurrence.
    pub last_version: Option<String>,
    /// Its variants' group ids, newest first: at most [`MAX_VARIANT_IDS`] (an issue whose
    /// messages carry ids can have a group per occurrence).
    pub variants: Vec<i64>,
    /// How many variants it has.
    pub variant_count: u64,
    /// Resolved: the version it was resolved in.
    pub resolved_version: Option<String>,
    /// Resolved "in the next version" (after `resolved_version`).
    pub resolve_next: bool,
    /// Ignored until its count reaches this.
    pub ignore_until_count: Option<i64>,
    /// Ignored until this time (Unix ms).
    pub ignore_until: Option<i64>,
    /// A client error issue: every occurrence was a client error (a 4xx answer), none
    /// alerts.
    pub client: bool,
}

/// Sort keys of the issue list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub enum IssueSort {
    /// Most recently seen first (the default).
    #[default]
    LastSeen,
    /// By first occurrence.
    FirstSeen,
    /// By occurrences.
    Count,
}

/// One variant of an issue: an exception group, its versions and trace.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Variant {
    /// The group.
    pub group: GroupSummary,
    /// Its occurrences per version, oldest first.
    pub versions: Vec<VersionCount>,
    /// Its latest trace, innermost frame first, with each function's code.
    pub frames: Vec<StackFrame>,
    /// First seen in a version after a clean stretch (see
    /// [`suspect_changes`](crate::store::issues::suspect_changes)).
    pub suspect: bool,
}

/// One issue with its variants, newest first.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IssueDetail {
    /// The issue.
    pub summary: IssueSummary,
    /// Its newest variants (at most [`MAX_DETAIL_VARIANTS`]), newest first.
    pub variants: Vec<Variant>,
}

/// What the overview shows about issues: server error issues only, as the lists its
/// counts lead to (client errors are one filter away, see
/// [`IssueKind`](crate::store::read::IssueKind)).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct IssueCounts {
    /// Issues first seen since the given time.
    pub new: u64,
    /// Issues that regressed.
    pub regressed: u64,
    /// Issues open (new or reopened).
    pub open: u64,
}

/// A statement parameter.
#[derive(Debug, Clone, Copy)]
pub enum Param<'a> {
    /// An integer.
    Int(i64),
    /// A nullable integer.
    OptInt(Option<i64>),
    /// Text.
    Text(&'a str),
}

/// A value of an owned result row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// NULL.
    Null,
    /// An integer.
    Int(i64),
    /// Text.
    Text(String),
    /// A boolean.
    Bool(bool),
}

/// A result row the engine copied out of its driver.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedRow(pub Vec<Cell>);

fn mismatch(i: usize) -> StoreError {
    StoreError {
        message: format!("issues: unexpected value in column {i}"),
        transient: false,
    }
}

impl Columns for OwnedRow {
    type Error = StoreError;

    fn int(&self, i: usize) -> Result<i64, StoreError> {
        self.opt_int(i)?.ok_or_else(|| mismatch(i))
    }

    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.0.get(i) {
            Some(Cell::Int(v)) => Ok(Some(*v)),
            Some(Cell::Bool(b)) => Ok(Some(i64::from(*b))),
            Some(Cell::Null) => Ok(None),
            _ => Err(mismatch(i)),
        }
    }

    fn text(&self, i: usize) -> Result<String, StoreError> {
        self.opt_text(i)?.ok_or_else(|| mismatch(i))
    }

    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.0.get(i) {
            Some(Cell::Text(s)) => Ok(Some(s.clone())),
            Some(Cell::Null) => Ok(None),
            _ => Err(mismatch(i)),
        }
    }

    fn flag(&self, i: usize) -> Result<bool, StoreError> {
        self.opt_flag(i)?.ok_or_else(|| mismatch(i))
    }

    fn opt_flag(&self, i: usize) -> Result<Option<bool>, StoreError> {
        match self.0.get(i) {
            Some(Cell::Bool(b)) => Ok(Some(*b)),
            Some(Cell::Int(v)) => Ok(Some(*v != 0)),
            Some(Cell::Null) => Ok(None),
            _ => Err(mismatch(i)),
        }
    }
}

/// Runs one statement (PostgreSQL's `$N` placeholders) on an engine.
pub trait IssueSql {
    /// The rows of a query.
    fn rows(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<OwnedRow>, StoreError>;
    /// Runs a statement; returns the rows it changed.
    fn run(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, StoreError>;
    /// The engine's full-text test that issue `i` has every one of `words` (see
    /// [`crate::store::search`]), reading its query from parameter `$n`, and that
    /// parameter's text.
    fn words_match(&self, n: usize, words: &[String]) -> (String, String);
}

const ISSUE_COLUMNS: &str = "SELECT i.id, i.status, i.type_name, i.message, i.count,
        i.first_seen, i.last_seen, i.first_version, i.last_version, i.resolved_version,
        i.resolve_next, i.ignore_until_count, i.ignore_until, i.client
    FROM issue i";

fn summary(r: &OwnedRow) -> Result<IssueSummary, StoreError> {
    Ok(IssueSummary {
        id: r.int(0)?,
        status: IssueStatus::parse(&r.text(1)?),
        type_name: r.text(2)?,
        message: r.text(3)?,
        count: rows::count(r.int(4)?),
        first_seen: r.int(5)?,
        last_seen: r.int(6)?,
        first_version: r.opt_text(7)?,
        last_version: r.opt_text(8)?,
        variants: Vec::new(),
        variant_count: 0,
        resolved_version: r.opt_text(9)?,
        resolve_next: r.flag(10)?,
        ignore_until_count: r.opt_int(11)?,
        ignore_until: r.opt_int(12)?,
        client: r.flag(13)?,
    })
}

/// The statement parameters of the owned `args`.
fn params(args: &[Arg]) -> Vec<Param<'_>> {
    args.iter()
        .map(|a| match a {
            Arg::Text(s) => Param::Text(s),
            Arg::Int(v) => Param::Int(*v),
        })
        .collect()
}

/// The issue queries, for every engine that runs [`IssueSql`].
pub trait IssueStore {
    /// Issues that have variants and pass `filter`, sorted and paginated.
    fn issues(
        &mut self,
        filter: &IssueFilter,
        sort: IssueSort,
        descending: bool,
        offset: u64,
        limit: u64,
    ) -> Result<Page<IssueSummary>, StoreError>;

    /// One issue with its variants (newest first), their versions and traces.
    fn issue(&mut self, id: i64) -> Result<Option<IssueDetail>, StoreError>;

    /// Applies a user's action at `now`; `false` when there is no such issue.
    fn set_issue_status(
        &mut self,
        id: i64,
        action: IssueAction,
        now: i64,
    ) -> Result<bool, StoreError>;

    /// New (first seen since `since`), regressed and open server error issues.
    fn issue_counts(&mut self, since: i64) -> Result<IssueCounts, StoreError>;

    /// The issue a group belongs to.
    fn issue_of_group(&mut self, group_id: i64) -> Result<Option<i64>, StoreError>;

    /// A group's occurrences per application version, oldest first.
    fn group_versions(&mut self, group_id: i64) -> Result<Vec<VersionCount>, StoreError>;

    /// The stored requests the issue happened in (each once, however many of its errors
    /// it recorded), newest first, paginated. Occurrences outside a request and requests
    /// already pruned are not listed.
    fn issue_requests(
        &mut self,
        id: i64,
        offset: u64,
        limit: u64,
    ) -> Result<Page<RequestRow>, StoreError>;
}

impl<T: IssueSql> IssueStore for T {
    fn issues(
        &mut self,
        filter: &IssueFilter,
        sort: IssueSort,
        descending: bool,
        offset: u64,
        limit: u64,
    ) -> Result<Page<IssueSummary>, StoreError> {
        let key = match sort {
            IssueSort::LastSeen => "i.last_seen",
            IssueSort::FirstSeen => "i.first_seen",
            IssueSort::Count => "i.count",
        };
        let dir = if descending { "DESC" } else { "ASC" };
        let (filter_sql, mut args) = filter_sql(filter, |n, w| self.words_match(n, w));
        let total = self.rows(
            &format!("SELECT count(*) FROM issue i {filter_sql}"),
            &params(&args),
        )?;
        let total = total.first().map_or(Ok(0), |r| r.int(0))?;
        let n = args.len();
        args.push(Arg::Int(limit.min(i64::MAX as u64) as i64));
        args.push(Arg::Int(offset.min(i64::MAX as u64) as i64));
        let found = self.rows(
            &format!(
                "{ISSUE_COLUMNS} {filter_sql} ORDER BY {key} {dir}, i.id DESC
                 LIMIT ${} OFFSET ${}",
                n + 1,
                n + 2
            ),
            &params(&args),
        )?;
        let mut out = Vec::with_capacity(found.len());
        for r in &found {
            let mut s = summary(r)?;
            (s.variants, s.variant_count) = variant_ids(self, s.id)?;
            out.push(s);
        }
        Ok(Page {
            rows: out,
            total: rows::count(total),
        })
    }

    fn issue(&mut self, id: i64) -> Result<Option<IssueDetail>, StoreError> {
        let found = self.rows(
            &format!("{ISSUE_COLUMNS} WHERE i.id = $1"),
            &[Param::Int(id)],
        )?;
        let Some(r) = found.first() else {
            return Ok(None);
        };
        let mut summary = summary(r)?;
        let groups = self.rows(
            &format!(
                "{} WHERE g.issue_id = $1 ORDER BY g.first_seen DESC, g.id DESC LIMIT $2",
                sql::GROUP_SELECT
            ),
            &[Param::Int(id), Param::Int(MAX_DETAIL_VARIANTS)],
        )?;
        let mut variants = Vec::with_capacity(groups.len());
        for g in &groups {
            let group = rows::group(g)?;
            let versions = self.group_versions(group.id)?;
            let snapshot = self.rows(sql::GROUP_SNAPSHOT, &[Param::Int(group.id)])?;
            let snapshot = snapshot.first().map_or(Ok(0), |r| r.int(0))?;
            let frames = self
                .rows(sql::SNAPSHOT_FRAMES, &[Param::Int(snapshot)])?
                .iter()
                .map(rows::stack_frame)
                .collect::<Result<Vec<_>, StoreError>>()?;
            variants.push(Variant {
                group,
                versions,
                frames,
                suspect: false,
            });
        }
        let ordered = ordered_versions(self)?;
        let counts: Vec<Vec<VersionCount>> = variants.iter().map(|v| v.versions.clone()).collect();
        for (v, suspect) in variants
            .iter_mut()
            .zip(issues::suspect_changes(&ordered, &counts))
        {
            v.suspect = suspect;
        }
        (summary.variants, summary.variant_count) = variant_ids(self, id)?;
        Ok(Some(IssueDetail { summary, variants }))
    }

    fn set_issue_status(
        &mut self,
        id: i64,
        action: IssueAction,
        now: i64,
    ) -> Result<bool, StoreError> {
        let (status, next, count, until) = match action {
            IssueAction::Resolve => ("resolved", 0, None, None),
            IssueAction::ResolveNext => ("resolved", 1, None, None),
            IssueAction::Ignore { count, until_ms } => ("ignored", 0, count, until_ms),
            IssueAction::Reopen => ("open", 0, None, None),
        };
        let n = self.run(
            "UPDATE issue SET status = $2,
                 resolved_version = CASE WHEN $2 = 'resolved' THEN last_version END,
                 resolve_next = ($3 = CAST(1 AS BIGINT)),
                 ignore_until_count = count + $4,
                 ignore_until = $5,
                 status_changed = $6
             WHERE id = $1",
            &[
                Param::Int(id),
                Param::Text(status),
                Param::Int(next),
                Param::OptInt(count),
                Param::OptInt(until),
                Param::Int(now),
            ],
        )?;
        Ok(n > 0)
    }

    fn issue_counts(&mut self, since: i64) -> Result<IssueCounts, StoreError> {
        let r = self.rows(
            "SELECT
                 coalesce(sum(CASE WHEN i.first_seen >= $1 THEN 1 ELSE 0 END), 0),
                 coalesce(sum(CASE WHEN i.status = 'regressed' THEN 1 ELSE 0 END), 0),
                 coalesce(sum(CASE WHEN i.status = 'open' THEN 1 ELSE 0 END), 0)
             FROM issue i
             WHERE EXISTS (SELECT 1 FROM exception_group g WHERE g.issue_id = i.id)
               AND NOT i.client",
            &[Param::Int(since)],
        )?;
        let Some(r) = r.first() else {
            return Ok(IssueCounts::default());
        };
        Ok(IssueCounts {
            new: rows::count(r.int(0)?),
            regressed: rows::count(r.int(1)?),
            open: rows::count(r.int(2)?),
        })
    }

    fn group_versions(&mut self, group_id: i64) -> Result<Vec<VersionCount>, StoreError> {
        self.rows(
            "SELECT version, count, first_seen, last_seen FROM exception_group_version
             WHERE group_id = $1 ORDER BY first_seen, version",
            &[Param::Int(group_id)],
        )?
        .iter()
        .map(|v| {
            Ok(VersionCount {
                version: v.text(0)?,
                count: rows::count(v.int(1)?),
                first_seen: v.int(2)?,
                last_seen: v.int(3)?,
            })
        })
        .collect()
    }

    fn issue_requests(
        &mut self,
        id: i64,
        offset: u64,
        limit: u64,
    ) -> Result<Page<RequestRow>, StoreError> {
        let total = self.rows(sql::ISSUE_REQUEST_COUNT, &[Param::Int(id)])?;
        let total = total.first().map_or(Ok(0), |r| r.int(0))?;
        let rows = self
            .rows(
                sql::ISSUE_REQUESTS,
                &[
                    Param::Int(id),
                    Param::Int(limit.min(i64::MAX as u64) as i64),
                    Param::Int(offset.min(i64::MAX as u64) as i64),
                ],
            )?
            .iter()
            .map(rows::request_row)
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Page {
            rows,
            total: rows::count(total),
        })
    }

    fn issue_of_group(&mut self, group_id: i64) -> Result<Option<i64>, StoreError> {
        let r = self.rows(
            "SELECT issue_id FROM exception_group WHERE id = $1",
            &[Param::Int(group_id)],
        )?;
        r.first().map_or(Ok(None), |r| r.opt_int(0))
    }
}

/// The newest [`MAX_VARIANT_IDS`] group ids of an issue, newest first, and how many it has.
fn variant_ids(db: &mut impl IssueSql, issue: i64) -> Result<(Vec<i64>, u64), StoreError> {
    let ids = db
        .rows(
            "SELECT id FROM exception_group WHERE issue_id = $1
             ORDER BY first_seen DESC, id DESC LIMIT $2",
            &[Param::Int(issue), Param::Int(MAX_VARIANT_IDS as i64)],
        )?
        .iter()
        .map(|r| r.int(0))
        .collect::<Result<Vec<_>, _>>()?;
    let count = db.rows(
        "SELECT count(*) FROM exception_group WHERE issue_id = $1",
        &[Param::Int(issue)],
    )?;
    Ok((ids, rows::count(count.first().map_or(Ok(0), |r| r.int(0))?)))
}

/// Every version seen, oldest first by [`issues::version_order`].
fn ordered_versions(db: &mut impl IssueSql) -> Result<Vec<String>, StoreError> {
    let seen: Vec<(String, i64)> = db
        .rows("SELECT version, first_seen FROM app_version", &[])?
        .iter()
        .map(|r| Ok((r.text(0)?, r.int(1)?)))
        .collect::<Result<_, StoreError>>()?;
    let first_seen = |v: &str| seen.iter().find(|(x, _)| x == v).map(|(_, t)| *t);
    let mut versions: Vec<String> = seen.iter().map(|(v, _)| v.clone()).collect();
    versions.sort_by(|a, b| issues::version_order(a, b, first_seen));
    Ok(versions)
}
