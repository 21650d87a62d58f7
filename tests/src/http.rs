//! A small HTTP/1.1 client for tests that need request headers (bearer tokens, cookies)
//! and the response's headers, over a real connection to 127.0.0.1.

use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::net::{IpAddr, SocketAddr};
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
    send_from(None, addr, method, path, headers, body).await
}

/// Like [`send`], from the local address `from` (any of 127.0.0.0/8 works on Linux): a
/// different client address as the server sees it.
pub async fn send_from(
    from: Option<IpAddr>,
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: String,
) -> Response {
    let mut connector = HttpConnector::new();
    connector.set_local_address(from);
    let client = Client::builder(TokioExecutor::new()).build::<_, Body>(connector);
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
    let res = try_login(None, addr, base, username, password).await;
    set_cookie(&res, "fmd_session")
        .unwrap_or_else(|| panic!("login failed ({}): {}", res.status, res.body))
}

/// Whether a login answer says that the process-wide limit of concurrent password checks
/// was reached (another test of the binary was checking passwords): worth trying again.
pub fn busy(res: &Response) -> bool {
    res.status == 429 && res.body.contains("busy checking other passwords")
}

/// Fetches the login form and submits it from `from` (see [`send_from`]); returns the
/// answer to the submission, whatever it is, except that an answer "busy" (see [`busy`])
/// is retried.
pub async fn try_login(
    from: Option<IpAddr>,
    addr: SocketAddr,
    base: &str,
    username: &str,
    password: &str,
) -> Response {
    loop {
        let res = login_once(from, addr, base, username, password).await;
        if !busy(&res) {
            return res;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One login: the form, then its submission from `from`.
pub async fn login_once(
    from: Option<IpAddr>,
    addr: SocketAddr,
    base: &str,
    username: &str,
    password: &str,
) -> Response {
    let form = send_from(
        from,
        addr,
        "GET",
        &format!("{base}/login"),
        &[],
        String::new(),
    )
    .await;
    let cookie = set_cookie(&form, "fmd_login").expect("login form sets its CSRF cookie");
    // The field the server issued with the cookie (not the cookie's value).
    let token = crate::dashboard_fixture::csrf_in(&form.body).unwrap_or_default();
    let body = format!("username={username}&password={password}&csrf={token}");
    send_from(
        from,
        addr,
        "POST",
        &format!("{base}/login"),
        &[
            ("cookie", &cookie),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        body,
    )
    .await
}

/// Serves `app` on a free port of 127.0.0.1 with each connection's peer address (as
/// `into_make_service_with_connect_info::<SocketAddr>()`, the way hosts serve fmd).
pub async fn serve_with_connect_info(app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        let _ = axum::serve(listener, service).await;
    });
    addr
}
