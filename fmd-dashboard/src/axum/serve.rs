//! Serving a bound router the way fmd needs it, in one line: client addresses known, and
//! nothing queued lost when the process is asked to stop.

use std::net::SocketAddr;

use axum::Router;

/// Serves `router` on `listener` until the process gets Ctrl-C (SIGINT) or SIGTERM, lets
/// the requests in flight finish, then stores everything fmd still has queued
/// ([`fmd_runtime::shutdown`]) before returning.
///
/// It also passes each connection's peer address to the handlers (axum's
/// `ConnectInfo<SocketAddr>`), so requests are stored with their client address.
///
/// Without it, `axum::serve(..).await` followed by `fmd::shutdown()` never reaches the
/// shutdown on Ctrl-C: the process ends inside `serve`, and what was queued in the last
/// moments is lost.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// let app = fmd_dashboard::axum::bind(axum::Router::new());
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// fmd_dashboard::axum::serve(listener, app).await
/// # }
/// ```
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    fmd_runtime::shutdown();
    Ok(())
}

/// Resolves when the process gets Ctrl-C (SIGINT) or, on Unix, SIGTERM: the signal to
/// give `axum::serve(..).with_graceful_shutdown(..)` when serving by hand (then call
/// [`fmd_runtime::shutdown`] after `serve` returns).
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
