//! The schema-6 upgrade's issues: every stored group is given the issue its fingerprint
//! names (computed in Rust exactly as the writer computes it), so an upgraded database
//! lists the same issues it would have had from the start. Shared SQL and the plan; each
//! engine runs them in its migration transaction.

use crate::store::issues::{fingerprint, issue_message};
use std::collections::BTreeMap;

/// Groups without an issue: id, type, latest message, count, first and last seen.
pub(crate) const GROUPS_WITHOUT_ISSUE: &str =
    "SELECT g.id, t.name, m.message, g.count, g.first_seen, g.last_seen
     FROM exception_group g
     JOIN exception_type t ON t.id = g.type_id
     JOIN exception_message m ON m.id = g.message_id
     WHERE g.issue_id IS NULL ORDER BY g.id";

/// The in-app functions on the traces of groups without an issue, innermost first.
pub(crate) const FUNCTIONS_WITHOUT_ISSUE: &str = "SELECT g.id, l.module, l.name
     FROM exception_group g
     JOIN exception_stackline s ON s.snapshot_id = g.snapshot_id
     JOIN exception_frame f ON f.id = s.frame_id
     JOIN function_location l ON l.id = f.location_id
     WHERE g.issue_id IS NULL AND l.in_app = TRUE ORDER BY g.id, s.position";

/// The occurrences per group and version, from the requests they happened in.
pub(crate) const GROUP_VERSIONS: &str =
    "INSERT INTO exception_group_version (group_id, version, count, first_seen, last_seen)
     SELECT o.group_id, r.version, count(*), min(o.time), max(o.time)
     FROM exception_occurrence o JOIN request r ON r.id = o.request_id
     GROUP BY o.group_id, r.version
     ON CONFLICT DO NOTHING";

/// Adds a planned issue: `$1` fingerprint, `$2` type, `$3` message, `$4` first and
/// `$5` last seen, `$6` count. Returns its id.
pub(crate) const INSERT_ISSUE: &str = "INSERT INTO issue (fingerprint, status, type_name,
         message, first_seen, last_seen, count)
     VALUES ($1, 'open', $2, $3, $4, $5, $6)
     ON CONFLICT (fingerprint) DO UPDATE SET count = issue.count + excluded.count
     RETURNING id";

/// Sets the issue `$1` of group `$2`.
pub(crate) const SET_GROUP_ISSUE: &str = "UPDATE exception_group SET issue_id = $1 WHERE id = $2";

/// Every issue's first and last version, from its groups' versions.
pub(crate) const ISSUE_VERSIONS: &str = "UPDATE issue SET
     first_version = (SELECT gv.version FROM exception_group_version gv
         JOIN exception_group g ON g.id = gv.group_id
         WHERE g.issue_id = issue.id ORDER BY gv.first_seen, gv.version LIMIT 1),
     last_version = (SELECT gv.version FROM exception_group_version gv
         JOIN exception_group g ON g.id = gv.group_id
         WHERE g.issue_id = issue.id ORDER BY gv.last_seen DESC, gv.version LIMIT 1)
     WHERE first_version IS NULL";

/// A stored group as the upgrade reads it.
pub(crate) struct StoredGroup {
    pub id: i64,
    pub type_name: String,
    pub message: String,
    pub count: i64,
    pub first_seen: i64,
    pub last_seen: i64,
}

/// One issue to insert and the groups that are its variants.
pub(crate) struct PlannedIssue {
    pub fingerprint: i64,
    pub type_name: String,
    pub message: String,
    pub count: i64,
    pub first_seen: i64,
    pub last_seen: i64,
    pub groups: Vec<i64>,
}

/// Groups by issue fingerprint; `functions` are each group's in-app `(module, name)`,
/// innermost first.
pub(crate) fn plan(
    groups: Vec<StoredGroup>,
    functions: &BTreeMap<i64, Vec<(String, String)>>,
) -> Vec<PlannedIssue> {
    let mut issues: BTreeMap<i64, PlannedIssue> = BTreeMap::new();
    for g in groups {
        let message = issue_message(&g.message).into_owned();
        let fns = functions.get(&g.id).map(Vec::as_slice).unwrap_or(&[]);
        let hash = fingerprint(
            &g.type_name,
            &message,
            fns.iter().map(|(m, n)| (m.as_str(), n.as_str())),
        );
        let issue = issues.entry(hash).or_insert_with(|| PlannedIssue {
            fingerprint: hash,
            type_name: g.type_name.clone(),
            message,
            count: 0,
            first_seen: g.first_seen,
            last_seen: g.last_seen,
            groups: Vec::new(),
        });
        issue.count += g.count;
        issue.first_seen = issue.first_seen.min(g.first_seen);
        issue.last_seen = issue.last_seen.max(g.last_seen);
        issue.groups.push(g.id);
    }
    issues.into_values().collect()
}
