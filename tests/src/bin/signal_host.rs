//! A host that serves with `fmd::axum::serve` and nothing else: the SIGINT test starts it,
//! sends requests, interrupts it and counts what was stored.
//!
//! Configured by `FMD_*` variables. Prints `listening <addr>` once it accepts connections.

use axum::routing::get;
use fmd::prelude::*;

#[monitored]
async fn work() -> &'static str {
    "done"
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let app = fmd::axum::bind(axum::Router::new().route("/work", get(work)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening {}", listener.local_addr()?);
    fmd::axum::serve(listener, app).await
}
