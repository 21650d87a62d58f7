//! The axum side: one route table, the auth guard every route passes, and the handlers.
//!
//! [`Dashboard::router`] builds the router *from* [`route_table`], wrapping each route in
//! the guard for its [`Access`]; the enumerated auth test walks the same table, so a route
//! cannot be added without an access rule.

mod account;
mod bearer;
mod cookies;
mod download;
mod guard;
mod handlers;
mod issues;
mod login;
mod metrics;
mod perf;
mod zone;

use fmd_runtime::Database;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get, post};
use tower_http::catch_panic::CatchPanicLayer;

use crate::app::App;
use crate::auth::session::{Sessions, Timeouts};
pub use crate::auth::tokens::Token;
pub use guard::Access;
use guard::Guard;
pub use zone::ZONE_COOKIE;
use zone::ZoneChoice;

use crate::host::{Host, MonitorHost, StaticHost};

/// One route of the dashboard, relative to its mount point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteInfo {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// Path with `{param}` placeholders, e.g. `/endpoint/{id}/exceptions`.
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
}

type Handler = MethodRouter<Arc<App>>;

fn table() -> Vec<(RouteInfo, Handler)> {
    use Access::*;
    let r = |method, path, access, h: Handler| {
        (
            RouteInfo {
                method,
                path,
                access,
            },
            h,
        )
    };
    vec![
        r("GET", "/login", Public, get(login::form)),
        r(
            "POST",
            "/login",
            Public,
            post(login::submit).layer(DefaultBodyLimit::max(login::MAX_LOGIN_FORM)),
        ),
        r("POST", "/logout", Viewer, post(login::logout)),
        r("GET", "/account", Viewer, get(account::account)),
        r(
            "POST",
            "/account/password",
            Viewer,
            post(account::change_password),
        ),
        r("GET", "/", Viewer, get(handlers::overview)),
        r(
            "GET",
            "/api/overview.json",
            Viewer,
            get(handlers::overview_json),
        ),
        r("GET", "/exceptions", Viewer, get(handlers::all_exceptions)),
        r(
            "GET",
            "/api/exceptions.json",
            Viewer,
            get(handlers::exceptions_json),
        ),
        r(
            "GET",
            "/endpoint/{id}/exceptions",
            Viewer,
            get(handlers::endpoint_exceptions),
        ),
        r(
            "POST",
            "/endpoint/{id}/level",
            Admin,
            post(handlers::set_level),
        ),
        r(
            "POST",
            "/endpoint/{id}/exceptions/{group}/delete",
            Admin,
            post(handlers::delete_group),
        ),
        r("GET", "/issues/{id}", Viewer, get(issues::issue)),
        r("POST", "/issues/bulk", Admin, post(issues::bulk)),
        r("POST", "/issues/{id}/resolve", Admin, post(issues::resolve)),
        r(
            "POST",
            "/issues/{id}/resolve-next",
            Admin,
            post(issues::resolve_next),
        ),
        r("POST", "/issues/{id}/ignore", Admin, post(issues::ignore)),
        r("POST", "/issues/{id}/reopen", Admin, post(issues::reopen)),
        r("GET", "/utilization", Viewer, get(perf::utilization)),
        r("GET", "/endpoint/{id}", Viewer, get(perf::endpoint_perf)),
        r("GET", "/endpoint/{id}/requests", Viewer, get(perf::failed)),
        r(
            "GET",
            "/exceptions/issues.csv",
            Viewer,
            get(download::issues_csv),
        ),
        r(
            "GET",
            "/endpoint/{id}/requests.csv",
            Viewer,
            get(download::failed_csv),
        ),
        r(
            "GET",
            "/endpoint/{id}/log.csv",
            Viewer,
            get(download::log_csv),
        ),
        r("GET", "/request/{id}", Viewer, get(perf::request)),
        r(
            "GET",
            "/endpoint/{id}/outliers",
            Viewer,
            get(perf::outliers),
        ),
        r(
            "GET",
            "/endpoint/{id}/profiler",
            Viewer,
            get(perf::profiler),
        ),
        r(
            "GET",
            "/endpoint/{id}/grouped-profiler",
            Viewer,
            get(perf::grouped_profiler),
        ),
        r("GET", "/custom-graphs", Viewer, get(perf::custom_graphs)),
        r("GET", "/reporting", Viewer, get(perf::reporting)),
        r("GET", "/config", Viewer, get(handlers::config)),
        r("POST", "/users", Admin, post(handlers::create_user)),
        r(
            "POST",
            "/users/password",
            Admin,
            post(account::reset_password),
        ),
        r("POST", "/users/delete", Admin, post(account::delete_user)),
        r("GET", "/retention", Viewer, get(handlers::retention)),
        r("POST", "/retention/prune", Admin, post(handlers::prune)),
        r("GET", "/alerts", Viewer, get(handlers::alerts)),
        r("POST", "/alerts/test", Admin, post(handlers::test_alert)),
        r("GET", "/assets/app.js", Viewer, get(handlers::script)),
    ]
}

/// Routes for machines, each behind a bearer token: Prometheus and the JSON API.
fn machine_table() -> Vec<(RouteInfo, Handler)> {
    use crate::api::handlers as api;
    let route = |path, access, h: Handler| {
        let method = "GET";
        (
            RouteInfo {
                method,
                path,
                access,
            },
            h,
        )
    };
    let metrics = Access::SessionOrBearer(Token::Metrics);
    let api_token = Access::Bearer(Token::Api);
    vec![
        route("/metrics", metrics, get(metrics::metrics)),
        route("/api/v1/endpoints", api_token, get(api::endpoints)),
        route("/api/v1/requests", api_token, get(api::requests)),
        route("/api/v1/exceptions", api_token, get(api::exceptions)),
        route("/api/v1/exceptions/{id}", api_token, get(api::exception)),
        route("/api/v1/issues", api_token, get(crate::api::issues::issues)),
        route(
            "/api/v1/issues/{id}",
            api_token,
            get(crate::api::issues::issue),
        ),
        route(
            "/api/v1/openapi.json",
            api_token,
            get(crate::api::doc::openapi),
        ),
    ]
}

/// The pages' routes and the machines' routes.
fn all_routes() -> Vec<(RouteInfo, Handler)> {
    let mut routes = table();
    routes.extend(machine_table());
    routes
}

/// Every route the dashboard serves, with its access rule (what the router is built from).
pub fn route_table() -> Vec<RouteInfo> {
    all_routes().into_iter().map(|(info, _)| info).collect()
}

/// A configured dashboard, ready to become an axum [`Router`].
///
/// ```no_run
/// let app: axum::Router = axum::Router::new()
///     .nest("/dashboard", fmd_dashboard::Dashboard::new("fmd.db").router());
/// ```
pub struct Dashboard {
    database: Database,
    base: String,
    username: Option<String>,
    password: Option<String>,
    retention: crate::retention::Retention,
    host: Arc<dyn Host>,
    tokens: crate::auth::tokens::Tokens,
    timeouts: Timeouts,
    zone: ZoneChoice,
}

impl Dashboard {
    /// A dashboard over `database` (a SQLite path or a [`Database`]), mounted at
    /// `/dashboard`, with no running application behind it (level changes are stored and
    /// apply at the application's next start).
    pub fn new(database: impl Into<Database>) -> Self {
        Dashboard {
            database: database.into(),
            base: "/dashboard".into(),
            username: None,
            password: None,
            retention: Default::default(),
            host: Arc::new(StaticHost::default()),
            tokens: Default::default(),
            timeouts: Timeouts::default(),
            zone: ZoneChoice::default(),
        }
    }

    /// The dashboard of this process's fmd monitor, configured from its `Config`.
    pub fn from_monitor() -> Self {
        let c = fmd_runtime::monitor().config();
        Dashboard {
            database: c.database.clone(),
            base: String::new(),
            username: c.username.clone(),
            password: c.password.clone(),
            retention: crate::retention::Retention {
                weeks: c.retention_weeks,
                raw_days: c.raw_retention_days,
            },
            host: Arc::new(MonitorHost),
            tokens: crate::auth::tokens::Tokens {
                metrics: c.metrics_token.clone(),
                api: c.api_token.clone(),
            },
            timeouts: Timeouts::default(),
            zone: ZoneChoice {
                forced: c.timezone.as_deref().and_then(crate::format::parse_zone),
            },
        }
        .session_timeouts(c.sessions.idle, c.sessions.lifetime)
        .mount_path(&c.dashboard_path)
    }

    /// Where the router will be nested (used for links and the cookie path).
    pub fn mount_path(mut self, path: &str) -> Self {
        self.base = path.trim_end_matches('/').to_owned();
        self
    }

    /// The first admin's credentials (used only while there is no account).
    pub fn admin(mut self, username: &str, password: &str) -> Self {
        self.username = Some(username.to_owned());
        self.password = Some(password.to_owned());
        self
    }

    /// Prune data older than this many weeks every hour.
    pub fn retention_weeks(mut self, weeks: Option<u32>) -> Self {
        self.retention.weeks = weeks;
        self
    }

    /// Prune raw request rows older than this many days every hour, keeping the rollups
    /// and exceptions (off unless set; [`Dashboard::from_monitor`] takes
    /// `FMD_RAW_RETENTION_DAYS`, 30 by default).
    pub fn raw_retention_days(mut self, days: Option<u32>) -> Self {
        self.retention.raw_days = days;
        self
    }

    /// The bearer token Prometheus sends to scrape `/metrics` (a session works too).
    pub fn metrics_token(mut self, token: Option<&str>) -> Self {
        self.tokens.metrics = token.map(str::to_owned);
        self
    }

    /// The bearer token of the JSON API; `None` (the default) switches the API off.
    pub fn api_token(mut self, token: Option<&str>) -> Self {
        self.tokens.api = token.map(str::to_owned);
        self
    }

    /// How long sessions last: `idle` without a request, `lifetime` after the login at
    /// most (defaults 2 h and 12 h; [`Dashboard::from_monitor`] takes them from
    /// `FMD_SESSION_IDLE_MINUTES` and `FMD_SESSION_LIFETIME_HOURS`).
    pub fn session_timeouts(mut self, idle: Duration, lifetime: Duration) -> Self {
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        self.timeouts = Timeouts {
            idle_ms: ms(idle),
            lifetime_ms: ms(lifetime),
        };
        self
    }

    /// Shows every time in `zone` (an IANA name such as `Europe/Copenhagen`, or `UTC`) to
    /// every viewer, instead of each browser's own zone; an unknown name is an error.
    pub fn timezone(mut self, zone: &str) -> Result<Self, String> {
        let tz = crate::format::parse_zone(zone).ok_or_else(|| unknown_zone(zone))?;
        self.zone.forced = Some(tz);
        Ok(self)
    }

    /// The application whose levels and counters the dashboard shows.
    pub fn host(mut self, host: Arc<dyn Host>) -> Self {
        self.host = host;
        self
    }

    /// Builds the router: every route guarded, security headers on every response, the
    /// first admin created and, if configured, the hourly retention thread started.
    pub fn router(self) -> Router {
        let mut app = App::new(
            self.database,
            self.base,
            self.username,
            self.password,
            self.retention,
            self.host,
        );
        app.tokens = self.tokens;
        app.sessions = Sessions::new(self.timeouts);
        let app = Arc::new(app);
        app.warm_up();
        if app.retention.scheduled() {
            crate::retention::start_retention(app.database.clone(), app.retention);
        }
        let mut router = Router::new();
        for (info, handler) in all_routes() {
            let guard = Guard {
                app: app.clone(),
                access: info.access,
            };
            router = router.route(
                info.path,
                handler.layer(from_fn_with_state(guard, guard::guard)),
            );
        }
        router
            .fallback(handlers::not_found)
            // A bug in a page answers 500 instead of dropping the connection.
            .layer(CatchPanicLayer::custom(page_panicked))
            .layer(from_fn(guard::security_headers))
            .layer(from_fn_with_state(self.zone, zone::in_zone))
            .with_state(app)
    }
}

/// What an unknown `FMD_TIMEZONE` / [`Dashboard::timezone`] is told.
pub fn unknown_zone(zone: &str) -> String {
    format!(
        "unknown time zone {zone:?}: give an IANA name such as Europe/Copenhagen or \
         America/New_York, or UTC"
    )
}

/// The answer to a page whose handler panicked.
fn page_panicked(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    eprintln!("fmd dashboard: a page panicked (a bug in fmd); answered 500");
    (
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "Internal error in the fmd dashboard; see the application's log.",
    )
        .into_response()
}

/// Test-only injection point, inert unless set: the "all exceptions" page panics when
/// asked to sort by this text.
static PAGE_PANIC_MARKER: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Makes the "all exceptions" page panic on `?sort=<marker>` (tests of the dashboard's
/// panic fence; once per process).
#[doc(hidden)]
pub fn panic_in_pages_on(marker: &str) {
    let _ = PAGE_PANIC_MARKER.set(marker.to_owned());
}

/// Panics if `asked` is the test marker (see [`panic_in_pages_on`]).
pub(crate) fn injected_panic(asked: &str) {
    if PAGE_PANIC_MARKER.get().is_some_and(|m| m == asked) {
        panic!("fmd test: injected panic in a dashboard page");
    }
}

/// The dashboard of this process's monitor, to nest at `Config::dashboard_path`.
pub fn router() -> Router {
    Dashboard::from_monitor().router()
}
