//! SQLite implementation of [`RequestLog`].
//!
//! The page starts at `max(from, cursor time)` on `request_time` (or
//! `request_endpoint_sample` for one endpoint); both order by time, so rows come out in
//! time order without a sort (`request_time` ends in the rowid; for one endpoint only the
//! rows of one millisecond are put in id order), and only the rows sharing the cursor's
//! millisecond are skipped by the residual filter.

use rusqlite::params;

use super::dashboard::SqliteReader;
use crate::store::StoreError;
use crate::store::read::request_log::{
    MAX_PAGE, RequestDetail, RequestLog, RequestRow, RequestWindow,
};
use crate::store::rows;
use crate::store::sql::{self, sqlite};

const SELECT: &str = "SELECT r.id, r.endpoint_id, e.name, r.route, r.method, r.time,
        r.duration_us, r.status, r.cancelled, r.version, r.instance, r.ip, r.group_by
    FROM request_text r JOIN endpoint e ON e.id = r.endpoint_id";

/// `?1` lower time bound, `?2` upper bound, `?3` endpoint, `?4`/`?5` cursor, `?6`
/// instance, `?7` limit.
const FILTER: &str = "r.time >= ?1 AND r.time < ?2
      AND (r.time > ?4 OR r.id > ?5)
      AND (?6 IS NULL OR r.instance = ?6)
    ORDER BY r.time, r.id LIMIT ?7";

impl RequestLog for SqliteReader {
    fn requests_in_window(&mut self, w: &RequestWindow) -> Result<Vec<RequestRow>, StoreError> {
        let (after_time, after_id) = w.after.unwrap_or((i64::MIN, i64::MIN));
        let from = w.from.max(after_time);
        let sql = match w.endpoint_id {
            Some(_) => format!("{SELECT} WHERE r.endpoint_id = ?3 AND {FILTER}"),
            None => format!("{SELECT} WHERE ?3 IS NULL AND {FILTER}"),
        };
        let limit = w.limit.min(MAX_PAGE);
        Ok(self
            .connection()
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
                |r| rows::request_row(r),
            )?
            .collect::<Result<_, _>>()?)
    }

    fn request_detail(&mut self, id: i64) -> Result<Option<RequestDetail>, StoreError> {
        let conn = self.connection();
        let request = conn
            .prepare_cached(sqlite!(sql::REQUEST_BY_ID))?
            .query_map([id], |r| rows::request_row(r))?
            .next()
            .transpose()?;
        let Some(request) = request else {
            return Ok(None);
        };
        let errors = conn
            .prepare_cached(sqlite!(sql::REQUEST_ERRORS))?
            .query_map([id], |r| rows::request_error(r))?
            .collect::<Result<_, _>>()?;
        let outlier = conn
            .prepare_cached(sqlite!(sql::REQUEST_OUTLIER))?
            .query_map([id], |r| rows::outlier_facts(r))?
            .next()
            .transpose()?;
        Ok(Some(RequestDetail {
            request,
            errors,
            outlier,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with(rows: &[(i64, &str)]) -> (tempfile::TempDir, SqliteReader) {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = SqliteReader::open(&dir.path().join("fmd.db")).expect("open");
        let conn = store.connection();
        conn.execute_batch(
            "INSERT INTO endpoint (id, name, created_at) VALUES (1, 'a', 0), (2, 'b', 0);
             INSERT INTO request_route (id, route, method) VALUES (1, '/r', 'GET');
             INSERT INTO request_version (id, version) VALUES (1, '1');
             INSERT INTO request_instance (id, instance) VALUES (1, 'i');",
        )
        .expect("endpoints");
        for (time, endpoint) in rows {
            conn.execute(
                "INSERT INTO request (endpoint_id, route_id, time, duration_us, status,
                     version_id, instance_id)
                 VALUES ((SELECT id FROM endpoint WHERE name = ?1), 1, ?2, 5, 200, 1, 1)",
                params![endpoint, time],
            )
            .expect("request");
        }
        (dir, store)
    }

    fn window(endpoint_id: Option<i64>, after: Option<(i64, i64)>) -> RequestWindow {
        RequestWindow {
            from: 10,
            to: 40,
            endpoint_id,
            instance: None,
            after,
            limit: 2,
        }
    }

    /// Reads every page of `w` and returns the ids in order.
    fn all_pages(store: &mut SqliteReader, mut w: RequestWindow) -> Vec<i64> {
        let mut ids = Vec::new();
        loop {
            let page = store.requests_in_window(&w).expect("page");
            ids.extend(page.iter().map(|r| r.id));
            match page.last() {
                Some(last) if page.len() == w.limit as usize => {
                    w.after = Some((last.time, last.id))
                }
                _ => return ids,
            }
        }
    }

    #[test]
    fn pages_cover_the_window_once_even_across_rows_of_one_millisecond() {
        // Five requests share t=20, so pages of two split them.
        let rows = [
            (5, "a"),
            (10, "a"),
            (20, "a"),
            (20, "b"),
            (20, "a"),
            (20, "a"),
        ];
        let rows = [&rows[..], &[(20, "b"), (39, "a"), (40, "a")]].concat();
        let (_dir, mut store) = store_with(&rows);
        assert_eq!(
            all_pages(&mut store, window(None, None)),
            [2, 3, 4, 5, 6, 7, 8]
        );
        assert_eq!(
            all_pages(&mut store, window(Some(1), None)),
            [2, 3, 5, 6, 8]
        );
    }

    #[test]
    fn the_page_query_reads_an_index_in_order() {
        let (_dir, mut store) = store_with(&[]);
        for endpoint in ["WHERE ?3 IS NULL AND", "WHERE r.endpoint_id = ?3 AND"] {
            let sql = format!("EXPLAIN QUERY PLAN {SELECT} {endpoint} {FILTER}");
            let plan: Vec<String> = store
                .connection()
                .prepare(&sql)
                .expect("plan")
                .query_map(params![0, 1, 1, 0, 0, None::<String>, 10], |r| r.get(3))
                .expect("rows")
                .collect::<Result<_, _>>()
                .expect("plan rows");
            let plan = plan.join("\n");
            assert!(plan.contains("USING INDEX request_"), "{plan}");
            // One endpoint's index ends in the rowid after the sampled columns, so only
            // the rows of one millisecond are put in id order, never the whole window.
            let sorted = plan.contains("TEMP B-TREE");
            assert!(
                !sorted || plan.contains("TEMP B-TREE FOR LAST TERM OF ORDER BY"),
                "no sort of the window: {plan}"
            );
        }
    }
}
