//! Issues on the writer's side: the issue of a new group (found or created by its
//! fingerprint, cached), and at the end of a batch the issues' counters, the groups'
//! per-version counts and the status changes the batch's occurrences cause.

use super::Writer;
use crate::model::event::ErrorRecord;
use crate::store::issues::{
    self, AlertRule, Change, IssueBatch, IssueChange, IssueStatus, Lifecycle,
};
use crate::store::search;
use crate::store::sql::sqlite;
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

impl Writer<'_> {
    /// The issue of the group `(endpoint, group_hash)` of `e`: cached, else found or
    /// created by the error's fingerprint.
    pub(super) fn issue_of(
        &mut self,
        endpoint: i64,
        group_hash: i64,
        e: &ErrorRecord,
    ) -> rusqlite::Result<i64> {
        let (tx, version) = (self.tx, &self.options.version);
        self.cache
            .issue_of((endpoint, group_hash), e, |fingerprint, message| {
                let search = search::search_text(e, message);
                let (id, _) = super::trace::insert_or_find(
                    tx,
                    "INSERT INTO issue(fingerprint, status, type_name, message, first_seen,
                         last_seen, first_version, last_version, count, search_text, client)
                     VALUES (?1, 'open', ?2, ?3, ?4, ?4, ?5, ?5, 0, ?6, ?7)
                     ON CONFLICT(fingerprint) DO NOTHING",
                    params![
                        fingerprint,
                        e.type_name,
                        message,
                        e.time_ms,
                        version,
                        search,
                        issues::is_client(e)
                    ],
                    "SELECT id FROM issue WHERE fingerprint = ?1",
                    params![fingerprint],
                )?;
                Ok(id)
            })
    }
}

/// Adds the batch's occurrences (all of `version`) to their issues and groups, and
/// applies the status changes they cause; returns what it did to each issue.
pub(super) fn store(
    batch: &IssueBatch,
    tx: &Transaction<'_>,
    version: &str,
) -> rusqlite::Result<Vec<(i64, Change, u32)>> {
    let mut changes = Vec::with_capacity(batch.issues.len());
    let mut versions = tx.prepare_cached(
        "INSERT INTO exception_group_version(group_id, version, count, first_seen, last_seen)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(group_id, version) DO UPDATE SET count = count + excluded.count,
             first_seen = min(first_seen, excluded.first_seen),
             last_seen = max(last_seen, excluded.last_seen)",
    )?;
    for (group, s) in &batch.group_versions {
        versions.execute(params![group, version, s.count, s.first_seen, s.last_seen])?;
    }
    let mut clear = tx.prepare_cached(sqlite!(issues::CLEAR_CLIENT))?;
    for issue in &batch.server {
        clear.execute([issue])?;
    }
    let mut update = tx.prepare_cached(
        "UPDATE issue SET count = count + ?2, first_seen = min(first_seen, ?3),
             last_seen = max(last_seen, ?4),
             last_version = CASE WHEN ?4 >= last_seen THEN ?5 ELSE last_version END,
             first_version = coalesce(first_version, ?5)
         WHERE id = ?1
         RETURNING status, resolved_version, resolve_next, ignore_until_count, ignore_until,
             count",
    )?;
    for (&issue, s) in &batch.issues {
        let state = update
            .query_row(
                params![issue, s.count, s.first_seen, s.last_seen, version],
                |r| {
                    Ok(Lifecycle {
                        status: IssueStatus::parse(&r.get::<_, String>(0)?),
                        resolved_version: r.get(1)?,
                        resolve_next: r.get(2)?,
                        ignore_until_count: r.get(3)?,
                        ignore_until_ms: r.get(4)?,
                        count: r.get(5)?,
                    })
                },
            )
            .optional()?;
        let Some(state) = state else { continue };
        let count_after = state.count;
        let first_seen = |v: &str| -> Option<i64> {
            tx.prepare_cached(sqlite!(issues::VERSION_FIRST_SEEN))
                .and_then(|mut st| st.query_row([v], |r| r.get(0)).optional())
                .ok()
                .flatten()
        };
        let next = issues::after_occurrences(&state, version, s.last_seen, |a, b| {
            issues::version_order(a, b, first_seen)
        });
        if let Some(status) = next {
            tx.prepare_cached(sqlite!(issues::SET_STATUS))?
                .execute(params![issue, status.as_str(), s.last_seen])?;
        }
        let change = issues::change_of(count_after, s.count, next);
        changes.push((issue, change, u32::try_from(s.count).unwrap_or(u32::MAX)));
    }
    Ok(changes)
}

/// The issues of `changes` that alert now, with the facts the alert says: the rate rule
/// counted over the stored occurrences and each alert claimed in the database, so that
/// processes sharing the file alert once between them (see [`issues::wants_alert`]).
pub(super) fn alerts(
    conn: &rusqlite::Connection,
    changes: Vec<(i64, Change, u32)>,
    rule: &AlertRule,
) -> Vec<IssueChange> {
    claim(conn, changes, rule).unwrap_or_default()
}

fn claim(
    conn: &rusqlite::Connection,
    changes: Vec<(i64, Change, u32)>,
    rule: &AlertRule,
) -> rusqlite::Result<Vec<IssueChange>> {
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    let mut claimed = Vec::new();
    for (issue_id, change, occurrences) in changes {
        let recent = |since: i64, limit: i64| {
            tx.prepare_cached(sqlite!(issues::RECENT_OCCURRENCES))
                .and_then(|mut st| st.query_row(params![issue_id, since, limit], |r| r.get(0)))
                .unwrap_or(0)
        };
        if !issues::wants_alert(change, rule, recent) {
            continue;
        }
        let state: Option<(Option<i64>, i64)> = tx
            .prepare_cached(sqlite!(issues::ALERT_STATE))?
            .query_row([issue_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((alerted_at, held)) = state else {
            continue;
        };
        if !issues::may_alert(change, alerted_at, rule.now) {
            tx.prepare_cached(sqlite!(issues::ALERT_HOLD))?
                .execute([issue_id])?;
            continue;
        }
        claimed.push(told(&tx, issue_id, change, occurrences, held, rule.now)?);
    }
    tx.commit()?;
    Ok(claimed)
}

/// Claims issue `issue_id`'s alert at `now` and reads what it says.
fn told(
    tx: &Transaction<'_>,
    issue_id: i64,
    change: Change,
    occurrences: u32,
    held_back: i64,
    now: i64,
) -> rusqlite::Result<IssueChange> {
    tx.prepare_cached(sqlite!(issues::ALERT_CLAIM))?
        .execute(params![issue_id, now])?;
    tx.prepare_cached(sqlite!(issues::ISSUE_FACTS))?
        .query_row([issue_id], |r| {
            Ok(IssueChange {
                issue_id,
                change,
                occurrences,
                type_name: r.get(0)?,
                message: r.get(1)?,
                endpoint: r.get(2)?,
                held_back: u32::try_from(held_back).unwrap_or(u32::MAX),
            })
        })
}

/// The digests due at `now`, claimed (see [`issues::DUE_DIGESTS`]).
pub(super) fn digests(conn: &rusqlite::Connection, now: i64) -> Vec<IssueChange> {
    let claim = || -> rusqlite::Result<Vec<IssueChange>> {
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
        let due: Vec<(i64, i64)> = tx
            .prepare_cached(sqlite!(issues::DUE_DIGESTS))?
            .query_map([now - issues::QUIET_MS], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut told_now = Vec::with_capacity(due.len());
        for (issue_id, held) in due {
            told_now.push(told(&tx, issue_id, Change::Seen, 0, held - 1, now)?);
        }
        tx.commit()?;
        Ok(told_now)
    };
    claim().unwrap_or_default()
}
