//! Requests counted without their rows: when the queue to the writer is full, a request's
//! raw row is dropped (and counted as dropped), but its hit, status class and duration
//! still go into the hourly rollup and the daily duration histogram. The request path
//! adds them up in a fixed table (`pipeline::overflow`); the writer drains that table into
//! a [`Counted`], which travels in the batch like an event and which each store folds into
//! the same rollup rows its stored requests feed.

use std::borrow::Cow;
use std::collections::BTreeMap;

/// What one endpoint served in one hour without its rows being stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CountedHour {
    /// Requests of any level (level 0 ones only update "last requested").
    pub requests: u64,
    /// Requests of level 1 or more: the hits of the rollup.
    pub hits: i64,
    /// Their summed duration (µs).
    pub duration_us: i64,
    /// Of those, answered 400–499.
    pub client_errors: i64,
    /// Answered 500–599.
    pub server_errors: i64,
    /// Dropped before they finished.
    pub cancelled: i64,
    /// Earliest and latest request start (Unix ms).
    pub first_ms: i64,
    /// Latest request start (Unix ms).
    pub last_ms: i64,
    /// Duration histogram: bucket (`store::histogram::bucket`) → hits.
    pub buckets: BTreeMap<i64, i64>,
}

impl CountedHour {
    /// Adds `other`'s counts to these.
    pub fn merge(&mut self, other: &CountedHour) {
        if self.requests == 0 {
            (self.first_ms, self.last_ms) = (other.first_ms, other.last_ms);
        } else if other.requests > 0 {
            self.first_ms = self.first_ms.min(other.first_ms);
            self.last_ms = self.last_ms.max(other.last_ms);
        }
        self.requests += other.requests;
        self.hits += other.hits;
        self.duration_us = self.duration_us.saturating_add(other.duration_us);
        self.client_errors += other.client_errors;
        self.server_errors += other.server_errors;
        self.cancelled += other.cancelled;
        for (&bucket, &hits) in &other.buckets {
            *self.buckets.entry(bucket).or_default() += hits;
        }
    }
}

/// Requests counted without their rows, by `(endpoint name, hour)` (hour = Unix ms / 3.6 M).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counted {
    /// The sums per endpoint and hour.
    pub hours: BTreeMap<(Cow<'static, str>, i64), CountedHour>,
}

impl Counted {
    /// Adds `other`'s counts to these (a batch kept in hand while the store fails takes in
    /// each later drain, so it holds one `Counted` however long it waits).
    pub fn merge(&mut self, other: Counted) {
        for (key, hour) in other.hours {
            match self.hours.get_mut(&key) {
                Some(mine) => mine.merge(&hour),
                None => {
                    self.hours.insert(key, hour);
                }
            }
        }
    }

    /// Requests in here.
    pub fn requests(&self) -> u64 {
        self.hours.values().map(|h| h.requests).sum()
    }
}
