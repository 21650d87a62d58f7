//! Level 2 on the request path: the threshold past which a request is an outlier, and what
//! is kept of one (its URL and headers scrubbed here, its logical stack).
//!
//! The typical durations themselves are kept by the writer thread
//! ([`crate::pipeline::typicals`]); a request reads its endpoint's once when it starts.

use super::stack::Frame;
use crate::model::event::{OutlierEvent, TraceFrame, collapse};

/// The duration past which a request of an endpoint with this typical duration is an
/// outlier: `factor × typical`, at least one microsecond more than typical.
pub fn threshold_us(typical_us: u64, factor: f64) -> u64 {
    let t = (typical_us as f64 * factor).ceil();
    (t.min(u64::MAX as f64) as u64).max(typical_us.saturating_add(1))
}

/// What the request path hands over for an outlier; scrubbed here.
pub(crate) fn event(
    http: Option<(&http::Uri, &http::HeaderMap)>,
    typical_us: u64,
    threshold_us: u64,
    stack: &[Frame],
) -> OutlierEvent {
    let (url, headers) = match http {
        Some((uri, headers)) => (super::scrub::url(uri), super::scrub::headers(headers)),
        None => (String::new(), Vec::new()),
    };
    let frames = stack
        .iter()
        .map(|f| TraceFrame::App {
            info: f.info,
            line: 0,
            repeat: 1,
        })
        .collect();
    OutlierEvent {
        url,
        headers,
        typical_us,
        threshold_us,
        stack: collapse(frames),
        cpu_percent: None,
        memory_bytes: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_is_factor_times_typical_and_above_it() {
        assert_eq!(threshold_us(1_000, 2.5), 2_500);
        assert_eq!(threshold_us(0, 2.5), 1);
        assert_eq!(threshold_us(3, 1.1), 4);
    }
}
