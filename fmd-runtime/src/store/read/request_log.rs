//! The request log: stored requests in a time window, oldest first, page by page.
//!
//! A read query of its own (not part of [`DashboardStore`](super::dashboard::DashboardStore))
//! because only the JSON API, the downloads and the request page need it; every storage engine implements [`RequestLog`]
//! beside its dashboard queries. Pages are keyset-paged on `(time, id)`, so reading page
//! 1 000 of a window costs the same as reading page 1 and rows written meanwhile never
//! shift a page.

use serde::Serialize;

use crate::store::StoreError;

/// Most requests one page may hold, whatever the caller asks for.
pub const MAX_PAGE: u32 = 1000;

/// One stored request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestRow {
    /// `request.id`.
    pub id: i64,
    /// `endpoint.id`.
    pub endpoint_id: i64,
    /// The endpoint's name.
    pub endpoint: String,
    /// The route template (never the raw URI).
    pub route: String,
    /// HTTP method.
    pub method: String,
    /// Start, unix milliseconds.
    pub time: i64,
    /// Duration in microseconds.
    pub duration_us: i64,
    /// Final status; `None` when the request was cancelled.
    pub status: Option<u16>,
    /// The client went away before the response was ready.
    pub cancelled: bool,
    /// The application version that served it.
    pub version: String,
    /// The process that served it.
    pub instance: String,
    /// Client address, if known.
    pub ip: Option<String>,
    /// The group-by value (e.g. a user id), if any.
    pub group_by: Option<String>,
}

/// Which requests to read: `from <= time < to`, optionally of one endpoint or instance,
/// strictly after the cursor `(time, id)` of the previous page's last row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestWindow {
    /// Inclusive start, unix milliseconds.
    pub from: i64,
    /// Exclusive end, unix milliseconds.
    pub to: i64,
    /// Only this endpoint.
    pub endpoint_id: Option<i64>,
    /// Only this instance.
    pub instance: Option<String>,
    /// `(time, id)` of the last row already read.
    pub after: Option<(i64, i64)>,
    /// Most rows to return (capped at [`MAX_PAGE`]).
    pub limit: u32,
}

/// One request with what happened in it, for its own page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestDetail {
    /// The request itself.
    pub request: RequestRow,
    /// Errors and panics recorded during it, in the order they happened.
    pub errors: Vec<RequestError>,
    /// Why it was flagged as slow (level 2), if it was.
    pub outlier: Option<OutlierFacts>,
}

/// An error or panic recorded during a request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestError {
    /// `exception_group.id`: the group (and its page) the error belongs to.
    pub group_id: i64,
    /// The group's endpoint.
    pub endpoint_id: i64,
    /// The error's type name.
    pub type_name: String,
    /// Its message as recorded in this request.
    pub message: String,
    /// 0 panic, 1 uncaught `Err`, 2 captured, 3 client error.
    pub kind: u8,
    /// When it was recorded, unix milliseconds.
    pub time: i64,
}

/// What the outlier check kept of a slow request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutlierFacts {
    /// Path and query, secrets scrubbed.
    pub url: String,
    /// Request headers, secrets scrubbed.
    pub headers: Vec<(String, String)>,
    /// The endpoint's typical duration when judged (µs).
    pub typical_us: i64,
    /// The threshold it crossed (µs).
    pub threshold_us: i64,
}

/// Reading the request log; implemented once per storage engine.
///
/// ```no_run
/// use fmd_runtime::store::read::{RequestLog, RequestWindow};
/// use fmd_runtime::store::sqlite::SqliteReader;
///
/// let mut store = SqliteReader::open(std::path::Path::new("fmd.db"))?;
/// let window = RequestWindow { from: 0, to: i64::MAX, endpoint_id: None, instance: None,
///                              after: None, limit: 100 };
/// let first_page = store.requests_in_window(&window)?;
/// # Ok::<(), fmd_runtime::store::StoreError>(())
/// ```
pub trait RequestLog {
    /// Requests in the window ordered by `(time, id)`, at most `min(limit, MAX_PAGE)`.
    fn requests_in_window(&mut self, window: &RequestWindow)
    -> Result<Vec<RequestRow>, StoreError>;

    /// One request by id, with its errors and outlier facts; `None` when it is not stored.
    fn request_detail(&mut self, id: i64) -> Result<Option<RequestDetail>, StoreError>;
}
