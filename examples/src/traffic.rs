//! A tiny HTTP/1.1 client for driving traffic at a local server (loopback only).

use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends one request and returns the status code (0 if the exchange failed).
pub async fn request(addr: SocketAddr, method: &str, path: &str) -> u16 {
    request_as(addr, method, path, None).await
}

/// Sends one request on behalf of `user` (an `x-user` header, for the group-by hook).
pub async fn request_as(addr: SocketAddr, method: &str, path: &str, user: Option<&str>) -> u16 {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return 0;
    };
    let user = user.map_or(String::new(), |u| format!("x-user: {u}\r\n"));
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{user}Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(head.as_bytes()).await.is_err() {
        return 0;
    }
    let mut response = Vec::new();
    if stream.read_to_end(&mut response).await.is_err() && response.is_empty() {
        return 0;
    }
    let text = String::from_utf8_lossy(&response);
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// A mixed workload over the weather service's endpoints.
pub const WORKLOAD: &[(&str, &str)] = &[
    ("GET", "/forecast/amsterdam"),
    ("GET", "/forecast/lisbon"),
    ("GET", "/forecast/oslo"),
    ("GET", "/forecast/groningen"),
    ("GET", "/forecast/atlantis"),
    ("GET", "/outlook/lisbon"),
    ("GET", "/health"),
    ("GET", "/history/12"),
    ("POST", "/alerts"),
    ("GET", "/radar"),
    ("GET", "/no/such/page"),
];

/// Users the traffic is sent as, in turn.
pub const USERS: &[&str] = &["ana", "bo", "chen"];

/// Sends `rounds` rounds of [`WORKLOAD`] as the [`USERS`] in turn, then (once the forecasts
/// so far are stored as history) one forecast from the slow station: an outlier. Returns
/// how many requests got an answer.
pub async fn drive(addr: SocketAddr, rounds: usize) -> usize {
    let mut answered = 0;
    let users = USERS.iter().cycle();
    for (user, (method, path)) in users.zip(WORKLOAD.iter().cycle().take(rounds * WORKLOAD.len())) {
        if request_as(addr, method, path, Some(user)).await != 0 {
            answered += 1;
        }
    }
    // The writer needs a moment to count the forecasts above as the endpoint's history.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let slow = format!("/forecast/{}?units=metric", crate::weather::SLOW_CITY);
    if request_as(addr, "GET", &slow, Some("ana")).await != 0 {
        answered += 1;
    }
    answered
}
