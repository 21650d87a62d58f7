//! Configuration: defaults that need nothing, an optional `fmd.toml`, and `FMD_*` variables.
//!
//! Precedence, lowest first: built-in defaults, `fmd.toml` in the working directory (or the
//! file named by `FMD_CONFIG`), environment variables. A malformed value is an error that
//! names the option and what it accepts.

mod alerts;
mod database;
mod ignore;
mod retention;
mod sessions;

pub use alerts::AlertSettings;
pub use database::Database;
pub use retention::{DEFAULT_RAW_RETENTION_DAYS, effective_raw_days};
pub use sessions::SessionTimeouts;

use serde::Deserialize;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Everything fmd can be told. Every field has a working default.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the data goes (`FMD_DATABASE`): a SQLite file (default `./fmd.db`) or a
    /// `postgres://` URL (with the cargo feature `postgres`).
    pub database: Database,
    /// Default monitoring level 0–3 for endpoints that do not set one (`FMD_LEVEL`, 1).
    pub level: u8,
    /// Where the dashboard is mounted (`FMD_DASHBOARD_PATH`, `/dashboard`).
    pub dashboard_path: String,
    /// The first admin's user name (`FMD_USERNAME`, default `admin`).
    pub username: Option<String>,
    /// The first admin's password (`FMD_PASSWORD`, at least [`MIN_PASSWORD_LEN`]
    /// characters); generated and printed once if unset.
    pub password: Option<String>,
    /// The application's version (`APP_VERSION`); empty: the handlers' crate version.
    pub version: String,
    /// The git commit of this build (`FMD_GIT_COMMIT`); `None`: asked of `git` at start-up,
    /// else the commit the handlers were built from, when known.
    pub git_commit: Option<String>,
    /// Delete data older than this many weeks, checked hourly (`FMD_RETENTION_WEEKS`).
    pub retention_weeks: Option<u32>,
    /// Delete raw request rows older than this many days, hourly, keeping the rollups and
    /// exceptions (`FMD_RAW_RETENTION_DAYS`, 30; `off`: `None`, forever).
    pub raw_retention_days: Option<u32>,
    /// Store the source text of annotated functions (`FMD_STORE_SOURCE`, true).
    pub store_source: bool,
    /// Group errors by normalized message (numbers and ids replaced) (`FMD_NORMALIZE_MESSAGES`).
    pub normalize_messages: bool,
    /// Events held in memory before new ones are dropped (`FMD_QUEUE_CAPACITY`, 65 536).
    pub queue_capacity: usize,
    /// Bytes the events waiting for the writer may hold, its batch in hand included, before
    /// new ones are dropped (`FMD_QUEUE_BYTES`, 16 MiB): a stalled store costs the host at
    /// most this much memory, however large the messages.
    pub queue_bytes: usize,
    /// Most events per database transaction (`FMD_BATCH_SIZE`, 2 048).
    pub batch_size: usize,
    /// Slow-request factor for outliers at level 2 (`FMD_OUTLIER_FACTOR`, 2.5).
    pub outlier_factor: f64,
    /// This process's name among several instances (`FMD_INSTANCE`, host name and pid).
    pub instance: String,
    /// Bearer token that Prometheus sends to scrape `/metrics` (`FMD_METRICS_TOKEN`);
    /// unset: `/metrics` needs a dashboard session.
    pub metrics_token: Option<String>,
    /// Bearer token of the read-only JSON API (`FMD_API_TOKEN`); unset: the API is off.
    pub api_token: Option<String>,
    /// Regular expressions whose matches in error messages, `source()` chains, panic
    /// payloads and kept headers are replaced before storage, besides the built-in secret
    /// shapes (`FMD_SCRUB_PATTERNS`, one per line; `scrub_patterns` in `fmd.toml`).
    pub scrub_patterns: Vec<String>,
    /// Proxies whose `Forwarded` / `X-Forwarded-For` headers name the client
    /// (`FMD_TRUSTED_PROXIES`: addresses or CIDR ranges, comma-separated; none by default, so
    /// the connection's peer is the client).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Store a handler's `Err` that became a 4xx answer, as a client error
    /// (`FMD_CLIENT_ERRORS`, `on`; `off` stores none of them, the request keeps its status).
    pub client_errors: bool,
    /// The time zone every viewer of the dashboard sees (`FMD_TIMEZONE`, an IANA name such as
    /// `Europe/Copenhagen`, or `UTC`); unset: each viewer's browser zone. The dashboard
    /// checks the name at start-up.
    pub timezone: Option<String>,
    /// How long dashboard sessions last (`FMD_SESSION_IDLE_MINUTES`, 120;
    /// `FMD_SESSION_LIFETIME_HOURS`, 12).
    pub sessions: SessionTimeouts,
    /// Where alerts go and when a busy issue alerts (`FMD_ALERT_*`); no channel, no alerts.
    pub alerts: AlertSettings,
    /// Route templates whose requests are not recorded at all (`FMD_IGNORE_ROUTES`,
    /// comma-separated: `/health,/metrics`; a last segment `/*` covers a prefix:
    /// `/internal/*`); none by default. See [`Config::ignores_route`].
    pub ignore_routes: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database: Database::default(),
            level: 1,
            dashboard_path: "/dashboard".to_owned(),
            username: None,
            password: None,
            version: String::new(),
            git_commit: None,
            retention_weeks: None,
            raw_retention_days: Some(DEFAULT_RAW_RETENTION_DAYS),
            store_source: true,
            normalize_messages: false,
            queue_capacity: 65_536,
            queue_bytes: 16 << 20,
            batch_size: 2_048,
            outlier_factor: 2.5,
            instance: default_instance(),
            metrics_token: None,
            scrub_patterns: Vec::new(),
            trusted_proxies: Vec::new(),
            client_errors: true,
            api_token: None,
            timezone: None,
            sessions: SessionTimeouts::default(),
            alerts: AlertSettings::default(),
            ignore_routes: Vec::new(),
        }
    }
}

fn default_instance() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    format!("{host}:{}", std::process::id())
}

/// A configuration value fmd cannot use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Where the value came from: `FMD_LEVEL`, `fmd.toml: level`.
    pub source: String,
    /// What is wrong and what is accepted.
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fmd configuration: {}: {}", self.source, self.problem)
    }
}

impl std::error::Error for ConfigError {}

/// The keys `fmd.toml` accepts; unknown keys are an error.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database: Option<String>,
    level: Option<u8>,
    dashboard_path: Option<String>,
    username: Option<String>,
    password: Option<String>,
    version: Option<String>,
    git_commit: Option<String>,
    retention_weeks: Option<u32>,
    raw_retention_days: Option<retention::RawDays>,
    store_source: Option<bool>,
    normalize_messages: Option<bool>,
    queue_capacity: Option<usize>,
    queue_bytes: Option<usize>,
    batch_size: Option<usize>,
    outlier_factor: Option<f64>,
    instance: Option<String>,
    metrics_token: Option<String>,
    api_token: Option<String>,
    scrub_patterns: Option<Vec<String>>,
    trusted_proxies: Option<Vec<String>>,
    client_errors: Option<bool>,
    timezone: Option<String>,
    session_idle_minutes: Option<f64>,
    session_lifetime_hours: Option<f64>,
    alert_webhook: Option<String>,
    alert_smtp: Option<String>,
    alert_smtp_ca: Option<String>,
    alert_email_to: Option<Vec<String>>,
    alert_email_from: Option<String>,
    alert_rate: Option<String>,
    ignore_routes: Option<Vec<String>>,
}

/// Smallest byte budget of the queue: one event with a message of the largest size fits.
pub const MIN_QUEUE_BYTES: usize = 64 * 1024;

/// Shortest bearer token accepted: guessing must be hopeless, as there is no throttle.
pub const MIN_TOKEN_LEN: usize = 16;

/// Shortest first-admin password accepted (`FMD_PASSWORD` / `password`), in characters.
pub const MIN_PASSWORD_LEN: usize = 12;

/// Why a bearer token is unusable, if it is.
fn token_problem(token: &str) -> Option<&'static str> {
    if token.len() < MIN_TOKEN_LEN {
        Some("a bearer token needs at least 16 characters (e.g. `openssl rand -hex 32`)")
    } else if !token.bytes().all(|b| b.is_ascii_graphic()) {
        Some("a bearer token may only contain visible ASCII characters, no spaces")
    } else {
        None
    }
}

fn parse<T: std::str::FromStr>(name: &str, value: &str, what: &str) -> Result<T, ConfigError> {
    value.trim().parse().map_err(|_| ConfigError {
        source: format!("{name}={value:?}"),
        problem: format!("expected {what}"),
    })
}

fn parse_bool(name: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError {
            source: format!("{name}={value:?}"),
            problem: "expected true or false".to_owned(),
        }),
    }
}

impl Config {
    /// Defaults, then `fmd.toml` (or `FMD_CONFIG`), then `FMD_*` / `APP_VERSION` variables.
    ///
    /// ```
    /// let config = fmd_runtime::Config::from_env().expect("valid configuration");
    /// assert!((0..=3).contains(&config.level));
    /// ```
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`Config::from_env`], reading variables through `var` (for tests).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        let (path, required) = match var("FMD_CONFIG") {
            Some(p) => (PathBuf::from(p), true),
            None => (PathBuf::from("fmd.toml"), false),
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => config.apply_file(&path, &text)?,
            Err(e) if required || e.kind() != std::io::ErrorKind::NotFound => {
                return Err(ConfigError {
                    source: path.display().to_string(),
                    problem: format!("cannot read: {e}"),
                });
            }
            Err(_) => {}
        }
        config.apply_env(&var)?;
        config.validate()?;
        Ok(config)
    }

    fn apply_file(&mut self, path: &std::path::Path, text: &str) -> Result<(), ConfigError> {
        let file: FileConfig = toml::from_str(text).map_err(|e| ConfigError {
            source: path.display().to_string(),
            problem: e.to_string(),
        })?;
        macro_rules! take {
            ($($field:ident),*) => { $( if let Some(v) = file.$field { self.$field = v.into(); } )* };
        }
        if let Some(v) = file.database {
            self.database = Database::parse(&v);
        }
        take!(
            level,
            dashboard_path,
            version,
            store_source,
            normalize_messages
        );
        take!(
            queue_capacity,
            queue_bytes,
            batch_size,
            outlier_factor,
            instance
        );
        self.username = file.username.or(self.username.take());
        self.password = file.password.or(self.password.take());
        self.retention_weeks = file.retention_weeks.or(self.retention_weeks);
        if let Some(days) = &file.raw_retention_days {
            self.raw_retention_days = days.days()?;
        }
        self.git_commit = file.git_commit.or(self.git_commit.take());
        self.metrics_token = file.metrics_token.or(self.metrics_token.take());
        if let Some(patterns) = file.scrub_patterns {
            self.scrub_patterns = patterns;
        }
        if let Some(routes) = file.ignore_routes {
            self.ignore_routes = routes;
        }
        if let Some(on) = file.client_errors {
            self.client_errors = on;
        }
        self.timezone = file.timezone.or(self.timezone.take());
        if let Some(proxies) = file.trusted_proxies {
            self.trusted_proxies =
                crate::request::parse_trusted(&proxies.join(",")).map_err(|problem| {
                    ConfigError {
                        source: "fmd.toml: trusted_proxies".to_owned(),
                        problem,
                    }
                })?;
        }
        self.api_token = file.api_token.or(self.api_token.take());
        self.sessions
            .apply_file(file.session_idle_minutes, file.session_lifetime_hours)?;
        self.alerts.apply_file(
            file.alert_webhook,
            file.alert_smtp,
            file.alert_smtp_ca,
            file.alert_email_to,
            file.alert_email_from,
            file.alert_rate,
        )?;
        Ok(())
    }

    fn apply_env(&mut self, var: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(v) = var("FMD_DATABASE") {
            self.database = Database::parse(&v);
        }
        if let Some(v) = var("FMD_LEVEL") {
            self.level = parse("FMD_LEVEL", &v, "a level: 0, 1, 2 or 3")?;
            if self.level > 3 {
                return Err(ConfigError {
                    source: format!("FMD_LEVEL={v:?}"),
                    problem: "the level must be 0, 1, 2 or 3".to_owned(),
                });
            }
        }
        if let Some(v) = var("FMD_DASHBOARD_PATH") {
            self.dashboard_path = v;
        }
        self.username = var("FMD_USERNAME").or(self.username.take());
        self.password = var("FMD_PASSWORD").or(self.password.take());
        if let Some(v) = var("APP_VERSION") {
            self.version = v;
        }
        self.git_commit = var("FMD_GIT_COMMIT").or(self.git_commit.take());
        if let Some(v) = var("FMD_RETENTION_WEEKS") {
            self.retention_weeks = Some(parse("FMD_RETENTION_WEEKS", &v, "a number of weeks")?);
        }
        if let Some(v) = var("FMD_RAW_RETENTION_DAYS") {
            let source = format!("FMD_RAW_RETENTION_DAYS={v:?}");
            self.raw_retention_days = retention::parse_raw_days(source, &v)?;
        }
        if let Some(v) = var("FMD_STORE_SOURCE") {
            self.store_source = parse_bool("FMD_STORE_SOURCE", &v)?;
        }
        if let Some(v) = var("FMD_NORMALIZE_MESSAGES") {
            self.normalize_messages = parse_bool("FMD_NORMALIZE_MESSAGES", &v)?;
        }
        if let Some(v) = var("FMD_QUEUE_CAPACITY") {
            self.queue_capacity = parse("FMD_QUEUE_CAPACITY", &v, "a number of events")?;
        }
        if let Some(v) = var("FMD_CLIENT_ERRORS") {
            self.client_errors = parse_bool("FMD_CLIENT_ERRORS", &v)?;
        }
        if let Some(v) = var("FMD_TIMEZONE") {
            self.timezone = (!v.trim().is_empty()).then(|| v.trim().to_owned());
        }
        if let Some(v) = var("FMD_TRUSTED_PROXIES") {
            self.trusted_proxies =
                crate::request::parse_trusted(&v).map_err(|problem| ConfigError {
                    source: format!("FMD_TRUSTED_PROXIES={v:?}"),
                    problem,
                })?;
        }
        if let Some(v) = var("FMD_SCRUB_PATTERNS") {
            self.scrub_patterns = v
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(v) = var("FMD_IGNORE_ROUTES") {
            self.ignore_routes = ignore::parse_list(&v);
        }
        if let Some(v) = var("FMD_QUEUE_BYTES") {
            self.queue_bytes = parse("FMD_QUEUE_BYTES", &v, "a number of bytes")?;
        }
        if let Some(v) = var("FMD_BATCH_SIZE") {
            self.batch_size = parse("FMD_BATCH_SIZE", &v, "a number of events")?;
        }
        if let Some(v) = var("FMD_OUTLIER_FACTOR") {
            self.outlier_factor = parse("FMD_OUTLIER_FACTOR", &v, "a number such as 2.5")?;
        }
        if let Some(v) = var("FMD_INSTANCE") {
            self.instance = v;
        }
        // Set but empty means "off", as unset does (`FMD_API_TOKEN=` in a unit file).
        let token = |name: &str| var(name).map(|v| v.trim().to_owned());
        if let Some(v) = token("FMD_METRICS_TOKEN") {
            self.metrics_token = (!v.is_empty()).then_some(v);
        }
        if let Some(v) = token("FMD_API_TOKEN") {
            self.api_token = (!v.is_empty()).then_some(v);
        }
        self.sessions.apply_env(var)?;
        self.alerts.apply_env(var)?;
        Ok(())
    }

    /// Checks ranges that the types alone do not.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |source: &str, problem: &str| {
            Err(ConfigError {
                source: source.to_owned(),
                problem: problem.to_owned(),
            })
        };
        #[cfg(not(feature = "alerts"))]
        if self.alerts.any_channel() {
            return bad(
                "FMD_ALERT_WEBHOOK / FMD_ALERT_SMTP",
                "this build of fmd has no alerts: enable the `alerts` feature of fmd",
            );
        }
        if self.level > 3 {
            return bad("level", "the level must be 0, 1, 2 or 3");
        }
        if !self.dashboard_path.starts_with('/') || self.dashboard_path.len() < 2 {
            return bad("dashboard_path", "must start with '/' and not be the root");
        }
        if self.queue_capacity == 0 || self.batch_size == 0 {
            return bad("queue_capacity/batch_size", "must be at least 1");
        }
        ignore::validate(&self.ignore_routes)?;
        if let Err(e) = crate::secrets::ExtraPatterns::compile(&self.scrub_patterns) {
            return bad("scrub_patterns", &format!("not a regular expression: {e}"));
        }
        if self.queue_bytes < MIN_QUEUE_BYTES {
            return bad("queue_bytes", "must be at least 65536 (64 KiB)");
        }
        if !(self.outlier_factor.is_finite() && self.outlier_factor > 1.0) {
            return bad("outlier_factor", "must be a number greater than 1");
        }
        match &self.database {
            Database::Sqlite(path) if path.as_os_str().is_empty() => {
                return bad("database", "must be a file path or a postgres:// URL");
            }
            Database::Postgres(_) if !cfg!(feature = "postgres") => {
                return bad(
                    "database",
                    "a postgres:// URL needs fmd built with the cargo feature `postgres` \
                     (fmd = { features = [\"postgres\"] })",
                );
            }
            _ => {}
        }
        if let Some(p) = &self.password
            && p.chars().count() < MIN_PASSWORD_LEN
        {
            return bad(
                "password (FMD_PASSWORD)",
                "the first admin's password needs at least 12 characters; \
                 unset it to have one generated and printed once",
            );
        }
        for (name, token) in [
            ("metrics_token", &self.metrics_token),
            ("api_token", &self.api_token),
        ] {
            if let Some(problem) = token.as_deref().and_then(token_problem) {
                return bad(name, problem);
            }
        }
        Ok(())
    }

    /// How long the writer waits between retries after a storage error.
    pub(crate) fn retry_interval(&self) -> Duration {
        Duration::from_millis(500)
    }
}

#[cfg(test)]
mod tests;
