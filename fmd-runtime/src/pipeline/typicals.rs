//! Level 2 on the writer thread: typical durations, from which outliers — requests slower
//! than `outlier_factor` × their endpoint's typical duration — are judged.
//!
//! The typical duration is the median of the endpoint's recent requests ([`Typical`]),
//! kept by the writer thread (which sees every request, in order, without a lock) and
//! published per endpoint in an atomic. A request reads it once when it starts; an endpoint
//! is never judged before it has [`MIN_HISTORY`] requests of history, so the first requests
//! after a start (cold caches, lazy set-up) are never flagged. A median is not pulled up by
//! the outliers themselves, and does not start at zero as a running mean does.

use crate::model::event::RequestEvent;
use foldhash::HashMap;
use parking_lot::RwLock;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Requests of history an endpoint needs before any of its requests is judged.
pub(crate) const MIN_HISTORY: usize = 10;
/// Recent requests the median is taken over.
pub(crate) const WINDOW: usize = 256;

/// The typical duration of one endpoint: the median of its last [`WINDOW`] requests.
#[derive(Debug, Clone, Default)]
pub(crate) struct Typical {
    recent: Vec<u64>,
    next: usize,
}

impl Typical {
    /// Adds one request's duration (µs).
    pub(crate) fn record(&mut self, us: u64) {
        if self.recent.len() < WINDOW {
            self.recent.push(us);
        } else {
            self.recent[self.next] = us;
        }
        self.next = (self.next + 1) % WINDOW;
    }

    /// Requests in the window.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.recent.len()
    }

    /// The median of the window (the upper one for an even count); `None` before
    /// [`MIN_HISTORY`] requests.
    pub(crate) fn typical_us(&self) -> Option<u64> {
        if self.recent.len() < MIN_HISTORY {
            return None;
        }
        let mut sorted = self.recent.clone();
        let mid = sorted.len() / 2;
        Some(*sorted.select_nth_unstable(mid).1)
    }
}

/// Marker for "no typical duration yet".
const UNKNOWN: u64 = u64::MAX;

/// The typical durations the writer publishes, read by requests as they start.
#[derive(Default)]
pub(crate) struct Published {
    by_endpoint: RwLock<HashMap<Box<str>, Arc<AtomicU64>>>,
}

impl Published {
    /// The typical duration of `endpoint`, if it has enough history.
    pub(crate) fn get(&self, endpoint: &str) -> Option<u64> {
        let value = self
            .by_endpoint
            .read()
            .get(endpoint)?
            .load(Ordering::Relaxed);
        (value != UNKNOWN).then_some(value)
    }

    fn slot(&self, endpoint: &str) -> Arc<AtomicU64> {
        self.by_endpoint
            .write()
            .entry(endpoint.into())
            .or_insert_with(|| Arc::new(AtomicU64::new(UNKNOWN)))
            .clone()
    }
}

/// The writer's side: one estimator per endpoint, published after each batch.
#[derive(Default)]
pub(crate) struct Typicals {
    endpoints: HashMap<Box<str>, (Typical, Arc<AtomicU64>, bool)>,
}

impl Typicals {
    /// Adds a finished request (cancelled ones say nothing about the endpoint's speed).
    pub(crate) fn observe(&mut self, r: &RequestEvent, published: &Published) {
        if r.cancelled {
            return;
        }
        let entry = match self.endpoints.get_mut(&*r.endpoint) {
            Some(entry) => entry,
            None => self
                .endpoints
                .entry(r.endpoint.as_ref().into())
                .or_insert_with(|| (Typical::default(), published.slot(&r.endpoint), false)),
        };
        entry.0.record(r.duration_us);
        entry.2 = true;
    }

    /// Publishes the endpoints that changed since the last call.
    pub(crate) fn publish(&mut self) {
        for (typical, slot, changed) in self.endpoints.values_mut() {
            if std::mem::take(changed) {
                slot.store(typical.typical_us().unwrap_or(UNKNOWN), Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_typical_before_ten_requests() {
        let mut t = Typical::default();
        for _ in 0..MIN_HISTORY - 1 {
            t.record(50_000);
            assert_eq!(t.typical_us(), None);
        }
        t.record(1_000);
        assert_eq!(t.typical_us(), Some(50_000));
    }

    #[test]
    fn slow_first_requests_are_forgotten_as_fast_ones_come() {
        // A cold start: three slow requests, then fast ones. The median follows the
        // bulk of the requests, not the early ones (a mean would stay inflated).
        let mut t = Typical::default();
        for _ in 0..3 {
            t.record(500_000);
        }
        for _ in 0..12 {
            t.record(1_000);
        }
        assert_eq!(t.typical_us(), Some(1_000));
    }

    #[test]
    fn outliers_do_not_move_the_median() {
        let mut t = Typical::default();
        for i in 0..100 {
            t.record(if i % 10 == 0 { 10_000_000 } else { 2_000 });
        }
        assert_eq!(t.typical_us(), Some(2_000));
    }

    #[test]
    fn the_window_keeps_only_recent_requests() {
        let mut t = Typical::default();
        for _ in 0..WINDOW {
            t.record(100);
        }
        for _ in 0..WINDOW / 2 + 1 {
            t.record(900);
        }
        assert_eq!(t.len(), WINDOW);
        assert_eq!(t.typical_us(), Some(900));
    }
}
