//! The schema-6 upgrade of a PostgreSQL database: the issue tables, `exception_group.
//! issue_id`, and every stored group given its issue (see
//! [`crate::store::issue_backfill`]).

use crate::store::issue_backfill::{self as backfill, StoredGroup};
use postgres::Transaction;
use std::collections::BTreeMap;

/// Version 6: issues, as in the SQLite schema; filled from the stored groups by
/// [`upgrade`].
const V6: &str = r#"
CREATE TABLE IF NOT EXISTS issue (
    id                 BIGSERIAL PRIMARY KEY,
    fingerprint        BIGINT NOT NULL UNIQUE,
    status             TEXT NOT NULL DEFAULT 'open',
    type_name          TEXT NOT NULL,
    message            TEXT NOT NULL,
    first_seen         BIGINT NOT NULL,
    last_seen          BIGINT NOT NULL,
    first_version      TEXT,
    last_version       TEXT,
    count              BIGINT NOT NULL,
    resolved_version   TEXT,
    resolve_next       BOOLEAN NOT NULL DEFAULT FALSE,
    ignore_until_count BIGINT,
    ignore_until       BIGINT,
    status_changed     BIGINT
);
CREATE INDEX IF NOT EXISTS issue_last_seen ON issue(last_seen);
ALTER TABLE exception_group ADD COLUMN IF NOT EXISTS issue_id BIGINT REFERENCES issue(id);
CREATE INDEX IF NOT EXISTS exception_group_issue ON exception_group(issue_id);

CREATE TABLE IF NOT EXISTS exception_group_version (
    group_id   BIGINT NOT NULL REFERENCES exception_group(id),
    version    TEXT NOT NULL,
    count      BIGINT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL,
    PRIMARY KEY (group_id, version)
);
"#;

/// Creates the issue tables and fills them from the stored groups.
pub(super) fn upgrade(tx: &mut Transaction<'_>) -> Result<(), postgres::Error> {
    tx.batch_execute(V6)?;
    tx.execute(backfill::GROUP_VERSIONS, &[])?;
    let groups: Vec<StoredGroup> = tx
        .query(backfill::GROUPS_WITHOUT_ISSUE, &[])?
        .iter()
        .map(|r| StoredGroup {
            id: r.get(0),
            type_name: r.get(1),
            message: r.get(2),
            count: r.get(3),
            first_seen: r.get(4),
            last_seen: r.get(5),
        })
        .collect();
    let mut functions: BTreeMap<i64, Vec<(String, String)>> = BTreeMap::new();
    for r in tx.query(backfill::FUNCTIONS_WITHOUT_ISSUE, &[])? {
        functions
            .entry(r.get(0))
            .or_default()
            .push((r.get(1), r.get(2)));
    }
    let insert = tx.prepare(backfill::INSERT_ISSUE)?;
    let set = tx.prepare(backfill::SET_GROUP_ISSUE)?;
    for issue in backfill::plan(groups, &functions) {
        let message = super::text(&issue.message);
        let id: i64 = tx
            .query_one(
                &insert,
                &[
                    &issue.fingerprint,
                    &issue.type_name,
                    &&*message,
                    &issue.first_seen,
                    &issue.last_seen,
                    &issue.count,
                ],
            )?
            .get(0);
        for group in issue.groups {
            tx.execute(&set, &[&id, &group])?;
        }
    }
    tx.execute(backfill::ISSUE_VERSIONS, &[])?;
    Ok(())
}

/// Version 7: searching issues ([`crate::store::search`]): `issue.search_text`, filled
/// from each issue's type, message and the in-app functions of its first variant, and a
/// GIN index on its words (split at every character that is not a letter or a digit, as
/// SQLite's FTS5 table splits them).
pub(super) const V7: &str = r#"
ALTER TABLE issue ADD COLUMN IF NOT EXISTS search_text TEXT NOT NULL DEFAULT '';
UPDATE issue SET search_text = left(type_name || ' ' || message || coalesce((
    SELECT string_agg(' ' || l.module || '::' || l.name || ' ' || l.file, '')
    FROM exception_stackline s
    JOIN exception_frame f ON f.id = s.frame_id
    JOIN function_location l ON l.id = f.location_id
    WHERE l.in_app AND s.snapshot_id = (
        SELECT g.snapshot_id FROM exception_group g WHERE g.issue_id = issue.id
        ORDER BY g.id LIMIT 1)
), ''), 4096);
CREATE INDEX IF NOT EXISTS issue_search ON issue USING gin
    (to_tsvector('simple', regexp_replace(search_text, '[^[:alnum:]]+', ' ', 'g')));
"#;

/// Version 8: `issue.alerted_at` (when the issue last alerted, unix ms) and
/// `issue.alert_held` (alerts held back since), so that every instance sharing the
/// database shares one quiet hour per issue; the index finds the digests due.
pub(super) const V9: &str =
    "ALTER TABLE issue ADD COLUMN IF NOT EXISTS client BOOLEAN NOT NULL DEFAULT FALSE;";

pub(super) const V8: &str = "
ALTER TABLE issue ADD COLUMN IF NOT EXISTS alerted_at BIGINT;
ALTER TABLE issue ADD COLUMN IF NOT EXISTS alert_held BIGINT NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS issue_alert_held ON issue(alerted_at) WHERE alert_held > 0;
";
