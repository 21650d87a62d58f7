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
//!
//! A step that runs past its budget ([`STEP_BUDGET`]) is stopped, not merely followed by
//! a smaller one: the engine interrupts its statement (SQLite: the connection's progress
//! handler; PostgreSQL: `statement_timeout`, set before each statement to what is left
//! of the budget) and rolls it back, and a step commits only if its budget has not run
//! out when its commit begins. So a step holds the lock at most its budget plus its
//! commit, or plus its rollback when stopped. A stopped step changed nothing (counters
//! included); the next one asks for an eighth of its requests ([`STOP_SHRINK`]). Progress
//! is guaranteed: when a step of [`MIN_STEP_REQUESTS`] is stopped as well, the next one,
//! of the same size, runs without a budget (to its end), and the steps after it are
//! budgeted again. Every step is reported to the caller as a [`StepRecord`].

use std::time::Duration;

use crate::store::read::dashboard::{PruneReport, StepRecord};

/// Most requests deleted per step (per transaction).
pub const STEP_REQUESTS: i64 = 10_000;
/// Fewest requests deleted per step (but the last).
pub const MIN_STEP_REQUESTS: i64 = 100;
/// Requests deleted by the first step.
pub const FIRST_STEP_REQUESTS: i64 = 1_000;
/// How long a step should hold the write lock.
pub const STEP_TARGET: Duration = Duration::from_millis(100);
pub use crate::store::read::dashboard::STEP_BUDGET;
/// A stopped step of `n` requests is followed by one of `n / STOP_SHRINK`.
pub const STOP_SHRINK: i64 = 8;

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

/// How one step's transaction ended (see the engines' `prune_step`s).
#[derive(Debug)]
pub(crate) enum Attempt {
    /// It committed: what it removed, whether it was the last step, when its commit
    /// began and when it was done (after getting the lock).
    Committed {
        report: PruneReport,
        last: bool,
        committing_at: Duration,
        held: Duration,
    },
    /// Its budget ran out: it was rolled back, done `held` after getting the lock.
    Stopped { held: Duration },
}

impl Attempt {
    /// Whether a step that ran its statements within `budget` and reached its commit
    /// `committing_at` after getting the lock may commit: only before the budget is out.
    pub(crate) fn may_commit(budget: Option<Duration>, committing_at: Duration) -> bool {
        budget.is_none_or(|b| committing_at < b)
    }
}

/// The next step's size and whether it has a budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Plan {
    requests: i64,
    bounded: bool,
}

impl Plan {
    const FIRST: Plan = Plan {
        requests: FIRST_STEP_REQUESTS,
        bounded: true,
    };

    /// The plan after this one's step: committed in `took`, or stopped (`None`).
    fn after(self, took: Option<Duration>) -> Plan {
        match took {
            Some(took) => Plan {
                requests: next_step(self.requests, took),
                bounded: true,
            },
            None if self.requests <= MIN_STEP_REQUESTS => Plan {
                requests: MIN_STEP_REQUESTS,
                bounded: false,
            },
            None => Plan {
                requests: (self.requests / STOP_SHRINK).max(MIN_STEP_REQUESTS),
                bounded: true,
            },
        }
    }
}

/// Runs `step(n, budget)` (one transaction deleting about `n` requests, stopped once
/// `budget` is out) until the last step, pausing after each, and adds up what they
/// removed. `observe` gets each step's [`StepRecord`].
pub(crate) fn in_steps<E>(
    budget: Duration,
    observe: &mut dyn FnMut(&StepRecord),
    mut step: impl FnMut(i64, Option<Duration>) -> Result<Attempt, E>,
) -> Result<PruneReport, E> {
    let mut total = PruneReport::default();
    let mut plan = Plan::FIRST;
    loop {
        let limit = plan.bounded.then_some(budget);
        let attempt = step(plan.requests, limit)?;
        let (held, committing_at, last) = match &attempt {
            Attempt::Committed {
                report,
                last,
                committing_at,
                held,
            } => {
                total.add(report);
                (*held, Some(*committing_at), *last)
            }
            Attempt::Stopped { held } => (*held, None, false),
        };
        observe(&StepRecord {
            requests: plan.requests,
            budget: limit,
            held,
            committing_at,
        });
        if last {
            return Ok(total);
        }
        plan = plan.after(committing_at.map(|_| held));
        std::thread::sleep(held.clamp(PAUSE.0, PAUSE.1));
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

    fn plan(requests: i64, bounded: bool) -> Plan {
        Plan { requests, bounded }
    }

    #[test]
    fn a_stopped_step_is_followed_by_a_much_smaller_budgeted_one() {
        assert_eq!(plan(8_000, true).after(None), plan(1_000, true));
        assert_eq!(plan(STEP_REQUESTS, true).after(None), plan(1_250, true));
        // Never below the minimum.
        assert_eq!(plan(500, true).after(None), plan(MIN_STEP_REQUESTS, true));
    }

    #[test]
    fn a_stopped_minimum_step_is_retried_without_a_budget_then_budgets_resume() {
        let unbounded = plan(MIN_STEP_REQUESTS, true).after(None);
        assert_eq!(unbounded, plan(MIN_STEP_REQUESTS, false));
        // However long the unbounded one takes, the next one is budgeted again.
        let next = unbounded.after(Some(Duration::from_secs(5)));
        assert_eq!(next, plan(MIN_STEP_REQUESTS, true));
        let next = unbounded.after(Some(STEP_TARGET / 4));
        assert_eq!(next, plan(2 * MIN_STEP_REQUESTS, true));
    }

    #[test]
    fn a_step_commits_only_before_its_budget_is_out() {
        let b = Duration::from_millis(200);
        assert!(Attempt::may_commit(Some(b), b - Duration::from_nanos(1)));
        assert!(!Attempt::may_commit(Some(b), b));
        assert!(Attempt::may_commit(None, Duration::from_secs(60)));
    }

    /// A fake step that is stopped whenever it has a budget and asks for more than
    /// `fits` requests; each committed step deletes `n` of `rows`.
    fn run(rows: i64, fits: i64, budget: Duration) -> (PruneReport, Vec<StepRecord>) {
        let mut left = rows;
        let mut records = Vec::new();
        let report = in_steps::<()>(budget, &mut |r| records.push(*r), |n, limit| {
            if limit.is_some() && n > fits {
                return Ok(Attempt::Stopped {
                    held: Duration::ZERO,
                });
            }
            let deleted = n.min(left);
            left -= deleted;
            Ok(Attempt::Committed {
                report: PruneReport {
                    requests: deleted as u64,
                    ..PruneReport::default()
                },
                last: left == 0,
                committing_at: Duration::ZERO,
                held: Duration::ZERO,
            })
        })
        .expect("prune");
        (report, records)
    }

    #[test]
    fn pruning_completes_even_when_every_budgeted_step_is_stopped() {
        // Nothing fits in a budget: every budgeted step is stopped, every other step is
        // an unbounded minimum one, and all rows still go.
        let (report, records) = run(1_000, 0, Duration::ZERO);
        assert_eq!(report.requests, 1_000);
        let stopped = records.iter().filter(|r| r.stopped()).count();
        let unbounded: Vec<_> = records.iter().filter(|r| r.budget.is_none()).collect();
        assert_eq!(unbounded.len(), 10, "1 000 rows in minimum steps");
        assert!(unbounded.iter().all(|r| r.requests == MIN_STEP_REQUESTS));
        assert!(unbounded.iter().all(|r| !r.stopped()));
        // 1 000, 125 and 100 stopped before the first unbounded step; after each of the
        // nine others, 200 (the size doubles after a fast step) and 100.
        assert_eq!(stopped, 3 + 9 * 2);
    }

    #[test]
    fn steps_that_overrun_shrink_until_they_fit() {
        let (report, records) = run(50_000, 300, STEP_BUDGET);
        assert_eq!(report.requests, 50_000);
        assert!(records.iter().all(|r| r.budget == Some(STEP_BUDGET)));
        assert!(records.iter().all(|r| r.stopped() == (r.requests > 300)));
        assert!(records.iter().filter(|r| r.stopped()).count() >= 1);
    }
}
