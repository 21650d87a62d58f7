//! A hello-world axum service with one monitored handler, built three ways (see
//! Cargo.toml): without fmd, with fmd and its dashboard, with fmd recording only.
//!
//! Listens on 127.0.0.1:`PORT` (0 picks a free port) and prints `listening on ADDR`.
//! With fmd, Ctrl-C or SIGTERM stores what is queued before the process ends.

use axum::{Router, extract::Path, routing::get};

#[cfg_attr(any(feature = "dashboard", feature = "record"), fmd::monitored)]
async fn hello(Path(name): Path<String>) -> String {
    format!("hello, {name}")
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let app = Router::new().route("/hello/{name}", get(hello));
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!("listening on {}", listener.local_addr()?);

    #[cfg(any(feature = "dashboard", feature = "record"))]
    return fmd::axum::serve(listener, fmd::axum::bind(app)).await;
    #[cfg(not(any(feature = "dashboard", feature = "record")))]
    axum::serve(listener, app).await
}
