//! What the request path, the writer thread and the dashboard share through the monitor:
//! the queue's counters, levels set at run time, and what the writer publishes back
//! (typical durations, metrics).

use super::metrics::Metrics;
use super::overflow::Overflow;
use super::typicals::Published;
use crate::config::Database;
use crate::model::function::{FnKind, registry};
use crate::store::StoreError;
use foldhash::HashMap;
use parking_lot::{Mutex, RwLock};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// Counters and state shared by the request path, the writer and the dashboard.
#[derive(Default)]
pub(crate) struct PipelineState {
    /// Bytes held by events not yet stored or dropped (see [`Event::weight`](crate::model::event::Event::weight)).
    pub(crate) held_bytes: AtomicUsize,
    pub(crate) queued: AtomicU64,
    pub(crate) stored: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) failing: AtomicBool,
    pub(crate) last_error: Mutex<Option<String>>,
    /// Levels set at run time for endpoints, by name.
    pub(crate) levels: RwLock<HashMap<String, u8>>,
    pub(crate) has_levels: AtomicBool,
    /// Typical durations per endpoint, published by the writer (level 2).
    pub(crate) typicals: Published,
    /// Prometheus series, fed by the writer thread (see [`super::metrics`]).
    pub(crate) metrics: Metrics,
    /// Requests the full queue dropped, still counted for the rollups.
    pub(crate) overflow: Overflow,
    /// The alerts thread, when a channel is configured (see [`super::alerts`]).
    pub(crate) alerts: once_cell::sync::OnceCell<super::alerts::Notifier>,
}

impl PipelineState {
    pub(crate) fn stored(&self, n: u64) {
        self.stored.fetch_add(n, Ordering::Relaxed);
        if self.failing.swap(false, Ordering::Relaxed) {
            eprintln!("fmd: storage works again; monitoring data is being stored");
        }
    }

    /// The writer is done with events that held `bytes` (stored or dropped).
    pub(crate) fn release(&self, bytes: usize) {
        self.held_bytes.fetch_sub(bytes, Ordering::Relaxed);
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

pub(crate) fn set_level(shared: &PipelineState, endpoint: &str, level: Option<u8>) {
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
