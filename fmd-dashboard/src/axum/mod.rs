//! The axum adapter: one line to record every request and mount the dashboard.
//!
//! [`bind`] wraps a `Router` in [`FmdLayer`] — which knows each request's route template,
//! method and final status, and turns a handler panic into a 500 after recording it — and
//! nests the dashboard at the configured path (`/dashboard`). [`serve`] runs it with client
//! addresses and stores what is queued when the process is stopped (Ctrl-C, SIGTERM).
//! [`spawn`] is `tokio::spawn` of a task that carries the current request.
//!
//! Without the feature `pages` (recording only: `fmd = { default-features = false,
//! features = ["axum"] }`) there is no dashboard to mount: [`bind`] only adds the layer,
//! and the recorded data is read with the `fmd` command (`fmd serve` shows the dashboard
//! over the same database) or another process built with the pages.

mod body;
mod layer;
mod serve;
mod spawn;

pub use layer::{FmdLayer, FmdService, ResponseFuture};
pub use serve::{serve, shutdown_signal};
pub use spawn::spawn;

use axum::Router;

/// Records every request of `router` and mounts the dashboard (without the feature
/// `pages`: only records).
///
/// Works on a router with or without state, before or after `with_state`: the dashboard
/// keeps its own state, so `bind(Router::new().route(..)).with_state(db)` and
/// `bind(Router::new().route(..).with_state(db))` both compile and record the same.
/// Starts fmd from `fmd.toml` / `FMD_*` if it is not running yet.
///
/// # Panics
///
/// At start-up, if the configuration is malformed (say `FMD_LEVEL=7`), or if the
/// application already has a route at the dashboard's path: the message names the option
/// (`FMD_DASHBOARD_PATH`) and what it accepts. Use [`try_bind`] to handle that yourself.
///
/// ```no_run
/// use axum::{Router, extract::State, routing::get};
///
/// #[derive(Clone)]
/// struct Db;
///
/// async fn hello(State(_db): State<Db>) -> &'static str {
///     "hello"
/// }
///
/// # async fn run() {
/// let app = fmd_dashboard::axum::bind(Router::new().route("/", get(hello))).with_state(Db);
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await.unwrap();
/// // Client addresses, and on Ctrl-C / SIGTERM: drain, then store what is queued.
/// fmd_dashboard::axum::serve(listener, app).await.unwrap();
/// # }
/// ```
pub fn bind<S>(router: Router<S>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    match try_bind(router) {
        Ok(router) => router,
        Err(e) => panic!("{e}"),
    }
}

/// Like [`bind`], returning a malformed configuration, or a dashboard path the
/// application already uses, as an error.
pub fn try_bind<S>(router: Router<S>) -> Result<Router<S>, fmd_runtime::ConfigError>
where
    S: Clone + Send + Sync + 'static,
{
    let monitor = fmd_runtime::init_from_env()?;
    #[cfg(feature = "pages")]
    let router = mount(router, monitor)?;
    #[cfg(not(feature = "pages"))]
    let router = {
        let _ = monitor;
        router.layer(FmdLayer::new())
    };
    Ok(router)
}

/// Nests the dashboard at its configured path and adds the layer, which leaves the
/// dashboard's own requests unrecorded.
#[cfg(feature = "pages")]
fn mount<S>(
    router: Router<S>,
    monitor: &fmd_runtime::Monitor,
) -> Result<Router<S>, fmd_runtime::ConfigError>
where
    S: Clone + Send + Sync + 'static,
{
    let path = crate::adapter::dashboard_path(monitor)?;
    let home = path.clone();
    // axum refuses overlapping routes by panicking; turn that into an error that says
    // which option moves the dashboard out of the way.
    let mounted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        router
            // `/dashboard/` is what people type: send it to the dashboard's home.
            .route(
                &format!("{path}/"),
                axum::routing::get(move || async move { axum::response::Redirect::to(&home) }),
            )
            .nest(&path, crate::router().with_state(()))
    }));
    let router = mounted.map_err(|panic| fmd_runtime::ConfigError {
        source: "FMD_DASHBOARD_PATH".to_owned(),
        problem: format!(
            "the application already has a route at {path} (axum: {}); set FMD_DASHBOARD_PATH \
             (or dashboard_path in fmd.toml) to a free path such as /fmd",
            panic_text(panic.as_ref())
        ),
    })?;
    Ok(router.layer(FmdLayer::new().skip_prefix(&path)))
}

#[cfg(feature = "pages")]
fn panic_text(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("overlapping routes")
}
