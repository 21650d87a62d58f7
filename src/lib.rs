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

#![warn(missing_docs)]

pub use fmd_runtime::{
    Config, ConfigError, InitError, Monitor, Stats, add_graph, group_by, init, init_from_env,
    monitor, shutdown,
};

/// The attributes: `use fmd::prelude::*;` brings `#[monitored]` and `#[capture]`.
pub mod prelude {
    pub use fmd_macros::{capture, monitored};
}

/// The axum adapter: [`axum::bind`] records every request and mounts the dashboard.
#[cfg(feature = "axum")]
pub mod axum {
    pub use fmd_dashboard::axum::*;
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
        use $crate::__private::describe::{
            ViaDebug as _, ViaDisplay as _, ViaDynError as _, ViaDynSendError as _, ViaError as _,
        };
        $crate::__private::capture(
            (&&&&&$crate::__private::describe::Subject(&$err)).__fmd_describe(),
            ::core::file!(),
            ::core::line!(),
        )
    }};
}

/// The process's CPU time and resident memory (handy for a custom graph).
pub use fmd_runtime::process;

#[doc(hidden)]
pub use fmd_runtime::private as __private;
