//! The API's handlers: parse and bound the query, run the store query on a blocking
//! thread, convert to the [`types`](super::types). Every failure is an [`ApiError`] body.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::types::{
    ApiError, Endpoint, EndpointList, ExceptionDetail, ExceptionGroup, ExceptionGroupPage, Kind,
    Request, RequestPage,
};
use crate::app::{App, AppError};
use crate::format::now_ms;
use crate::pool::BUSY;
use fmd_runtime::store::read::{GroupQuery, GroupSort};
use fmd_runtime::store::read::{MAX_PAGE, RequestWindow};

/// Default window of `/requests`: the last hour.
const DEFAULT_WINDOW_MS: i64 = 60 * 60 * 1000;
/// Default page size of `/requests`.
const DEFAULT_LIMIT: u32 = 100;
/// Default and largest page size of `/exceptions` and `/issues`.
const DEFAULT_PER_PAGE: u64 = 25;
const MAX_PER_PAGE: u64 = 100;
/// Buckets of a group's occurrences histogram.
const BUCKETS: u32 = 30;

/// A refusal with its status; answered as an [`ApiError`] body.
#[derive(Debug)]
pub struct Failure(StatusCode, String);

impl Failure {
    pub(super) fn bad(message: impl Into<String>) -> Self {
        Failure(StatusCode::BAD_REQUEST, message.into())
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.0, Json(ApiError { error: self.1 })).into_response()
    }
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound => Failure(StatusCode::NOT_FOUND, "Not found.".into()),
            AppError::Busy => Failure(StatusCode::SERVICE_UNAVAILABLE, BUSY.into()),
            AppError::Store(e) => {
                eprintln!("fmd API: database error: {e}");
                Failure(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The fmd database is unavailable; see the application's log.".into(),
                )
            }
        }
    }
}

impl From<QueryRejection> for Failure {
    fn from(e: QueryRejection) -> Self {
        Failure::bad(e.body_text())
    }
}

/// The query of `GET /api/v1/endpoints`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EndpointsQuery {
    /// Only this instance's requests count (default: all instances).
    instance: Option<String>,
}

/// `GET /api/v1/endpoints`: every endpoint with its figures.
#[utoipa::path(get, path = "/api/v1/endpoints", tag = "endpoints",
    params(EndpointsQuery),
    responses(
        (status = 200, description = "Every endpoint, by name", body = EndpointList),
        (status = 401, description = "Missing or wrong token", body = ApiError),
        (status = 503, description = "Database unavailable", body = ApiError),
    ))]
pub async fn endpoints(
    State(app): State<Arc<App>>,
    q: Result<Query<EndpointsQuery>, QueryRejection>,
) -> Result<Json<EndpointList>, Failure> {
    let instance = q?.0.instance.filter(|i| !i.is_empty());
    let now = now_ms();
    let rows = app
        .with_store(move |st| st.overview(now, instance.as_deref()))
        .await?;
    Ok(Json(EndpointList {
        now,
        endpoints: rows
            .into_iter()
            .map(|e| Endpoint::with_level(e, &*app.host))
            .collect(),
    }))
}

/// The query of `GET /api/v1/requests`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestsQuery {
    /// Window start, Unix ms, inclusive (default: one hour before `to`).
    from: Option<i64>,
    /// Window end, Unix ms, exclusive (default: now).
    to: Option<i64>,
    /// Only this endpoint id.
    endpoint: Option<i64>,
    /// Only this instance.
    instance: Option<String>,
    /// Rows per page, 1 to 1000 (default 100).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Reads a cursor written by [`cursor_of`].
fn parse_cursor(cursor: &str) -> Option<(i64, i64)> {
    let (time, id) = cursor.split_once(':')?;
    Some((time.parse().ok()?, id.parse().ok()?))
}

fn cursor_of(r: &Request) -> String {
    format!("{}:{}", r.time, r.id)
}

/// `GET /api/v1/requests`: requests in a time window, oldest first, paged, with when raw
/// retention last pruned (`raw_pruned_before`).
#[utoipa::path(get, path = "/api/v1/requests", tag = "requests", params(RequestsQuery),
    responses(
        (status = 200, description = "One page of requests", body = RequestPage),
        (status = 400, description = "Malformed window, limit or cursor", body = ApiError),
        (status = 401, description = "Missing or wrong token", body = ApiError),
        (status = 503, description = "Database unavailable", body = ApiError),
    ))]
pub async fn requests(
    State(app): State<Arc<App>>,
    q: Result<Query<RequestsQuery>, QueryRejection>,
) -> Result<Json<RequestPage>, Failure> {
    let Query(q) = q?;
    let to = q.to.unwrap_or_else(|| now_ms() + 1);
    let from = q.from.unwrap_or(to.saturating_sub(DEFAULT_WINDOW_MS));
    if from >= to {
        return Err(Failure::bad("`from` must be before `to`."));
    }
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Failure::bad(format!("`limit` must be 1 to {MAX_PAGE}.")));
    }
    let after = match q.cursor.as_deref() {
        None => None,
        Some(c) => Some(parse_cursor(c).ok_or_else(|| {
            Failure::bad("`cursor` must be a `next_cursor` value from an earlier page.")
        })?),
    };
    let window = RequestWindow {
        from,
        to,
        endpoint_id: q.endpoint,
        instance: q.instance,
        after,
        limit,
    };
    let (rows, raw_pruned_before) = app
        .with_store(move |st| Ok((st.requests_in_window(&window)?, st.raw_pruned_before()?)))
        .await?;
    let requests: Vec<Request> = rows.into_iter().map(Request::from).collect();
    let next_cursor = (requests.len() == limit as usize)
        .then(|| requests.last().map(cursor_of))
        .flatten();
    Ok(Json(RequestPage {
        from,
        to,
        requests,
        next_cursor,
        raw_pruned_before,
    }))
}

/// A list's page number, page size (1 to 100, default 25) and offset, or why not.
pub(super) fn paging(page: Option<u64>, per_page: Option<u64>) -> Result<(u64, u64, u64), Failure> {
    let page = page.unwrap_or(0);
    let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(Failure::bad(format!(
            "`per_page` must be 1 to {MAX_PER_PAGE}."
        )));
    }
    let offset = page
        .checked_mul(per_page)
        .ok_or_else(|| Failure::bad("`page` is too large."))?;
    Ok((page, per_page, offset))
}

/// The query of `GET /api/v1/exceptions`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExceptionsQuery {
    /// Only this endpoint id.
    endpoint: Option<i64>,
    /// `server` (the default: groups of server error issues: panics, 5xx answers,
    /// captured errors), `client` (of client error issues: 4xx answers) or `all`.
    kind: Option<Kind>,
    /// Page number from 0 (default 0).
    page: Option<u64>,
    /// Groups per page, 1 to 100 (default 25).
    per_page: Option<u64>,
}

/// `GET /api/v1/exceptions`: exception groups of one kind (server errors unless asked),
/// most recently seen first, paged.
#[utoipa::path(get, path = "/api/v1/exceptions", tag = "exceptions", params(ExceptionsQuery),
    responses(
        (status = 200, description = "One page of groups", body = ExceptionGroupPage),
        (status = 400, description = "Malformed kind, page or size", body = ApiError),
        (status = 401, description = "Missing or wrong token", body = ApiError),
        (status = 503, description = "Database unavailable", body = ApiError),
    ))]
pub async fn exceptions(
    State(app): State<Arc<App>>,
    q: Result<Query<ExceptionsQuery>, QueryRejection>,
) -> Result<Json<ExceptionGroupPage>, Failure> {
    let Query(q) = q?;
    let (page, per_page, offset) = paging(q.page, q.per_page)?;
    let which = GroupQuery {
        endpoint_id: q.endpoint,
        kind: q.kind.unwrap_or_default().into(),
    };
    let list = app
        .with_store(move |st| st.groups_of(which, GroupSort::LastSeen, true, offset, per_page))
        .await?;
    Ok(Json(ExceptionGroupPage {
        groups: list.rows.into_iter().map(ExceptionGroup::from).collect(),
        total: list.total,
        page,
        per_page,
    }))
}

/// `GET /api/v1/exceptions/{id}`: one group with its trace, code and occurrences.
#[utoipa::path(get, path = "/api/v1/exceptions/{id}", tag = "exceptions",
    params(("id" = i64, Path, description = "Group id")),
    responses(
        (status = 200, description = "The group with its trace", body = ExceptionDetail),
        (status = 400, description = "The id is not a number", body = ApiError),
        (status = 401, description = "Missing or wrong token", body = ApiError),
        (status = 404, description = "No such group", body = ApiError),
        (status = 503, description = "Database unavailable", body = ApiError),
    ))]
pub async fn exception(
    State(app): State<Arc<App>>,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<ExceptionDetail>, Failure> {
    let Path(id) = id.map_err(|e| Failure::bad(e.body_text()))?;
    let now = now_ms();
    let detail = app
        .with_store(move |st| st.group_detail(id, now, BUCKETS))
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(detail.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        assert_eq!(
            parse_cursor("1700000000000:42"),
            Some((1_700_000_000_000, 42))
        );
        assert_eq!(parse_cursor("42"), None);
        assert_eq!(parse_cursor("a:b"), None);
    }
}
