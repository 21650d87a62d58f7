//! Helpers of the criterion benches (P2, P3).
//!
//! An annotated call that is a request of its own queues one event. Timed in a tight loop,
//! millions of calls would overflow the queue and measure the drop path instead, so calls
//! are timed in chunks smaller than the queue, and the writer stores each chunk (untimed)
//! before the next one starts. Futures that never wait are polled once, without a runtime.

use crate::util;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Calls per timed chunk: well below the queue's 65 536 events.
pub const CHUNK: u64 = 8192;

/// Starts fmd on a fresh scratch database named after `bench`, at level 1, with panics
/// silenced (fmd's hook still records them; the default one would print each).
pub fn start_fmd(bench: &str) {
    std::panic::set_hook(Box::new(|_| {}));
    let database = util::scratch_dir(bench).join("fmd.db");
    let config = fmd::Config {
        database: database.into(),
        password: Some("bench-password-1".to_owned()),
        ..fmd::Config::default()
    };
    if let Err(e) = fmd::init(config) {
        panic!("fmd did not start: {e}");
    }
}

/// Times `iters` calls of `call` (its result kept from the optimizer) in chunks of
/// [`CHUNK`], storing queued events between chunks; returns the time spent in the calls.
pub fn chunked<R>(iters: u64, mut call: impl FnMut(u64) -> R) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let n = (iters - done).min(CHUNK);
        let started = Instant::now();
        for i in done..done + n {
            std::hint::black_box(call(i));
        }
        total += started.elapsed();
        done += n;
        assert!(
            fmd::monitor().flush(Duration::from_secs(60)),
            "the writer stored the chunk"
        );
    }
    total
}

/// Polls a future that completes without waiting; panics if it would wait.
pub fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the future was expected to complete at once"),
    }
}
