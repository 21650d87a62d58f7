//! `fmd::spawn`: `tokio::spawn` of a future that carries the current request.

use fmd_runtime::request::FutureExt;
use std::future::Future;
use tokio::task::JoinHandle;

/// Spawns `future` on the tokio runtime with the current request's context and logical
/// stack: a panic or `capture!` in the task is recorded on that request's endpoint, with
/// the frames that spawned it on its trace — joining the request's record while it runs,
/// or stored as a record linked to it once it ended. Outside a request it is plain
/// `tokio::spawn`.
///
/// A panic in the task is recorded, then ends the task as usual: awaiting the handle gives
/// tokio's `JoinError`. Plain `tokio::spawn` keeps working as before (its task records as
/// `(background)`); `fut.in_current_request()` is the same carrying for other executors.
///
/// ```no_run
/// async fn send_receipt(order: u64) {
///     let _ = order;
/// }
///
/// // A handler (`#[fmd::monitored]` in an application, behind `fmd::axum::bind`):
/// async fn checkout() -> &'static str {
///     fmd_dashboard::axum::spawn(send_receipt(7)); // `fmd::spawn`; not awaited: it may
///     "ok" // finish after the answer, and is still linked to this request
/// }
/// ```
///
/// # Panics
///
/// Outside a tokio runtime, as `tokio::spawn` does.
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(future.in_current_request())
}
