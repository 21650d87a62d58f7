//! The writer thread: drains the queue in batches into the store.
//!
//! It never makes the request path wait. When the store cannot be opened or written, it
//! reports the problem once on stderr, keeps the batch in hand and retries; meanwhile the
//! bounded queue fills and the request path drops (and counts) new events. When storage
//! works again it says so and carries on by itself. A deleted database file is noticed and
//! recreated.

use crate::Config;
use crate::event::{ErrorRecord, Event};
use crate::monitor::Shared;
use crate::store::sqlite::SqliteStore;
use crate::store::{Store, StoreError, WriteOptions};
use crate::symbolize::Symbolizer;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::thread;

/// Failed writes of one batch, for an error that is not about storage, before the batch
/// is dropped (so one bad batch cannot stop the writer).
const MAX_ATTEMPTS: u32 = 3;

pub(crate) fn spawn(
    rx: Receiver<Event>,
    shared: Arc<Shared>,
    config: Config,
    options: WriteOptions,
) -> std::io::Result<thread::JoinHandle<()>> {
    thread::Builder::new()
        .name("fmd-writer".to_owned())
        .spawn(move || run(rx, &shared, &config, &options))
}

fn open(config: &Config, shared: &Shared) -> Option<SqliteStore> {
    match SqliteStore::open(&config.database) {
        Ok(mut store) => {
            if let Ok(levels) = store.stored_levels() {
                shared.apply_stored_levels(levels);
            }
            Some(store)
        }
        Err(e) => {
            shared.storage_failed(&config.database, &e);
            None
        }
    }
}

fn run(rx: Receiver<Event>, shared: &Shared, config: &Config, options: &WriteOptions) {
    let mut store: Option<SqliteStore> = None;
    let mut batch: Vec<Event> = Vec::with_capacity(config.batch_size);
    let mut attempts = 0;
    let mut symbolizer = Symbolizer::default();
    loop {
        if store.as_ref().is_none_or(|s| s.needs_reopen()) {
            store = open(config, shared);
            if store.is_none() {
                thread::sleep(config.retry_interval());
                continue;
            }
        }
        if batch.is_empty() {
            match rx.recv() {
                Ok(event) => {
                    shared.metrics.observe(&event);
                    batch.push(event);
                }
                Err(_) => return, // every sender is gone: the process is ending
            }
        }
        while batch.len() < config.batch_size {
            match rx.try_recv() {
                Ok(event) => {
                    shared.metrics.observe(&event);
                    batch.push(event);
                }
                Err(_) => break,
            }
        }
        symbolize(&mut symbolizer, &mut batch);
        let Some(s) = store.as_mut() else { continue };
        // A bug in fmd must not kill the writer: a panic counts as a failed write.
        let written = catch_unwind(AssertUnwindSafe(|| s.write_batch(&batch, options)))
            .unwrap_or_else(|_| {
                Err(StoreError {
                    message: "internal error while writing (a panic in fmd)".to_owned(),
                    transient: false,
                })
            });
        match written {
            Ok(stored) => {
                shared.stored(stored);
                attempts = 0;
                finish(&mut batch);
            }
            Err(e) => {
                attempts += 1;
                shared.storage_failed(&config.database, &e);
                if e.transient {
                    store = None; // reopen: the file may have changed under us
                    thread::sleep(config.retry_interval());
                } else if attempts >= MAX_ATTEMPTS {
                    give_up(&mut batch, shared, &e);
                    attempts = 0;
                }
            }
        }
    }
}

/// Resolves the native backtraces of panics in the batch (cached per address).
fn symbolize(symbolizer: &mut Symbolizer, batch: &mut [Event]) {
    for event in batch.iter_mut() {
        let errors: &mut [ErrorRecord] = match event {
            Event::Request(r) => &mut r.errors,
            Event::Error(e) => std::slice::from_mut(&mut **e),
            Event::Flush(_) => continue,
        };
        for error in errors.iter_mut().filter(|e| e.native.is_some()) {
            let merged = catch_unwind(AssertUnwindSafe(|| symbolizer.merge(error)));
            if merged.is_err() {
                error.native = None;
            }
        }
    }
}

/// Answers the flush requests of a stored batch.
fn finish(batch: &mut Vec<Event>) {
    for event in batch.drain(..) {
        if let Event::Flush(ack) = event {
            let _ = ack.send(());
        }
    }
}

fn give_up(batch: &mut Vec<Event>, shared: &Shared, e: &StoreError) {
    let lost = batch
        .iter()
        .filter(|e| !matches!(e, Event::Flush(_)))
        .count();
    shared.dropped(lost as u64);
    eprintln!("fmd: dropped a batch of {lost} events that could not be stored: {e}");
    finish(batch);
}
