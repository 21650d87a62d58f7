//! What each batch keeps up to date besides its rows, added up in memory over the batch:
//! `endpoint.last_requested`, the hourly rollup `request_hourly`, the daily duration
//! histogram `duration_daily` and the hourly one of recent hours `duration_hourly` (see
//! [`crate::store::read::overview_days`]), and when the version and the instance were seen. Each
//! engine writes the sums in the batch's transaction (`write/rollup.rs` of `sqlite` and
//! `postgres`), so the rollups always match the request rows, plus the requests whose rows
//! the full queue dropped but which were counted ([`Counted`](crate::model::counted::Counted)):
//! the rollups count every request served. Keys are kept in order:
//! PostgreSQL takes the row locks the instances share in that order.

use super::histogram;
use super::read::{DAY_MS, HOUR_MS};
use super::{RolledRequest, WriteOptions};
use crate::model::counted::CountedHour;
use crate::model::event::RequestEvent;
use std::collections::BTreeMap;

/// Who wrote a batch: stamped on its rollup rows.
pub(crate) struct Stamp<'a> {
    pub version: &'a str,
    pub instance: &'a str,
    pub git_commit: Option<&'a str>,
}

impl<'a> Stamp<'a> {
    pub(crate) fn of(options: &'a WriteOptions) -> Self {
        Stamp {
            version: &options.version,
            instance: &options.instance,
            git_commit: options.git_commit.as_deref(),
        }
    }
}

/// One `request_hourly` row's sums.
#[derive(Default)]
pub(crate) struct Hourly {
    pub hits: i64,
    pub duration_us: i64,
    pub client_errors: i64,
    pub server_errors: i64,
    pub cancelled: i64,
}

/// The batch's sums.
#[derive(Default)]
pub(crate) struct Rollup {
    /// Endpoint id → its latest request.
    pub last_requested: BTreeMap<i64, i64>,
    /// `(endpoint id, hour)` → sums.
    pub hourly: BTreeMap<(i64, i64), Hourly>,
    /// `(endpoint id, day, duration bucket)` → hits.
    pub daily: BTreeMap<(i64, i64, i64), i64>,
    /// `(hour, endpoint id, duration bucket)` → hits (`duration_hourly`'s key order).
    pub hourly_durations: BTreeMap<(i64, i64, i64), i64>,
    /// Delete `duration_hourly` rows of hours before this one (once an hour, see
    /// [`Rollup::trim_recent`]).
    pub trim_before_hour: Option<i64>,
    /// First and last request time of the batch.
    pub seen: Option<(i64, i64)>,
}

impl Rollup {
    /// A request of `endpoint` at `time_ms`, stored or not (level 0).
    pub(crate) fn requested(&mut self, endpoint: i64, time_ms: i64) {
        let last = self.last_requested.entry(endpoint).or_insert(time_ms);
        *last = (*last).max(time_ms);
        self.seen = Some(match self.seen {
            Some((first, last)) => (first.min(time_ms), last.max(time_ms)),
            None => (time_ms, time_ms),
        });
    }

    /// A request row stored for `endpoint`.
    pub(crate) fn stored(&mut self, endpoint: i64, r: &RequestEvent) {
        self.add(&RolledRequest {
            endpoint_id: endpoint,
            time_ms: r.time_ms,
            duration_us: r.duration_us.min(i64::MAX as u64) as i64,
            status: r.status,
            cancelled: r.cancelled,
        });
    }

    /// A stored request row, as the rollups see it.
    pub(crate) fn add(&mut self, r: &RolledRequest) {
        let h = self
            .hourly
            .entry((r.endpoint_id, r.time_ms.div_euclid(HOUR_MS)))
            .or_default();
        h.hits += 1;
        h.duration_us = h.duration_us.saturating_add(r.duration_us);
        match r.status {
            Some(400..=499) => h.client_errors += 1,
            Some(500..=599) => h.server_errors += 1,
            _ => {}
        }
        h.cancelled += i64::from(r.cancelled);
        let day = r.time_ms.div_euclid(DAY_MS);
        let bucket = histogram::bucket(r.duration_us);
        *self.daily.entry((r.endpoint_id, day, bucket)).or_default() += 1;
        let hour = r.time_ms.div_euclid(HOUR_MS);
        *self
            .hourly_durations
            .entry((hour, r.endpoint_id, bucket))
            .or_default() += 1;
    }

    /// Requests of `endpoint` in `hour` whose rows were dropped but which were counted:
    /// into the same sums as stored rows.
    pub(crate) fn counted(&mut self, endpoint: i64, hour: i64, c: &CountedHour) {
        if c.requests == 0 {
            return;
        }
        self.requested(endpoint, c.first_ms);
        self.requested(endpoint, c.last_ms);
        if c.hits == 0 {
            return;
        }
        let h = self.hourly.entry((endpoint, hour)).or_default();
        h.hits += c.hits;
        h.duration_us = h.duration_us.saturating_add(c.duration_us);
        h.client_errors += c.client_errors;
        h.server_errors += c.server_errors;
        h.cancelled += c.cancelled;
        let day = (hour * HOUR_MS).div_euclid(DAY_MS);
        for (&bucket, &hits) in &c.buckets {
            *self.daily.entry((endpoint, day, bucket)).or_default() += hits;
            *self
                .hourly_durations
                .entry((hour, endpoint, bucket))
                .or_default() += hits;
        }
    }

    /// Leaves out of `duration_hourly` the hours older than
    /// [`RECENT_HOURS`](crate::store::read::overview_days::RECENT_HOURS) before `now`, and
    /// asks for the old rows to be deleted when the hour changed since `*trimmed` (the
    /// writer's memory of its last trim).
    pub(crate) fn trim_recent(&mut self, now: i64, trimmed: &mut i64) {
        let floor = now.div_euclid(HOUR_MS) - crate::store::read::overview_days::RECENT_HOURS;
        self.hourly_durations = self
            .hourly_durations
            .split_off(&(floor, i64::MIN, i64::MIN));
        if floor > *trimmed {
            self.trim_before_hour = Some(floor);
            *trimmed = floor;
        }
    }

    /// The span the version was seen in: the batch's requests, or now for the first batch
    /// of a process (the version is recorded even before any request).
    pub(crate) fn version_seen(&self, first_batch: bool) -> Option<(i64, i64)> {
        self.seen.or_else(|| {
            let now = crate::clock::now_ms();
            first_batch.then_some((now, now))
        })
    }

    /// A batch of one hand-inserted request row (fixtures, generated databases).
    pub(crate) fn of_one(r: &RolledRequest) -> Rollup {
        let mut rollup = Rollup::default();
        rollup.requested(r.endpoint_id, r.time_ms);
        rollup.add(r);
        rollup
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::read::overview_days::RECENT_HOURS;

    fn at(time_ms: i64) -> RolledRequest {
        RolledRequest {
            endpoint_id: 1,
            time_ms,
            duration_us: 1_000,
            status: Some(200),
            cancelled: false,
        }
    }

    #[test]
    fn recent_hours_are_kept_and_the_old_ones_trimmed_once_an_hour() {
        let now = 500_000 * HOUR_MS + 10;
        let mut rollup = Rollup::default();
        rollup.add(&at(now));
        rollup.add(&at(now - RECENT_HOURS * HOUR_MS));
        rollup.add(&at(now - (RECENT_HOURS + 1) * HOUR_MS));
        let mut trimmed = i64::MIN;
        rollup.trim_recent(now, &mut trimmed);
        let hours: Vec<i64> = rollup.hourly_durations.keys().map(|k| k.0).collect();
        assert_eq!(hours, vec![500_000 - RECENT_HOURS, 500_000]);
        let daily: i64 = rollup.daily.values().sum();
        assert_eq!(daily, 3, "the daily histogram keeps every request");
        assert_eq!(rollup.trim_before_hour, Some(500_000 - RECENT_HOURS));
        // The next batch of the same hour deletes nothing; the next hour's does.
        let mut next = Rollup::default();
        next.trim_recent(now + 1, &mut trimmed);
        assert_eq!(next.trim_before_hour, None);
        next.trim_recent(now + HOUR_MS, &mut trimmed);
        assert_eq!(next.trim_before_hour, Some(500_001 - RECENT_HOURS));
    }
}
