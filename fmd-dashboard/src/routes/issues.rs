//! The issue page and its actions: resolve, resolve in the next version, ignore, reopen.
//! Each action is a CSRF-checked POST (the guard) that redirects back to the page.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Extension, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::Markup;
use serde::Deserialize;

use super::handlers::ctx;
use crate::app::{App, AppError};
use crate::auth::session::Session;
use crate::format::now_ms;
use crate::issue_diff::variant_diffs;
use crate::pages::issue::{IssueRequests, REQUESTS_PER_PAGE, issue_page};
use fmd_runtime::store::issues::IssueAction;

/// The issue page's query: a notice after an action, and the page of its requests.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct IssueQuery {
    notice: String,
    /// The page (0-based) of the requests the issue happened in.
    #[serde(deserialize_with = "crate::app::page_number")]
    page: u64,
}

/// `GET /issues/{id}`: the issue, its variants, what changed between them and the
/// requests it happened in (`?page=N`, [`REQUESTS_PER_PAGE`] a page, newest first).
pub async fn issue(
    State(app): State<Arc<App>>,
    Extension(s): Extension<Session>,
    Path(id): Path<i64>,
    Query(q): Query<IssueQuery>,
) -> Result<Markup, AppError> {
    let page_no = q.page;
    let (detail, (requests, pruned_before)) = app
        .with_store(move |st| {
            let Some(detail) = st.issue(id)? else {
                return Ok(None);
            };
            let requests = st.issue_requests(id, page_no * REQUESTS_PER_PAGE, REQUESTS_PER_PAGE)?;
            Ok(Some((detail, (requests, st.raw_pruned_before()?))))
        })
        .await?
        .ok_or(AppError::NotFound)?;
    let diffs = variant_diffs(&detail.variants);
    let requests = IssueRequests {
        page: page_no,
        per_page: REQUESTS_PER_PAGE,
        list: &requests,
        pruned_before,
    };
    Ok(issue_page(
        &ctx(&app, &s, &q.notice),
        &detail,
        &diffs,
        &requests,
    ))
}

/// Applies `action` to issue `id` and goes back to its page.
async fn apply(
    app: &Arc<App>,
    id: i64,
    action: IssueAction,
    notice: &str,
) -> Result<Response, AppError> {
    let now = now_ms();
    let found = app
        .with_store(move |st| st.set_issue_status(id, action, now))
        .await?;
    if !found {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to(&format!("{}/issues/{id}?notice={notice}", app.base)).into_response())
}

/// `POST /issues/{id}/resolve`.
pub async fn resolve(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    apply(&app, id, IssueAction::Resolve, "issue_resolved").await
}

/// `POST /issues/{id}/resolve-next`.
pub async fn resolve_next(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    apply(&app, id, IssueAction::ResolveNext, "issue_resolved_next").await
}

/// `POST /issues/{id}/reopen`.
pub async fn reopen(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    apply(&app, id, IssueAction::Reopen, "issue_reopened").await
}

/// The ignore form: both empty ignores forever.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct IgnoreForm {
    /// Further occurrences after which it opens again.
    count: String,
    /// A date (`YYYY-MM-DD`, UTC) from which an occurrence opens it again.
    until: String,
}

fn bad(message: &'static str) -> Response {
    (axum::http::StatusCode::BAD_REQUEST, message).into_response()
}

/// Most issues one bulk action changes.
const MAX_BULK: usize = 100;

/// `POST /issues/bulk`: one action (`resolve`, `resolve-next`, `ignore` forever,
/// `reopen`) on every issue checked in the exceptions list (`ids`, repeated).
pub async fn bulk(
    State(app): State<Arc<App>>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let mut ids = Vec::new();
    let mut action = None;
    for (k, v) in form_urlencoded::parse(&body) {
        match &*k {
            "ids" => ids.extend(v.parse::<i64>().ok()),
            "action" => {
                action = match &*v {
                    "resolve" => Some(IssueAction::Resolve),
                    "resolve-next" => Some(IssueAction::ResolveNext),
                    "ignore" => Some(IssueAction::Ignore {
                        count: None,
                        until_ms: None,
                    }),
                    "reopen" => Some(IssueAction::Reopen),
                    _ => None,
                }
            }
            _ => {}
        }
    }
    let Some(action) = action else {
        return Ok(bad("Choose resolve, resolve-next, ignore or reopen."));
    };
    // A page of the list holds fewer; the work per request stays bounded.
    ids.truncate(MAX_BULK);
    let now = now_ms();
    let changed = app
        .with_store(move |st| {
            let mut n = 0;
            for id in ids {
                n += u64::from(st.set_issue_status(id, action, now)?);
            }
            Ok(n)
        })
        .await?;
    let key = if changed > 0 {
        "issues_updated"
    } else {
        "issues_none"
    };
    Ok(Redirect::to(&format!("{}/exceptions?notice={key}", app.base)).into_response())
}

/// `POST /issues/{id}/ignore`: forever, for N more occurrences, or until a date.
pub async fn ignore(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Form(f): Form<IgnoreForm>,
) -> Result<Response, AppError> {
    let count = match f.count.trim() {
        "" => None,
        c => match c.parse::<i64>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Ok(bad("Give a number of occurrences above 0.")),
        },
    };
    let until_ms = match f.until.trim() {
        "" => None,
        d => match crate::format::date_ms(d) {
            Some(ms) => Some(ms),
            None => return Ok(bad("Give the date as YYYY-MM-DD.")),
        },
    };
    apply(
        &app,
        id,
        IssueAction::Ignore { count, until_ms },
        "issue_ignored",
    )
    .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_are_midnight_utc() {
        let day = fmd_runtime::store::read::DAY_MS;
        assert_eq!(crate::format::date_ms("1970-01-02"), Some(day));
        assert_eq!(crate::format::date_ms("2026-13-01"), None);
        assert_eq!(crate::format::date_ms("soon"), None);
    }
}
