//! Pruning a large PostgreSQL table while the application keeps serving (the scenario of
//! `prune_under_load`, in `fmd_tests::prune_load`, with fmd storing into PostgreSQL):
//! 100 000 old request rows generated with SQL, pruned (all, or the raw rows only) on a
//! thread of their own with the normal queue while 2 clients keep sending requests; no
//! event dropped, every served request stored, counters consistent, and no step held its
//! locks past its budget (`statement_timeout` set to what is left of it before each
//! statement) but by its commit or rollback. Needs `FMD_TEST_POSTGRES_URL`.

use fmd_tests::engines::Engine;
use fmd_tests::prune_load::{Pruning, prune_while_serving};

/// Fewer rows than on SQLite: PostgreSQL's per-row foreign-key checks make each deleted
/// request dearer; 100 000 rows take about 10 s on an idle machine, a minute or more on a
/// loaded one.
const ROWS: i64 = 100_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pruning_while_serving_drops_no_event() {
    prune_while_serving(Engine::Postgres, ROWS, Pruning::All).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_pruning_while_serving_drops_no_event() {
    prune_while_serving(Engine::Postgres, ROWS, Pruning::Raw).await;
}
