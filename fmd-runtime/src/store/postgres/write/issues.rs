//! Issues on the writer's side: the issue of a group new in the batch (found or created
//! by its fingerprint, cached), and after the groups are stored the issues' counters, the
//! groups' per-version counts and the status changes the batch's occurrences cause.

use super::Writer;
use super::statements::Statements;
use crate::model::event::ErrorRecord;
use crate::store::issues::{
    self, AlertRule, Change, IssueBatch, IssueChange, IssueStatus, Lifecycle,
};
use crate::store::postgres::text;
use crate::store::search;
use postgres::Transaction;

impl Writer<'_, '_> {
    /// The issue of the group `(endpoint, group_hash)` of `e`: cached, else found or
    /// created by the error's fingerprint.
    pub(super) fn issue_of(
        &mut self,
        endpoint: i64,
        group_hash: i64,
        e: &ErrorRecord,
    ) -> Result<i64, postgres::Error> {
        let (tx, st) = (&mut *self.tx, self.st);
        let version = text(&self.options.version);
        self.cache
            .issue_of((endpoint, group_hash), e, |fingerprint, message| {
                let search = search::search_text(e, message);
                let (type_name, message, search) =
                    (text(&e.type_name), text(message), text(&search));
                let inserted = tx.query_opt(
                    &st.insert_issue,
                    &[
                        &fingerprint,
                        &&*type_name,
                        &&*message,
                        &e.time_ms,
                        &&*version,
                        &&*search,
                        &issues::is_client(e),
                    ],
                )?;
                match inserted {
                    Some(row) => Ok(row.get(0)),
                    None => Ok(tx.query_one(&st.select_issue, &[&fingerprint])?.get(0)),
                }
            })
    }
}

/// Adds the batch's occurrences (all of `version`) to their issues and groups, and
/// applies the status changes they cause.
pub(super) fn store(
    batch: &IssueBatch,
    tx: &mut Transaction<'_>,
    st: &Statements,
    version: &str,
) -> Result<Vec<(i64, Change, u32)>, postgres::Error> {
    if batch.issues.is_empty() {
        return Ok(Vec::new());
    }
    let version = text(version);
    let col = |m: &std::collections::BTreeMap<i64, issues::Sums>,
               f: fn(&i64, &issues::Sums) -> i64| {
        m.iter().map(|(k, s)| f(k, s)).collect::<Vec<i64>>()
    };
    let g = &batch.group_versions;
    tx.execute(
        &st.group_versions,
        &[
            &col(g, |k, _| *k),
            &&*version,
            &col(g, |_, s| s.count),
            &col(g, |_, s| s.first_seen),
            &col(g, |_, s| s.last_seen),
        ],
    )?;
    let server: Vec<i64> = batch.server.iter().copied().collect();
    tx.execute(
        "UPDATE issue SET client = FALSE WHERE id = ANY($1) AND client",
        &[&server],
    )?;
    let i = &batch.issues;
    let rows = tx.query(
        &st.count_issues,
        &[
            &col(i, |k, _| *k),
            &col(i, |_, s| s.count),
            &col(i, |_, s| s.first_seen),
            &col(i, |_, s| s.last_seen),
            &&*version,
        ],
    )?;
    let mut changes = Vec::new();
    let mut news = Vec::with_capacity(rows.len());
    for r in rows {
        let state = Lifecycle {
            status: IssueStatus::parse(r.get(1)),
            resolved_version: r.get(2),
            resolve_next: r.get(3),
            ignore_until_count: r.get(4),
            ignore_until_ms: r.get(5),
            count: r.get(6),
        };
        let last_seen: i64 = r.get(7);
        let id: i64 = r.get(0);
        let added = batch.issues.get(&id).map_or(0, |s| s.count);
        news.push((id, state.count == added, added));
        if state.status == IssueStatus::Open || state.status == IssueStatus::Regressed {
            continue;
        }
        changes.push((r.get::<_, i64>(0), state, last_seen));
    }
    let mut regressed = std::collections::BTreeSet::new();
    for (id, state, last_seen) in changes {
        let mut first_seen = |v: &str| -> Option<i64> {
            tx.query_opt(issues::VERSION_FIRST_SEEN, &[&v])
                .ok()
                .flatten()
                .map(|r| r.get(0))
        };
        let mut order = |a: &str, b: &str| {
            let (fa, fb) = (first_seen(a), first_seen(b));
            issues::version_order(a, b, |v| if v == a { fa } else { fb })
        };
        if let Some(status) = issues::after_occurrences(&state, &version, last_seen, &mut order) {
            tx.execute(issues::SET_STATUS, &[&id, &status.as_str(), &last_seen])?;
            if status == IssueStatus::Regressed {
                regressed.insert(id);
            }
        }
    }
    Ok(news
        .into_iter()
        .map(|(id, new, added)| {
            let change = match (new, regressed.contains(&id)) {
                (true, _) => Change::New,
                (false, true) => Change::Regressed,
                (false, false) => Change::Seen,
            };
            (id, change, u32::try_from(added).unwrap_or(u32::MAX))
        })
        .collect())
}

/// The issues of `changes` that alert now, with the facts the alert says: the rate rule
/// counted over the stored occurrences of every instance and each alert claimed under
/// the issue's row lock, so that instances sharing the database alert once between them
/// (see [`issues::wants_alert`]).
pub(super) fn alerts(
    client: &mut postgres::Client,
    changes: Vec<(i64, Change, u32)>,
    rule: &AlertRule,
) -> Vec<IssueChange> {
    claim(client, changes, rule).unwrap_or_default()
}

fn claim(
    client: &mut postgres::Client,
    changes: Vec<(i64, Change, u32)>,
    rule: &AlertRule,
) -> Result<Vec<IssueChange>, postgres::Error> {
    let mut tx = client.transaction()?;
    let state = format!("{} FOR UPDATE", issues::ALERT_STATE);
    let mut claimed = Vec::new();
    for (issue_id, change, occurrences) in changes {
        let recent = |since: i64, limit: i64| {
            tx.query_one(issues::RECENT_OCCURRENCES, &[&issue_id, &since, &limit])
                .map_or(0, |r| r.get(0))
        };
        if !issues::wants_alert(change, rule, recent) {
            continue;
        }
        let Some(row) = tx.query_opt(&state, &[&issue_id])? else {
            continue;
        };
        let (alerted_at, held): (Option<i64>, i64) = (row.get(0), row.get(1));
        if !issues::may_alert(change, alerted_at, rule.now) {
            tx.execute(issues::ALERT_HOLD, &[&issue_id])?;
            continue;
        }
        claimed.extend(told(
            &mut tx,
            issue_id,
            change,
            occurrences,
            held,
            rule.now,
        )?);
    }
    tx.commit()?;
    Ok(claimed)
}

/// Claims issue `issue_id`'s alert at `now` and reads what it says.
fn told(
    tx: &mut Transaction<'_>,
    issue_id: i64,
    change: Change,
    occurrences: u32,
    held_back: i64,
    now: i64,
) -> Result<Option<IssueChange>, postgres::Error> {
    tx.execute(issues::ALERT_CLAIM, &[&issue_id, &now])?;
    Ok(tx
        .query_opt(issues::ISSUE_FACTS, &[&issue_id])?
        .map(|r| IssueChange {
            issue_id,
            change,
            occurrences,
            type_name: r.get(0),
            message: r.get(1),
            endpoint: r.get(2),
            held_back: u32::try_from(held_back).unwrap_or(u32::MAX),
        }))
}

/// The digests due at `now`, claimed (see [`issues::DUE_DIGESTS`]); an issue another
/// instance is claiming is left to it.
pub(super) fn digests(client: &mut postgres::Client, now: i64) -> Vec<IssueChange> {
    let mut claim = || -> Result<Vec<IssueChange>, postgres::Error> {
        let mut tx = client.transaction()?;
        let due = format!("{} FOR UPDATE SKIP LOCKED", issues::DUE_DIGESTS);
        let rows = tx.query(&due, &[&(now - issues::QUIET_MS)])?;
        let mut told_now = Vec::with_capacity(rows.len());
        for r in rows {
            let (issue_id, held): (i64, i64) = (r.get(0), r.get(1));
            told_now.extend(told(&mut tx, issue_id, Change::Seen, 0, held - 1, now)?);
        }
        tx.commit()?;
        Ok(told_now)
    };
    claim().unwrap_or_default()
}
