//! Route twins on PostgreSQL: at the end of a batch, each route seen for the first time
//! with a known handler has its twin endpoint (if one exists) moved into the handler's
//! (see [`crate::store::twin`]), each in a savepoint of its own.

use crate::store::twin;
use postgres::Transaction;
use postgres::types::ToSql;

/// Moves each route twin of `due` into its handler's endpoint; whether any was there. A
/// merge that fails is undone alone (the twin stays): it never costs the batch.
pub(super) fn merge(tx: &mut Transaction<'_>, due: &[twin::Due]) -> Result<bool, postgres::Error> {
    let mut merged = false;
    for twin::Due {
        twin: route,
        into: endpoint,
        ..
    } in due
    {
        let Some(row) = tx.query_opt(twin::FIND, &[route, endpoint])? else {
            continue;
        };
        let ids: [i64; 2] = [row.get(0), row.get(1)];
        let mut savepoint = tx.transaction()?;
        match merge_one(&mut savepoint, &ids) {
            Ok(()) => {
                savepoint.commit()?;
                merged = true;
            }
            Err(e) => {
                eprintln!("fmd: could not move endpoint {route:?} into {endpoint:?}: {e}");
                savepoint.rollback()?;
            }
        }
    }
    Ok(merged)
}

fn merge_one(tx: &mut Transaction<'_>, ids: &[i64; 2]) -> Result<(), postgres::Error> {
    let params: [&(dyn ToSql + Sync); 2] = [&ids[0], &ids[1]];
    for stmt in twin::MERGE {
        let st = tx.prepare(stmt)?;
        let n = st.params().len().min(params.len());
        tx.execute(&st, &params[..n])?;
    }
    Ok(())
}
