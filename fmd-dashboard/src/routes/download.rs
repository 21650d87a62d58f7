//! CSV downloads of the lists: every row of every page, streamed.
//!
//! The body is produced a page of rows at a time, each page one query on the dashboard's
//! connection, so a download of millions of rows holds one page in memory and lets the
//! other pages' queries run between its own. Times are RFC 3339 in UTC
//! ([`crate::export`]).

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::stream;

use super::handlers::{InstanceQuery, ListQuery};
use crate::app::{App, AppError};
use crate::export;
use fmd_runtime::store::read::{
    FailedRequest, IssueFilter, IssueSort, IssueSummary, MAX_PAGE, RequestRow, RequestWindow,
};
use fmd_runtime::store::{AnyReader, StoreError};

/// Rows per query of a download.
const PAGE: u64 = MAX_PAGE as u64;

/// A CSV answer named `file` whose body `next` produces chunk by chunk (`None`: done).
fn csv_response<S, F, Fut>(file: &str, state: S, next: F) -> Response
where
    S: Send + 'static,
    F: Fn(S) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Option<(Result<Bytes, std::io::Error>, S)>> + Send + 'static,
{
    let body = Body::from_stream(stream::unfold(state, next));
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// A page of lines as one chunk, the header first when `header` is given.
fn chunk<S: AsRef<str>>(header: Option<&[&str]>, lines: impl Iterator<Item = Vec<S>>) -> Bytes {
    let mut out = Vec::new();
    if let Some(h) = header {
        let _ = export::write_line(&mut out, h);
    }
    for fields in lines {
        let _ = export::write_line(&mut out, &fields);
    }
    Bytes::from(out)
}

fn failed(e: AppError) -> std::io::Error {
    std::io::Error::other(format!("{e:?}"))
}

/// One page of rows of endpoint `id` (the list's filter `F` applied) from a position.
type Fetch<F, P, R> = fn(&mut AnyReader, i64, &F, &P) -> Result<Vec<R>, StoreError>;

/// How one paged list becomes a download: its columns, one query per page from a
/// position, and the position after a page.
struct Paged<F, P, R> {
    columns: &'static [&'static str],
    fetch: Fetch<F, P, R>,
    fields: fn(&R) -> Vec<String>,
    next: fn(&P, &[R]) -> P,
}

/// Where a download stands.
struct Cursor<F: 'static, P: 'static, R: 'static> {
    app: Arc<App>,
    id: i64,
    filter: F,
    position: P,
    first: bool,
    done: bool,
    list: &'static Paged<F, P, R>,
}

/// Streams every page of `list` for endpoint `id` as the CSV file `file`.
fn download<F, P, R>(
    app: Arc<App>,
    id: i64,
    filter: F,
    file: String,
    start: P,
    list: &'static Paged<F, P, R>,
) -> Response
where
    F: Clone + Send + Sync + 'static,
    P: Clone + Send + Sync + 'static,
    R: Send + 'static,
{
    let cursor = Cursor {
        app,
        id,
        filter,
        position: start,
        first: true,
        done: false,
        list,
    };
    csv_response(&file, cursor, |mut c| async move {
        if c.done {
            return None;
        }
        let (id, filter, position, fetch) =
            (c.id, c.filter.clone(), c.position.clone(), c.list.fetch);
        let rows = match c
            .app
            .with_store(move |st| fetch(st, id, &filter, &position))
            .await
        {
            Ok(rows) => rows,
            Err(e) => return Some((Err(failed(e)), Cursor { done: true, ..c })),
        };
        let header = c.first.then_some(c.list.columns);
        let bytes = chunk(header, rows.iter().map(c.list.fields));
        c.first = false;
        c.position = (c.list.next)(&c.position, &rows);
        c.done = (rows.len() as u64) < PAGE;
        Some((Ok(bytes), c))
    })
}

/// The failed requests list, newest first, paged by offset.
static FAILED: Paged<Option<String>, u64, FailedRequest> = Paged {
    columns: &export::FAILED_COLUMNS,
    fetch: |st, id, filter, offset| {
        Ok(st
            .failed_requests(id, *offset, PAGE, filter.as_deref())?
            .rows)
    },
    fields: |r| export::failed_fields(r).into(),
    next: |offset, rows| offset + rows.len() as u64,
};

/// The request log, oldest first, paged by the last `(time, id)`.
static LOG: Paged<Option<String>, Option<(i64, i64)>, RequestRow> = Paged {
    columns: &export::REQUEST_COLUMNS,
    fetch: |st, id, filter, after| {
        st.requests_in_window(&RequestWindow {
            from: i64::MIN,
            to: i64::MAX,
            endpoint_id: Some(id),
            instance: filter.clone(),
            after: *after,
            limit: MAX_PAGE,
        })
    },
    fields: |r| export::request_fields(r).into(),
    next: |_, rows| rows.last().map(|r| (r.time, r.id)),
};

/// The issue list with its filter and order, paged by offset.
static ISSUES: Paged<(IssueFilter, IssueSort, bool), u64, IssueSummary> = Paged {
    columns: &export::ISSUE_COLUMNS,
    fetch: |st, _, (filter, sort, desc), offset| {
        Ok(st.issues(filter, *sort, *desc, *offset, PAGE)?.rows)
    },
    fields: |i| export::issue_fields(i).into(),
    next: |offset, rows| offset + rows.len() as u64,
};

/// `GET /exceptions/issues.csv`: every issue the list shows under the same search,
/// status filter and order (all its pages).
pub async fn issues_csv(
    State(app): State<Arc<App>>,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let order = (q.issue_filter(), q.issue_sort(), q.issue_descending());
    Ok(download(app, 0, order, "issues.csv".into(), 0, &ISSUES))
}

/// `GET /endpoint/{id}/requests.csv`: the endpoint's failed requests (the rows of the
/// "failed requests" list, of one instance or all), newest first.
pub async fn failed_csv(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Query(i): Query<InstanceQuery>,
) -> Result<Response, AppError> {
    endpoint_exists(&app, id).await?;
    let file = format!("endpoint-{id}-failed-requests.csv");
    Ok(download(app, id, i.get(), file, 0, &FAILED))
}

/// `GET /endpoint/{id}/log.csv`: every stored request of the endpoint, oldest first.
pub async fn log_csv(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Query(i): Query<InstanceQuery>,
) -> Result<Response, AppError> {
    endpoint_exists(&app, id).await?;
    let file = format!("endpoint-{id}-requests.csv");
    Ok(download(app, id, i.get(), file, None, &LOG))
}

/// 404 for an endpoint that does not exist (before the download starts).
async fn endpoint_exists(app: &Arc<App>, id: i64) -> Result<(), AppError> {
    match app.with_store(move |st| st.endpoint(id)).await? {
        Some(_) => Ok(()),
        None => Err(AppError::NotFound),
    }
}
