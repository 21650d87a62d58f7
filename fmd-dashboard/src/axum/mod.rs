//! The axum adapter: one line to record every request and mount the dashboard.
//!
//! [`bind`] wraps a `Router` in [`FmdLayer`] — which knows each request's route template,
//! method and final status, and turns a handler panic into a 500 after recording it — and
//! nests the dashboard at the configured path (`/dashboard`).

mod layer;

pub use layer::{FmdLayer, FmdService, ResponseFuture};

use axum::Router;

/// Records every request of `router` and mounts the dashboard.
///
/// Starts fmd from `fmd.toml` / `FMD_*` if it is not running yet.
///
/// # Panics
///
/// At start-up, if the configuration is malformed (say `FMD_LEVEL=7`): the message names
/// the option and what it accepts. Use [`try_bind`] to handle that yourself.
///
/// ```no_run
/// use axum::{Router, routing::get};
///
/// # async fn run() {
/// let app = fmd_dashboard::axum::bind(Router::new().route("/", get(|| async { "hello" })));
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await.unwrap();
/// axum::serve(listener, app).await.unwrap();
/// fmd_runtime::shutdown();
/// # }
/// ```
pub fn bind(router: Router) -> Router {
    match try_bind(router) {
        Ok(router) => router,
        Err(e) => panic!("{e}"),
    }
}

/// Like [`bind`], returning a malformed configuration as an error.
pub fn try_bind(router: Router) -> Result<Router, fmd_runtime::ConfigError> {
    let monitor = fmd_runtime::init_from_env()?;
    let path = monitor
        .config()
        .dashboard_path
        .trim_end_matches('/')
        .to_owned();
    let home = path.clone();
    Ok(router
        // `/dashboard/` is what people type: send it to the dashboard's home.
        .route(
            &format!("{path}/"),
            axum::routing::get(move || async move { axum::response::Redirect::to(&home) }),
        )
        .nest(&path, crate::router())
        .layer(FmdLayer::new().skip_prefix(&path)))
}
