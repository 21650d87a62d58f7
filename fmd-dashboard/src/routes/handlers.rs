//! Handlers: read the request, run the queries on a blocking thread, render a page.

use std::sync::Arc;

use axum::extract::{Extension, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use maud::Markup;
use serde::Deserialize;

use crate::app::{App, AppError};
use crate::auth::Role;
use crate::auth::session::Session;
use crate::format::now_ms;
use crate::pages::alerts::alerts_page;
use crate::pages::config::{ConfigView, MIN_PASSWORD, config_page};
use crate::pages::endpoint::{self, exceptions_page};
use crate::pages::exceptions::{self as all, GroupList, all_page, parse_sort};
use crate::pages::issues::{self as issue_list, IssueList, Search};
use crate::pages::layout::SCRIPT;
use crate::pages::overview::{self, OverviewQuery, overview_page};
use crate::pages::retention::retention_page;
use crate::pages::{Ctx, home};
use fmd_runtime::store::read::{DAY_MS, GroupQuery, IssueFilter, IssueKind, IssueSort};

// The notices name the shortest password.
const _: () = assert!(
    MIN_PASSWORD == 12,
    "update the messages that name the length"
);

/// Buckets of the occurrences sparkline.
const SPARK_BUCKETS: u32 = 30;

/// Messages shown after a redirect, by key (never text from the request).
pub(super) fn notice(key: &str) -> Option<&'static str> {
    Some(match key {
        "level" => "Monitoring level saved; the application uses it from now on.",
        "deleted" => "Exception group deleted on this endpoint.",
        "missing" => "That group was already gone.",
        "pruned" => "Old data pruned.",
        "user_created" => "Account created.",
        "user_exists" => "An account with that name already exists.",
        "user_invalid" => {
            "Give a username of at most 64 bytes and a password of at least 12 characters."
        }
        "user_deleted" => "Account removed; its sessions have ended.",
        "user_missing" => "There is no such account.",
        "user_self" => "You cannot remove your own account.",
        "password_reset" => "Password set; the account's sessions have ended.",
        "password_changed" => "Password changed; your other sessions have ended.",
        "alert_sent" => "Test alert handed to the alerts thread; its deliveries appear below.",
        "no_alerts" => "No alert channel is configured: nothing was sent.",
        "issue_resolved" => {
            "Issue resolved: an occurrence in its latest version or later regresses it."
        }
        "issue_resolved_next" => "Issue resolved in the next version.",
        "issue_ignored" => "Issue ignored.",
        "issue_reopened" => "Issue reopened.",
        "issues_updated" => "The selected issues were updated.",
        "issues_none" => "No issue was selected.",
        _ => return None,
    })
}

/// The `?notice=` parameter.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NoticeQuery {
    pub(super) notice: String,
}

/// The page context of a request.
pub(super) fn ctx<'a>(app: &'a App, s: &'a Session, notice_key: &str) -> Ctx<'a> {
    Ctx {
        base: &app.base,
        username: &s.username,
        admin: s.role == Role::Admin,
        csrf: &s.csrf,
        now: now_ms(),
        notice: notice(notice_key),
        instance: None,
        instances: &[],
        raw_pruned_before: None,
    }
}

/// The `?instance=` filter of the overview and the endpoint pages.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct InstanceQuery {
    instance: String,
}

impl InstanceQuery {
    /// The chosen instance; `None` for all.
    pub fn get(&self) -> Option<String> {
        Some(self.instance.clone()).filter(|i| !i.is_empty())
    }
}

/// `GET /`: the overview.
pub async fn overview(
    State(app): State<Arc<App>>,
    Extension(s): Extension<Session>,
    Query(q): Query<OverviewQuery>,
    Query(n): Query<NoticeQuery>,
    Query(i): Query<InstanceQuery>,
) -> Result<Markup, AppError> {
    let now = now_ms();
    let days = crate::format::overview_days(now);
    let instance = i.get();
    let filter = instance.clone();
    let (rows, instances, issues) = app
        .with_store(move |st| {
            Ok((
                st.overview_in(days, filter.as_deref())?,
                st.instances()?,
                st.issue_counts(now - DAY_MS)?,
            ))
        })
        .await?;
    let (rows, total) = overview::select(rows, &q);
    let mut c = ctx(&app, &s, &n.notice);
    c.instance = instance.as_deref();
    c.instances = &instances;
    let host = app.host.clone();
    let default = move |endpoint: &str| host.default_level(endpoint);
    Ok(overview_page(
        &c, &rows, total, &q, &issues, &default, &days,
    ))
}

/// `GET /api/overview.json`: the overview's rows.
pub async fn overview_json(
    State(app): State<Arc<App>>,
    Query(i): Query<InstanceQuery>,
) -> Result<Response, AppError> {
    let days = crate::format::overview_days(now_ms());
    let instance = i.get();
    let rows = app
        .with_store(move |st| st.overview_in(days, instance.as_deref()))
        .await?;
    Ok(Json(rows).into_response())
}

/// Sort, direction and page of the exception list, and the issue list's filter, sort,
/// direction and page.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    sort: String,
    dir: String,
    #[serde(deserialize_with = "crate::app::page_number")]
    page: u64,
    status: String,
    isort: String,
    idir: String,
    #[serde(deserialize_with = "crate::app::page_number")]
    ipage: u64,
    notice: String,
    /// The issue search: words, part of an endpoint name, a version, and a range of
    /// `YYYY-MM-DD` days (UTC; `to` included).
    q: String,
    endpoint: String,
    version: String,
    from: String,
    to: String,
    /// `server` (or nothing), `client` or `all`: the issues and groups listed.
    kind: String,
}

impl ListQuery {
    /// The issue filter this query asks for; a date that does not parse is left out.
    pub(super) fn issue_filter(&self) -> IssueFilter {
        let day = |d: &str| crate::format::date_ms(d);
        IssueFilter {
            status: issue_list::parse_status(&self.status),
            words: self.q.clone(),
            endpoint: self.endpoint.clone(),
            endpoint_id: None,
            version: self.version.clone(),
            from: day(&self.from),
            to: day(&self.to).map(|t| t.saturating_add(DAY_MS)),
            kind: IssueKind::parse(&self.kind),
        }
    }

    /// The issue list's order.
    pub(super) fn issue_sort(&self) -> IssueSort {
        issue_list::parse_sort(&self.isort)
    }

    /// The issue list's direction (descending unless `idir=asc`).
    pub(super) fn issue_descending(&self) -> bool {
        self.idir != "asc"
    }
}

/// `GET /exceptions`: all groups.
pub async fn all_exceptions(
    State(app): State<Arc<App>>,
    Extension(s): Extension<Session>,
    Query(q): Query<ListQuery>,
) -> Result<Markup, AppError> {
    super::injected_panic(&q.sort);
    let sort = parse_sort(&q.sort);
    let desc = q.dir != "asc";
    let offset = q.page * all::PER_PAGE;
    let filter = q.issue_filter();
    let isort = q.issue_sort();
    let idesc = q.issue_descending();
    let ioffset = q.ipage.saturating_mul(issue_list::PER_PAGE);
    let asked = filter.clone();
    let which = GroupQuery {
        endpoint_id: None,
        kind: filter.kind,
    };
    let (issues, groups) = app
        .with_store(move |st| {
            Ok((
                st.issues(&asked, isort, idesc, ioffset, issue_list::PER_PAGE)?,
                st.groups_of(which, sort, desc, offset, all::PER_PAGE)?,
            ))
        })
        .await?;
    let search = Search {
        q: &q.q,
        endpoint: &q.endpoint,
        version: &q.version,
        from: &q.from,
        to: &q.to,
    };
    let list = IssueList {
        issues: &issues,
        status: filter.status,
        kind: filter.kind,
        search,
        sort: isort,
        desc: idesc,
        page: q.ipage,
    };
    let c = ctx(&app, &s, &q.notice);
    let groups = GroupList {
        groups: &groups,
        kind: filter.kind,
        sort,
        desc,
        page: q.page,
    };
    Ok(all_page(&c, issue_list::issue_list(&c, &list), &groups))
}

/// `GET /api/exceptions.json`: one page of groups.
pub async fn exceptions_json(
    State(app): State<Arc<App>>,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let sort = parse_sort(&q.sort);
    let desc = q.dir != "asc";
    let offset = q.page * all::PER_PAGE;
    let groups = app
        .with_store(move |st| st.groups(None, sort, desc, offset, all::PER_PAGE))
        .await?;
    Ok(Json(groups).into_response())
}

/// The page number of an endpoint's exceptions, or the one group to show.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PageQuery {
    #[serde(deserialize_with = "crate::app::page_number")]
    page: u64,
    notice: String,
    /// Show only this group (where the other pages link to a group: it may not be among
    /// the newest of its endpoint).
    group: Option<i64>,
    /// Every frame with its code (asked for by opening a frame, or by the link under a
    /// trace); without it only the failing function's code is sent.
    full: bool,
    /// `server` (or nothing), `client` or `all`: the groups listed.
    kind: String,
}

/// `GET /endpoint/{id}/exceptions`: the endpoint's groups with traces.
pub async fn endpoint_exceptions(
    State(app): State<Arc<App>>,
    Extension(s): Extension<Session>,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> Result<Markup, AppError> {
    let now = now_ms();
    let page_no = q.page;
    let only = q.group;
    let kind = IssueKind::parse(&q.kind);
    let (info, details, total) = app
        .with_store(move |st| {
            let Some(info) = st.endpoint(id)? else {
                return Ok((None, Vec::new(), 0));
            };
            if let Some(group) = only {
                let mut details = Vec::new();
                if let Some(d) = st
                    .group_detail(group, now, SPARK_BUCKETS)?
                    .filter(|d| d.summary.endpoint_id == id)
                {
                    let versions = st.group_versions(d.summary.id)?;
                    details.push((d, versions));
                }
                let total = details.len() as u64;
                return Ok((Some(info), details, total));
            }
            let which = GroupQuery {
                endpoint_id: Some(id),
                kind,
            };
            let list = st.groups_of(
                which,
                Default::default(),
                true,
                page_no * endpoint::PER_PAGE,
                endpoint::PER_PAGE,
            )?;
            let mut details = Vec::with_capacity(list.rows.len());
            for g in &list.rows {
                if let Some(d) = st.group_detail(g.id, now, SPARK_BUCKETS)? {
                    details.push((d, st.group_versions(g.id)?));
                }
            }
            Ok((Some(info), details, list.total))
        })
        .await?;
    let info = info.ok_or(AppError::NotFound)?;
    Ok(exceptions_page(
        &ctx(&app, &s, &q.notice),
        &info,
        &details,
        page_no,
        total,
        q.full,
        kind,
    ))
}

/// The level selector's field: empty for "default", else 0–3.
#[derive(Deserialize)]
pub struct LevelForm {
    level: String,
}

/// `POST /endpoint/{id}/level`: store the level and apply it to the running application.
pub async fn set_level(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Form(f): Form<LevelForm>,
) -> Result<Response, AppError> {
    let level = match f.level.trim() {
        "" => None,
        l => match l.parse::<u8>() {
            Ok(l) if l <= 3 => Some(l),
            _ => return Ok((StatusCode::BAD_REQUEST, "Levels are 0 to 3.").into_response()),
        },
    };
    let name = app
        .with_store(move |st| st.set_endpoint_level(id, level))
        .await?
        .ok_or(AppError::NotFound)?;
    app.host.set_endpoint_level(&name, level);
    Ok(Redirect::to(&home(&app.base, "?notice=level")).into_response())
}

/// `POST /endpoint/{id}/exceptions/{group}/delete`: delete one group on one endpoint.
pub async fn delete_group(
    State(app): State<Arc<App>>,
    Path((id, group)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let deleted = app.with_store(move |st| st.delete_group(id, group)).await?;
    let key = if deleted { "deleted" } else { "missing" };
    Ok(Redirect::to(&format!(
        "{}/endpoint/{id}/exceptions?notice={key}",
        app.base
    ))
    .into_response())
}

/// `GET /config`.
pub async fn config(
    State(app): State<Arc<App>>,
    Extension(s): Extension<Session>,
    Query(n): Query<NoticeQuery>,
) -> Result<Markup, AppError> {
    let admin = s.role == Role::Admin;
    let (totals, users) = app
        .with_store(move |st| Ok((st.totals()?, if admin { Some(st.users()?) } else { None })))
        .await?;
    let size = |p: &std::path::Path| std::fs::metadata(p).ok().map(|m| m.len());
    // The file's size for SQLite (with its WAL); a server database's is not shown.
    let database_bytes = app.database.sqlite_path().and_then(|db| {
        let wal = std::path::PathBuf::from(format!("{}-wal", db.display()));
        size(db).map(|b| b + size(&wal).unwrap_or(0))
    });
    let view = ConfigView {
        host: app.host.status(),
        database: app.database.to_string(),
        database_bytes,
        totals,
        users,
    };
    Ok(config_page(&ctx(&app, &s, &n.notice), &view))
}

/// The new-account form.
#[derive(Deserialize)]
pub struct UserForm {
    username: String,
    password: String,
    role: String,
}

/// `POST /users`: create an account (admins only).
pub async fn create_user(
    State(app): State<Arc<App>>,
    Form(f): Form<UserForm>,
) -> Result<Response, AppError> {
    let back =
        |key: &str| Redirect::to(&format!("{}/config?notice={key}", app.base)).into_response();
    let username = f.username.trim().to_owned();
    if username.is_empty()
        || username.len() > super::login::MAX_USERNAME
        || f.password.chars().count() < MIN_PASSWORD
    {
        return Ok(back("user_invalid"));
    }
    let role = if f.role == "admin" { "admin" } else { "viewer" };
    let password = f.password;
    let hash = super::login::hash_password(password)
        .await
        .ok_or_else(|| AppError::Store("password hashing failed".into()))?;
    let now = now_ms();
    let created = app
        .with_store(move |st| st.create_user(&username, &hash, role, now))
        .await?;
    Ok(back(if created {
        "user_created"
    } else {
        "user_exists"
    }))
}

/// `GET /retention`.
pub async fn retention(
    State(app): State<Arc<App>>,
    Extension(s): Extension<Session>,
    Query(n): Query<NoticeQuery>,
) -> Result<Markup, AppError> {
    let totals = app.with_store(|st| st.totals()).await?;
    Ok(retention_page(
        &ctx(&app, &s, &n.notice),
        &totals,
        &app.retention,
    ))
}

/// The prune form.
#[derive(Deserialize)]
pub struct PruneForm {
    weeks: u32,
}

/// `POST /retention/prune`: delete data older than the given number of weeks.
pub async fn prune(
    State(app): State<Arc<App>>,
    Form(f): Form<PruneForm>,
) -> Result<Response, AppError> {
    let cutoff = now_ms() - i64::from(f.weeks.min(5200)) * 7 * DAY_MS;
    let report = app.with_store_unbounded(move |st| st.prune(cutoff)).await?;
    eprintln!(
        "fmd: pruned {} requests ({} outliers, {} profile nodes), {} exception occurrences, \
         {} groups, {} hourly rows, {} custom-graph values older than {} weeks",
        report.requests,
        report.outliers,
        report.profile_nodes,
        report.occurrences,
        report.groups,
        report.hourly_rows,
        report.graph_values,
        f.weeks
    );
    Ok(Redirect::to(&format!("{}/retention?notice=pruned", app.base)).into_response())
}

/// `GET /alerts`: channels, rules and deliveries of the application's alerts.
pub async fn alerts(
    State(app): State<Arc<App>>,
    Extension(s): Extension<Session>,
    Query(n): Query<NoticeQuery>,
) -> Markup {
    let view = app.host.alerts();
    alerts_page(&ctx(&app, &s, &n.notice), view.as_ref())
}

/// `POST /alerts/test`: a test alert through every channel.
pub async fn test_alert(State(app): State<Arc<App>>) -> Response {
    let sent = app.host.send_test_alert(&format!("{}/alerts", app.base));
    let notice = if sent { "alert_sent" } else { "no_alerts" };
    Redirect::to(&format!("{}/alerts?notice={notice}", app.base)).into_response()
}

/// `GET /assets/app.js`.
pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        SCRIPT,
    )
        .into_response()
}

/// Anything else.
pub async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "Not found").into_response()
}
