//! A small HTTP/1.1 client for tests that need request headers (bearer tokens, cookies)
//! and the response's headers, over a real connection to 127.0.0.1.

use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, Request};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::net::SocketAddr;
use std::time::Duration;

/// A response with its headers.
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// Body text.
    pub body: String,
}

impl Response {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body parsed as JSON (panics with the body when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// `GET path` with extra request headers.
pub async fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Response {
    send(addr, "GET", path, headers, String::new()).await
}

/// Any request, with extra headers and a body.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: String,
) -> Response {
    let client = Client::builder(TokioExecutor::new()).build_http::<Body>();
    let mut req = Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Body::from(body)).expect("request");
    let res = tokio::time::timeout(Duration::from_secs(30), client.request(req))
        .await
        .expect("answer within 30 s")
        .expect("HTTP exchange");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = to_bytes(Body::new(res.into_body()), 64 << 20)
        .await
        .expect("body");
    Response {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// `GET path` with `Authorization: Bearer <token>`.
pub async fn get_bearer(addr: SocketAddr, path: &str, token: &str) -> Response {
    get(addr, path, &[("authorization", &format!("Bearer {token}"))]).await
}

/// A `name=value` cookie set by the response.
pub fn set_cookie(res: &Response, name: &str) -> Option<String> {
    res.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|kv| kv.split_once('=').is_some_and(|(k, _)| k == name))
        .map(str::to_owned)
}

/// Logs in to the dashboard at `base` and returns the session cookie (`fmd_session=..`).
pub async fn login(addr: SocketAddr, base: &str, username: &str, password: &str) -> String {
    let form = get(addr, &format!("{base}/login"), &[]).await;
    let cookie = set_cookie(&form, "fmd_login").expect("login form sets its CSRF cookie");
    let token = cookie
        .split_once('=')
        .map(|(_, t)| t.to_owned())
        .unwrap_or_default();
    let body = format!("username={username}&password={password}&csrf={token}");
    let res = send(
        addr,
        "POST",
        &format!("{base}/login"),
        &[
            ("cookie", &cookie),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        body,
    )
    .await;
    set_cookie(&res, "fmd_session")
        .unwrap_or_else(|| panic!("login failed ({}): {}", res.status, res.body))
}
