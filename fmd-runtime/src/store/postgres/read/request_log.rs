//! PostgreSQL implementation of [`RequestLog`]: keyset pages on `(time, id)`, read in
//! order from `request_time` or `request_endpoint_sample` (both end in `id`).

use super::dashboard::PgReader;
use crate::store::StoreError;
use crate::store::read::request_log::{
    MAX_PAGE, RequestDetail, RequestLog, RequestRow, RequestWindow,
};
use crate::store::{rows, sql};

impl RequestLog for PgReader {
    fn requests_in_window(&mut self, w: &RequestWindow) -> Result<Vec<RequestRow>, StoreError> {
        let (after_time, after_id) = w.after.unwrap_or((i64::MIN, i64::MIN));
        let from = w.from.max(after_time);
        let limit = i64::from(w.limit.min(MAX_PAGE));
        let rows = self.client.query(
            "SELECT r.id, r.endpoint_id, e.name, r.route, r.method, r.time, r.duration_us,
                    r.status, r.cancelled, r.version, r.instance, r.ip, r.group_by
             FROM request_text r JOIN endpoint e ON e.id = r.endpoint_id
             WHERE ($3::bigint IS NULL OR r.endpoint_id = $3)
               AND r.time >= $1 AND r.time < $2
               AND (r.time, r.id) > ($4, $5)
               AND ($6::text IS NULL OR r.instance = $6)
             ORDER BY r.time, r.id LIMIT $7",
            &[
                &from,
                &w.to,
                &w.endpoint_id,
                &after_time,
                &after_id,
                &w.instance,
                &limit,
            ],
        )?;
        Ok(rows
            .iter()
            .map(rows::request_row)
            .collect::<Result<_, _>>()?)
    }

    fn request_detail(&mut self, id: i64) -> Result<Option<RequestDetail>, StoreError> {
        let Some(row) = self.client.query_opt(sql::REQUEST_BY_ID, &[&id])? else {
            return Ok(None);
        };
        let request = rows::request_row(&row)?;
        let errors = self
            .client
            .query(sql::REQUEST_ERRORS, &[&id])?
            .iter()
            .map(rows::request_error)
            .collect::<Result<_, _>>()?;
        let outlier = self
            .client
            .query_opt(sql::REQUEST_OUTLIER, &[&id])?
            .map(|r| rows::outlier_facts(&r))
            .transpose()?;
        Ok(Some(RequestDetail {
            request,
            errors,
            outlier,
        }))
    }
}
