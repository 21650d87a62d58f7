//! A small weather service: endpoints that succeed, return errors through several
//! `#[capture]` functions, panic, recurse, and capture handled errors. `forecast` runs at
//! level 2 (one city's station is slow: an outlier), `outlook` at level 3 (a call tree of
//! nested async functions).

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use fmd::prelude::*;
use serde::Serialize;
use std::fmt;

/// The service's error type: it becomes the response through `IntoResponse`.
#[derive(Debug)]
pub enum AppError {
    /// No such city.
    UnknownCity(String),
    /// The (simulated) upstream weather station failed.
    Station {
        /// Which station.
        station: u32,
        /// Why.
        source: std::io::Error,
    },
    /// A forecast did not parse.
    BadData(std::num::ParseIntError),
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::UnknownCity(c) => write!(f, "unknown city {c:?}"),
            AppError::Station { station, .. } => write!(f, "weather station {station} failed"),
            AppError::BadData(_) => f.write_str("forecast data is malformed"),
        }
    }
}

impl std::error::Error for AppError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AppError::Station { source, .. } => Some(source),
            AppError::BadData(e) => Some(e),
            AppError::UnknownCity(_) => None,
        }
    }
}

impl From<std::num::ParseIntError> for AppError {
    fn from(e: std::num::ParseIntError) -> Self {
        AppError::BadData(e)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = match self {
            AppError::UnknownCity(_) => StatusCode::NOT_FOUND,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (status, self.to_string()).into_response()
    }
}

/// A forecast.
#[derive(Debug, Serialize)]
pub struct Forecast {
    /// City name.
    pub city: String,
    /// Degrees Celsius.
    pub temperature: i32,
    /// Sky.
    pub sky: &'static str,
}

const CITIES: &[(&str, i32, &str)] = &[
    ("amsterdam", 11, "overcast"),
    ("groningen", 9, "rain"),
    ("lisbon", 19, "sunny"),
    ("oslo", -2, "snow"),
    ("reykjavik", 4, "windy"),
];

/// The city whose station answers over a slow satellite link.
pub const SLOW_CITY: &str = "reykjavik";

/// The forecast for a city; unknown cities are a 404, "atlantis" breaks the station.
#[monitored(level = 2)]
pub async fn forecast(Path(city): Path<String>) -> Result<Json<Forecast>, AppError> {
    let forecast = load_forecast(&city).await?; // recorded if the error passes here
    Ok(Json(forecast))
}

/// Looks the city up, then asks its station.
#[capture]
pub async fn load_forecast(city: &str) -> Result<Forecast, AppError> {
    let &(name, _, sky) = CITIES
        .iter()
        .find(|(name, ..)| *name == city.to_lowercase())
        .ok_or_else(|| AppError::UnknownCity(city.to_owned()))?;
    wait_for_station(name).await; // the frame stays right across .await
    let temperature = read_station(name)?;
    Ok(Forecast {
        city: name.to_owned(),
        temperature,
        sky,
    })
}

/// The station's link: a millisecond, except for the slow city's satellite link.
#[capture]
async fn wait_for_station(city: &str) {
    let ms = if city == SLOW_CITY { 400 } else { 1 };
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}

/// Three days ahead for a city: a call tree of nested async functions (level 3).
#[monitored(level = 3)]
pub async fn outlook(Path(city): Path<String>) -> Result<Json<Vec<Forecast>>, AppError> {
    Ok(Json(build_outlook(&city).await?))
}

#[capture]
async fn build_outlook(city: &str) -> Result<Vec<Forecast>, AppError> {
    let mut days = Vec::new();
    for day in 0..3 {
        days.push(day_forecast(city, day).await?);
    }
    Ok(days)
}

#[capture]
async fn day_forecast(city: &str, day: i32) -> Result<Forecast, AppError> {
    let mut forecast = load_forecast(city).await?;
    forecast.temperature += day;
    Ok(forecast)
}

/// Reads a station's raw value.
#[capture]
pub fn read_station(city: &str) -> Result<i32, AppError> {
    let raw = station_payload(city)?;
    // A malformed payload is a parse error, converted by `?`.
    let value: i32 = raw.trim().parse()?;
    Ok(value)
}

/// The payload a station sends.
#[capture]
fn station_payload(city: &str) -> Result<String, AppError> {
    if city == "oslo" {
        return Err(AppError::Station {
            station: 7,
            source: std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer in 2 s"),
        });
    }
    let value = CITIES.iter().find(|c| c.0 == city).map_or(0, |c| c.1);
    Ok(if city == "groningen" {
        format!("{value}°")
    } else {
        value.to_string()
    })
}

/// Always panics: an index out of bounds deep in a helper.
#[monitored]
pub async fn radar() -> &'static str {
    let frames = radar_frames();
    frames[3]
}

#[capture]
fn radar_frames() -> Vec<&'static str> {
    let frames = vec!["00:00", "00:05"];
    if frames.len() < 4 {
        panic!("radar returned {} frames, expected 4", frames.len());
    }
    frames
}

/// Walks `n` days back recursively; fails at the bottom.
#[monitored]
pub async fn history(Path(days): Path<u32>) -> Result<String, AppError> {
    let total = sum_days(days.min(200))?;
    Ok(format!("{total}"))
}

#[capture]
fn sum_days(days: u32) -> Result<i64, AppError> {
    if days == 0 {
        return Err(AppError::UnknownCity("archive".to_owned()));
    }
    Ok(sum_days(days - 1)? + i64::from(days))
}

/// Sends alerts; a failing mail server is handled and captured, not returned.
#[monitored]
pub async fn alerts() -> &'static str {
    for subscriber in ["ana@example.org", "bo@example.org"] {
        if let Err(e) = send_mail(subscriber) {
            fmd::capture!(e); // recorded; the request still succeeds
        }
    }
    "alerts sent"
}

#[capture]
fn send_mail(to: &str) -> Result<(), AppError> {
    Err(AppError::Station {
        station: 0,
        source: std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            format!("smtp refused mail to {to}"),
        ),
    })
}

/// A route without `#[monitored]`: still timed by the layer.
async fn health() -> &'static str {
    "ok"
}

/// A background job outside any request that captures its error.
pub fn nightly_cleanup() {
    if let Err(e) = std::fs::read_dir("/nonexistent/fmd-example-archive") {
        fmd::capture!(e);
    }
}

/// Tells fmd who sent each request (the `x-user` header) and samples the process's
/// resident memory for a custom graph.
pub fn set_up_monitoring() {
    fmd::group_by(|req| {
        let user = req.headers.get("x-user")?.to_str().ok()?;
        Some(user.to_owned())
    });
    fmd::add_graph(
        "Resident memory (MiB)",
        std::time::Duration::from_secs(5),
        || match fmd::process::resident_bytes() {
            Some(bytes) => bytes as f64 / (1024.0 * 1024.0),
            None => f64::NAN, // not known on this platform: no value
        },
    );
}

/// The service's routes, without fmd (wrap with `fmd::axum::bind`).
pub fn router() -> Router {
    Router::new()
        .route("/forecast/{city}", get(forecast))
        .route("/outlook/{city}", get(outlook))
        .route("/radar", get(radar))
        .route("/history/{days}", get(history))
        .route("/alerts", post(alerts))
        .route("/health", get(health))
}
