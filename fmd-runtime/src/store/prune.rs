//! Pruning in steps: retention deletes the oldest requests (with what hangs off them) a
//! few thousand per transaction, then pauses, so the write lock is never held for long
//! and the writer's batches interleave with the deletions.
//!
//! Each step is the whole pruning with an earlier cutoff: the time just after its `n`-th
//! oldest request (or occurrence, when it comes first: raw retention leaves old
//! occurrences without requests), or the real cutoff for the last step. `n` starts at
//! [`FIRST_STEP_REQUESTS`] and adapts so that a step takes about [`STEP_TARGET`] (a
//! thousand requests cost ~15 ms on SQLite and ~60 ms on PostgreSQL, whose foreign-key
//! checks run per row), within [`MIN_STEP_REQUESTS`]..=[`STEP_REQUESTS`]. Group counters
//! are decreased by the occurrences each step deletes, so they always match the
//! occurrences that remain. The last step also deletes emptied groups and orphans.

use std::time::Duration;

use crate::store::read::dashboard::PruneReport;

/// Most requests deleted per step (per transaction).
pub const STEP_REQUESTS: i64 = 10_000;
/// Fewest requests deleted per step (but the last).
pub const MIN_STEP_REQUESTS: i64 = 100;
/// Requests deleted by the first step.
pub const FIRST_STEP_REQUESTS: i64 = 1_000;
/// How long a step should hold the write lock.
pub const STEP_TARGET: Duration = Duration::from_millis(100);

/// The shortest and longest pause after a step: as long as the step took, within these.
const PAUSE: (Duration, Duration) = (Duration::from_millis(5), Duration::from_millis(250));

/// The cutoff of the next step: just after the time of the [`STEP_REQUESTS`]-th oldest
/// request before `cutoff` (`oldest`, if there are that many), else `cutoff` itself;
/// and whether it is the last step.
pub(crate) fn step_cutoff(oldest: Option<i64>, cutoff: i64) -> (i64, bool) {
    match oldest {
        Some(t) if t.saturating_add(1) < cutoff => (t + 1, false),
        _ => (cutoff, true),
    }
}

/// What one step did: what it removed, whether it was the last, and how long it held
/// the write lock (from getting it to its commit).
pub(crate) type Step = (PruneReport, bool, Duration);

/// Runs `step(n)` (one transaction deleting about `n` requests) until the last step,
/// pausing after each, and adds up what they removed. `observe` gets how long each step
/// held the write lock.
pub(crate) fn in_steps<E>(
    observe: &mut dyn FnMut(Duration),
    mut step: impl FnMut(i64) -> Result<Step, E>,
) -> Result<PruneReport, E> {
    let mut total = PruneReport::default();
    let mut n = FIRST_STEP_REQUESTS;
    loop {
        let (report, last, took) = step(n)?;
        observe(took);
        total.add(&report);
        if last {
            return Ok(total);
        }
        n = next_step(n, took);
        std::thread::sleep(took.clamp(PAUSE.0, PAUSE.1));
    }
}

/// The size of the step after one of `n` requests that took `took`: scaled towards
/// [`STEP_TARGET`], at most doubled.
fn next_step(n: i64, took: Duration) -> i64 {
    let took_us = took.as_micros().max(1) as f64;
    let scale = (STEP_TARGET.as_micros() as f64 / took_us).min(2.0);
    ((n as f64 * scale) as i64).clamp(MIN_STEP_REQUESTS, STEP_REQUESTS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_grow_towards_the_target_and_shrink_after_a_slow_one() {
        assert_eq!(next_step(1_000, STEP_TARGET / 10), 2_000);
        assert_eq!(next_step(8_000, Duration::from_millis(1)), STEP_REQUESTS);
        assert_eq!(next_step(1_000, STEP_TARGET * 4), 250);
        assert_eq!(next_step(200, Duration::from_secs(60)), MIN_STEP_REQUESTS);
        assert_eq!(step_cutoff(Some(10), 100), (11, false));
        assert_eq!(step_cutoff(Some(99), 100), (100, true));
        assert_eq!(step_cutoff(None, 100), (100, true));
    }
}
