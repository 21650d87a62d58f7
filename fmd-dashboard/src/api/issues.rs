//! `GET /api/v1/issues` and `GET /api/v1/issues/{id}`: issues (one bug across code
//! versions) with their variants, and for one issue each variant's trace and code and
//! what changed between variants. Bodies and handlers; in the OpenAPI document.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::handlers::{Failure, paging};
use super::types::{ExceptionGroup, Frame, Kind};
use crate::app::{App, AppError};
use crate::issue_diff::{FunctionDiff, variant_diffs};
use fmd_runtime::store::issues::IssueStatus;
use fmd_runtime::store::read::{IssueFilter, IssueSort, IssueSummary, Variant};

/// Where an issue stands.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// New, or reopened.
    Open,
    /// Marked fixed.
    Resolved,
    /// Happened again in the resolving version or a later one.
    Regressed,
    /// Hidden.
    Ignored,
}

impl From<IssueStatus> for Status {
    fn from(s: IssueStatus) -> Self {
        match s {
            IssueStatus::Open => Status::Open,
            IssueStatus::Resolved => Status::Resolved,
            IssueStatus::Regressed => Status::Regressed,
            IssueStatus::Ignored => Status::Ignored,
        }
    }
}

impl From<Status> for IssueStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Open => IssueStatus::Open,
            Status::Resolved => IssueStatus::Resolved,
            Status::Regressed => IssueStatus::Regressed,
            Status::Ignored => IssueStatus::Ignored,
        }
    }
}

/// One issue: the exception groups (variants) of one bug.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Issue {
    /// Issue id (stable within one database).
    pub id: i64,
    /// Where it stands.
    pub status: Status,
    /// The error's type name.
    pub type_name: String,
    /// The message with numbers, ids and quoted values as placeholders.
    pub message: String,
    /// Occurrences over all variants.
    pub count: u64,
    /// First occurrence (Unix ms).
    pub first_seen: i64,
    /// Latest occurrence (Unix ms).
    pub last_seen: i64,
    /// Version of the first occurrence.
    pub first_version: Option<String>,
    /// Version of the latest occurrence.
    pub last_version: Option<String>,
    /// Its variants' group ids (see `/api/v1/exceptions/{id}`), newest first, at most 100.
    pub variants: Vec<i64>,
    /// How many variants it has.
    pub variant_count: u64,
    /// A client error issue: every occurrence was a handler's outcome answered 4xx (it
    /// never alerts).
    pub client_error: bool,
}

impl From<IssueSummary> for Issue {
    fn from(i: IssueSummary) -> Self {
        Issue {
            id: i.id,
            status: i.status.into(),
            type_name: i.type_name,
            message: i.message,
            count: i.count,
            first_seen: i.first_seen,
            last_seen: i.last_seen,
            first_version: i.first_version,
            last_version: i.last_version,
            variants: i.variants,
            variant_count: i.variant_count,
            client_error: i.client,
        }
    }
}

/// `GET /api/v1/issues`: one page of issues.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IssuePage {
    /// The issues of this page.
    pub issues: Vec<Issue>,
    /// Issues over all pages.
    pub total: u64,
    /// This page, from 0.
    pub page: u64,
    /// Issues per page.
    pub per_page: u64,
}

/// A variant's occurrences in one application version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VersionCount {
    /// The version.
    pub version: String,
    /// Occurrences in it.
    pub count: u64,
    /// First occurrence in it (Unix ms).
    pub first_seen: i64,
    /// Latest occurrence in it (Unix ms).
    pub last_seen: i64,
}

/// One variant: an exception group with its versions, trace and code.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IssueVariant {
    /// The group.
    pub group: ExceptionGroup,
    /// Occurrences per version, oldest first.
    pub versions: Vec<VersionCount>,
    /// First seen in a version after a version without this issue.
    pub suspect_change: bool,
    /// The latest trace, innermost frame first, with each function's code.
    pub frames: Vec<Frame>,
}

impl From<Variant> for IssueVariant {
    fn from(v: Variant) -> Self {
        IssueVariant {
            group: v.group.into(),
            versions: v
                .versions
                .into_iter()
                .map(|c| VersionCount {
                    version: c.version,
                    count: c.count,
                    first_seen: c.first_seen,
                    last_seen: c.last_seen,
                })
                .collect(),
            suspect_change: v.suspect,
            frames: v.frames.into_iter().map(Frame::from).collect(),
        }
    }
}

/// `GET /api/v1/issues/{id}`: the issue, each variant, and the code diffs between them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IssueDetail {
    /// The issue.
    pub issue: Issue,
    /// Its newest variants (at most 50), newest first.
    pub variants: Vec<IssueVariant>,
    /// Functions whose code differs between consecutive variants, newest pair first.
    pub diffs: Vec<FunctionDiff>,
}

/// The query of `GET /api/v1/issues`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IssuesQuery {
    /// Only issues with this status.
    status: Option<Status>,
    /// `server` (the default: panics, 5xx answers, captured errors), `client` (4xx
    /// answers) or `all`.
    kind: Option<Kind>,
    /// `last_seen` (default), `first_seen` or `count`; always descending.
    sort: Option<String>,
    /// Words that must all be in the issue's type, message, function names or files
    /// (each a prefix, case-insensitive; at most 8 are used).
    q: Option<String>,
    /// Part of the name of an endpoint the issue happened on (case-insensitive).
    endpoint: Option<String>,
    /// A version the issue happened in (exactly).
    version: Option<String>,
    /// Only issues with an occurrence at or after this time (Unix ms).
    from: Option<i64>,
    /// Only issues with an occurrence before this time (Unix ms).
    to: Option<i64>,
    /// Page number from 0 (default 0).
    page: Option<u64>,
    /// Issues per page, 1 to 100 (default 25).
    per_page: Option<u64>,
}

/// `GET /api/v1/issues`: issues, most recently seen first, paged.
#[utoipa::path(get, path = "/api/v1/issues", tag = "issues", params(IssuesQuery),
    responses(
        (status = 200, description = "One page of issues", body = IssuePage),
        (status = 400, description = "Malformed status, kind, sort, page or size", body = super::types::ApiError),
        (status = 401, description = "Missing or wrong token", body = super::types::ApiError),
        (status = 503, description = "Database unavailable", body = super::types::ApiError),
    ))]
pub async fn issues(
    State(app): State<Arc<App>>,
    q: Result<Query<IssuesQuery>, QueryRejection>,
) -> Result<Json<IssuePage>, Failure> {
    let Query(q) = q?;
    let (page, per_page, offset) = paging(q.page, q.per_page)?;
    let sort = match q.sort.as_deref() {
        None | Some("last_seen") => IssueSort::LastSeen,
        Some("first_seen") => IssueSort::FirstSeen,
        Some("count") => IssueSort::Count,
        Some(_) => return Err(Failure::bad("`sort` is last_seen, first_seen or count.")),
    };
    if let (Some(from), Some(to)) = (q.from, q.to)
        && from >= to
    {
        return Err(Failure::bad("`from` must be before `to`."));
    }
    let filter = IssueFilter {
        status: q.status.map(IssueStatus::from),
        words: q.q.unwrap_or_default(),
        endpoint: q.endpoint.unwrap_or_default(),
        endpoint_id: None,
        version: q.version.unwrap_or_default(),
        from: q.from,
        to: q.to,
        kind: q.kind.unwrap_or_default().into(),
    };
    let list = app
        .with_store(move |st| st.issues(&filter, sort, true, offset, per_page))
        .await?;
    Ok(Json(IssuePage {
        issues: list.rows.into_iter().map(Issue::from).collect(),
        total: list.total,
        page,
        per_page,
    }))
}

/// `GET /api/v1/issues/{id}`: one issue with its variants' traces and code, and diffs.
#[utoipa::path(get, path = "/api/v1/issues/{id}", tag = "issues",
    params(("id" = i64, Path, description = "Issue id")),
    responses(
        (status = 200, description = "The issue with its variants", body = IssueDetail),
        (status = 400, description = "The id is not a number", body = super::types::ApiError),
        (status = 401, description = "Missing or wrong token", body = super::types::ApiError),
        (status = 404, description = "No such issue", body = super::types::ApiError),
        (status = 503, description = "Database unavailable", body = super::types::ApiError),
    ))]
pub async fn issue(
    State(app): State<Arc<App>>,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<IssueDetail>, Failure> {
    let Path(id) = id.map_err(|e| Failure::bad(e.body_text()))?;
    let detail = app
        .with_store(move |st| st.issue(id))
        .await?
        .ok_or(AppError::NotFound)?;
    let diffs = variant_diffs(&detail.variants);
    Ok(Json(IssueDetail {
        issue: detail.summary.into(),
        variants: detail
            .variants
            .into_iter()
            .map(IssueVariant::from)
            .collect(),
        diffs,
    }))
}
