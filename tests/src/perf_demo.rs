//! Two weeks of a weather service's traffic for the performance pages' browser test and
//! screenshots: daily rhythm, a new version in the second week (a little slower), users,
//! IPs, failures, outliers with their stack, call trees and two custom graphs.
//!
//! Everything goes through [`crate::perf_fixture::Perf`], the one place that writes the
//! schema-v3 rows.

use crate::dashboard_fixture::{ExceptionSpec, Fixture, FrameSpec};
use crate::perf_fixture::{DAY, HOUR, Node, OutlierSpec, Perf, Req, function, node};
use crate::vals;

/// The ids the browser test visits.
#[derive(Debug, Clone, Copy)]
pub struct Demo {
    /// `weather::handlers::forecast`, level 3, with outliers and call trees.
    pub forecast: i64,
    /// `weather::handlers::index`.
    pub index: i64,
    /// The exception group linked from a failed forecast request.
    pub group: i64,
}

const FORECAST: &str = r#"#[monitored(level = 3)]
async fn forecast(Path(city): Path<String>) -> Result<Json<Forecast>, AppError> {
    let f = load_forecast(&city).await?;
    Ok(Json(f))
}"#;

const LOAD_FORECAST: &str = r#"#[capture]
async fn load_forecast(city: &str) -> Result<Forecast, AppError> {
    let station = stations::nearest(city).ok_or(AppError::UnknownCity)?;
    let raw = http_get(&station.url).await?;
    Ok(serde_json::from_str(&raw)?)
}"#;

/// A small deterministic pseudo-random sequence (no dependency, same data every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

/// Requests per hour of day: quiet at night, busiest around 14:00 UTC.
fn rhythm(hour: i64) -> u64 {
    [
        0, 0, 0, 0, 0, 1, 1, 2, 3, 4, 4, 5, 5, 5, 6, 5, 5, 4, 3, 3, 2, 2, 1, 1,
    ][hour as usize]
}

const USERS: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];

fn tree(rng: &mut Lcg, total: i64) -> Vec<Node> {
    let forecast = function("weather::handlers", "forecast", 12);
    let load = function("weather::source", "load_forecast", 40);
    let nearest = function("weather::stations", "nearest", 8);
    let http = function("weather::source", "http_get", 70);
    let render = function("weather::view", "render", 20);
    let http_us = total * (55 + rng.next(20) as i64) / 100;
    let nearest_us = total * (5 + rng.next(5) as i64) / 100;
    let load_us = http_us + nearest_us + total / 50;
    let render_us = total * (15 + rng.next(10) as i64) / 100;
    let root = (load_us + render_us + total / 20).min(total);
    vec![
        node(None, &forecast, 1, root, root - load_us - render_us),
        node(Some(0), &load, 1, load_us, load_us - http_us - nearest_us),
        node(Some(1), &http, 1, http_us, http_us),
        node(Some(1), &nearest, 3, nearest_us, nearest_us),
        node(Some(0), &render, 1, render_us, render_us),
    ]
}

/// Fills `fx` with two weeks of traffic ending at `now`.
pub fn weather_demo(fx: &Fixture, now: i64) -> Demo {
    fx.db.batch("BEGIN");
    let forecast = fx.endpoint("weather::handlers::forecast");
    let index = fx.endpoint("weather::handlers::index");
    let radar = fx.endpoint("weather::handlers::radar");
    let alerts = fx.endpoint("weather::handlers::alerts");
    fx.level(forecast, 3);
    let group = fx.exception(
        forecast,
        "/forecast/{city}",
        &ExceptionSpec {
            type_name: "weather::AppError".into(),
            message: "upstream weather station timed out after 5 s".into(),
            chain: vec!["operation timed out".into()],
            frames: vec![FrameSpec::app(
                "weather::source",
                "load_forecast",
                "weather/src/source.rs",
                40,
                LOAD_FORECAST,
                43,
            )],
            times: vec![],
            kind: 1,
        },
    );
    let mut rng = Lcg(7);
    let start = now - now.rem_euclid(HOUR) - 14 * DAY;
    let mut profiled = Vec::new();
    let mut failed = Vec::new();
    for h in 0..14 * 24 {
        let hour_start = start + h * HOUR;
        let second_week = h >= 7 * 24;
        let version = if second_week { "1.1.0" } else { "1.0.0" };
        let load = rhythm(h % 24) + u64::from(h / 24 % 7 < 5);
        for (endpoint, scale, base_us) in [
            (forecast, 3, 9_000),
            (index, 2, 600),
            (radar, 1, 35_000),
            (alerts, 1, 2_500),
        ] {
            for _ in 0..load * scale + rng.next(scale + 1) {
                let t = hour_start + rng.next(HOUR as u64 - 1) as i64;
                if t > now {
                    continue;
                }
                let slower = if second_week && endpoint == forecast {
                    125
                } else {
                    100
                };
                let spread = base_us * (60 + rng.next(90) as i64) / 100;
                let duration = spread * slower / 100;
                let roll = rng.next(100);
                let status = match roll {
                    0..=2 => Some(404),
                    3 if endpoint == forecast => Some(500),
                    4 if endpoint == radar => None,
                    _ => Some(200),
                };
                let user = USERS[rng.next(USERS.len() as u64) as usize];
                let ip = format!("10.0.{}.{}", rng.next(2), 10 + rng.next(6));
                let route = match endpoint {
                    e if e == forecast => "/forecast/{city}",
                    e if e == index => "/",
                    e if e == radar => "/radar/{tile}",
                    _ => "/alerts",
                };
                let id = fx.record(
                    endpoint,
                    &Req::at(t, duration)
                        .version(version)
                        .status(status)
                        .who(user, &ip)
                        .route(route),
                );
                if endpoint == forecast {
                    profiled.push((id, duration));
                    if status == Some(500) {
                        failed.push((id, t));
                    }
                }
            }
        }
    }
    for (id, duration) in profiled.iter().rev().take(120) {
        fx.profile(forecast, *id, &tree(&mut rng, *duration));
    }
    for (id, t) in &failed {
        fx.db.exec(
            "INSERT INTO exception_occurrence (group_id, request_id, type_id, message_id, snapshot_id, kind, time)
             SELECT id, ?2, type_id, message_id, snapshot_id, 1, ?3 FROM exception_group WHERE id = ?1",
            vals![group, *id, *t],
        );
    }
    fx.db.exec(
        "UPDATE exception_group SET count = ?2, first_seen = ?3, last_seen = ?4 WHERE id = ?1",
        vals![
            group,
            failed.len(),
            failed.first().map_or(now, |f| f.1),
            failed.last().map_or(now, |f| f.1)
        ],
    );
    let stack = vec![
        FrameSpec::app(
            "weather::source",
            "load_forecast",
            "weather/src/source.rs",
            40,
            LOAD_FORECAST,
            42,
        ),
        FrameSpec::app(
            "weather::handlers",
            "forecast",
            "weather/src/handlers.rs",
            12,
            FORECAST,
            14,
        ),
    ];
    for (k, (id, duration)) in profiled.iter().rev().step_by(97).take(3).enumerate() {
        fx.db.exec(
            "UPDATE request SET duration_us = ?2 WHERE id = ?1",
            vals![*id, duration * 6],
        );
        fx.outlier(
            forecast,
            *id,
            &OutlierSpec {
                url: format!("/forecast/{}?units=metric", ["oslo", "lima", "perth"][k]),
                headers: vec![
                    ("accept".into(), "application/json".into()),
                    ("user-agent".into(), "curl/8.5.0".into()),
                    ("authorization".into(), "[scrubbed]".into()),
                ],
                typical_us: 11_000,
                threshold_us: 27_500,
                cpu_percent: Some(35.0 + 20.0 * k as f64),
                memory_bytes: Some((180 + 15 * k as i64) << 20),
                stack: stack.clone(),
            },
        );
    }
    let samples = |f: &dyn Fn(i64) -> f64| -> Vec<(i64, f64)> {
        (0..14 * 48)
            .map(|i| start + i * 30 * 60_000)
            .filter(|t| *t <= now)
            .map(|t| (t, f(t)))
            .collect()
    };
    let hour_of = |t: i64| (t.rem_euclid(DAY) / HOUR) as f64;
    fx.graph(
        "queue depth",
        start,
        &samples(&|t| (rhythm(hour_of(t) as i64) * 4 + (t / 1_800_000 % 3) as u64) as f64),
    );
    fx.graph(
        "resident memory (MiB)",
        start,
        &samples(&|t| 180.0 + ((t - start) / HOUR) as f64 * 0.08 + hour_of(t)),
    );
    fx.db.batch("COMMIT");
    Demo {
        forecast,
        index,
        group,
    }
}

/// Saves a PNG of the whole current page (up to 5,000 px tall, 1,400 px wide) as
/// `docs/screenshots/<name>.png`, the pictures the README shows.
pub async fn doc_screenshot(b: &crate::browser::Browser, name: &str) -> std::path::PathBuf {
    let c = &b.client;
    let height = c
        .execute("return document.documentElement.scrollHeight", vec![])
        .await
        .expect("page height")
        .as_i64()
        .unwrap_or(1000);
    c.set_window_size(1400, height.clamp(600, 5000) as u32 + 140)
        .await
        .expect("resize");
    let png = c.screenshot().await.expect("screenshot");
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
    std::fs::create_dir_all(&dir).expect("create docs/screenshots");
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png).expect("write screenshot");
    c.set_window_size(1400, 1000).await.expect("resize back");
    path
}
