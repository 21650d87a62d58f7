//! Handlers of the performance pages: run the bounded queries on a blocking thread, hand
//! the plain results to the page functions.

use std::sync::Arc;

use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::Markup;
use serde::Deserialize;

use super::handlers::{InstanceQuery, ctx};
use crate::app::{App, AppError};
use crate::auth::session::Session;
use crate::format::now_ms;
use crate::pages::Ctx;
use crate::pages::components::{PERF_SAMPLES, SPANS};
use crate::pages::custom_graphs::{BUCKETS, CustomGraphsView, custom_graphs_page};
use crate::pages::endpoint_perf::{EndpointPerfView, SAMPLE_LIMIT, endpoint_perf_page};
use crate::pages::profiler::{GROUPED_REQUESTS, PROFILER_REQUESTS, grouped_page, profiler_page};
use crate::pages::reporting::{ReportQuery, reporting_page};
use crate::pages::request::{request_gone_page, request_page};
use crate::pages::requests::{FAILED_PER_PAGE, OUTLIERS_PER_PAGE, failed_page, outliers_page};
use crate::pages::utilization::{UtilizationView, utilization_page};
use crate::profile::group;
use crate::reporting::report;
use crate::stats::BoxStats;
use fmd_runtime::store::read::Selection;
use fmd_runtime::store::read::{DAY_MS, EndpointInfo, InstanceInfo};
use fmd_runtime::store::{AnyReader, StoreError};

/// Endpoints in the API-performance chart (the slowest medians).
const PERF_ENDPOINTS: usize = 25;

/// `?days=`: one of [`SPANS`], 7 by default.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SpanQuery {
    days: i64,
}

impl SpanQuery {
    fn days(&self) -> i64 {
        if SPANS.contains(&self.days) {
            self.days
        } else {
            7
        }
    }
}

/// `?page=`.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PageNo {
    #[serde(deserialize_with = "crate::app::page_number")]
    page: u64,
}

/// Today's UTC day number and the first day of a span of `days` ending today.
fn day_span(now: i64, days: i64) -> (i64, i64) {
    let today = now.div_euclid(DAY_MS);
    (today - days + 1, today)
}

/// `GET /utilization`.
pub async fn utilization(
    State(app): State<Arc<App>>,
    Extension(s): Extension<Session>,
    Query(q): Query<SpanQuery>,
) -> Result<Markup, AppError> {
    let now = now_ms();
    let days = q.days();
    let (first_day, last_day) = day_span(now, days);
    let (from, to) = (first_day * DAY_MS, (last_day + 1) * DAY_MS);
    let view = app
        .with_store(move |st| {
            let mut performance = Vec::new();
            for e in st.endpoint_list()? {
                let sample = st.durations(e.id, &Selection::Period { from, to }, PERF_SAMPLES)?;
                if let Some(b) = BoxStats::of(sample) {
                    performance.push((e.name, b));
                }
            }
            performance.sort_by(|a, b| b.1.median.total_cmp(&a.1.median));
            performance.truncate(PERF_ENDPOINTS);
            Ok(UtilizationView {
                days,
                first_day,
                last_day,
                heat: st.hourly_load(None, from, to, None)?,
                daily: st.daily_hits(from, to)?,
                versions: st.version_usage(None, from, to, None)?,
                app_versions: st.versions()?,
                performance,
            })
        })
        .await?;
    Ok(utilization_page(&ctx(&app, &s, ""), &view))
}

/// What the per-endpoint pages read besides their own data.
struct Found<T> {
    info: EndpointInfo,
    instances: Vec<InstanceInfo>,
    value: T,
    /// Raw rows before this were pruned.
    pruned_before: Option<i64>,
}

/// Runs `f` on the store for an endpoint that exists (a missing one is a 404), with the
/// instances to filter by.
async fn for_endpoint<T: Send + 'static>(
    app: &Arc<App>,
    id: i64,
    f: impl FnOnce(&mut AnyReader) -> Result<T, StoreError> + Send + 'static,
) -> Result<Found<T>, AppError> {
    let (info, instances, value, pruned_before) = app
        .with_store(move |st| {
            let found = (st.endpoint(id)?, st.instances()?, f(st)?);
            Ok((found.0, found.1, found.2, st.raw_pruned_before()?))
        })
        .await?;
    Ok(Found {
        info: info.ok_or(AppError::NotFound)?,
        instances,
        value,
        pruned_before,
    })
}

/// A page context filtered to `instance`, choosing among `instances`.
fn filtered<'a>(
    mut c: Ctx<'a>,
    instance: &'a Option<String>,
    instances: &'a [InstanceInfo],
) -> Ctx<'a> {
    c.instance = instance.as_deref();
    c.instances = instances;
    c
}

/// `GET /endpoint/{id}`: the endpoint's performance.
pub async fn endpoint_perf(
    State(app): State<Arc<App>>,
    Extension(s): Extension<Session>,
    Path(id): Path<i64>,
    Query(q): Query<SpanQuery>,
    Query(i): Query<InstanceQuery>,
) -> Result<Markup, AppError> {
    let days = q.days();
    let (first_day, last_day) = day_span(now_ms(), days);
    let (from, to) = (first_day * DAY_MS, (last_day + 1) * DAY_MS);
    let instance = i.get();
    let filter = instance.clone();
    let found = for_endpoint(&app, id, move |st| {
        let i = filter.as_deref();
        Ok((
            st.hourly_load(Some(id), from, to, i)?,
            st.version_usage(Some(id), from, to, i)?,
            st.recent_requests(id, from, SAMPLE_LIMIT, i)?,
        ))
    })
    .await?;
    let (heat, versions, samples) = found.value;
    let view = EndpointPerfView {
        info: found.info,
        days,
        first_day,
        last_day,
        heat,
        versions,
        samples,
    };
    let mut c = filtered(ctx(&app, &s, ""), &instance, &found.instances);
    c.raw_pruned_before = found.pruned_before;
    Ok(endpoint_perf_page(&c, &view))
}

/// `GET /endpoint/{id}/requests`: failed requests.
pub async fn failed(
    State(app): State<Arc<App>>,
    Extension(s): Extension<Session>,
    Path(id): Path<i64>,
    Query(q): Query<PageNo>,
    Query(i): Query<InstanceQuery>,
) -> Result<Markup, AppError> {
    let offset = q.page * FAILED_PER_PAGE;
    let instance = i.get();
    let filter = instance.clone();
    let found = for_endpoint(&app, id, move |st| {
        st.failed_requests(id, offset, FAILED_PER_PAGE, filter.as_deref())
    })
    .await?;
    let mut c = filtered(ctx(&app, &s, ""), &instance, &found.instances);
    c.raw_pruned_before = found.pruned_before;
    Ok(failed_page(&c, &found.info, &found.value, q.page))
}

/// `GET /request/{id}`: one request with its errors.
pub async fn request(
    State(app): State<Arc<App>>,
    Extension(s): Extension<Session>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (detail, pruned_before) = app
        .with_store(move |st| match st.request_detail(id)? {
            Some(d) => Ok((Some(d), None)),
            None => Ok((None, st.raw_pruned_before()?)),
        })
        .await?;
    let mut c = ctx(&app, &s, "");
    match (detail, pruned_before) {
        (Some(d), _) => Ok(request_page(&c, &d).into_response()),
        (None, Some(before)) => {
            c.raw_pruned_before = Some(before);
            Ok((StatusCode::NOT_FOUND, request_gone_page(&c, id)).into_response())
        }
        (None, None) => Err(AppError::NotFound),
    }
}

/// `GET /endpoint/{id}/outliers`.
pub async fn outliers(
    State(app): State<Arc<App>>,
    Extension(s): Extension<Session>,
    Path(id): Path<i64>,
    Query(q): Query<PageNo>,
    Query(i): Query<InstanceQuery>,
) -> Result<Markup, AppError> {
    let offset = q.page * OUTLIERS_PER_PAGE;
    let instance = i.get();
    let filter = instance.clone();
    let found = for_endpoint(&app, id, move |st| {
        st.outliers(id, offset, OUTLIERS_PER_PAGE, filter.as_deref())
    })
    .await?;
    let mut c = filtered(ctx(&app, &s, ""), &instance, &found.instances);
    c.raw_pruned_before = found.pruned_before;
    Ok(outliers_page(&c, &found.info, &found.value, q.page))
}

/// `GET /endpoint/{id}/profiler`.
pub async fn profiler(
    State(app): State<Arc<App>>,
    Extension(s): Extension<Session>,
    Path(id): Path<i64>,
    Query(i): Query<InstanceQuery>,
) -> Result<Markup, AppError> {
    let instance = i.get();
    let filter = instance.clone();
    let found = for_endpoint(&app, id, move |st| {
        st.profiled_requests(id, PROFILER_REQUESTS, filter.as_deref())
    })
    .await?;
    let mut c = filtered(ctx(&app, &s, ""), &instance, &found.instances);
    c.raw_pruned_before = found.pruned_before;
    Ok(profiler_page(&c, &found.info, &found.value))
}

/// `GET /endpoint/{id}/grouped-profiler`.
pub async fn grouped_profiler(
    State(app): State<Arc<App>>,
    Extension(s): Extension<Session>,
    Path(id): Path<i64>,
    Query(i): Query<InstanceQuery>,
) -> Result<Markup, AppError> {
    let instance = i.get();
    let filter = instance.clone();
    let found = for_endpoint(&app, id, move |st| {
        st.profiled_requests(id, GROUPED_REQUESTS, filter.as_deref())
    })
    .await?;
    let mut c = filtered(ctx(&app, &s, ""), &instance, &found.instances);
    c.raw_pruned_before = found.pruned_before;
    Ok(grouped_page(&c, &found.info, &group(&found.value)))
}

/// `GET /custom-graphs`.
pub async fn custom_graphs(
    State(app): State<Arc<App>>,
    Extension(s): Extension<Session>,
    Query(q): Query<SpanQuery>,
) -> Result<Markup, AppError> {
    let days = q.days();
    let to = now_ms() + 1;
    let from = to - days * DAY_MS;
    let view = app
        .with_store(move |st| {
            let mut graphs = Vec::new();
            for g in st.custom_graphs()? {
                let points = st.graph_points(g.id, from, to, BUCKETS)?;
                graphs.push((g, points));
            }
            Ok(CustomGraphsView {
                days,
                from,
                to,
                graphs,
            })
        })
        .await?;
    Ok(custom_graphs_page(&ctx(&app, &s, ""), &view))
}

/// `GET /reporting`: the comparison the query asks for (last 7 days against the 7 before
/// by default).
pub async fn reporting(
    State(app): State<Arc<App>>,
    Extension(s): Extension<Session>,
    Query(q): Query<ReportQuery>,
) -> Result<Markup, AppError> {
    let now = now_ms();
    // Periods are the viewer's days: the store runs off this task, in the same zone.
    let tz = crate::format::zone();
    let (q, versions, reports, rates) = app
        .with_store(move |st| {
            let versions = st.versions()?;
            let (q, (a, b)) = crate::format::with_zone(tz, || {
                let q = q.completed(now, &versions);
                let sides = q.selections();
                (q, sides)
            });
            let (reports, rates) = report(&mut **st, &a, &b)?;
            Ok((q, versions, reports, (rates, st.raw_pruned_before()?)))
        })
        .await?;
    let (rates, pruned_before) = rates;
    let mut c = ctx(&app, &s, "");
    c.raw_pruned_before = pruned_before;
    Ok(reporting_page(&c, &q, &versions, &reports, &rates))
}
