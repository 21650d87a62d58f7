//! When a SQLite connection's current work must end: a deadline its progress handler
//! looks at every [`PROGRESS_STEPS`] virtual-machine steps, interrupting the running
//! statement (`SQLITE_INTERRUPT`) once it has passed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// SQLite virtual machine steps between two looks at the deadline (well under a
/// millisecond of work).
const PROGRESS_STEPS: std::ffi::c_int = 10_000;

/// The end of a connection's current piece of work, shared with its progress handler
/// (clones share it).
#[derive(Clone)]
pub(crate) struct Deadline {
    base: Instant,
    /// Nanoseconds after `base`; `u64::MAX` when nothing is bounded.
    at_ns: Arc<AtomicU64>,
}

impl Deadline {
    /// Installs the progress handler on `conn`, with no deadline set.
    pub(crate) fn install(conn: &mut Connection) -> rusqlite::Result<Deadline> {
        let deadline = Deadline {
            base: Instant::now(),
            at_ns: Arc::new(AtomicU64::new(u64::MAX)),
        };
        let handler = deadline.clone();
        conn.progress_handler(PROGRESS_STEPS, Some(move || handler.passed()))?;
        Ok(deadline)
    }

    /// Lets the work begun now run for `limit`; `None`: unbounded.
    pub(crate) fn start(&self, limit: Option<Duration>) {
        let at = limit.map_or(u64::MAX, |l| {
            u64::try_from((self.base.elapsed() + l).as_nanos()).unwrap_or(u64::MAX)
        });
        self.at_ns.store(at, Ordering::Relaxed);
    }

    /// Whether the deadline has passed.
    fn passed(&self) -> bool {
        let elapsed = u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX);
        elapsed >= self.at_ns.load(Ordering::Relaxed)
    }
}
