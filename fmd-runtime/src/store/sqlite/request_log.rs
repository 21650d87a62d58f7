//! SQLite implementation of [`RequestLog`].
//!
//! The page starts at `max(from, cursor time)` on `request_time` (or
//! `request_endpoint_time` for one endpoint); both indexes end in the rowid, so rows come
//! out in `(time, id)` order without a sort, and only the rows sharing the cursor's
//! millisecond are skipped by the residual filter.

use rusqlite::params;

use super::SqliteReader;
use crate::store::request_log::{MAX_PAGE, RequestLog, RequestRow, RequestWindow};

const SELECT: &str = "SELECT r.id, r.endpoint_id, e.name, r.route, r.method, r.time,
        r.duration_us, r.status, r.cancelled, r.version, r.instance, r.ip, r.group_by
    FROM request r JOIN endpoint e ON e.id = r.endpoint_id";

/// `?1` lower time bound, `?2` upper bound, `?3` endpoint, `?4`/`?5` cursor, `?6`
/// instance, `?7` limit.
const FILTER: &str = "r.time >= ?1 AND r.time < ?2
      AND (r.time > ?4 OR r.id > ?5)
      AND (?6 IS NULL OR r.instance = ?6)
    ORDER BY r.time, r.id LIMIT ?7";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RequestRow> {
    Ok(RequestRow {
        id: r.get(0)?,
        endpoint_id: r.get(1)?,
        endpoint: r.get(2)?,
        route: r.get(3)?,
        method: r.get(4)?,
        time: r.get(5)?,
        duration_us: r.get(6)?,
        status: r.get(7)?,
        cancelled: r.get(8)?,
        version: r.get(9)?,
        instance: r.get(10)?,
        ip: r.get(11)?,
        group_by: r.get(12)?,
    })
}

impl RequestLog for SqliteReader {
    type Error = rusqlite::Error;

    fn requests_in_window(&mut self, w: &RequestWindow) -> rusqlite::Result<Vec<RequestRow>> {
        let (after_time, after_id) = w.after.unwrap_or((i64::MIN, i64::MIN));
        let from = w.from.max(after_time);
        let sql = match w.endpoint_id {
            Some(_) => format!("{SELECT} WHERE r.endpoint_id = ?3 AND {FILTER}"),
            None => format!("{SELECT} WHERE ?3 IS NULL AND {FILTER}"),
        };
        let limit = w.limit.min(MAX_PAGE);
        self.connection()
            .prepare_cached(&sql)?
            .query_map(
                params![
                    from,
                    w.to,
                    w.endpoint_id,
                    after_time,
                    after_id,
                    w.instance,
                    limit
                ],
                row,
            )?
            .collect()
    }
}
