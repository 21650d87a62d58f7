//! SQLite implementation of [`PerfStore`]: the performance pages' SQL.
//!
//! Utilization reads `request_hourly` (by its `hour` index, or its primary key when one
//! endpoint is asked for), never `request`. Per-endpoint samples are bounded `LIMIT`
//! range scans of `request_endpoint_sample`; failed requests read the partial index
//! `request_failed`; outliers `outlier_endpoint_time`; call trees
//! `profile_node_endpoint_request` and the primary key; custom graphs
//! `custom_graph_value_graph_time`.

use crate::store::sql;
use crate::store::sql::sqlite;
use rusqlite::{OptionalExtension, params};

use super::dashboard::{SqliteReader, snapshot_frames};
use crate::store::StoreError;
use crate::store::read::dashboard::{EndpointInfo, Page};
use crate::store::read::perf::{
    AppVersion, CustomGraph, DailyHits, FailedRequest, GraphPoint, HOUR_MS, HourCell, Outlier,
    PerfStore, ProfiledRequest, RequestSample, Selection, StatusMix, VersionDay,
};
use crate::store::rows;

/// `[from, to)` in Unix ms as the rollup's hour numbers (partial hours included).
fn hours(from: i64, to: i64) -> (i64, i64) {
    (
        from.div_euclid(HOUR_MS),
        (to + HOUR_MS - 1).div_euclid(HOUR_MS),
    )
}

impl SqliteReader {
    /// The hours a version served an endpoint, as a request time range `[from, to)`.
    fn version_span(&self, endpoint_id: i64, version: &str) -> rusqlite::Result<(i64, i64)> {
        let span: (Option<i64>, Option<i64>) = self
            .conn
            .prepare_cached(sqlite!(sql::VERSION_HOURS))?
            .query_row(params![endpoint_id, version], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        Ok(match span {
            (Some(a), Some(b)) => (a * HOUR_MS, (b + 1) * HOUR_MS),
            _ => (0, 0),
        })
    }
}

impl PerfStore for SqliteReader {
    fn endpoint_list(&mut self) -> Result<Vec<EndpointInfo>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(sql::ENDPOINTS)?
            .query_map([], |r| rows::endpoint(r))?
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
        let sql = if endpoint_id.is_some() {
            "SELECT hour / 24, hour % 24, sum(hits), sum(duration_us) FROM request_hourly
             WHERE endpoint_id = ?3 AND hour >= ?1 AND hour < ?2
               AND (?4 IS NULL OR instance = ?4)
             GROUP BY hour ORDER BY hour"
        } else {
            "SELECT hour / 24, hour % 24, sum(hits), sum(duration_us) FROM request_hourly
             WHERE hour >= ?1 AND hour < ?2 AND ?3 IS NULL AND (?4 IS NULL OR instance = ?4)
             GROUP BY hour ORDER BY hour"
        };
        Ok(self
            .conn
            .prepare_cached(sql)?
            .query_map(params![a, b, endpoint_id, instance], |r| {
                Ok(HourCell {
                    day: r.get(0)?,
                    hour: r.get::<_, i64>(1)? as u8,
                    hits: r.get::<_, i64>(2)?.max(0) as u64,
                    duration_us: r.get(3)?,
                })
            })?
            .collect::<Result<_, _>>()?)
    }

    fn daily_hits(&mut self, from: i64, to: i64) -> Result<Vec<DailyHits>, StoreError> {
        let (a, b) = hours(from, to);
        Ok(self
            .conn
            .prepare_cached(
                "SELECT h.hour / 24 AS day, h.endpoint_id, e.name, sum(h.hits)
                 FROM request_hourly h JOIN endpoint e ON e.id = h.endpoint_id
                 WHERE h.hour >= ?1 AND h.hour < ?2
                 GROUP BY day, h.endpoint_id ORDER BY day, e.name",
            )?
            .query_map(params![a, b], |r| rows::daily_hits(r))?
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
        let sql = if endpoint_id.is_some() {
            "SELECT hour / 24 AS day, version, sum(hits) FROM request_hourly
             WHERE endpoint_id = ?3 AND hour >= ?1 AND hour < ?2
               AND (?4 IS NULL OR instance = ?4)
             GROUP BY day, version ORDER BY day, version"
        } else {
            "SELECT hour / 24 AS day, version, sum(hits) FROM request_hourly
             WHERE hour >= ?1 AND hour < ?2 AND ?3 IS NULL AND (?4 IS NULL OR instance = ?4)
             GROUP BY day, version ORDER BY day, version"
        };
        Ok(self
            .conn
            .prepare_cached(sql)?
            .query_map(params![a, b, endpoint_id, instance], |r| {
                rows::version_day(r)
            })?
            .collect::<Result<_, _>>()?)
    }

    fn versions(&mut self) -> Result<Vec<AppVersion>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(sql::VERSIONS)?
            .query_map([], |r| rows::app_version(r))?
            .collect::<Result<_, _>>()?)
    }

    fn recent_requests(
        &mut self,
        endpoint_id: i64,
        since: i64,
        limit: u32,
        instance: Option<&str>,
    ) -> Result<Vec<RequestSample>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id, time, duration_us, status, cancelled, version, group_by, ip
                 FROM request_text WHERE endpoint_id = ?1 AND time >= ?2
                   AND (?4 IS NULL OR instance = ?4)
                 ORDER BY time DESC LIMIT ?3",
            )?
            .query_map(params![endpoint_id, since, limit, instance], |r| {
                rows::request_sample(r)
            })?
            .collect::<Result<_, _>>()?)
    }

    fn durations(
        &mut self,
        endpoint_id: i64,
        selection: &Selection,
        limit: u32,
    ) -> Result<Vec<i64>, StoreError> {
        // A version is looked for only in the hours it served the endpoint, so an old
        // version does not scan the endpoint's whole history.
        let (from, to, version) = match selection {
            Selection::Period { from, to } => {
                // Raw rows of the span pruned: the whole span from its daily histogram.
                if let Some(s) =
                    super::raw::pruned_span_samples(&self.conn, endpoint_id, *from, *to, limit)?
                {
                    return Ok(s);
                }
                (*from, *to, None)
            }
            Selection::Version(v) => {
                let (a, b) = self.version_span(endpoint_id, v)?;
                // Raw rows of the version pruned: its days from the daily histogram.
                if let Some(s) =
                    super::raw::pruned_version_samples(&self.conn, endpoint_id, v, a, limit)?
                {
                    return Ok(s);
                }
                (a, b, Some(v.as_str()))
            }
        };
        Ok(self
            .conn
            .prepare_cached(
                "SELECT duration_us FROM request
                 WHERE endpoint_id = ?1 AND time >= ?2 AND time < ?3
                   AND (?4 IS NULL
                        OR version_id = (SELECT id FROM request_version WHERE version = ?4))
                 ORDER BY time DESC LIMIT ?5",
            )?
            .query_map(params![endpoint_id, from, to, version, limit], |r| r.get(0))?
            .collect::<Result<_, _>>()?)
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
        Ok(self
            .conn
            .prepare_cached(
                "SELECT coalesce(sum(hits), 0), coalesce(sum(client_errors), 0),
                        coalesce(sum(server_errors), 0), coalesce(sum(cancelled), 0)
                 FROM request_hourly
                 WHERE endpoint_id = ?1 AND hour >= ?2 AND hour < ?3
                   AND (?4 IS NULL OR version = ?4)",
            )?
            .query_row(params![endpoint_id, a, b, version], |r| {
                let n = |i: usize| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
                Ok(StatusMix {
                    hits: n(0)?,
                    client_errors: n(1)?,
                    server_errors: n(2)?,
                    cancelled: n(3)?,
                })
            })?)
    }

    fn failed_requests(
        &mut self,
        endpoint_id: i64,
        offset: u64,
        limit: u64,
        instance: Option<&str>,
    ) -> Result<Page<FailedRequest>, StoreError> {
        // The condition is spelled as in the partial index `request_failed`.
        let rows = self
            .conn
            .prepare_cached(
                "SELECT r.id, r.time, r.method, r.route, r.status, r.cancelled, r.duration_us,
                        (SELECT o.group_id FROM exception_occurrence o
                         WHERE o.request_id = r.id ORDER BY o.id LIMIT 1)
                 FROM request_text r
                 WHERE r.endpoint_id = ?1 AND (r.status >= 400 OR r.cancelled = 1)
                   AND (?4 IS NULL OR r.instance = ?4)
                 ORDER BY r.time DESC LIMIT ?2 OFFSET ?3",
            )?
            .query_map(
                params![endpoint_id, limit as i64, offset as i64, instance],
                |r| rows::failed_request(r),
            )?
            .collect::<Result<_, _>>()?;
        let total: i64 = self
            .conn
            .prepare_cached(
                // On `request` itself: through the view every counted row would be
                // read with its texts (120 ms instead of 10 at 60 000 failed rows).
                "SELECT count(*) FROM request
                 WHERE endpoint_id = ?1 AND (status >= 400 OR cancelled = 1)
                   AND (?2 IS NULL
                        OR instance_id = (SELECT id FROM request_instance WHERE instance = ?2))",
            )?
            .query_row(params![endpoint_id, instance], |r| r.get(0))?;
        Ok(Page {
            rows,
            total: total.max(0) as u64,
        })
    }

    fn outliers(
        &mut self,
        endpoint_id: i64,
        offset: u64,
        limit: u64,
        instance: Option<&str>,
    ) -> Result<Page<Outlier>, StoreError> {
        let rows: Vec<(Outlier, Option<i64>)> = self
            .conn
            .prepare_cached(
                "SELECT o.request_id, o.time, o.url, o.headers, r.duration_us, r.status,
                        o.typical_us, o.threshold_us, o.cpu_percent, o.memory_bytes, o.stack_id
                 FROM outlier o JOIN request_text r ON r.id = o.request_id
                 WHERE o.endpoint_id = ?1 AND (?4 IS NULL OR r.instance = ?4)
                 ORDER BY o.time DESC LIMIT ?2 OFFSET ?3",
            )?
            .query_map(
                params![endpoint_id, limit as i64, offset as i64, instance],
                |r| {
                    let headers: String = r.get(3)?;
                    Ok((
                        Outlier {
                            request_id: r.get(0)?,
                            time: r.get(1)?,
                            url: r.get(2)?,
                            headers: serde_json::from_str(&headers).unwrap_or_default(),
                            duration_us: r.get(4)?,
                            status: rows::status(r.get(5)?),
                            typical_us: r.get(6)?,
                            threshold_us: r.get(7)?,
                            cpu_percent: r.get(8)?,
                            memory_bytes: r.get(9)?,
                            stack: Vec::new(),
                        },
                        r.get(10)?,
                    ))
                },
            )?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(rows.len());
        for (mut o, stack_id) in rows {
            if let Some(id) = stack_id {
                o.stack = snapshot_frames(&self.conn, id)?;
            }
            out.push(o);
        }
        let total: i64 = self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM outlier o
                 WHERE o.endpoint_id = ?1 AND (?2 IS NULL OR EXISTS (
                     SELECT 1 FROM request_text r WHERE r.id = o.request_id AND r.instance = ?2))",
            )?
            .query_row(params![endpoint_id, instance], |r| r.get(0))?;
        Ok(Page {
            rows: out,
            total: total.max(0) as u64,
        })
    }

    fn profiled_requests(
        &mut self,
        endpoint_id: i64,
        limit: u32,
        instance: Option<&str>,
    ) -> Result<Vec<ProfiledRequest>, StoreError> {
        let ids: Vec<i64> = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT p.request_id FROM profile_node p
                 WHERE p.endpoint_id = ?1 AND (?3 IS NULL OR EXISTS (
                     SELECT 1 FROM request_text r WHERE r.id = p.request_id AND r.instance = ?3))
                 ORDER BY p.request_id DESC LIMIT ?2",
            )?
            .query_map(params![endpoint_id, limit, instance], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(ids.len());
        for request_id in ids {
            let Some((time, duration_us)) = self
                .conn
                .prepare_cached(sqlite!(sql::REQUEST_TIMING))?
                .query_row([request_id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
            else {
                continue;
            };
            let nodes = self
                .conn
                .prepare_cached(sqlite!(sql::PROFILE_NODES))?
                .query_map([request_id], |r| rows::profile_node(r))?
                .collect::<Result<_, _>>()?;
            out.push(ProfiledRequest {
                request_id,
                time,
                duration_us,
                nodes,
            });
        }
        Ok(out)
    }

    fn custom_graphs(&mut self) -> Result<Vec<CustomGraph>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(sql::CUSTOM_GRAPHS)?
            .query_map([], |r| rows::custom_graph(r))?
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
        Ok(self
            .conn
            .prepare_cached(
                "SELECT (time - ?2) / ?4 AS b, avg(value), min(value), max(value), count(*)
                 FROM custom_graph_value WHERE graph_id = ?1 AND time >= ?2 AND time < ?3
                 GROUP BY b ORDER BY b",
            )?
            .query_map(params![graph_id, from, to, width], |r| {
                Ok(GraphPoint {
                    time: from + r.get::<_, i64>(0)? * width,
                    mean: r.get(1)?,
                    min: r.get(2)?,
                    max: r.get(3)?,
                    samples: r.get::<_, i64>(4)?.max(0) as u64,
                })
            })?
            .collect::<Result<_, _>>()?)
    }
}
