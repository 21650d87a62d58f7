//! A tiny HTTP/1.1 client for driving traffic at a local server (loopback only).

use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends one request and returns the status code (0 if the exchange failed).
pub async fn request(addr: SocketAddr, method: &str, path: &str) -> u16 {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return 0;
    };
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
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
    ("GET", "/health"),
    ("GET", "/history/12"),
    ("POST", "/alerts"),
    ("GET", "/radar"),
    ("GET", "/no/such/page"),
];

/// Sends `rounds` rounds of [`WORKLOAD`]; returns how many requests got an answer.
pub async fn drive(addr: SocketAddr, rounds: usize) -> usize {
    let mut answered = 0;
    for _ in 0..rounds {
        for (method, path) in WORKLOAD {
            if request(addr, method, path).await != 0 {
                answered += 1;
            }
        }
    }
    answered
}
