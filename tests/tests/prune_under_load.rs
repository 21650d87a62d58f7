//! Pruning a large SQLite file while the application keeps serving (the scenario is in
//! `fmd_tests::prune_load`): one million old request rows generated with SQL, pruned on
//! a thread of their own with the normal queue while 2 clients keep sending requests;
//! no event dropped, every served request stored, counters consistent, and no step held
//! the write lock past its budget but by its commit or rollback. The figures are printed
//! (`--nocapture`). The 10 M run is ignored by default:
//! `cargo test --release -p fmd-tests --test prune_under_load -- --ignored --nocapture`.

use fmd_tests::engines::Engine;
use fmd_tests::prune_load::{Pruning, prune_while_serving};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pruning_a_million_requests_while_serving_drops_no_event() {
    prune_while_serving(Engine::Sqlite, 1_000_000, Pruning::All).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_pruning_a_million_requests_while_serving_drops_no_event() {
    prune_while_serving(Engine::Sqlite, 1_000_000, Pruning::Raw).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "10 M rows: run once with --release -- --ignored"]
async fn pruning_ten_million_requests_while_serving_drops_no_event() {
    prune_while_serving(Engine::Sqlite, 10_000_000, Pruning::All).await;
}
