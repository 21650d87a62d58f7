//! A webhook receiver on 127.0.0.1 for the alerts tests, and waiting for what it gets.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::routing::post;
use parking_lot::Mutex;

/// The JSON bodies a [`receiver`] got, in the order they came.
pub type Received = Arc<Mutex<Vec<serde_json::Value>>>;

/// An HTTP receiver on 127.0.0.1 keeping every JSON body posted to `/hook`.
pub async fn receiver() -> (String, Received) {
    let got: Received = Arc::default();
    let app = axum::Router::new()
        .route(
            "/hook",
            post(
                |State(got): State<Received>, Json(body): Json<serde_json::Value>| async move {
                    got.lock().push(body);
                },
            ),
        )
        .with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), got)
}

/// Waits (30 s at most, then fails the test naming `what`) until `done` holds.
pub async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
