//! P5: latency of the dashboard's pages over the generated 10 M-request database.
//!
//! The dashboard is served over real HTTP on 127.0.0.1 (`Dashboard::new(file).router()`
//! nested at `/dashboard`, as `fmd::axum::bind` does), the client logs in through the login
//! form like a browser (CSRF cookie and field), then fetches each page in turn. Every GET
//! page of the route table is timed — the overview, all exceptions and the endpoint pages,
//! and any page added later — with `{id}` the busiest endpoint and `{group}` its most
//! frequent group. A page is fetched twice before timing (the first fetch opens the file).
//! `FMD_BENCH_PAGES` (paths separated by commas, e.g. `/dashboard,/dashboard/reporting`)
//! times only those pages, for a quick before-and-after of a change, and
//! `FMD_BENCH_FETCHES` sets the timed fetches of each (20, or 3 in smoke mode).

use crate::generate::{self, Shape};
use crate::report::{self, Figure};
use crate::util::{self, percentile};
use axum::Router;
use axum::body::Bytes;
use axum::http::{Request, StatusCode, header};
use fmd_dashboard::{Access, Dashboard, route_table};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

const BASE: &str = "/dashboard";
const USER: &str = "bench";
const PASSWORD: &str = "bench-password-1";

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// A response: status, `Set-Cookie` values, body.
struct Reply {
    status: StatusCode,
    cookies: Vec<String>,
    body: String,
}

async fn send(
    client: &HttpClient,
    addr: SocketAddr,
    method: &str,
    path: &str,
    cookie: &str,
    form: Option<String>,
) -> Result<Reply, String> {
    let mut req = Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    if !cookie.is_empty() {
        req = req.header(header::COOKIE, cookie);
    }
    let body = match form {
        Some(f) => {
            req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Full::new(Bytes::from(f))
        }
        None => Full::new(Bytes::new()),
    };
    let res = client
        .request(req.body(body).map_err(|e| e.to_string())?)
        .await
        .map_err(|e| format!("{method} {path}: {e}"))?;
    let status = res.status();
    let cookies = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::to_owned)
        .collect();
    let body = res
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok(Reply {
        status,
        cookies,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn cookie_named<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
    reply
        .cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(String::as_str)
}

/// The value of the form's hidden `csrf` field.
fn csrf_field(html: &str) -> Option<&str> {
    let marker = r#"name="csrf" value=""#;
    let at = html.find(marker)? + marker.len();
    html[at..].split('"').next()
}

/// Logs in through the form; returns the session cookie.
async fn login(client: &HttpClient, addr: SocketAddr) -> Result<String, String> {
    let form = send(client, addr, "GET", &format!("{BASE}/login"), "", None).await?;
    let login_cookie = cookie_named(&form, "fmd_login").ok_or("no login cookie")?;
    let token = csrf_field(&form.body).ok_or("no csrf field in the login form")?;
    let fields = format!("username={USER}&password={PASSWORD}&csrf={token}");
    let done = send(
        client,
        addr,
        "POST",
        &format!("{BASE}/login"),
        login_cookie,
        Some(fields),
    )
    .await?;
    cookie_named(&done, "fmd_session")
        .map(str::to_owned)
        .ok_or_else(|| format!("login failed: {} {}", done.status, done.body))
}

/// The busiest endpoint and its most frequent group.
fn busiest(db: &Path) -> Result<(i64, i64), String> {
    let conn = rusqlite::Connection::open(db).map_err(|e| e.to_string())?;
    let pick = || -> rusqlite::Result<(i64, i64)> {
        let endpoint: i64 = conn.query_row(
            "SELECT endpoint_id FROM request_hourly GROUP BY endpoint_id
             ORDER BY sum(hits) DESC LIMIT 1",
            [],
            |r| r.get(0),
        )?;
        let group: i64 = conn.query_row(
            "SELECT id FROM exception_group WHERE endpoint_id = ?1 ORDER BY count DESC LIMIT 1",
            [endpoint],
            |r| r.get(0),
        )?;
        Ok((endpoint, group))
    };
    pick().map_err(|e| format!("pick an endpoint: {e}"))
}

/// The pages to time: every GET route for viewers, less the login form, assets and the
/// machine routes (metrics, JSON API: token-protected, not pages).
fn pages(endpoint: i64, group: i64) -> (Vec<String>, Vec<String>) {
    let mut paths = Vec::new();
    let mut skipped = Vec::new();
    for route in route_table() {
        if route.method != "GET"
            || route.access == Access::Public
            || matches!(route.access, Access::Bearer(_) | Access::SessionOrBearer(_))
            || route.path.starts_with("/assets/")
            || route.path.starts_with("/api/")
        {
            continue;
        }
        let path = route
            .path
            .replace("{id}", &endpoint.to_string())
            .replace("{group}", &group.to_string());
        if path.contains('{') {
            skipped.push(route.path.to_owned());
            continue;
        }
        let path = if path == "/" { String::new() } else { path };
        paths.push(format!("{BASE}{path}"));
    }
    if let Ok(only) = std::env::var("FMD_BENCH_PAGES") {
        let only: Vec<&str> = only.split(',').map(str::trim).collect();
        paths.retain(|p| only.contains(&p.as_str()));
    }
    (paths, skipped)
}

/// Runs P5 and saves its figures.
pub fn run() -> Result<(), String> {
    let shape = Shape::for_run();
    let db = generate::database(shape)?;
    let (endpoint, group) = busiest(&db)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let figures = runtime.block_on(measure(&db, shape, endpoint, group))?;
    report::save("pages", &figures).map_err(|e| e.to_string())
}

async fn measure(
    db: &Path,
    shape: Shape,
    endpoint: i64,
    group: i64,
) -> Result<Vec<Figure>, String> {
    let app = Router::new().nest(BASE, Dashboard::new(db).admin(USER, PASSWORD).router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let session = login(&client, addr).await?;
    let (paths, skipped) = pages(endpoint, group);
    let samples = std::env::var("FMD_BENCH_FETCHES")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(util::pick(20, 3));
    let mut figures = Vec::new();
    let data = format!(
        "{} M requests, {} endpoints, {} days, {} occurrences in {} groups",
        shape.requests as f64 / 1e6,
        shape.endpoints,
        shape.days,
        shape.occurrences,
        shape.groups
    );
    for path in paths {
        let mut times = Vec::with_capacity(samples);
        let mut size = 0;
        for i in 0..samples + 2 {
            let started = Instant::now();
            let reply = send(&client, addr, "GET", &path, &session, None).await?;
            let elapsed = started.elapsed().as_secs_f64() * 1000.0;
            if reply.status != StatusCode::OK {
                return Err(format!("GET {path}: {}", reply.status));
            }
            size = reply.body.len();
            if i >= 2 {
                times.push(elapsed);
            }
        }
        let p50 = percentile(&times, 50.0);
        let p95 = percentile(&times, 95.0);
        figures.push(
            Figure::goal(
                "P5",
                format!("GET {path}, p50"),
                format!("{p50:.1} ms"),
                "< 100 ms",
                p50 < 100.0,
            )
            .note(format!(
                "p95 {p95:.1} ms over {samples} fetches; {} KB; {data}",
                size / 1024
            )),
        );
        eprintln!("P5: {path}: p50 {p50:.1} ms, p95 {p95:.1} ms");
    }
    for path in skipped {
        figures
            .push(Figure::info("P5", format!("GET {path}"), "not timed").note("unknown parameter"));
    }
    server.abort();
    Ok(figures)
}
