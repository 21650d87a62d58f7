//! PostgreSQL implementation of [`PerfStore`]: the performance pages' SQL, reading the
//! same indexes as the SQLite engine's (`request_hourly` for utilization, bounded range
//! scans of `request_endpoint_sample` for samples, the partial `request_failed`).

use super::dashboard::{PgReader, snapshot_frames};
use crate::store::StoreError;
use crate::store::read::dashboard::{EndpointInfo, Page};
use crate::store::read::perf::{
    AppVersion, CustomGraph, DailyHits, FailedRequest, GraphPoint, HOUR_MS, HourCell, Outlier,
    PerfStore, ProfiledRequest, RequestSample, Selection, StatusMix, VersionDay,
};
use crate::store::rows::{self, count, status};
use crate::store::sql;

/// `[from, to)` in Unix ms as the rollup's hour numbers (partial hours included).
fn hours(from: i64, to: i64) -> (i64, i64) {
    (
        from.div_euclid(HOUR_MS),
        (to + HOUR_MS - 1).div_euclid(HOUR_MS),
    )
}

fn clamp(v: u64) -> i64 {
    v.min(i64::MAX as u64) as i64
}

impl PgReader {
    /// The hours a version served an endpoint, as a request time range `[from, to)`.
    fn version_span(
        &mut self,
        endpoint_id: i64,
        version: &str,
    ) -> Result<(i64, i64), postgres::Error> {
        let r = self
            .client
            .query_one(sql::VERSION_HOURS, &[&endpoint_id, &version])?;
        Ok(
            match (r.get::<_, Option<i64>>(0), r.get::<_, Option<i64>>(1)) {
                (Some(a), Some(b)) => (a * HOUR_MS, (b + 1) * HOUR_MS),
                _ => (0, 0),
            },
        )
    }
}

impl PerfStore for PgReader {
    fn endpoint_list(&mut self) -> Result<Vec<EndpointInfo>, StoreError> {
        Ok(self
            .client
            .query(sql::ENDPOINTS, &[])?
            .iter()
            .map(rows::endpoint)
            .collect::<Result<_, _>>()?)
    }

    fn hourly_load(
        &mut self,
        endpoint_id: Option<i64>,
        from: i64,
        to: i64,
        instance: Option<&str>,
    ) -> Result<Vec<HourCell>, StoreError> {
        let (a, b) = hours(from, to);
        let found = self.client.query(
            "SELECT hour, sum(hits)::bigint, sum(duration_us)::bigint FROM request_hourly
             WHERE hour >= $1 AND hour < $2 AND ($3::bigint IS NULL OR endpoint_id = $3)
               AND ($4::text IS NULL OR instance = $4)
             GROUP BY hour ORDER BY hour",
            &[&a, &b, &endpoint_id, &instance],
        )?;
        Ok(found
            .iter()
            .map(|r| {
                let hour: i64 = r.get(0);
                HourCell {
                    day: hour.div_euclid(24),
                    hour: hour.rem_euclid(24) as u8,
                    hits: count(r.get(1)),
                    duration_us: r.get(2),
                }
            })
            .collect())
    }

    fn daily_hits(&mut self, from: i64, to: i64) -> Result<Vec<DailyHits>, StoreError> {
        let (a, b) = hours(from, to);
        let found = self.client.query(
            "SELECT div(h.hour, 24)::bigint AS day, h.endpoint_id, e.name, sum(h.hits)::bigint
             FROM request_hourly h JOIN endpoint e ON e.id = h.endpoint_id
             WHERE h.hour >= $1 AND h.hour < $2
             GROUP BY day, h.endpoint_id, e.name ORDER BY day, e.name",
            &[&a, &b],
        )?;
        Ok(found
            .iter()
            .map(rows::daily_hits)
            .collect::<Result<_, _>>()?)
    }

    fn version_usage(
        &mut self,
        endpoint_id: Option<i64>,
        from: i64,
        to: i64,
        instance: Option<&str>,
    ) -> Result<Vec<VersionDay>, StoreError> {
        let (a, b) = hours(from, to);
        let found = self.client.query(
            "SELECT div(hour, 24)::bigint AS day, version, sum(hits)::bigint FROM request_hourly
             WHERE hour >= $1 AND hour < $2 AND ($3::bigint IS NULL OR endpoint_id = $3)
               AND ($4::text IS NULL OR instance = $4)
             GROUP BY day, version ORDER BY day, version",
            &[&a, &b, &endpoint_id, &instance],
        )?;
        Ok(found
            .iter()
            .map(rows::version_day)
            .collect::<Result<_, _>>()?)
    }

    fn versions(&mut self) -> Result<Vec<AppVersion>, StoreError> {
        let found = self.client.query(sql::VERSIONS, &[])?;
        Ok(found
            .iter()
            .map(rows::app_version)
            .collect::<Result<_, _>>()?)
    }

    fn recent_requests(
        &mut self,
        endpoint_id: i64,
        since: i64,
        limit: u32,
        instance: Option<&str>,
    ) -> Result<Vec<RequestSample>, StoreError> {
        let found = self.client.query(
            "SELECT id, time, duration_us, status, cancelled, version, group_by, ip
             FROM request_text WHERE endpoint_id = $1 AND time >= $2
               AND ($4::text IS NULL OR instance = $4)
             ORDER BY time DESC LIMIT $3",
            &[&endpoint_id, &since, &i64::from(limit), &instance],
        )?;
        Ok(found
            .iter()
            .map(rows::request_sample)
            .collect::<Result<_, _>>()?)
    }

    fn durations(
        &mut self,
        endpoint_id: i64,
        selection: &Selection,
        limit: u32,
    ) -> Result<Vec<i64>, StoreError> {
        // A version is looked for only in the hours it served the endpoint.
        let (from, to, version) = match selection {
            Selection::Period { from, to } => {
                // Raw rows of the span pruned: the whole span from its daily histogram.
                if let Some(s) = super::raw::pruned_span_samples(
                    &mut self.client,
                    endpoint_id,
                    *from,
                    *to,
                    limit,
                )? {
                    return Ok(s);
                }
                (*from, *to, None)
            }
            Selection::Version(v) => {
                let (a, b) = self.version_span(endpoint_id, v)?;
                // Raw rows of the version pruned: its days from the daily histogram.
                if let Some(s) =
                    super::raw::pruned_version_samples(&mut self.client, endpoint_id, v, a, limit)?
                {
                    return Ok(s);
                }
                (a, b, Some(v.as_str()))
            }
        };
        let found = self.client.query(
            "SELECT duration_us FROM request
             WHERE endpoint_id = $1 AND time >= $2 AND time < $3
               AND ($4::text IS NULL
                    OR version_id = (SELECT id FROM request_version WHERE version = $4))
             ORDER BY time DESC LIMIT $5",
            &[&endpoint_id, &from, &to, &version, &i64::from(limit)],
        )?;
        Ok(found.iter().map(|r| r.get(0)).collect())
    }

    fn status_mix(
        &mut self,
        endpoint_id: i64,
        selection: &Selection,
    ) -> Result<StatusMix, StoreError> {
        let (a, b, version) = match selection {
            Selection::Period { from, to } => {
                let (a, b) = hours(*from, *to);
                (a, b, None)
            }
            Selection::Version(v) => (i64::MIN, i64::MAX, Some(v.as_str())),
        };
        let r = self.client.query_one(
            "SELECT coalesce(sum(hits), 0)::bigint, coalesce(sum(client_errors), 0)::bigint,
                    coalesce(sum(server_errors), 0)::bigint, coalesce(sum(cancelled), 0)::bigint
             FROM request_hourly
             WHERE endpoint_id = $1 AND hour >= $2 AND hour < $3
               AND ($4::text IS NULL OR version = $4)",
            &[&endpoint_id, &a, &b, &version],
        )?;
        Ok(StatusMix {
            hits: count(r.get(0)),
            client_errors: count(r.get(1)),
            server_errors: count(r.get(2)),
            cancelled: count(r.get(3)),
        })
    }

    fn failed_requests(
        &mut self,
        endpoint_id: i64,
        offset: u64,
        limit: u64,
        instance: Option<&str>,
    ) -> Result<Page<FailedRequest>, StoreError> {
        // The condition is spelled as in the partial index `request_failed`.
        let found = self.client.query(
            "SELECT r.id, r.time, r.method, r.route, r.status, r.cancelled, r.duration_us,
                    (SELECT o.group_id FROM exception_occurrence o
                     WHERE o.request_id = r.id ORDER BY o.id LIMIT 1)
             FROM request_text r
             WHERE r.endpoint_id = $1 AND (r.status >= 400 OR r.cancelled)
               AND ($4::text IS NULL OR r.instance = $4)
             ORDER BY r.time DESC LIMIT $2 OFFSET $3",
            &[&endpoint_id, &clamp(limit), &clamp(offset), &instance],
        )?;
        let rows = found
            .iter()
            .map(rows::failed_request)
            .collect::<Result<_, _>>()?;
        let total: i64 = self
            .client
            .query_one(
                "SELECT count(*) FROM request_text
                 WHERE endpoint_id = $1 AND (status >= 400 OR cancelled)
                   AND ($2::text IS NULL OR instance = $2)",
                &[&endpoint_id, &instance],
            )?
            .get(0);
        Ok(Page {
            rows,
            total: count(total),
        })
    }

    fn outliers(
        &mut self,
        endpoint_id: i64,
        offset: u64,
        limit: u64,
        instance: Option<&str>,
    ) -> Result<Page<Outlier>, StoreError> {
        let found = self.client.query(
            "SELECT o.request_id, o.time, o.url, o.headers, r.duration_us, r.status,
                    o.typical_us, o.threshold_us, o.cpu_percent, o.memory_bytes, o.stack_id
             FROM outlier o JOIN request_text r ON r.id = o.request_id
             WHERE o.endpoint_id = $1 AND ($4::text IS NULL OR r.instance = $4)
             ORDER BY o.time DESC LIMIT $2 OFFSET $3",
            &[&endpoint_id, &clamp(limit), &clamp(offset), &instance],
        )?;
        let mut out = Vec::with_capacity(found.len());
        for r in &found {
            let headers: String = r.get(3);
            let stack_id: Option<i64> = r.get(10);
            out.push(Outlier {
                request_id: r.get(0),
                time: r.get(1),
                url: r.get(2),
                headers: serde_json::from_str(&headers).unwrap_or_default(),
                duration_us: r.get(4),
                status: status(r.get(5)),
                typical_us: r.get(6),
                threshold_us: r.get(7),
                cpu_percent: r.get(8),
                memory_bytes: r.get(9),
                stack: match stack_id {
                    Some(id) => snapshot_frames(&mut *self.client, id)?,
                    None => Vec::new(),
                },
            });
        }
        let total: i64 = self
            .client
            .query_one(
                "SELECT count(*) FROM outlier o JOIN request_text r ON r.id = o.request_id
                 WHERE o.endpoint_id = $1 AND ($2::text IS NULL OR r.instance = $2)",
                &[&endpoint_id, &instance],
            )?
            .get(0);
        Ok(Page {
            rows: out,
            total: count(total),
        })
    }

    fn profiled_requests(
        &mut self,
        endpoint_id: i64,
        limit: u32,
        instance: Option<&str>,
    ) -> Result<Vec<ProfiledRequest>, StoreError> {
        let ids: Vec<i64> = self
            .client
            .query(
                "SELECT DISTINCT p.request_id FROM profile_node p
                 WHERE p.endpoint_id = $1 AND ($3::text IS NULL OR EXISTS (
                     SELECT 1 FROM request_text r WHERE r.id = p.request_id AND r.instance = $3))
                 ORDER BY p.request_id DESC LIMIT $2",
                &[&endpoint_id, &i64::from(limit), &instance],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut out = Vec::with_capacity(ids.len());
        for request_id in ids {
            let Some(req) = self.client.query_opt(sql::REQUEST_TIMING, &[&request_id])? else {
                continue;
            };
            let nodes = self
                .client
                .query(sql::PROFILE_NODES, &[&request_id])?
                .iter()
                .map(rows::profile_node)
                .collect::<Result<_, _>>()?;
            out.push(ProfiledRequest {
                request_id,
                time: req.get(0),
                duration_us: req.get(1),
                nodes,
            });
        }
        Ok(out)
    }

    fn custom_graphs(&mut self) -> Result<Vec<CustomGraph>, StoreError> {
        Ok(self
            .client
            .query(sql::CUSTOM_GRAPHS, &[])?
            .iter()
            .map(rows::custom_graph)
            .collect::<Result<_, _>>()?)
    }

    fn graph_points(
        &mut self,
        graph_id: i64,
        from: i64,
        to: i64,
        buckets: u32,
    ) -> Result<Vec<GraphPoint>, StoreError> {
        let width = ((to - from) / i64::from(buckets.max(1))).max(1);
        let found = self.client.query(
            "SELECT (time - $2) / $4::bigint AS b, avg(value), min(value), max(value), count(*)
             FROM custom_graph_value WHERE graph_id = $1 AND time >= $2 AND time < $3
             GROUP BY b ORDER BY b",
            &[&graph_id, &from, &to, &width],
        )?;
        Ok(found
            .iter()
            .map(|r| GraphPoint {
                time: from + r.get::<_, i64>(0) * width,
                mean: r.get(1),
                min: r.get(2),
                max: r.get(3),
                samples: count(r.get(4)),
            })
            .collect())
    }
}
