//! The host application of the fault tests: the weather example behind `fmd::axum::bind`,
//! as a separate process that the tests start, load over 127.0.0.1, hurt and kill.
//!
//! Configured by `FMD_*` variables. Prints `listening <addr>` once it accepts connections.
//! `GET /_stats` (not recorded: added outside fmd's layer) answers fmd's counters as JSON.
//! Closing its standard input shuts it down cleanly: the server stops, `fmd::shutdown()`
//! stores what is queued, and the final counters are printed as `final <json>`.

use axum::routing::get;
use std::io::Read;
use std::net::SocketAddr;

async fn stats() -> axum::Json<fmd::Stats> {
    axum::Json(fmd::monitor().stats())
}

#[tokio::main]
async fn main() {
    let app = fmd::axum::bind(fmd_examples::weather::router()).route("/_stats", get(stats));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local address");
    println!("listening {addr}");

    let (closed_tx, closed_rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        let _ = closed_tx.send(());
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = closed_rx.await;
    })
    .await
    .expect("serve");
    let flushed = fmd::shutdown();
    let stats = fmd::monitor().stats();
    println!(
        "final {}",
        serde_json::json!({ "flushed": flushed, "stats": stats })
    );
}
