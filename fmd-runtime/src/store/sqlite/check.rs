//! `fmd check` and `fmd prune --dry-run` on SQLite: the file opened read-only, only
//! `SELECT`s, no migration (see [`crate::store::check`]).

use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::{SqliteReader, schema, store_error};
use crate::store::StoreError;
use crate::store::read::PruneReport;
use crate::store::read::check::{CheckReport, TableCounts};
use crate::store::read::dashboard::DAY_MS;
use crate::store::read::perf::HOUR_MS;

/// Opens `path` read-only (never creating it), with the usual busy timeout.
fn open(path: &Path) -> Result<Connection, StoreError> {
    if !path.is_file() {
        return Err(StoreError {
            message: format!("no database file at {}", path.display()),
            transient: false,
        });
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| store_error("open read-only", e))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(|e| store_error("open read-only", e))?;
    Ok(conn)
}

/// Whether `table` exists.
fn has_table(conn: &Connection, table: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [table],
        |_| Ok(()),
    )
    .optional()
    .map(|row| row.is_some())
}

/// Rows of `table`, `None` when it does not exist. `table` is one of the fixed names below.
fn count(conn: &Connection, table: &str) -> rusqlite::Result<Option<u64>> {
    if !has_table(conn, table)? {
        return Ok(None);
    }
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|n| Some(n as u64))
}

fn stored_version(conn: &Connection) -> rusqlite::Result<i64> {
    if !has_table(conn, "fmd_meta")? {
        return Ok(0);
    }
    conn.query_row(
        "SELECT CAST(value AS INTEGER) FROM fmd_meta WHERE key = 'schema_version'",
        [],
        |r| r.get(0),
    )
    .optional()
    .map(|v| v.unwrap_or(0))
}

/// See [`crate::store::check::check`].
pub(crate) fn check(path: &Path) -> Result<CheckReport, StoreError> {
    let mut conn = open(path)?;
    let e = |e| store_error("check", e);
    // One read transaction: the counts belong to one moment even while a writer runs.
    let tx = conn.transaction().map_err(e)?;
    let report = CheckReport {
        schema_version: stored_version(&tx).map_err(e)?,
        expected_version: schema::SCHEMA_VERSION,
        size_bytes: std::fs::metadata(path).ok().map(|m| m.len()),
        counts: TableCounts {
            requests: count(&tx, "request").map_err(e)?,
            endpoints: count(&tx, "endpoint").map_err(e)?,
            exception_groups: count(&tx, "exception_group").map_err(e)?,
            occurrences: count(&tx, "exception_occurrence").map_err(e)?,
            users: count(&tx, "fmd_user").map_err(e)?,
        },
    };
    tx.rollback().map_err(e)?;
    Ok(report)
}

/// Counts what `prune(cutoff)` would delete (the same conditions as its `DELETE`s).
const PREVIEW: &str = "SELECT
    (SELECT count(*) FROM request WHERE time < ?1),
    (SELECT count(*) FROM exception_occurrence
     WHERE time < ?1 OR request_id IN (SELECT id FROM request WHERE time < ?1)),
    (SELECT count(*) FROM exception_group g
     WHERE g.count <= 0 OR (g.first_seen < ?1 AND NOT EXISTS (
         SELECT 1 FROM exception_occurrence o
         WHERE o.group_id = g.id AND o.time >= ?1
           AND (o.request_id IS NULL
                OR o.request_id NOT IN (SELECT id FROM request WHERE time < ?1))))),
    (SELECT count(*) FROM outlier WHERE request_id IN (SELECT id FROM request WHERE time < ?1)),
    (SELECT count(*) FROM profile_node
     WHERE request_id IN (SELECT id FROM request WHERE time < ?1)),
    (SELECT count(*) FROM request_hourly WHERE hour < ?2),
    (SELECT count(*) FROM duration_daily WHERE day < ?3 OR hits <= 0),
    (SELECT count(*) FROM custom_graph_value
     WHERE graph_id IN (SELECT id FROM custom_graph) AND time < ?1)";

/// See [`crate::store::check::prune_preview`].
pub(crate) fn prune_preview(path: &Path, cutoff: i64) -> Result<PruneReport, StoreError> {
    let conn = open(path)?;
    require_current(&conn)?;
    let n = |r: &rusqlite::Row<'_>, i| r.get::<_, i64>(i).map(|v| v as u64);
    conn.query_row(
        PREVIEW,
        rusqlite::params![
            cutoff,
            cutoff.div_euclid(HOUR_MS),
            cutoff.div_euclid(DAY_MS)
        ],
        |r| {
            Ok(PruneReport {
                requests: n(r, 0)?,
                occurrences: n(r, 1)?,
                groups: n(r, 2)?,
                outliers: n(r, 3)?,
                profile_nodes: n(r, 4)?,
                hourly_rows: n(r, 5)?,
                duration_rows: n(r, 6)?,
                graph_values: n(r, 7)?,
            })
        },
    )
    .map_err(|e| store_error("prune preview", e))
}

/// Refuses a file whose schema is not the one this build reads (it would need a write).
fn require_current(conn: &Connection) -> Result<(), StoreError> {
    let version = stored_version(conn).map_err(|e| store_error("schema version", e))?;
    if version == schema::SCHEMA_VERSION {
        return Ok(());
    }
    Err(StoreError {
        message: format!(
            "the database has schema version {version}, this build reads version {}: \
             open it once for writing (the application, or any fmd command that writes) \
             to migrate it",
            schema::SCHEMA_VERSION
        ),
        transient: false,
    })
}

/// See [`crate::store::check::open_read_only`].
pub(crate) fn reader(path: &Path) -> Result<SqliteReader, StoreError> {
    let conn = open(path)?;
    require_current(&conn)?;
    Ok(SqliteReader::from_connection(conn))
}
