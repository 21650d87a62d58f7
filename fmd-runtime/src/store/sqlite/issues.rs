//! The schema-6 upgrade of a SQLite file: the issue tables, `exception_group.issue_id`,
//! and every stored group given its issue (see [`crate::store::issue_backfill`]).

use crate::store::issue_backfill::{self as backfill, StoredGroup};
use crate::store::sql::sqlite;
use rusqlite::Transaction;
use std::collections::BTreeMap;

/// Version 6: issues. An issue collects exception groups (its variants) by a fingerprint
/// that survives code edits (see [`crate::store::issues`]) and carries a lifecycle; each
/// group gains `issue_id`, and its occurrences are counted per application version. The
/// upgrade fills both from what is stored ([`upgrade`]), losing nothing.
const V6: &str = r#"
CREATE TABLE IF NOT EXISTS issue (
    id                 INTEGER PRIMARY KEY,
    fingerprint        INTEGER NOT NULL UNIQUE,  -- store::issues::fingerprint
    status             TEXT NOT NULL DEFAULT 'open',  -- open, resolved, regressed, ignored
    type_name          TEXT NOT NULL,
    message            TEXT NOT NULL,            -- normalized: placeholders for variable parts
    first_seen         INTEGER NOT NULL,         -- unix ms
    last_seen          INTEGER NOT NULL,
    first_version      TEXT,
    last_version       TEXT,
    count              INTEGER NOT NULL,
    resolved_version   TEXT,                     -- resolved: this version or later regresses
    resolve_next       INTEGER NOT NULL DEFAULT 0, -- 1: only versions after it regress
    ignore_until_count INTEGER,                  -- ignored until count reaches this
    ignore_until       INTEGER,                  -- ignored until this time (unix ms)
    status_changed     INTEGER                   -- unix ms of the last status change
);
CREATE INDEX IF NOT EXISTS issue_last_seen ON issue(last_seen);

-- Occurrences of a group per application version (the variant's versions, "suspect
-- change", per-version counts), kept by the writer: a batch has one version.
CREATE TABLE IF NOT EXISTS exception_group_version (
    group_id   INTEGER NOT NULL REFERENCES exception_group(id),
    version    TEXT NOT NULL,
    count      INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    PRIMARY KEY (group_id, version)
);
"#;

/// Creates the issue tables and fills them from the stored groups.
pub(super) fn upgrade(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(V6)?;
    let has_column: bool = tx.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info('exception_group') WHERE name = 'issue_id'",
        [],
        |r| r.get(0),
    )?;
    if !has_column {
        tx.execute_batch(
            "ALTER TABLE exception_group ADD COLUMN issue_id INTEGER REFERENCES issue(id);",
        )?;
    }
    tx.execute_batch(
        "CREATE INDEX IF NOT EXISTS exception_group_issue ON exception_group(issue_id);",
    )?;
    tx.execute(backfill::GROUP_VERSIONS, [])?;
    let groups = tx
        .prepare(backfill::GROUPS_WITHOUT_ISSUE)?
        .query_map([], |r| {
            Ok(StoredGroup {
                id: r.get(0)?,
                type_name: r.get(1)?,
                message: r.get(2)?,
                count: r.get(3)?,
                first_seen: r.get(4)?,
                last_seen: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut functions: BTreeMap<i64, Vec<(String, String)>> = BTreeMap::new();
    {
        let mut stmt = tx.prepare(backfill::FUNCTIONS_WITHOUT_ISSUE)?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            functions
                .entry(r.get(0)?)
                .or_default()
                .push((r.get(1)?, r.get(2)?));
        }
    }
    let mut insert = tx.prepare(sqlite!(backfill::INSERT_ISSUE))?;
    let mut set = tx.prepare(sqlite!(backfill::SET_GROUP_ISSUE))?;
    for issue in backfill::plan(groups, &functions) {
        let id: i64 = insert.query_row(
            rusqlite::params![
                issue.fingerprint,
                issue.type_name,
                issue.message,
                issue.first_seen,
                issue.last_seen,
                issue.count
            ],
            |r| r.get(0),
        )?;
        for group in issue.groups {
            set.execute([id, group])?;
        }
    }
    tx.execute(backfill::ISSUE_VERSIONS, [])?;
    Ok(())
}

/// Version 7: searching issues ([`crate::store::search`]). `issue.search_text` holds what
/// is searched; the FTS5 table `issue_fts` indexes it, kept by triggers (rowid = issue
/// id). Diacritics are kept, as PostgreSQL's `simple` configuration keeps them.
const V7: &str = r#"
CREATE VIRTUAL TABLE IF NOT EXISTS issue_fts
    USING fts5(words, tokenize = 'unicode61 remove_diacritics 0');
CREATE TRIGGER IF NOT EXISTS issue_fts_insert AFTER INSERT ON issue BEGIN
    INSERT INTO issue_fts(rowid, words) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER IF NOT EXISTS issue_fts_delete AFTER DELETE ON issue BEGIN
    DELETE FROM issue_fts WHERE rowid = old.id;
END;
UPDATE issue SET search_text = substr(type_name || ' ' || message || coalesce((
    SELECT group_concat(' ' || l.module || '::' || l.name || ' ' || l.file, '')
    FROM exception_stackline s
    JOIN exception_frame f ON f.id = s.frame_id
    JOIN function_location l ON l.id = f.location_id
    WHERE l.in_app = 1 AND s.snapshot_id = (
        SELECT g.snapshot_id FROM exception_group g WHERE g.issue_id = issue.id
        ORDER BY g.id LIMIT 1)
), ''), 1, 4096);
DELETE FROM issue_fts;
INSERT INTO issue_fts(rowid, words) SELECT id, search_text FROM issue;
"#;

/// Adds the search text to every stored issue and indexes it.
pub(super) fn upgrade_search(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    let has_column: bool = tx.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info('issue') WHERE name = 'search_text'",
        [],
        |r| r.get(0),
    )?;
    if !has_column {
        tx.execute_batch("ALTER TABLE issue ADD COLUMN search_text TEXT NOT NULL DEFAULT '';")?;
    }
    tx.execute_batch(V7)
}

/// Version 9: `issue.client`, set while every occurrence of the issue was a client error
/// (see [`crate::store::issues::CLEAR_CLIENT`]); the stored issues get it from their
/// stored occurrences.
pub(super) fn upgrade_client(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    let has_column: bool = tx.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info('issue') WHERE name = 'client'",
        [],
        |r| r.get(0),
    )?;
    if !has_column {
        tx.execute_batch("ALTER TABLE issue ADD COLUMN client INTEGER NOT NULL DEFAULT 0;")?;
    }
    tx.execute_batch(crate::store::issues::BACKFILL_CLIENT)
}

/// Version 8: `issue.alerted_at` (when the issue last alerted, unix ms) and
/// `issue.alert_held` (alerts held back since), so that every process writing the file
/// shares one quiet hour per issue.
pub(super) fn upgrade_alerts(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    for (name, ddl) in [
        (
            "alerted_at",
            "ALTER TABLE issue ADD COLUMN alerted_at INTEGER;",
        ),
        (
            "alert_held",
            "ALTER TABLE issue ADD COLUMN alert_held INTEGER NOT NULL DEFAULT 0;",
        ),
    ] {
        let has_column: bool = tx.query_row(
            "SELECT count(*) > 0 FROM pragma_table_info('issue') WHERE name = ?1",
            [name],
            |r| r.get(0),
        )?;
        if !has_column {
            tx.execute_batch(ddl)?;
        }
    }
    // Finds the digests due.
    tx.execute_batch(
        "CREATE INDEX IF NOT EXISTS issue_alert_held ON issue(alerted_at) WHERE alert_held > 0;",
    )
}
