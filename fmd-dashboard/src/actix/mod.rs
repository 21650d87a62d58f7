//! The actix-web adapter (feature `actix`): the same recording as the axum layer, and the
//! same dashboard, in an actix `App`.
//!
//! | file | holds |
//! |---|---|
//! | `monitor` | [`Monitor`], the middleware that records every request ([`MonitorService`], [`MonitorFuture`]) |
//! | `body` | [`RecordedBody`], the response body of a request whose record waits for its end |
//! | `convert` | actix's request parts as the `http` 1 types fmd's runtime and axum speak |
//! | `dashboard` | [`dashboard`]: the dashboard's axum router bridged into an actix service (features `axum` and `pages`) |
//!
//! The rules are the axum layer's (shared in the crate's `adapter` module): the route
//! template is actix's match pattern (`/item/{id}`), every unmatched path counts for one
//! `(unmatched)` endpoint (never the raw URI), a panic in a handler is recorded and answered
//! with a 500, a request whose future is dropped is stored as cancelled, the client address
//! follows `FMD_TRUSTED_PROXIES`, and the endpoint's level and the group-by hook apply.
//!
//! ```no_run
//! # #[cfg(all(feature = "axum", feature = "pages"))]
//! # async fn run() -> std::io::Result<()> {
//! use actix_web::{App, HttpServer, web};
//!
//! async fn hello() -> &'static str {
//!     "hello"
//! }
//!
//! HttpServer::new(|| {
//!     App::new()
//!         .wrap(fmd_dashboard::actix::Monitor::default())
//!         .service(fmd_dashboard::actix::dashboard())
//!         .route("/", web::get().to(hello))
//! })
//! .bind(("127.0.0.1", 8080))?
//! .run()
//! .await?;
//! // Store what is still queued before the process ends.
//! fmd_runtime::shutdown();
//! # Ok(())
//! # }
//! ```

mod body;
mod convert;
#[cfg(all(feature = "axum", feature = "pages"))]
mod dashboard;
mod monitor;

pub use body::RecordedBody;
#[cfg(all(feature = "axum", feature = "pages"))]
pub use dashboard::{dashboard, try_dashboard};
pub use monitor::{Monitor, MonitorFuture, MonitorService};
