//! Prometheus metrics of this process, counted on the writer thread.
//!
//! # Where the counting happens, and why
//!
//! The request path already builds one [`Event`] per request and queues it; the writer
//! thread receives every queued event. So the metrics are updated *there*, in
//! [`Metrics::observe`], as each event arrives — not in the tower layer or the
//! `#[monitored]` wrapper. The request path does no extra work at all for metrics: no
//! label lookup, no atomic, no lock (a scrape only contends with the writer thread).
//!
//! The price is small and explicit:
//! - an event dropped because the queue was full is not in the request, duration or
//!   exception series; it is counted in `fmd_events_dropped_total` instead (read from
//!   [`Stats`] at scrape time), so `requests + dropped` accounts for every request
//!   (`fmd_dropped_requests_counted_total` says how many of the dropped requests still
//!   reached the stored rollups: their rows were lost, not their counts);
//! - a request shows up when the writer has taken it off the queue, normally within
//!   milliseconds; a scrape can lag the queue by one batch.
//!
//! # Cardinality
//!
//! Labels are bounded by the application's code, never by its traffic: `endpoint` is the
//! handler's name or route template (every unmatched path is the one `(unmatched)`
//! endpoint, errors outside requests are `(background)`), `method` is one of the standard
//! HTTP methods or `other`, `status` a class (`2xx` … `5xx`, `cancelled`), `kind` one of
//! `panic`, `uncaught`, `captured`.
//!
//! # Per process
//!
//! Each process counts what it serves; with several instances Prometheus scrapes each one
//! and sums. The series are exposed by the dashboard's `/metrics` route in the OpenMetrics
//! text format.
//!
//! ```
//! // Before the first event only the pipeline's series exist; a family appears with its
//! // first series.
//! let text = fmd_runtime::pipeline::Metrics::default().encode(&Default::default());
//! assert!(text.contains("fmd_events_dropped_total 0"));
//! assert!(text.ends_with("# EOF\n"));
//! ```

use super::stats::Stats;
use crate::model::event::{BACKGROUND, ErrorKind, Event, RequestEvent};
use foldhash::HashMap;
use parking_lot::Mutex;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::borrow::Cow;

/// Upper bounds of the duration buckets, in seconds: 0.5 ms to 10 s.
const DURATION_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Labels of the request counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    endpoint: Cow<'static, str>,
    method: &'static str,
    status: &'static str,
}

/// Labels of the duration histogram.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    endpoint: Cow<'static, str>,
}

/// Labels of the exception counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ExceptionLabels {
    endpoint: Cow<'static, str>,
    kind: &'static str,
}

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

/// Methods with a label of their own (the rest are `other`).
const METHODS: [&str; 10] = [
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT", "CALL",
];
/// Status classes, in the order of [`status_index`].
const STATUSES: [&str; 7] = ["1xx", "2xx", "3xx", "4xx", "5xx", "other", "cancelled"];

/// One endpoint's series, looked up once and then kept: the families' own lookup hashes
/// the whole label set with SipHash, a cost per event the writer need not pay.
#[derive(Debug)]
struct EndpointSeries {
    duration: Histogram,
    /// By method index (the last one is `other`), then status index.
    requests: [[Option<Counter>; STATUSES.len()]; METHODS.len() + 1],
}

/// The series of one process. Lives in the monitor; fed by the writer thread.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<EndpointLabels, Histogram>,
    exceptions: Family<ExceptionLabels, Counter>,
    series: Mutex<HashMap<Cow<'static, str>, EndpointSeries>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let requests = Family::<RequestLabels, Counter>::default();
        let durations = Family::<EndpointLabels, Histogram>::new_with_constructor(
            duration_histogram as fn() -> Histogram,
        );
        let exceptions = Family::<ExceptionLabels, Counter>::default();
        let mut registry = Registry::default();
        registry.register(
            "fmd_http_requests",
            "Requests served, by endpoint, method and status class",
            requests.clone(),
        );
        // The unit is in the name, as Prometheus names it; no separate UNIT line, which
        // some OpenMetrics parsers refuse on histograms.
        registry.register(
            "fmd_http_request_duration_seconds",
            "Request durations in seconds, by endpoint",
            durations.clone(),
        );
        registry.register(
            "fmd_exceptions",
            "Errors and panics recorded, by endpoint and kind (panic, uncaught, captured)",
            exceptions.clone(),
        );
        Metrics {
            registry,
            requests,
            durations,
            exceptions,
            series: Mutex::default(),
        }
    }
}

/// A method's index in [`METHODS`], or `METHODS.len()` for `other`.
fn method_index(method: &str) -> usize {
    METHODS
        .iter()
        .position(|m| *m == method)
        .unwrap_or(METHODS.len())
}

/// A method as a label: the standard ones, or `other` (a client may send any token).
fn method_label(method: &str) -> &'static str {
    METHODS
        .get(method_index(method))
        .copied()
        .unwrap_or("other")
}

/// A status class's index in [`STATUSES`]; `cancelled` when the request never finished.
fn status_index(status: Option<u16>, cancelled: bool) -> usize {
    match status {
        _ if cancelled => 6,
        Some(100..=199) => 0,
        Some(200..=299) => 1,
        Some(300..=399) => 2,
        Some(400..=499) => 3,
        Some(500..=599) => 4,
        // Unknown (a monitored function outside a framework layer) or unusual.
        Some(_) | None => 5,
    }
}

fn kind_label(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Panic => "panic",
        ErrorKind::Uncaught => "uncaught",
        ErrorKind::Captured => "captured",
        ErrorKind::Client => "client",
    }
}

impl Metrics {
    /// Counts one event taken off the queue. Called by the writer thread only; a bug in
    /// here must not stop the writer, so a panic loses this event's counts and nothing else.
    pub fn observe(&self, event: &Event) {
        let _ = crate::fence::contain(|| match event {
            Event::Request(r) => self.observe_request(r),
            Event::Error(e) => self.exception(Cow::Borrowed(BACKGROUND), e.kind),
            Event::Late(l) => self.exception(l.endpoint.clone(), l.record.kind),
            Event::Flush(_) | Event::Sample(_) | Event::Counted(_) => {}
        });
    }

    fn observe_request(&self, r: &RequestEvent) {
        let (m, st) = (method_index(&r.method), status_index(r.status, r.cancelled));
        {
            let mut series = self.series.lock();
            if !series.contains_key(&*r.endpoint) {
                let labels = EndpointLabels {
                    endpoint: r.endpoint.clone(),
                };
                let found = EndpointSeries {
                    duration: self.durations.get_or_create(&labels).clone(),
                    requests: Default::default(),
                };
                series.insert(r.endpoint.clone(), found);
            }
            if let Some(found) = series.get_mut(&*r.endpoint) {
                found.duration.observe(r.duration_us as f64 / 1e6);
                found.requests[m][st]
                    .get_or_insert_with(|| {
                        let labels = RequestLabels {
                            endpoint: r.endpoint.clone(),
                            method: method_label(&r.method),
                            status: STATUSES[st],
                        };
                        self.requests.get_or_create(&labels).clone()
                    })
                    .inc();
            }
        }
        for e in &r.errors {
            self.exception(r.endpoint.clone(), e.kind);
        }
    }

    fn exception(&self, endpoint: Cow<'static, str>, kind: ErrorKind) {
        let labels = ExceptionLabels {
            endpoint,
            kind: kind_label(kind),
        };
        self.exceptions.get_or_create(&labels).inc();
    }

    /// The exposition in the OpenMetrics text format, with the pipeline counters of
    /// `stats` (events queued, stored, dropped; whether storage is failing).
    pub fn encode(&self, stats: &Stats) -> String {
        let mut pipeline = Registry::default();
        pipeline.register(
            "fmd_events_queued",
            "Events accepted into the queue to the writer thread",
            ConstCounter::new(stats.events_queued),
        );
        pipeline.register(
            "fmd_events_stored",
            "Events written to the database",
            ConstCounter::new(stats.events_stored),
        );
        pipeline.register(
            "fmd_events_dropped",
            "Events dropped: queue full, storage failing too long, or monitoring off",
            ConstCounter::new(stats.events_dropped),
        );
        pipeline.register(
            "fmd_dropped_requests_counted",
            "Requests whose raw row was dropped (queue full) but which still count in the \
             stored hourly rollup and duration histogram",
            ConstCounter::new(stats.dropped_requests_counted),
        );
        pipeline.register(
            "fmd_storage_failing",
            "1 while the database cannot be written, else 0",
            ConstGauge::new(i64::from(stats.storage_failing)),
        );
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode_registry(&mut text, &self.registry);
        let _ = encode_registry(&mut text, &pipeline);
        let _ = encode_eof(&mut text);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_label(status: Option<u16>) -> &'static str {
        STATUSES[status_index(status, status.is_none())]
    }

    #[test]
    fn labels_are_bounded() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("BREW"), "other");
        assert_eq!(status_label(Some(204)), "2xx");
        assert_eq!(status_label(Some(503)), "5xx");
        assert_eq!(status_label(Some(999)), "other");
        assert_eq!(status_label(None), "cancelled");
    }
}
