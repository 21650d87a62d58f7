//! The hello-world JSON service of the load benchmark, in four builds that share one
//! router shape: plain axum, fmd (`#[monitored]` handler, `#[capture]` helper, mounted with
//! `fmd::axum::bind` as a user would), and two peers: axum-prometheus (the widely used
//! metrics layer) and autometrics (`#[autometrics]` on the same two functions, its
//! Prometheus exporter on `/metrics`).
//!
//! With failures switched on, every tenth request fails: the helper returns an error that
//! the handler passes on with `?`, answered as a 500.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

static SERVED: AtomicU64 = AtomicU64::new(0);
static FAILING: AtomicBool = AtomicBool::new(false);

/// Makes every tenth request fail from now on (or stops it).
pub fn set_failing(on: bool) {
    FAILING.store(on, Ordering::Relaxed);
}

/// The response body.
#[derive(Debug, Serialize)]
pub struct Hello {
    /// A greeting.
    pub message: &'static str,
    /// How many requests the process served before this one.
    pub served: u64,
}

/// The error every tenth request meets when failures are on.
#[derive(Debug)]
pub struct Unavailable {
    /// The request's number.
    pub served: u64,
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "backend unavailable (request {})", self.served)
    }
}

impl std::error::Error for Unavailable {}

impl IntoResponse for Unavailable {
    fn into_response(self) -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response()
    }
}

fn next_number() -> Result<u64, Unavailable> {
    let served = SERVED.fetch_add(1, Ordering::Relaxed);
    if FAILING.load(Ordering::Relaxed) && served % 10 == 9 {
        return Err(Unavailable { served });
    }
    Ok(served)
}

/// The handlers without any instrumentation.
pub mod plain {
    use super::*;

    /// Counts the request; fails every tenth when failures are on.
    pub fn lookup() -> Result<u64, Unavailable> {
        let served = next_number()?;
        Ok(served)
    }

    /// `GET /hello`.
    pub async fn hello() -> Result<Json<Hello>, Unavailable> {
        let served = lookup()?;
        Ok(Json(Hello {
            message: "hello, world",
            served,
        }))
    }
}

/// The same handlers as a user of fmd writes them.
pub mod monitored {
    use super::*;
    use fmd::prelude::*;

    /// Counts the request; fails every tenth when failures are on.
    #[capture]
    pub fn lookup() -> Result<u64, Unavailable> {
        let served = next_number()?;
        Ok(served)
    }

    /// `GET /hello`.
    #[monitored]
    pub async fn hello() -> Result<Json<Hello>, Unavailable> {
        let served = lookup()?;
        Ok(Json(Hello {
            message: "hello, world",
            served,
        }))
    }
}

/// The same handlers under autometrics: the attribute on the two functions fmd annotates.
pub mod autometered {
    use super::*;
    use autometrics::autometrics;

    /// Counts the request; fails every tenth when failures are on.
    #[autometrics]
    pub fn lookup() -> Result<u64, Unavailable> {
        let served = next_number()?;
        Ok(served)
    }

    /// `GET /hello`.
    #[autometrics]
    pub async fn hello() -> Result<Json<Hello>, Unavailable> {
        let served = lookup()?;
        Ok(Json(Hello {
            message: "hello, world",
            served,
        }))
    }
}

/// Which build of the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Plain axum.
    Plain,
    /// fmd at the level `FMD_LEVEL` says.
    Fmd,
    /// axum-prometheus.
    Peer,
    /// autometrics.
    Autometrics,
}

impl Variant {
    /// Parses `plain`, `fmd`, `peer` (axum-prometheus) or `autometrics`.
    pub fn parse(s: &str) -> Option<Variant> {
        match s {
            "plain" => Some(Variant::Plain),
            "fmd" => Some(Variant::Fmd),
            "peer" => Some(Variant::Peer),
            "autometrics" => Some(Variant::Autometrics),
            _ => None,
        }
    }

    /// The name [`Variant::parse`] reads.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Plain => "plain",
            Variant::Fmd => "fmd",
            Variant::Peer => "peer",
            Variant::Autometrics => "autometrics",
        }
    }
}

/// The plain router: `GET /hello`.
pub fn plain_router() -> Router {
    Router::new().route("/hello", get(plain::hello))
}

/// The router under fmd: `#[monitored]` handler, `fmd::axum::bind` (dashboard included).
pub fn fmd_router() -> Router {
    fmd::axum::bind(Router::new().route("/hello", get(monitored::hello)))
}

/// The router under axum-prometheus, with its `/metrics` endpoint.
pub fn peer_router() -> Router {
    let (layer, handle) = axum_prometheus::PrometheusMetricLayer::pair();
    Router::new()
        .route("/hello", get(plain::hello))
        .route("/metrics", get(move || async move { handle.render() }))
        .layer(layer)
}

/// The router under autometrics, with its Prometheus exporter's `/metrics` endpoint.
pub fn autometrics_router() -> Router {
    // Idempotent: the exporter is set up once per process.
    let _ = autometrics::prometheus_exporter::try_init();
    Router::new()
        .route("/hello", get(autometered::hello))
        .route(
            "/metrics",
            get(|| async { autometrics::prometheus_exporter::encode_http_response() }),
        )
}

/// The router of `variant` (fmd: see [`fmd_router`]).
pub fn router(variant: Variant) -> Router {
    match variant {
        Variant::Plain => plain_router(),
        Variant::Fmd => fmd_router(),
        Variant::Peer => peer_router(),
        Variant::Autometrics => autometrics_router(),
    }
}

/// Serves `variant` on 127.0.0.1 (port 0: any free port) until SIGINT; prints
/// `listening <addr>` once it accepts connections. fmd stores what is queued before exit.
pub fn serve(variant: Variant, port: u16, failing: bool) -> std::io::Result<()> {
    set_failing(failing);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        println!("listening {}", listener.local_addr()?);
        let stop = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        match variant {
            Variant::Plain | Variant::Peer | Variant::Autometrics => {
                axum::serve(listener, router(variant))
                    .with_graceful_shutdown(stop)
                    .await?
            }
            Variant::Fmd => {
                let app =
                    fmd_router().into_make_service_with_connect_info::<std::net::SocketAddr>();
                axum::serve(listener, app)
                    .with_graceful_shutdown(stop)
                    .await?;
                fmd::shutdown();
            }
        }
        Ok(())
    })
}

/// Sends `n` GET /hello requests in-process through the variant's `Router` (one
/// `oneshot` each, body read to the end) on a single-threaded runtime, after 200 to warm
/// up. Run under `valgrind --tool=callgrind --separate-threads=yes` at two `n`: the main
/// thread's difference is the request path's instructions, exact on a noisy machine (the
/// writer thread is counted apart).
pub fn oneshot(variant: Variant, n: u64, failing: bool) -> std::io::Result<()> {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    set_failing(failing);
    if variant == Variant::Fmd {
        // The writer creates the schema before the dashboard opens the file, so start-up
        // work lands on the same thread at every count and cancels out.
        let monitor = fmd_runtime::init_from_env().map_err(std::io::Error::other)?;
        monitor.flush(std::time::Duration::from_secs(60));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Inside the runtime: axum-prometheus spawns its upkeep task when its layer is made.
    // `with_state` turns the handlers into routes once, as `axum::serve` does.
    let router = {
        let _runtime = runtime.enter();
        router(variant).with_state(())
    };
    runtime.block_on(async move {
        for _ in 0..200 + n {
            let request = axum::http::Request::get("/hello")
                .body(axum::body::Body::empty())
                .map_err(std::io::Error::other)?;
            let response = router
                .clone()
                .oneshot(request)
                .await
                .map_err(std::io::Error::other)?;
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(std::io::Error::other)?;
            std::hint::black_box(body.to_bytes());
        }
        Ok::<(), std::io::Error>(())
    })?;
    if variant == Variant::Fmd {
        fmd::shutdown();
    }
    Ok(())
}
