//! The weather example: `cargo run -p fmd-examples --bin weather`, then open
//! <http://127.0.0.1:3000/dashboard>. It sends itself a little traffic at start-up so the
//! dashboard has data. `PORT` changes the port; `FMD_*` variables configure fmd.

use fmd_examples::{traffic, weather};
use std::net::SocketAddr;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let app = fmd::axum::bind(weather::router());
    weather::set_up_monitoring();
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    println!("weather service on http://{addr}");
    println!("dashboard on http://{addr}/dashboard");

    weather::nightly_cleanup();
    tokio::spawn(async move {
        let answered = traffic::drive(addr, 3).await;
        println!("sent {answered} requests of example traffic");
    });

    // Client addresses, and on Ctrl-C or SIGTERM: drain, then store what is queued.
    fmd::axum::serve(listener, app).await?;
    Ok(())
}
