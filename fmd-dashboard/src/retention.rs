//! Retention on a schedule: every hour, everything older than `FMD_RETENTION_WEEKS` and
//! the raw request rows older than `FMD_RAW_RETENTION_DAYS` (see
//! [`fmd_runtime::config`]'s retention settings), on a thread and connection of its own.

use std::time::Duration;

use crate::format::now_ms;
use fmd_runtime::Database;
use fmd_runtime::store::read::DAY_MS;
use fmd_runtime::store::{AnyReader, StoreError};

/// What the hourly retention thread deletes.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Retention {
    /// Everything older than this many weeks (`FMD_RETENTION_WEEKS`); `None`: nothing.
    pub weeks: Option<u32>,
    /// Raw request rows older than this many days (`FMD_RAW_RETENTION_DAYS`), the
    /// rollups and exceptions kept; `None`: none.
    pub raw_days: Option<u32>,
}

impl Retention {
    /// The raw retention that deletes anything: none when the full one is as short.
    pub fn effective_raw_days(&self) -> Option<u32> {
        fmd_runtime::config::effective_raw_days(self.raw_days, self.weeks)
    }

    /// Whether any pruning is scheduled.
    pub fn scheduled(&self) -> bool {
        self.weeks.is_some() || self.raw_days.is_some()
    }

    /// One round at `now`: everything older than the weeks, then the raw rows older than
    /// the days, each in short steps (the writer never waits long).
    pub fn run(&self, store: &mut AnyReader, now: i64) -> Result<(), StoreError> {
        if let Some(weeks) = self.weeks {
            let r = store.prune(now - i64::from(weeks) * 7 * DAY_MS)?;
            if r.requests + r.occurrences > 0 {
                eprintln!(
                    "fmd: retention removed {} requests, {} exception occurrences, {} groups",
                    r.requests, r.occurrences, r.groups
                );
            }
        }
        if let Some(days) = self.effective_raw_days() {
            let r = store.prune_raw(now - i64::from(days) * DAY_MS)?;
            if r.requests > 0 {
                eprintln!(
                    "fmd: raw retention removed {} request rows older than {days} days \
                     (rollups and exceptions kept)",
                    r.requests
                );
            }
        }
        Ok(())
    }
}

/// Runs [`Retention::run`] one minute after start and then every hour, on its own thread
/// and connection (so it needs no async runtime).
pub fn start_retention(database: Database, retention: Retention) {
    let spawned = std::thread::Builder::new()
        .name("fmd-retention".into())
        .spawn(move || {
            std::thread::sleep(Duration::from_secs(60));
            loop {
                if let Err(e) =
                    AnyReader::open(&database).and_then(|mut s| retention.run(&mut s, now_ms()))
                {
                    eprintln!("fmd: retention failed: {e}");
                }
                std::thread::sleep(Duration::from_secs(3600));
            }
        });
    if let Err(e) = spawned {
        eprintln!("fmd: cannot start the retention thread: {e}");
    }
}
