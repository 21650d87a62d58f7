//! Issues: one bug, across deploys. An issue collects exception groups (its *variants*)
//! by a fingerprint that survives code edits — the error type, the message with its
//! variable parts replaced by placeholders, and the sequence of in-app functions on the
//! trace by module and name (no lines, no code hash) — and has a lifecycle: open,
//! resolved (now or in the next version), regressed, ignored.
//!
//! Everything here is plain logic shared by both engines: the fingerprint, the order of
//! two versions, what an occurrence does to an issue's status, and which variant is a
//! "suspect change".

use crate::model::event::{ErrorRecord, TraceFrame};
use crate::store::grouping::normalize_message;
use once_cell::sync::Lazy;
use regex::Regex;
use serde::Serialize;
use std::borrow::Cow;
use std::cmp::Ordering;
use xxhash_rust::xxh3::Xxh3;

static QUOTED: Lazy<Regex> =
    Lazy::new(|| Regex::new(r#"'[^'\n]*'|"[^"\n]*"|`[^`\n]*`"#).expect("valid regex"));

/// The message as an issue knows it: quoted values, UUIDs, hexadecimal ids and numbers
/// replaced by placeholders (`user "bob" has 3 orders` → `user <q> has <n> orders`).
/// The exact message stays with each occurrence.
pub fn issue_message(message: &str) -> Cow<'_, str> {
    let unquoted = if message.contains(['\'', '"', '`']) {
        QUOTED.replace_all(message, "<q>")
    } else {
        Cow::Borrowed(message)
    };
    match normalize_message(&unquoted) {
        Cow::Borrowed(_) => unquoted,
        Cow::Owned(s) => Cow::Owned(s),
    }
}

/// The fingerprint of an issue from its parts: `functions` are the in-app frames'
/// `(module, name)`, innermost first.
pub fn fingerprint<'a>(
    type_name: &str,
    normalized_message: &str,
    functions: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> i64 {
    let mut h = Xxh3::new();
    h.update(type_name.as_bytes());
    h.update(&[0]);
    h.update(normalized_message.as_bytes());
    h.update(&[0]);
    for (module, name) in functions {
        h.update(module.as_bytes());
        h.update(b"::");
        h.update(name.as_bytes());
        h.update(&[0]);
    }
    h.digest() as i64
}

/// The fingerprint of an error as the writer sees it, and its normalized message.
pub fn error_fingerprint(record: &ErrorRecord) -> (i64, String) {
    let message = issue_message(&record.message);
    let functions = record.frames.iter().filter_map(|f| match f {
        TraceFrame::App { info, .. } => Some((info.module, info.name)),
        TraceFrame::Other { .. } => None,
    });
    let hash = fingerprint(&record.type_name, &message, functions);
    (hash, message.into_owned())
}

/// Where an issue stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum IssueStatus {
    /// New, or reopened by hand; the default.
    #[default]
    Open,
    /// Marked fixed: an occurrence in the resolving version or a later one regresses it.
    Resolved,
    /// Happened again after it was resolved.
    Regressed,
    /// Hidden: forever, until a number of further occurrences, or until a date.
    Ignored,
}

impl IssueStatus {
    /// The stored (and API) spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            IssueStatus::Open => "open",
            IssueStatus::Resolved => "resolved",
            IssueStatus::Regressed => "regressed",
            IssueStatus::Ignored => "ignored",
        }
    }

    /// Reads the stored spelling; anything unknown is `Open`.
    pub fn parse(s: &str) -> IssueStatus {
        match s {
            "resolved" => IssueStatus::Resolved,
            "regressed" => IssueStatus::Regressed,
            "ignored" => IssueStatus::Ignored,
            _ => IssueStatus::Open,
        }
    }
}

/// What a user does to an issue from the dashboard or the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueAction {
    /// Resolved in the latest version it was seen in.
    Resolve,
    /// Resolved once a version newer than the latest it was seen in appears: occurrences
    /// in that latest version do not regress it.
    ResolveNext,
    /// Ignored forever (both `None`), until `count` more occurrences, or until `until_ms`.
    Ignore {
        /// Further occurrences after which it opens again.
        count: Option<i64>,
        /// Time (Unix ms) after which an occurrence opens it again.
        until_ms: Option<i64>,
    },
    /// Back to open.
    Reopen,
}

/// The lifecycle columns of a stored issue, as the writer reads them after counting a
/// batch's occurrences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifecycle {
    /// Current status.
    pub status: IssueStatus,
    /// The version it was resolved in (resolved issues).
    pub resolved_version: Option<String>,
    /// Resolved "in the next version": only versions after `resolved_version` regress it.
    pub resolve_next: bool,
    /// Ignored until its count reaches this.
    pub ignore_until_count: Option<i64>,
    /// Ignored until this time (Unix ms).
    pub ignore_until_ms: Option<i64>,
    /// Occurrences, this batch's included.
    pub count: i64,
}

/// The status an issue takes after a batch of its occurrences in `version`, the latest at
/// `time_ms`; `None` when it stays as it is. `order` compares two versions
/// ([`version_order`]): a late event from a version before the resolving one never
/// reopens an issue.
pub fn after_occurrences(
    issue: &Lifecycle,
    version: &str,
    time_ms: i64,
    order: impl FnOnce(&str, &str) -> Ordering,
) -> Option<IssueStatus> {
    match issue.status {
        IssueStatus::Open | IssueStatus::Regressed => None,
        IssueStatus::Resolved => {
            let Some(resolved) = issue.resolved_version.as_deref() else {
                return Some(IssueStatus::Regressed);
            };
            let o = order(version, resolved);
            let regressed = if issue.resolve_next {
                o == Ordering::Greater
            } else {
                o != Ordering::Less
            };
            regressed.then_some(IssueStatus::Regressed)
        }
        IssueStatus::Ignored => {
            let by_count = issue.ignore_until_count.is_some_and(|n| issue.count >= n);
            let by_time = issue.ignore_until_ms.is_some_and(|t| time_ms >= t);
            (by_count || by_time).then_some(IssueStatus::Open)
        }
    }
}

/// The order of two versions: semantic versioning where both parse (a leading `v` is
/// allowed), else the order they were first seen (`first_seen` of each; a version not
/// seen yet is the newest).
pub fn version_order(a: &str, b: &str, first_seen: impl Fn(&str) -> Option<i64>) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let parse = |v: &str| semver::Version::parse(v.strip_prefix('v').unwrap_or(v)).ok();
    if let (Some(x), Some(y)) = (parse(a), parse(b)) {
        return x.cmp(&y);
    }
    let seen = |v: &str| first_seen(v).unwrap_or(i64::MAX);
    seen(a).cmp(&seen(b))
}

/// A batch's occurrences of one issue or one group (in the batch's one version).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sums {
    pub count: i64,
    pub first_seen: i64,
    pub last_seen: i64,
}

/// What a batch adds to issues and to groups' per-version counts, by id (sorted: rows
/// are updated in key order, so concurrent writers do not deadlock).
#[derive(Default)]
pub(crate) struct IssueBatch {
    pub issues: std::collections::BTreeMap<i64, Sums>,
    pub group_versions: std::collections::BTreeMap<i64, Sums>,
    /// The issues with an occurrence in the batch that is no client error: only these
    /// may alert, and none of them is a client error issue any more (see
    /// [`CLEAR_CLIENT`]).
    pub server: std::collections::BTreeSet<i64>,
}

impl IssueBatch {
    /// Counts one occurrence at `time_ms` of group `group` in issue `issue`; `server`:
    /// it is no client error.
    pub(crate) fn add(&mut self, issue: i64, group: i64, time_ms: i64, server: bool) {
        let one = Sums {
            count: 1,
            first_seen: time_ms,
            last_seen: time_ms,
        };
        self.add_sums(issue, group, one);
        if server {
            self.server.insert(issue);
        }
    }

    /// Of a batch's `changes`, the ones that may alert: a client error never does, so an
    /// issue whose occurrences in the batch were all client errors is left out.
    pub(crate) fn alerting<T>(&self, changes: Vec<(i64, T, u32)>) -> Vec<(i64, T, u32)> {
        changes
            .into_iter()
            .filter(|(issue, ..)| self.server.contains(issue))
            .collect()
    }

    /// Counts `sums` of group `group` in issue `issue`.
    pub(crate) fn add_sums(&mut self, issue: i64, group: i64, sums: Sums) {
        for (map, key) in [(&mut self.issues, issue), (&mut self.group_versions, group)] {
            let s = map.entry(key).or_insert(Sums {
                count: 0,
                first_seen: sums.first_seen,
                last_seen: sums.last_seen,
            });
            s.count += sums.count;
            s.first_seen = s.first_seen.min(sums.first_seen);
            s.last_seen = s.last_seen.max(sums.last_seen);
        }
    }
}

/// An issue is a *client error issue* (`issue.client`) while every occurrence it had was a
/// client error (kind 3: a handler's outcome that became a 4xx answer); its first other
/// occurrence makes it a server error issue for good. Run for the issues of
/// [`IssueBatch::server`].
pub(crate) const CLEAR_CLIENT: &str = "UPDATE issue SET client = FALSE WHERE id = $1 AND client";

/// Marks the stored issues whose stored occurrences are all client errors (the upgrade
/// that adds `issue.client`; both engines).
pub(crate) const BACKFILL_CLIENT: &str = "UPDATE issue SET client = TRUE
    WHERE EXISTS (SELECT 1 FROM exception_group g JOIN exception_occurrence o ON o.group_id = g.id
                  WHERE g.issue_id = issue.id AND o.kind = 3)
      AND NOT EXISTS (SELECT 1 FROM exception_group g
                      JOIN exception_occurrence o ON o.group_id = g.id
                      WHERE g.issue_id = issue.id AND o.kind <> 3);";

/// Whether an error starts a client error issue.
pub(crate) fn is_client(e: &ErrorRecord) -> bool {
    e.kind == crate::model::event::ErrorKind::Client
}

/// Sets the status `$2` of issue `$1` at `$3` (Unix ms), clearing what the old status
/// kept (the writer's transitions: regressed, open again after an ignore).
pub(crate) const SET_STATUS: &str = "UPDATE issue SET status = $2, resolved_version = NULL,
     resolve_next = FALSE, ignore_until_count = NULL, ignore_until = NULL,
     status_changed = $3 WHERE id = $1";

/// The first time version `$1` was seen.
pub(crate) const VERSION_FIRST_SEEN: &str = "SELECT first_seen FROM app_version WHERE version = $1";

/// One variant's occurrences in one version.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VersionCount {
    /// The application version.
    pub version: String,
    /// Occurrences in it.
    pub count: u64,
    /// First occurrence in it.
    pub first_seen: i64,
    /// Latest occurrence in it.
    pub last_seen: i64,
}

/// Which variants are "suspect changes": a variant whose first version (the version of
/// its earliest occurrence) came after a clean stretch — some version, among `versions`
/// (every version seen, oldest first), before it in which the issue did not happen at
/// all, directly before it. `variants[i]` are the per-version counts of variant `i`.
pub fn suspect_changes(versions: &[String], variants: &[Vec<VersionCount>]) -> Vec<bool> {
    let position = |v: &str| versions.iter().position(|x| x == v);
    let affected: std::collections::HashSet<&str> = variants
        .iter()
        .flatten()
        .map(|c| c.version.as_str())
        .collect();
    let firsts: Vec<Option<&VersionCount>> = variants
        .iter()
        .map(|v| v.iter().min_by_key(|c| c.first_seen))
        .collect();
    firsts
        .iter()
        .enumerate()
        .map(|(i, first)| {
            let Some(first) = first else { return false };
            let Some(at) = position(&first.version) else {
                return false;
            };
            // The first variant seen in that version, and the version before it was clean.
            let earliest_in_version = firsts.iter().enumerate().all(|(j, other)| {
                j == i
                    || other.is_none_or(|o| {
                        o.version != first.version || o.first_seen > first.first_seen
                    })
            });
            earliest_in_version && at > 0 && !affected.contains(versions[at - 1].as_str())
        })
        .collect()
}

/// What a batch did to an issue, as alerts need it (see [`Store::take_issue_changes`](crate::store::Store::take_issue_changes)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The batch created it (its first occurrences).
    New,
    /// The batch regressed it (resolved, now seen again at or after its version).
    Regressed,
    /// The batch added occurrences, nothing more.
    Seen,
}

/// One issue a batch touched, with what the alert says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueChange {
    /// The issue.
    pub issue_id: i64,
    /// What the batch did to it.
    pub change: Change,
    /// Occurrences the batch added.
    pub occurrences: u32,
    /// The error's type name.
    pub type_name: String,
    /// The issue's (normalized) message.
    pub message: String,
    /// The endpoint of its most recent variant.
    pub endpoint: String,
    /// Alerts of this issue held back in its quiet hour (by any instance) and told in
    /// this one.
    pub held_back: u32,
}

/// One alert per issue per this long, over all instances sharing the database.
pub const QUIET_MS: i64 = 3_600_000;

/// What the writer needs to decide which of a batch's issues alert; the decision is
/// taken in the database, so instances sharing it alert once between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertRule {
    /// The rate rule: this many occurrences (of all instances) in this many minutes.
    pub rate: Option<(u32, u32)>,
    /// Now, unix ms.
    pub now: i64,
}

/// Up to `$3` occurrences of issue `$1` since `$2` (unix ms), by every instance.
pub(crate) const RECENT_OCCURRENCES: &str = "SELECT count(*) FROM (SELECT 1
    FROM exception_occurrence o JOIN exception_group g ON g.id = o.group_id
    WHERE g.issue_id = $1 AND o.time >= $2 LIMIT $3) AS recent";

/// When issue `$1` last alerted, and how many alerts it held back since.
pub(crate) const ALERT_STATE: &str = "SELECT alerted_at, alert_held FROM issue WHERE id = $1";

/// Issue `$1` alerts at `$2`: its quiet hour starts, its held alerts are told.
pub(crate) const ALERT_CLAIM: &str =
    "UPDATE issue SET alerted_at = $2, alert_held = 0 WHERE id = $1";

/// Issue `$1` holds back one more alert.
pub(crate) const ALERT_HOLD: &str = "UPDATE issue SET alert_held = alert_held + 1 WHERE id = $1";

/// Issues whose quiet hour ended at `$1` (it began then or before) with alerts held back
/// in it: `id, alert_held`, the oldest first, a hundred at most. Their digest is a rate
/// alert (only rate alerts are held: a new issue has no quiet hour yet, a regression is
/// always told) saying "and N more".
pub(crate) const DUE_DIGESTS: &str = "SELECT id, alert_held FROM issue
    WHERE alert_held > 0 AND alerted_at <= $1 ORDER BY alerted_at LIMIT 100";

/// Whether a batch's `change` of an issue asks for an alert: a new issue and a
/// regression always, other occurrences when the issue's stored occurrences of the rate
/// window (`recent(since, limit)`, all instances') reach the rate rule.
pub(crate) fn wants_alert(
    change: Change,
    rule: &AlertRule,
    recent: impl FnOnce(i64, i64) -> i64,
) -> bool {
    match (change, rule.rate) {
        (Change::New | Change::Regressed, _) => true,
        (Change::Seen, None) => false,
        (Change::Seen, Some((count, minutes))) => {
            let since = rule.now - i64::from(minutes) * 60_000;
            recent(since, i64::from(count)) >= i64::from(count)
        }
    }
}

/// Whether an alert of `change` is sent now, the issue having last alerted at
/// `alerted_at`: outside its quiet hour, or a regression (which only follows a resolve,
/// so it is always told).
pub(crate) fn may_alert(change: Change, alerted_at: Option<i64>, now: i64) -> bool {
    change == Change::Regressed || alerted_at.is_none_or(|at| now - at >= QUIET_MS)
}

/// `type_name, message, endpoint` of issue `$1` (the endpoint of its newest variant).
pub(crate) const ISSUE_FACTS: &str = "SELECT i.type_name, i.message,
        coalesce((SELECT e.name FROM exception_group g JOIN endpoint e ON e.id = g.endpoint_id
                  WHERE g.issue_id = i.id ORDER BY g.last_seen DESC LIMIT 1), '')
    FROM issue i WHERE i.id = $1";

/// `(issue, change, occurrences)` of a batch's issues, from each issue's count after the
/// batch and the status the batch moved it to.
pub(crate) fn change_of(count_after: i64, added: i64, next: Option<IssueStatus>) -> Change {
    if count_after == added {
        Change::New
    } else if next == Some(IssueStatus::Regressed) {
        Change::Regressed
    } else {
        Change::Seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_and_ids_become_placeholders() {
        assert_eq!(
            issue_message("user \"bob\" has 3 orders in 'eu-1'"),
            "user <q> has <n> orders in <q>"
        );
        assert_eq!(issue_message("plain words"), "plain words");
        assert_eq!(
            issue_message("id 123e4567-e89b-12d3-a456-426614174000 at `x`"),
            "id <uuid> at <q>"
        );
    }

    #[test]
    fn versions_order_by_semver_else_by_first_seen() {
        let none = |_: &str| None;
        assert_eq!(version_order("1.10.0", "1.9.0", none), Ordering::Greater);
        assert_eq!(version_order("v2.0.0", "1.9.9", none), Ordering::Greater);
        let seen = |v: &str| match v {
            "blue" => Some(10),
            "green" => Some(20),
            _ => None,
        };
        assert_eq!(version_order("blue", "green", seen), Ordering::Less);
        assert_eq!(version_order("red", "green", seen), Ordering::Greater);
    }

    fn lifecycle(status: IssueStatus) -> Lifecycle {
        Lifecycle {
            status,
            resolved_version: Some("1.0.0".into()),
            resolve_next: false,
            ignore_until_count: None,
            ignore_until_ms: None,
            count: 5,
        }
    }

    #[test]
    fn resolved_regresses_at_or_after_its_version_only() {
        let order = |a: &str, b: &str| version_order(a, b, |_| None);
        let now = lifecycle(IssueStatus::Resolved);
        assert_eq!(
            after_occurrences(&now, "1.0.0", 0, order),
            Some(IssueStatus::Regressed)
        );
        assert_eq!(after_occurrences(&now, "0.9.0", 0, order), None);
        let next = Lifecycle {
            resolve_next: true,
            ..now
        };
        assert_eq!(after_occurrences(&next, "1.0.0", 0, order), None);
        assert_eq!(
            after_occurrences(&next, "1.0.1", 0, order),
            Some(IssueStatus::Regressed)
        );
    }

    #[test]
    fn ignored_opens_after_its_count_or_date() {
        let order = |_: &str, _: &str| Ordering::Equal;
        let forever = lifecycle(IssueStatus::Ignored);
        assert_eq!(after_occurrences(&forever, "1", i64::MAX, order), None);
        let counted = Lifecycle {
            ignore_until_count: Some(5),
            ..forever.clone()
        };
        assert_eq!(
            after_occurrences(&counted, "1", 0, order),
            Some(IssueStatus::Open)
        );
        let dated = Lifecycle {
            ignore_until_ms: Some(100),
            ..forever
        };
        assert_eq!(after_occurrences(&dated, "1", 99, order), None);
        assert_eq!(
            after_occurrences(&dated, "1", 100, order),
            Some(IssueStatus::Open)
        );
    }

    #[test]
    fn a_variant_after_a_clean_version_is_a_suspect_change() {
        let vc = |v: &str, t: i64| VersionCount {
            version: v.into(),
            count: 1,
            first_seen: t,
            last_seen: t,
        };
        let versions: Vec<String> = ["1", "2", "3"].map(String::from).to_vec();
        // Variant 0 in version 1; clean in 2; variant 1 appears in 3.
        let s = suspect_changes(&versions, &[vec![vc("1", 1)], vec![vc("3", 5)]]);
        assert_eq!(s, vec![false, true]);
        // Happening in every version: nothing suspect.
        let s = suspect_changes(&versions, &[vec![vc("1", 1), vc("2", 2)], vec![vc("3", 5)]]);
        assert_eq!(s, vec![false, false]);
    }

    #[test]
    fn what_alerts_and_when_over_all_instances() {
        let rule = AlertRule {
            rate: Some((5, 10)),
            now: 10_000_000,
        };
        let never = |_: i64, _: i64| -> i64 { panic!("no count needed") };
        assert!(wants_alert(Change::New, &rule, never));
        assert!(wants_alert(Change::Regressed, &rule, never));
        let since = rule.now - 600_000;
        assert!(!wants_alert(Change::Seen, &rule, |s, limit| {
            assert_eq!((s, limit), (since, 5));
            4
        }));
        assert!(wants_alert(Change::Seen, &rule, |_, _| 5));
        let no_rate = AlertRule { rate: None, ..rule };
        assert!(!wants_alert(Change::Seen, &no_rate, never));

        let now = rule.now;
        assert!(may_alert(Change::Seen, None, now));
        assert!(!may_alert(Change::Seen, Some(now - QUIET_MS + 1), now));
        assert!(may_alert(Change::Seen, Some(now - QUIET_MS), now));
        assert!(
            may_alert(Change::Regressed, Some(now - 1), now),
            "a regression follows a resolve: always told"
        );
    }
}
