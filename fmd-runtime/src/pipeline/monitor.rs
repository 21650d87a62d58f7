//! The process-wide monitor: configuration, the bounded queue, levels and counters.
//!
//! It starts lazily with the defaults (and `fmd.toml` / `FMD_*`) the first time anything
//! needs it, or explicitly with [`init`]. Starting spawns the writer thread; it does no
//! database I/O on the caller's thread. (The panic hook is chained in by [`crate::start`],
//! which every entry point goes through.)

use super::queue::{self, Queue};
use super::state::{PipelineState, set_level};
use super::stats::Stats;
use crate::config::{Config, ConfigError};
use crate::model::event::RequestLink;
use crate::model::event::{ErrorRecord, Event, LateError, RequestEvent};
use crate::model::function::{FnInfo, registry};
use crate::store::WriteOptions;
use once_cell::sync::OnceCell;
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

static MONITOR: OnceCell<Monitor> = OnceCell::new();

/// Why [`init`](crate::init) did not start fmd.
#[derive(Debug)]
pub enum InitError {
    /// The configuration is malformed.
    Config(ConfigError),
    /// fmd was already running (started lazily or by an earlier `init`).
    AlreadyStarted,
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitError::Config(e) => e.fmt(f),
            InitError::AlreadyStarted => f.write_str("fmd was already started"),
        }
    }
}

impl std::error::Error for InitError {}

impl From<ConfigError> for InitError {
    fn from(e: ConfigError) -> Self {
        InitError::Config(e)
    }
}

/// The running monitor. Get it with [`monitor`](crate::monitor).
pub struct Monitor {
    config: Config,
    version: String,
    queue: Queue,
    shared: Arc<PipelineState>,
}

impl fmt::Debug for Monitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Monitor")
            .field("database", &self.config.database)
            .field("running", &self.queue.is_open())
            .finish()
    }
}

impl Monitor {
    fn start(config: Config) -> Monitor {
        let version = super::version::app_version(&config);
        let shared = Arc::new(PipelineState::default());
        if let Some(notifier) = super::alerts::Notifier::start(&config.alerts) {
            let _ = shared.alerts.set(notifier);
        }
        let (tx, rx) = queue::bounded(config.queue_capacity);
        let options = WriteOptions {
            version: version.clone(),
            instance: config.instance.clone(),
            store_source: config.store_source,
            normalize_messages: config.normalize_messages,
            git_commit: None, // asked of git on the writer thread
        };
        let queue = match super::writer::spawn(rx, shared.clone(), config.clone(), options) {
            Ok(_) => Queue::open(tx, config.queue_bytes),
            Err(e) => {
                eprintln!("fmd: cannot start the writer thread ({e}); monitoring is off");
                Queue::closed()
            }
        };
        Monitor {
            config,
            version,
            queue,
            shared,
        }
    }

    fn disabled(config: Config) -> Monitor {
        Monitor {
            version: super::version::app_version(&config),
            config,
            queue: Queue::closed(),
            shared: Arc::new(PipelineState::default()),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The alerts thread, when an alert channel is configured (`FMD_ALERT_*`).
    pub fn alerts(&self) -> Option<&super::alerts::Notifier> {
        self.shared.alerts.get()
    }

    /// The application version stamped on requests.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// fmd's own counters.
    pub fn stats(&self) -> Stats {
        Stats {
            events_queued: self.shared.queued.load(Ordering::Relaxed),
            events_stored: self.shared.stored.load(Ordering::Relaxed),
            events_dropped: self.shared.dropped.load(Ordering::Relaxed),
            dropped_requests_counted: self.shared.overflow.counted(),
            dropped_requests_uncounted: self.shared.overflow.lost(),
            last_storage_error: self.shared.last_error.lock().clone(),
            storage_failing: self.shared.failing.load(Ordering::Relaxed),
            registered_functions: registry::functions().count(),
            callback_panics: crate::fence::callback_panics(),
            caught_panics: crate::fence::caught_panics(),
        }
    }

    /// This process's metrics in the OpenMetrics text format (what `/metrics` serves).
    ///
    /// Counted on the writer thread, off the request path; see [`Metrics`](super::Metrics).
    pub fn metrics_text(&self) -> String {
        self.shared.metrics.encode(&self.stats())
    }

    /// Sets (or with `None` clears) an endpoint's level in the running process; takes
    /// effect for the next request. The dashboard also stores it so that it survives a
    /// restart.
    pub fn set_endpoint_level(&self, endpoint: &str, level: Option<u8>) {
        set_level(&self.shared, endpoint, level);
    }

    /// The level in force for an endpoint: set at run time, else the attribute's, else
    /// the configured default.
    pub fn level_for(&self, endpoint: &str, handler: Option<&FnInfo>) -> u8 {
        if let Some(level) = handler.and_then(FnInfo::level_override) {
            return level;
        }
        // A method's stored level is found by name: its name has its type only once it
        // ran, after the stored levels were handed to the registry.
        if handler.is_none_or(|h| h.method)
            && self.shared.has_levels.load(Ordering::Relaxed)
            && let Some(&level) = self.shared.levels.read().get(endpoint)
        {
            return level;
        }
        handler
            .and_then(FnInfo::declared_level)
            .unwrap_or(self.config.level)
    }

    /// The typical duration of `endpoint` (the median of its recent requests, µs), once
    /// it has enough history to judge outliers.
    pub fn typical_us(&self, endpoint: &str) -> Option<u64> {
        self.shared.typicals.get(endpoint)
    }

    pub(crate) fn send_event(&self, event: Event) {
        self.queue.push(event, &self.shared);
    }

    /// Queues a finished request. Never blocks: a full queue drops and counts it.
    pub fn send_request(&self, event: RequestEvent) {
        if crate::request::ignoring() {
            return; // made while a route left out was polled
        }
        let link = event.link.clone();
        self.send_event(Event::Request(Box::new(event)));
        if let Some(link) = link {
            // What its tasks recorded since it ended follows it.
            let (endpoint, records) = link.queued();
            self.send_late(&link, endpoint, records);
        }
    }

    /// Queues what a task carrying a request's context recorded after that request was
    /// queued: on the request's endpoint, linked to its row.
    pub(crate) fn send_late(
        &self,
        link: &Arc<RequestLink>,
        endpoint: Cow<'static, str>,
        records: Vec<ErrorRecord>,
    ) {
        for record in records {
            self.send_event(Event::Late(Box::new(LateError {
                endpoint: endpoint.clone(),
                link: link.clone(),
                record,
            })));
        }
    }

    /// Queues an error that happened outside any request.
    pub fn send_error(&self, record: ErrorRecord) {
        if crate::request::ignoring() {
            return;
        }
        self.send_event(Event::Error(Box::new(record)));
    }

    /// Waits until everything queued so far is stored, at most `timeout`. Returns whether
    /// it was. Meant for shutdown and tests, not the request path.
    pub fn flush(&self, timeout: Duration) -> bool {
        self.queue.flush(timeout)
    }
}

/// The monitor, started with the defaults and `fmd.toml` / `FMD_*` if not started yet
/// (without the panic hook: entry points call [`crate::start`]).
pub(crate) fn monitor() -> &'static Monitor {
    MONITOR.get_or_init(|| match Config::from_env() {
        Ok(config) => Monitor::start(config),
        Err(e) => {
            eprintln!("fmd: {e}; monitoring is off");
            Monitor::disabled(Config::default())
        }
    })
}

/// The monitor if it has started, without starting it.
pub(crate) fn running() -> Option<&'static Monitor> {
    MONITOR.get()
}

/// Starts the monitor on first use; cheap afterwards.
#[inline]
pub(crate) fn ensure_started() {
    if MONITOR.get().is_none() {
        monitor();
    }
}

/// Starts the monitor with `config`. Fails if the configuration is malformed or fmd
/// already runs.
pub(crate) fn init(config: Config) -> Result<&'static Monitor, InitError> {
    config.validate()?;
    let mut started = false;
    let monitor = MONITOR.get_or_init(|| {
        started = true;
        Monitor::start(config)
    });
    if started {
        Ok(monitor)
    } else {
        Err(InitError::AlreadyStarted)
    }
}

/// Starts the monitor from `fmd.toml` and `FMD_*` variables, or returns the running one.
pub(crate) fn init_from_env() -> Result<&'static Monitor, ConfigError> {
    if let Some(m) = MONITOR.get() {
        return Ok(m);
    }
    let config = Config::from_env()?;
    Ok(MONITOR.get_or_init(|| Monitor::start(config)))
}

/// Stores everything queued so far (waiting at most 5 seconds). Call it before the
/// process exits, e.g. after `axum::serve(..).with_graceful_shutdown(..)` returns.
pub fn shutdown() -> bool {
    match MONITOR.get() {
        Some(m) => m.flush(Duration::from_secs(5)),
        None => true,
    }
}
