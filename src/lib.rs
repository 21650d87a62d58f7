//! # fmd — performance and error monitoring for Rust web services
//!
//! One dependency, an attribute on each handler, one line to mount the dashboard. Every
//! request is timed; every panic and error is stored with a trace that shows the source code
//! of each function it passed through; errors are grouped; everything lives in your own
//! SQLite file (`./fmd.db`).
//!
//! ```ignore
//! use fmd::prelude::*;
//!
//! #[monitored(level = 2)]
//! async fn forecast(Path(city): Path<String>) -> Result<Json<Forecast>, AppError> {
//!     let f = load_forecast(&city).await?; // recorded if the error passes here
//!     Ok(Json(f))
//! }
//!
//! #[capture]
//! async fn load_forecast(city: &str) -> Result<Forecast, AppError> { /* ... */ }
//!
//! let app = fmd::axum::bind(Router::new().route("/forecast/{city}", get(forecast)));
//! ```
//!
//! Handled errors are recorded with [`capture!`]; call [`shutdown`] before the process
//! exits so that queued events are stored. [`group_by`] tells fmd which user (or tenant,
//! or client) a request belongs to, and [`add_graph`] adds a value of your own to the
//! dashboard's custom graphs:
//!
//! ```no_run
//! fmd::group_by(|req| {
//!     let user = req.headers.get("x-user")?.to_str().ok()?;
//!     Some(user.to_owned())
//! });
//! fmd::add_graph("Queue length", std::time::Duration::from_secs(10), || 3.0);
//! ```
//!
//! The pieces: [`fmd_macros`] (the attributes), [`fmd_runtime`] (capture, queue, writer,
//! storage) and [`fmd_dashboard`] (pages and the framework adapters).
//!
//! Features: `axum` (the layer, [`axum::bind`], [`axum::serve`]) and `dashboard` (the
//! pages `bind` mounts), both on by default; `default-features = false, features =
//! ["axum"]` records without building the dashboard (then `bind` mounts nothing).
//! `postgres` adds the PostgreSQL store, `tracing` the `fmd::tracing` layer, `actix` the
//! actix-web adapter (`fmd::actix`).

#![warn(missing_docs)]

pub use fmd_runtime::{
    Config, ConfigError, Database, InitError, Monitor, Stats, add_graph, group_by, init,
    init_from_env, monitor, shutdown,
};

/// The attributes: `use fmd::prelude::*;` brings `#[monitored]` and `#[capture]`, and
/// [`FutureExt`]'s `fut.in_current_request()`.
pub mod prelude {
    pub use fmd_macros::{capture, monitored};
    pub use fmd_runtime::request::FutureExt as _;
}

/// Spawned tasks: `fut.in_current_request()` carries the current request's context and
/// logical stack into a future that runs elsewhere; a panic or `capture!` in it is
/// recorded on that request (see [`spawn`] for tokio).
pub use fmd_runtime::request::{FutureExt, InCurrentRequest};

#[cfg(feature = "axum")]
pub use fmd_dashboard::axum::spawn;

/// `#[fmd::monitored]` works without the prelude too (the form people write first).
/// `#[capture]` has no such path: `fmd::capture!` (the handled-error macro) holds the name
/// at the crate root, and Rust keeps attribute and function-like macros in one namespace.
pub use fmd_macros::monitored;

/// The axum adapter: [`axum::bind`] records every request and mounts the dashboard
/// (without the feature `dashboard`: only records).
#[cfg(feature = "axum")]
pub mod axum {
    pub use fmd_dashboard::axum::*;
}

/// The actix-web adapter (feature `actix`): [`actix::Monitor`] records every request of
/// an actix `App`, [`actix::dashboard()`] (with the feature `dashboard`) serves the same
/// dashboard under `/dashboard`.
///
/// ```no_run
/// # #[cfg(feature = "dashboard")]
/// # async fn run() -> std::io::Result<()> {
/// use actix_web::{App, HttpServer, web};
/// use fmd::prelude::*;
///
/// #[monitored]
/// async fn hello() -> &'static str {
///     "hello"
/// }
///
/// HttpServer::new(|| {
///     App::new()
///         .wrap(fmd::actix::Monitor::default())
///         .service(fmd::actix::dashboard())
///         .route("/", web::get().to(hello))
/// })
/// .bind(("127.0.0.1", 8080))?
/// .run()
/// .await?;
/// fmd::shutdown(); // store what is still queued
/// # Ok(())
/// # }
/// ```
#[cfg(feature = "actix")]
pub mod actix {
    pub use fmd_dashboard::actix::*;
}

/// `tracing` integration (feature `tracing`): [`tracing::layer()`] records error events
/// like [`capture!`].
///
/// The event's message (followed by its other fields and those of its spans as
/// `key=value`), an `error` field given as `&dyn Error` with its whole `source()` chain,
/// and the event's `file:line` as the capture site. Inside a monitored request the event
/// joins that request; elsewhere it is stored as `(background)`.
///
/// ```no_run
/// use tracing_subscriber::prelude::*;
///
/// tracing_subscriber::registry()
///     .with(fmd::tracing::layer().with_level(tracing::Level::WARN))
///     .init();
/// let e = std::io::Error::other("card declined");
/// tracing::error!(error = &e as &dyn std::error::Error, user = 7, "charge failed");
/// ```
#[cfg(feature = "tracing")]
pub mod tracing {
    pub use fmd_runtime::request::tracing_layer::{FmdLayer, TYPE_NAME, layer};
}

/// Records a handled error: its type, message, `source()` chain and trace.
///
/// Inside a request the error joins that request's record; anywhere else (a background
/// job) it is stored on its own. The value is borrowed, not moved. Any value with
/// `std::error::Error`, `Display` or `Debug` can be captured.
///
/// ```no_run
/// fn notify() {
///     if let Err(e) = std::fs::read_to_string("/etc/mail.conf") {
///         fmd::capture!(e); // recorded; the function carries on
///     }
/// }
/// ```
#[macro_export]
macro_rules! capture {
    ($err:expr $(,)?) => {{
        #[allow(unused_imports)]
        use $crate::__private_0_1::describe::{
            ViaDebug as _, ViaDisplay as _, ViaDynError as _, ViaDynSendError as _, ViaError as _,
        };
        $crate::__private_0_1::capture(
            (&&&&&$crate::__private_0_1::describe::Subject(&$err)).__fmd_describe(),
            ::core::file!(),
            ::core::line!(),
        )
    }};
}

/// The process's CPU time and resident memory (handy for a custom graph).
pub use fmd_runtime::process;

/// The hidden surface the generated code calls (not a public API). Its name carries the
/// version of that surface: code generated by an `fmd-macros` that does not match this
/// `fmd` fails to compile, naming `__private_0_1`, instead of misbehaving.
#[doc(hidden)]
pub use fmd_runtime::private as __private_0_1;
