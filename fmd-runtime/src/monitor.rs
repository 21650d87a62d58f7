//! The process-wide monitor: configuration, the bounded queue, levels and counters.
//!
//! It starts lazily with the defaults (and `fmd.toml` / `FMD_*`) the first time anything
//! needs it, or explicitly with [`init`]. Starting spawns the writer thread and chains fmd's
//! panic hook in front of the existing one; it does no database I/O on the caller's thread.

use crate::config::{Config, ConfigError, Database};
use crate::event::{ErrorRecord, Event, RequestEvent};
use crate::function::{FnInfo, FnKind, registry};
use crate::metrics::Metrics;
use crate::store::{StoreError, WriteOptions};
use foldhash::HashMap;
use once_cell::sync::OnceCell;
use parking_lot::{Mutex, RwLock};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::time::{Duration, Instant};

static MONITOR: OnceCell<Monitor> = OnceCell::new();

/// Counters and state shared by the request path, the writer and the dashboard.
#[derive(Default)]
pub(crate) struct Shared {
    queued: AtomicU64,
    stored: AtomicU64,
    dropped: AtomicU64,
    failing: AtomicBool,
    last_error: Mutex<Option<String>>,
    /// Levels set at run time for endpoints, by name.
    levels: RwLock<HashMap<String, u8>>,
    has_levels: AtomicBool,
    /// Typical durations per endpoint, published by the writer (level 2).
    pub(crate) typicals: crate::outlier::Published,
    /// Prometheus series, fed by the writer thread (see [`crate::metrics`]).
    pub(crate) metrics: Metrics,
}

impl Shared {
    pub(crate) fn stored(&self, n: u64) {
        self.stored.fetch_add(n, Ordering::Relaxed);
        if self.failing.swap(false, Ordering::Relaxed) {
            eprintln!("fmd: storage works again; monitoring data is being stored");
        }
    }

    pub(crate) fn dropped(&self, n: u64) {
        self.dropped.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn storage_failed(&self, database: &Database, e: &StoreError) {
        let message = format!("{database}: {e}");
        if !self.failing.swap(true, Ordering::Relaxed) {
            eprintln!(
                "fmd: cannot store monitoring data in {message}. The application is not \
                 affected; fmd retries and drops (and counts) events while this lasts."
            );
        }
        *self.last_error.lock() = Some(message);
    }

    pub(crate) fn apply_stored_levels(&self, levels: Vec<(String, u8)>) {
        for (endpoint, level) in levels {
            set_level(self, &endpoint, Some(level));
        }
    }
}

fn set_level(shared: &Shared, endpoint: &str, level: Option<u8>) {
    let level = level.map(|l| l.min(3));
    {
        let mut levels = shared.levels.write();
        match level {
            Some(l) => levels.insert(endpoint.to_owned(), l),
            None => levels.remove(endpoint),
        };
        shared
            .has_levels
            .store(!levels.is_empty(), Ordering::Relaxed);
    }
    for info in registry::all_registrations() {
        if matches!(info.kind, FnKind::Monitored { .. }) && info.endpoint_name() == endpoint {
            info.set_level_override(level);
        }
    }
}

/// A snapshot of fmd's own counters, for the configuration page and tests.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Stats {
    /// Events accepted into the queue.
    pub events_queued: u64,
    /// Events written to the database.
    pub events_stored: u64,
    /// Events dropped: queue full, storage failing too long, or fmd not running.
    pub events_dropped: u64,
    /// The latest storage error, if storage has failed since start-up.
    pub last_storage_error: Option<String>,
    /// Whether storage is failing right now.
    pub storage_failing: bool,
    /// Annotated functions linked into the program.
    pub registered_functions: usize,
    /// Panics caught in user callbacks (the group-by hook, custom graphs); the request or
    /// the sampling went on without the value.
    pub callback_panics: u64,
    /// Panics caught inside fmd or in application code fmd ran (an error's `Display`),
    /// kept away from the host's requests.
    pub caught_panics: u64,
}

/// Why [`init`] did not start fmd.
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

/// The running monitor. Get it with [`monitor`].
pub struct Monitor {
    config: Config,
    version: String,
    sender: Option<SyncSender<Event>>,
    shared: Arc<Shared>,
}

impl fmt::Debug for Monitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Monitor")
            .field("database", &self.config.database)
            .field("running", &self.sender.is_some())
            .finish()
    }
}

impl Monitor {
    fn start(config: Config) -> Monitor {
        let version = crate::version::app_version(&config);
        let shared = Arc::new(Shared::default());
        let (tx, rx) = mpsc::sync_channel(config.queue_capacity);
        let options = WriteOptions {
            version: version.clone(),
            instance: config.instance.clone(),
            store_source: config.store_source,
            normalize_messages: config.normalize_messages,
            git_commit: None, // asked of git on the writer thread
        };
        let sender = match crate::writer::spawn(rx, shared.clone(), config.clone(), options) {
            Ok(_) => Some(tx),
            Err(e) => {
                eprintln!("fmd: cannot start the writer thread ({e}); monitoring is off");
                None
            }
        };
        crate::panic::install();
        Monitor {
            config,
            version,
            sender,
            shared,
        }
    }

    fn disabled(config: Config) -> Monitor {
        Monitor {
            version: crate::version::app_version(&config),
            config,
            sender: None,
            shared: Arc::new(Shared::default()),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
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
            last_storage_error: self.shared.last_error.lock().clone(),
            storage_failing: self.shared.failing.load(Ordering::Relaxed),
            registered_functions: registry::functions().count(),
            callback_panics: crate::hooks::callback_panics(),
            caught_panics: crate::panic::caught_panics(),
        }
    }

    /// This process's metrics in the OpenMetrics text format (what `/metrics` serves).
    ///
    /// Counted on the writer thread, off the request path; see [`crate::metrics`].
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
        if handler.is_none()
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
        match &self.sender {
            Some(tx) => match tx.try_send(event) {
                Ok(()) => {
                    self.shared.queued.fetch_add(1, Ordering::Relaxed);
                }
                Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                    self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                }
            },
            None => {
                self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Queues a finished request. Never blocks: a full queue drops and counts it.
    pub fn send_request(&self, event: RequestEvent) {
        self.send_event(Event::Request(Box::new(event)));
    }

    /// Queues an error that happened outside any request.
    pub fn send_error(&self, record: ErrorRecord) {
        self.send_event(Event::Error(Box::new(record)));
    }

    /// Waits until everything queued so far is stored, at most `timeout`. Returns whether
    /// it was. Meant for shutdown and tests, not the request path.
    pub fn flush(&self, timeout: Duration) -> bool {
        let Some(tx) = &self.sender else { return false };
        let deadline = Instant::now() + timeout;
        let (ack, done) = mpsc::sync_channel(1);
        let mut event = Event::Flush(ack);
        loop {
            match tx.try_send(event) {
                Ok(()) => break,
                Err(TrySendError::Full(back)) if Instant::now() < deadline => {
                    event = back;
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(_) => return false,
            }
        }
        done.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .is_ok()
    }
}

/// The monitor, started with the defaults and `fmd.toml` / `FMD_*` if not started yet.
///
/// A malformed configuration found this way is reported on stderr and leaves monitoring
/// off; call [`init`] or [`init_from_env`] at start-up to get it as an error instead.
pub fn monitor() -> &'static Monitor {
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
pub fn ensure_started() {
    if MONITOR.get().is_none() {
        monitor();
    }
}

/// Starts fmd with `config`. Fails if the configuration is malformed or fmd already runs.
pub fn init(config: Config) -> Result<&'static Monitor, InitError> {
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

/// Starts fmd from `fmd.toml` and `FMD_*` variables, or returns the running monitor.
/// A malformed option is an error naming it.
pub fn init_from_env() -> Result<&'static Monitor, ConfigError> {
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
