//! `fmd check` and `fmd prune --dry-run` on PostgreSQL: a read-only session, only
//! `SELECT`s, no migration (see [`crate::store::check`]).

use postgres::Client;

use super::{Conn, PgReader, connect, schema, store_error};
use crate::store::StoreError;
use crate::store::read::PruneReport;
use crate::store::read::check::{CheckReport, TableCounts};
use crate::store::read::dashboard::DAY_MS;
use crate::store::read::perf::HOUR_MS;

/// Connects with every transaction of the session read-only.
fn open(url: &str) -> Result<Client, StoreError> {
    let mut client = connect(url)?;
    client
        .batch_execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        .map_err(|e| store_error("read-only session", e))?;
    Ok(client)
}

fn has_table(client: &mut Client, table: &str) -> Result<bool, postgres::Error> {
    let row = client.query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])?;
    row.try_get(0)
}

/// Rows of `table`, `None` when it does not exist. `table` is one of the fixed names below.
fn count(client: &mut Client, table: &str) -> Result<Option<u64>, postgres::Error> {
    if !has_table(client, table)? {
        return Ok(None);
    }
    let row = client.query_one(&format!("SELECT count(*) FROM {table}"), &[])?;
    Ok(Some(row.try_get::<_, i64>(0)? as u64))
}

fn stored_version(client: &mut Client) -> Result<i64, postgres::Error> {
    if !has_table(client, "fmd_meta")? {
        return Ok(0);
    }
    let row = client.query_opt(
        "SELECT value FROM fmd_meta WHERE key = 'schema_version'",
        &[],
    )?;
    Ok(row
        .and_then(|r| r.try_get::<_, String>(0).ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// See [`crate::store::check::check`].
pub(crate) fn check(url: &str) -> Result<CheckReport, StoreError> {
    let mut client = open(url)?;
    let e = |e| store_error("check", e);
    let size = client
        .query_one("SELECT pg_database_size(current_database())", &[])
        .and_then(|r| r.try_get::<_, i64>(0))
        .map_err(e)?;
    Ok(CheckReport {
        schema_version: stored_version(&mut client).map_err(e)?,
        expected_version: schema::SCHEMA_VERSION,
        size_bytes: Some(size as u64),
        counts: TableCounts {
            requests: count(&mut client, "request").map_err(e)?,
            endpoints: count(&mut client, "endpoint").map_err(e)?,
            exception_groups: count(&mut client, "exception_group").map_err(e)?,
            occurrences: count(&mut client, "exception_occurrence").map_err(e)?,
            users: count(&mut client, "fmd_user").map_err(e)?,
        },
    })
}

/// Counts what `prune(cutoff)` would delete (the same conditions as its `DELETE`s).
const PREVIEW: &str = "SELECT
    (SELECT count(*) FROM request WHERE time < $1),
    (SELECT count(*) FROM exception_occurrence
     WHERE time < $1 OR request_id IN (SELECT id FROM request WHERE time < $1)),
    (SELECT count(*) FROM exception_group g
     WHERE g.count <= 0 OR (g.first_seen < $1 AND NOT EXISTS (
         SELECT 1 FROM exception_occurrence o
         WHERE o.group_id = g.id AND o.time >= $1
           AND (o.request_id IS NULL
                OR o.request_id NOT IN (SELECT id FROM request WHERE time < $1))))),
    (SELECT count(*) FROM outlier WHERE request_id IN (SELECT id FROM request WHERE time < $1)),
    (SELECT count(*) FROM profile_node
     WHERE request_id IN (SELECT id FROM request WHERE time < $1)),
    (SELECT count(*) FROM request_hourly WHERE hour < $2),
    (SELECT count(*) FROM duration_daily WHERE day < $3 OR hits <= 0),
    (SELECT count(*) FROM custom_graph_value
     WHERE graph_id IN (SELECT id FROM custom_graph) AND time < $1)";

/// See [`crate::store::check::prune_preview`].
pub(crate) fn prune_preview(url: &str, cutoff: i64) -> Result<PruneReport, StoreError> {
    let mut client = open(url)?;
    require_current(&mut client)?;
    let (hour, day) = (cutoff.div_euclid(HOUR_MS), cutoff.div_euclid(DAY_MS));
    let row = client
        .query_one(PREVIEW, &[&cutoff, &hour, &day])
        .map_err(|e| store_error("prune preview", e))?;
    let n = |i| {
        row.try_get::<_, i64>(i)
            .map(|v| v as u64)
            .map_err(|e| store_error("prune preview", e))
    };
    Ok(PruneReport {
        requests: n(0)?,
        occurrences: n(1)?,
        groups: n(2)?,
        outliers: n(3)?,
        profile_nodes: n(4)?,
        hourly_rows: n(5)?,
        duration_rows: n(6)?,
        graph_values: n(7)?,
    })
}

/// Refuses a database whose schema is not the one this build reads.
fn require_current(client: &mut Client) -> Result<(), StoreError> {
    let version = stored_version(client).map_err(|e| store_error("schema version", e))?;
    if version == schema::SCHEMA_VERSION {
        return Ok(());
    }
    Err(StoreError {
        message: format!(
            "the database has schema version {version}, this build reads version {}: \
             let the application (or any fmd command that writes) migrate it first",
            schema::SCHEMA_VERSION
        ),
        transient: false,
    })
}

/// See [`crate::store::check::open_read_only`].
pub(crate) fn reader(url: &str) -> Result<PgReader, StoreError> {
    let mut client = open(url)?;
    require_current(&mut client)?;
    Ok(PgReader {
        client: Conn::new(client),
    })
}
