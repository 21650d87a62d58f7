//! Requests the full queue could not take, still counted: a fixed table on the request
//! side, drained by the writer into the rollups.
//!
//! When the queue to the writer is full (or over its byte budget), the request's raw row
//! is dropped and counted as dropped, as before; its endpoint, hour, status class and
//! duration bucket are added to this table instead, so the overview's hits, error counts
//! and medians still cover every request served. The table is allocated at the first
//! overflow and never grows: [`SLOTS`] endpoint-hours of [`BUCKETS`] histogram buckets
//! each. Adding a request takes a mutex for a few dozen instructions (a scan of the used
//! slots, some additions; nothing allocated, no I/O) and is only done when the queue is
//! full: the common path never touches it. The writer swaps the whole table for an empty
//! spare under the lock (a pointer swap) and reads it after letting go, so the request
//! path never waits on the writer's work. A request that finds every slot taken by other
//! endpoint-hours is dropped uncounted, as before (and counted in `lost`).

use crate::model::counted::{Counted, CountedHour};
use crate::model::event::RequestEvent;
use crate::store::histogram;
use crate::store::read::HOUR_MS;
use parking_lot::Mutex;
use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};

/// Endpoint-hours the table holds between two drains of the writer.
pub(crate) const SLOTS: usize = 64;

/// Histogram buckets per slot: bucket 511 starts at about 67 minutes, and longer requests
/// are counted in it.
pub(crate) const BUCKETS: usize = 512;

/// One endpoint-hour's sums.
struct Slot {
    endpoint: Cow<'static, str>,
    hour: i64,
    sums: CountedHour,
    /// Hits per histogram bucket (the dense form of [`CountedHour::buckets`]).
    buckets: Box<[u32; BUCKETS]>,
}

impl Slot {
    fn empty() -> Slot {
        Slot {
            endpoint: Cow::Borrowed(""),
            hour: 0,
            sums: CountedHour::default(),
            buckets: Box::new([0; BUCKETS]),
        }
    }
}

/// The fixed table: the first `used` slots hold sums.
pub(crate) struct Table {
    used: usize,
    slots: Box<[Slot]>,
}

impl Table {
    fn new() -> Box<Table> {
        Box::new(Table {
            used: 0,
            slots: (0..SLOTS).map(|_| Slot::empty()).collect(),
        })
    }

    /// Adds one request; `false` when every slot holds another endpoint-hour.
    fn add(&mut self, r: &RequestEvent, hour: i64, bucket: usize) -> bool {
        let found = self.slots[..self.used]
            .iter()
            .position(|s| s.hour == hour && s.endpoint == r.endpoint);
        let slot = match found {
            Some(i) => &mut self.slots[i],
            None if self.used < SLOTS => {
                let slot = &mut self.slots[self.used];
                self.used += 1;
                slot.endpoint = r.endpoint.clone();
                slot.hour = hour;
                slot.sums.first_ms = r.time_ms;
                slot.sums.last_ms = r.time_ms;
                slot
            }
            None => return false,
        };
        let sums = &mut slot.sums;
        sums.requests += 1;
        sums.first_ms = sums.first_ms.min(r.time_ms);
        sums.last_ms = sums.last_ms.max(r.time_ms);
        if r.level > 0 {
            sums.hits += 1;
            sums.duration_us = sums
                .duration_us
                .saturating_add(r.duration_us.min(i64::MAX as u64) as i64);
            match r.status {
                Some(400..=499) => sums.client_errors += 1,
                Some(500..=599) => sums.server_errors += 1,
                _ => {}
            }
            sums.cancelled += i64::from(r.cancelled);
            slot.buckets[bucket] = slot.buckets[bucket].saturating_add(1);
        }
        true
    }

    /// Moves the sums out into `into`, leaving the table empty.
    fn take(&mut self, into: &mut Counted) {
        for slot in &mut self.slots[..self.used] {
            let mut sums = std::mem::take(&mut slot.sums);
            for (bucket, hits) in slot.buckets.iter_mut().enumerate() {
                if *hits > 0 {
                    sums.buckets.insert(bucket as i64, i64::from(*hits));
                    *hits = 0;
                }
            }
            let endpoint = std::mem::replace(&mut slot.endpoint, Cow::Borrowed(""));
            into.hours
                .entry((endpoint, slot.hour))
                .or_default()
                .merge(&sums);
        }
        self.used = 0;
    }
}

/// The request side's table and its counters, shared through the pipeline state.
#[derive(Default)]
pub(crate) struct Overflow {
    table: Mutex<Option<Box<Table>>>,
    /// The writer's empty table, swapped in at each drain.
    spare: Mutex<Option<Box<Table>>>,
    /// Requests whose rows were dropped but which were counted here.
    counted: AtomicU64,
    /// Requests dropped that found the table full.
    lost: AtomicU64,
}

impl Overflow {
    /// Counts a request the queue did not take. Never blocks for longer than another
    /// request's addition or the writer's pointer swap.
    #[cold]
    pub(crate) fn count(&self, r: &RequestEvent) {
        let hour = r.time_ms.div_euclid(HOUR_MS);
        let bucket = if r.level > 0 {
            let d = r.duration_us.min(i64::MAX as u64) as i64;
            (histogram::bucket(d).max(0) as usize).min(BUCKETS - 1)
        } else {
            0
        };
        let added = {
            let mut table = self.table.lock();
            table.get_or_insert_with(Table::new).add(r, hour, bucket)
        };
        let counter = if added { &self.counted } else { &self.lost };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether requests wait in the table (the writer's idle check).
    pub(crate) fn is_pending(&self) -> bool {
        self.table.lock().as_ref().is_some_and(|t| t.used > 0)
    }

    /// Takes the table's sums (the writer thread, once per batch); `None` when empty.
    pub(crate) fn drain(&self) -> Option<Counted> {
        if !self.is_pending() {
            return None;
        }
        let mut spare = self.spare.lock();
        // Allocated (once) before the request path's lock is taken.
        let empty = spare.take().unwrap_or_else(Table::new);
        let mut full = self.table.lock().replace(empty)?;
        let mut counted = Counted::default();
        full.take(&mut counted);
        *spare = Some(full);
        (!counted.hours.is_empty()).then_some(counted)
    }

    /// `n` requests counted here were lost after all (their batch could not be stored).
    pub(crate) fn forget(&self, n: u64) {
        if n > 0 {
            self.counted.fetch_sub(n, Ordering::Relaxed);
            self.lost.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Requests counted here since start-up (their rows were dropped).
    pub(crate) fn counted(&self) -> u64 {
        self.counted.load(Ordering::Relaxed)
    }

    /// Requests dropped without being counted here (the table was full).
    pub(crate) fn lost(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn request(
        endpoint: &'static str,
        time_ms: i64,
        duration_us: u64,
        status: u16,
    ) -> RequestEvent {
        RequestEvent {
            endpoint: Cow::Borrowed(endpoint),
            route: Arc::from("/"),
            method: Cow::Borrowed("GET"),
            time_ms,
            duration_us,
            status: Some(status),
            cancelled: false,
            level: 1,
            ip: None,
            group_by: None,
            errors: Vec::new(),
            outlier: None,
            profile: None,
            link: None,
        }
    }

    #[test]
    fn every_request_lands_in_its_endpoint_hour_and_bucket() {
        let overflow = Overflow::default();
        let hour = 490_000 * HOUR_MS;
        let durations: Vec<u64> = (0..1_000u64).map(|i| 50 + i * i % 9_973).collect();
        for (i, &d) in durations.iter().enumerate() {
            let status = if i % 10 == 0 {
                500
            } else if i % 25 == 1 {
                404
            } else {
                200
            };
            overflow.count(&request("app::a", hour + i as i64, d, status));
        }
        overflow.count(&request("app::b", hour + HOUR_MS, 7, 200));
        let mut level0 = request("app::a", hour + 5_000, 1, 200);
        level0.level = 0;
        overflow.count(&level0);
        assert_eq!(overflow.counted(), 1_002);
        assert_eq!(overflow.lost(), 0);

        let counted = overflow.drain().expect("sums");
        assert!(overflow.drain().is_none(), "a drain empties the table");
        let a = &counted.hours[&(Cow::Borrowed("app::a"), hour / HOUR_MS)];
        assert_eq!(a.requests, 1_001);
        assert_eq!(a.hits, 1_000, "a level-0 request is not a hit");
        assert_eq!(a.server_errors, 100);
        assert_eq!(a.client_errors, 40);
        assert_eq!(a.duration_us, durations.iter().sum::<u64>() as i64);
        assert_eq!((a.first_ms, a.last_ms), (hour, hour + 5_000));
        let mut expected = std::collections::BTreeMap::new();
        for &d in &durations {
            *expected.entry(histogram::bucket(d as i64)).or_insert(0i64) += 1;
        }
        assert_eq!(a.buckets, expected, "the histogram is exact per bucket");
        let mut sorted = durations.clone();
        sorted.sort_unstable();
        let exact = sorted[sorted.len() / 2] as i64;
        let median = histogram::median(a.buckets.iter().map(|(&b, &h)| (b, h as u64)));
        assert_eq!(
            median,
            Some(histogram::bucket_value(histogram::bucket(exact)))
        );
        let b = &counted.hours[&(Cow::Borrowed("app::b"), hour / HOUR_MS + 1)];
        assert_eq!((b.hits, b.buckets.len()), (1, 1));

        // The table is reused after a drain.
        overflow.count(&request("app::a", hour, 10, 200));
        assert_eq!(overflow.drain().expect("sums").requests(), 1);
    }

    #[test]
    fn a_full_table_drops_uncounted_and_memory_stays_fixed() {
        let overflow = Overflow::default();
        for hour in 0..SLOTS as i64 + 10 {
            overflow.count(&request("app::a", hour * HOUR_MS, 10, 200));
        }
        assert_eq!(overflow.counted(), SLOTS as u64);
        assert_eq!(overflow.lost(), 10);
        assert_eq!(overflow.drain().expect("sums").hours.len(), SLOTS);
        overflow.forget(4);
        assert_eq!(
            (overflow.counted(), overflow.lost()),
            (SLOTS as u64 - 4, 14)
        );
        // Very long requests share the last bucket.
        overflow.count(&request("app::a", 0, u64::MAX, 200));
        let c = overflow.drain().expect("sums");
        assert_eq!(
            c.hours
                .values()
                .next()
                .unwrap()
                .buckets
                .keys()
                .copied()
                .collect::<Vec<_>>(),
            [BUCKETS as i64 - 1]
        );
    }

    #[test]
    fn merging_adds_up() {
        let overflow = Overflow::default();
        overflow.count(&request("app::a", 100, 10, 500));
        let mut first = overflow.drain().unwrap();
        overflow.count(&request("app::a", 50, 10, 200));
        first.merge(overflow.drain().unwrap());
        let a = first.hours.values().next().unwrap();
        assert_eq!(
            (a.hits, a.server_errors, a.first_ms, a.last_ms),
            (2, 1, 50, 100)
        );
        assert_eq!(a.buckets.values().sum::<i64>(), 2);
    }
}
