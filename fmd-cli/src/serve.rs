//! `fmd serve`: the dashboard, login and API over a database, in a process of its own. No
//! monitor and no writer run here; the applications that write to the database (if any)
//! keep doing so.

use std::net::SocketAddr;

use anyhow::{Context, bail};
use axum::Router;
use axum::response::Redirect;
use axum::routing::get;
use fmd_dashboard::Dashboard;
use fmd_runtime::Database;
use fmd_runtime::config::{MIN_PASSWORD_LEN, SessionTimeouts};

/// Serves the dashboard of `database` on `listen` under `path` until Ctrl-C or SIGTERM.
pub fn run(database: Database, listen: SocketAddr, path: &str) -> anyhow::Result<()> {
    crate::require_existing(&database)?;
    // Fails early, and clearly, on a database that cannot be opened (read-only probe).
    fmd_runtime::store::check::check(&database)
        .with_context(|| format!("cannot open {database}"))?;
    let base = path.trim_end_matches('/').to_owned();
    if !base.is_empty() && !base.starts_with('/') {
        bail!("--path must start with '/' (got {path:?})");
    }
    let dashboard = configure(Dashboard::new(database).mount_path(&base))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let dashboard = dashboard.router();
        let app = if base.is_empty() {
            dashboard
        } else {
            let home = format!("{base}/");
            Router::new()
                .nest(&base, dashboard)
                .route("/", get(move || async move { Redirect::to(&home) }))
        };
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let local = listener.local_addr().unwrap_or(listen);
        eprintln!("fmd: dashboard at http://{local}{base}/ (Ctrl-C stops it)");
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown())
        .await
        .context("the server failed")
    })
}

/// The first admin, the bearer tokens and the session timeouts, from the same variables
/// the library reads.
fn configure(mut dashboard: Dashboard) -> anyhow::Result<Dashboard> {
    let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
    let password = var("FMD_PASSWORD");
    if let Some(p) = &password
        && p.chars().count() < MIN_PASSWORD_LEN
    {
        bail!("FMD_PASSWORD needs at least {MIN_PASSWORD_LEN} characters");
    }
    if password.is_some() || var("FMD_USERNAME").is_some() {
        // An empty password makes the dashboard generate one (printed once).
        let username = var("FMD_USERNAME").unwrap_or_else(|| "admin".to_owned());
        dashboard = dashboard.admin(&username, password.as_deref().unwrap_or(""));
    }
    let sessions = SessionTimeouts::from_env()?;
    Ok(dashboard
        .metrics_token(var("FMD_METRICS_TOKEN").as_deref())
        .api_token(var("FMD_API_TOKEN").as_deref())
        .session_timeouts(sessions.idle, sessions.lifetime))
}

/// Resolves at Ctrl-C or SIGTERM (the dashboard crate's signal, shared with the hosts).
async fn shutdown() {
    fmd_dashboard::axum::shutdown_signal().await;
    eprintln!("fmd: stopping");
}
