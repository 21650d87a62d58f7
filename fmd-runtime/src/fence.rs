//! "Never unwind into the host": running code that must not panic into the application,
//! and counting the panics caught on the way.
//!
//! Two kinds of code are fenced. Code that fmd runs on the host's behalf (an error's
//! `Display`, `Debug` or `source()`, fmd's own bookkeeping) runs inside [`contain`]: a panic
//! there is caught, counted in [`caught_panics`], and the panic hook does not record it as
//! the request's panic. User callbacks (the group-by hook, custom graphs) catch their own
//! panics and count them here too.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};

static CAUGHT: AtomicU64 = AtomicU64::new(0);
static CALLBACK_PANICS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static CONTAINED: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f`, which must never unwind into the host: a panic inside is caught and counted,
/// and the hook does not record it as a panic of the request. `None` if it panicked.
pub fn contain<R>(f: impl FnOnce() -> R) -> Option<R> {
    let outer = CONTAINED.try_with(|c| c.replace(true)).unwrap_or(false);
    let result = catch_unwind(AssertUnwindSafe(f));
    let _ = CONTAINED.try_with(|c| c.set(outer));
    match result {
        Ok(value) => Some(value),
        Err(_) => {
            CAUGHT.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

/// Panics caught by [`contain`] since the process started: in fmd's own code or in code
/// of the application that fmd ran.
pub fn caught_panics() -> u64 {
    CAUGHT.load(Ordering::Relaxed)
}

/// Whether this thread is inside [`contain`] (a panic now is fmd's to catch, not the
/// request's).
pub(crate) fn is_contained() -> bool {
    CONTAINED.try_with(Cell::get).unwrap_or(false)
}

/// Counts a panic in a user callback (group-by hook, custom graph).
pub(crate) fn callback_panicked() {
    CALLBACK_PANICS.fetch_add(1, Ordering::Relaxed);
}

/// Panics caught in user callbacks since start-up.
pub(crate) fn callback_panics() -> u64 {
    CALLBACK_PANICS.load(Ordering::Relaxed)
}
