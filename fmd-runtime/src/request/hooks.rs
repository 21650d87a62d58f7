//! User callbacks on the request path: the group-by hook.
//!
//! A callback is the application's code running inside fmd, so it is fenced: a panic in it
//! is caught, counted in [`Stats::callback_panics`](crate::Stats::callback_panics), and the
//! request goes on as if there were no hook.

use parking_lot::RwLock;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Longest group-by value stored, in characters.
pub const MAX_GROUP_BY: usize = 256;

type GroupBy = dyn Fn(&http::request::Parts) -> Option<String> + Send + Sync;

static GROUP_BY: RwLock<Option<Arc<GroupBy>>> = RwLock::new(None);
static HAS_GROUP_BY: AtomicBool = AtomicBool::new(false);

/// Sets the group-by hook: for each request it tells which group (say, which user) the
/// request belongs to. The value is stored with the request (at most [`MAX_GROUP_BY`]
/// characters) and the dashboard breaks an endpoint's requests down by it. A later call
/// replaces the hook. The framework adapter calls it when a request starts, with the
/// request's method, URI and headers; `None` stores no value.
///
/// ```
/// fmd_runtime::group_by(|req| {
///     req.headers
///         .get("x-user")
///         .and_then(|v| v.to_str().ok())
///         .map(str::to_owned)
/// });
/// ```
pub fn group_by(hook: impl Fn(&http::request::Parts) -> Option<String> + Send + Sync + 'static) {
    *GROUP_BY.write() = Some(Arc::new(hook));
    HAS_GROUP_BY.store(true, Ordering::Release);
}

/// Whether a group-by hook is set (cheap; checked on every request).
#[inline]
pub fn has_group_by() -> bool {
    HAS_GROUP_BY.load(Ordering::Acquire)
}

/// The group of a request by the hook, if one is set. A panic in the hook is caught and
/// counted, and gives `None`.
pub fn group_of(parts: &http::request::Parts) -> Option<String> {
    let hook = GROUP_BY.read().clone()?;
    match catch_unwind(AssertUnwindSafe(|| hook(parts))) {
        Ok(value) => value.map(|v| cap(v, MAX_GROUP_BY)),
        Err(_) => {
            crate::fence::callback_panicked();
            None
        }
    }
}

fn cap(mut value: String, max_chars: usize) -> String {
    if let Some((cut, _)) = value.char_indices().nth(max_chars) {
        value.truncate(cut);
    }
    value
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_values_are_capped_by_characters() {
        assert_eq!(super::cap("ééé".repeat(100), 5), "ééééé");
        assert_eq!(super::cap("abc".to_owned(), 5), "abc");
    }
}
