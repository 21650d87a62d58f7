//! Pruning on PostgreSQL: how a step of pruning holds its row locks at most its budget
//! (plus its commit or rollback), see [`crate::store::prune`]. Each statement of a step
//! runs with `statement_timeout` set to what is left of the budget, so the server
//! cancels the one that would run past it; the step then rolls back.

use std::time::{Duration, Instant};

use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Row, Transaction};

use crate::store::prune;
use crate::store::read::dashboard::PruneReport;

/// A step's transaction whose every statement is bounded by what is left of the budget.
pub(super) struct Budgeted<'a> {
    tx: Transaction<'a>,
    locked: Instant,
    budget: Option<Duration>,
}

impl Budgeted<'_> {
    /// Bounds the next statement by what is left of the budget (at least a millisecond:
    /// once the budget is out, the next statement is cancelled or the commit refused).
    fn limit(&mut self) -> Result<(), postgres::Error> {
        match self.budget {
            Some(b) => {
                let left = b.saturating_sub(self.locked.elapsed()).as_millis().max(1);
                self.tx
                    .batch_execute(&format!("SET LOCAL statement_timeout = {left}"))
            }
            None => Ok(()),
        }
    }

    /// [`Transaction::execute`], bounded.
    pub(super) fn execute(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, postgres::Error> {
        self.limit()?;
        self.tx.execute(sql, params)
    }

    /// [`Transaction::query`], bounded.
    pub(super) fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, postgres::Error> {
        self.limit()?;
        self.tx.query(sql, params)
    }

    /// [`Transaction::query_one`], bounded.
    pub(super) fn query_one(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, postgres::Error> {
        self.limit()?;
        self.tx.query_one(sql, params)
    }

    /// [`Transaction::query_opt`], bounded.
    pub(super) fn query_opt(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, postgres::Error> {
        self.limit()?;
        self.tx.query_opt(sql, params)
    }

    /// [`Transaction::batch_execute`], bounded (each statement of the batch by what is
    /// left before the batch).
    pub(super) fn batch_execute(&mut self, sql: &str) -> Result<(), postgres::Error> {
        self.limit()?;
        self.tx.batch_execute(sql)
    }
}

/// Runs one step: `body` in a transaction whose statements are bounded by `budget` from
/// its start. The step commits only if the budget has not run out when its commit
/// begins; otherwise, or when the server cancelled a statement, it is rolled back (it
/// changed nothing) and reported stopped once the rollback is done. `body` returns what
/// it removed and whether it was the last step.
pub(super) fn bounded_step(
    client: &mut postgres::Client,
    budget: Option<Duration>,
    body: impl FnOnce(&mut Budgeted<'_>) -> Result<(PruneReport, bool), postgres::Error>,
) -> Result<prune::Attempt, postgres::Error> {
    // Row locks, taken statement by statement: the step holds them until its commit.
    let locked = Instant::now();
    let mut step = Budgeted {
        tx: client.transaction()?,
        locked,
        budget,
    };
    let done = body(&mut step);
    let committing_at = locked.elapsed();
    match done {
        Ok((report, last)) if prune::Attempt::may_commit(budget, committing_at) => {
            if budget.is_some() {
                // The commit runs to its end.
                step.tx.batch_execute("SET LOCAL statement_timeout = 0")?;
            }
            step.tx.commit()?;
            Ok(prune::Attempt::Committed {
                report,
                last,
                committing_at,
                held: locked.elapsed(),
            })
        }
        Ok(_) => roll_back(step),
        Err(e) if budget.is_some() && e.code() == Some(&SqlState::QUERY_CANCELED) => {
            roll_back(step)
        }
        Err(e) => Err(e),
    }
}

/// Rolls a stopped step back, reporting when that was done.
fn roll_back(step: Budgeted<'_>) -> Result<prune::Attempt, postgres::Error> {
    step.tx.rollback()?;
    Ok(prune::Attempt::Stopped {
        held: step.locked.elapsed(),
    })
}
