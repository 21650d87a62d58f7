//! The dashboard over a real application: requests through `fmd::axum::bind`, the writer
//! thread filling SQLite, and headless Chromium reading it back — the failing line of the
//! right function, and a level change that the running application obeys at once.

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fantoccini::Locator;
use fmd::prelude::*;
use fmd_tests::browser::Browser;
use fmd_tests::spine;
use std::fmt;

#[derive(Debug)]
struct UnknownCity(String);

impl fmt::Display for UnknownCity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no weather station near {}", self.0)
    }
}

impl std::error::Error for UnknownCity {}

impl IntoResponse for UnknownCity {
    fn into_response(self) -> Response {
        (StatusCode::NOT_FOUND, self.to_string()).into_response()
    }
}

#[monitored]
async fn forecast(Path(city): Path<String>) -> Result<String, UnknownCity> {
    let station = nearest_station(&city)?;
    Ok(format!("sunny at {station}"))
}

#[capture]
fn nearest_station(city: &str) -> Result<String, UnknownCity> {
    if city == "atlantis" {
        return Err(UnknownCity(city.to_owned())); // the failing line
    }
    Ok(format!("{city}-central"))
}

fn requests(db: &std::path::Path) -> i64 {
    spine::db(db)
        .query_row("SELECT count(*) FROM request_text", [], |r| r.get(0))
        .expect("count requests")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_errors_show_their_failing_line_and_levels_change_live() {
    let db = spine::start();
    let addr = spine::serve(Router::new().route("/forecast/{city}", get(forecast))).await;
    assert_eq!(spine::get(addr, "/forecast/paris").await.status, 200);
    for _ in 0..3 {
        assert_eq!(spine::get(addr, "/forecast/atlantis").await.status, 404);
    }
    spine::flush();

    let b = Browser::start().await;
    let c = &b.client;
    c.goto(&format!("http://{addr}/dashboard")).await.unwrap();
    c.wait()
        .for_element(Locator::Css("input[name=username]"))
        .await
        .unwrap();
    b.submit_login("admin", "test-password").await;
    let row = c
        .find(Locator::XPath(
            "//table[contains(@class,'overview')]//tr[contains(., 'forecast')]",
        ))
        .await
        .expect("the forecast endpoint is listed");
    let row_text = row.text().await.unwrap();
    assert!(row_text.contains("/forecast/{city}"), "{row_text}");

    // Its exceptions: the innermost frame is nearest_station, marked on the `return Err`.
    // Answered 404, the error is a client error: one click on the filter away.
    row.find(Locator::Css("a[href$='/exceptions']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.click_and_wait("nav.kinds a[data-kind=client]", "section.group")
        .await;
    let card = c
        .find(Locator::Css("section.group"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(card.contains("no weather station near atlantis"), "{card}");
    assert!(card.contains("3 occurrences"), "{card}");
    let first = c.find(Locator::Css("li.frame.app")).await.unwrap();
    assert!(first.text().await.unwrap().contains("nearest_station"));
    let fail = first.find(Locator::Css(".l.fail")).await.unwrap();
    assert!(fail.is_displayed().await.unwrap());
    let text = fail.text().await.unwrap();
    assert!(
        text.contains("return Err(UnknownCity(city.to_owned())); // the failing line"),
        "{text}"
    );
    let source = include_str!("dashboard_live.rs");
    let expected = source
        .lines()
        .position(|l| l.ends_with("// the failing line"))
        .unwrap()
        + 1;
    assert_eq!(
        fail.attr("data-line").await.unwrap(),
        Some(expected.to_string()),
        "real line numbers"
    );
    assert!(
        fail.html(true).await.unwrap().contains("hl-k"),
        "highlighted"
    );
    b.screenshot("live-exception").await;

    // Level 0 from the overview's selector (auto-submitted by the page's script): the
    // running application stops storing requests of this endpoint at once.
    c.goto(&format!("http://{addr}/dashboard")).await.unwrap();
    let select = c
        .wait()
        .for_element(Locator::XPath(
            "//table[contains(@class,'overview')]//tr[contains(., 'forecast')]//select[@name='level']",
        ))
        .await
        .unwrap();
    select.select_by_value("0").await.unwrap();
    c.wait()
        .for_element(Locator::Css("div.notice"))
        .await
        .unwrap();
    let before = requests(db);
    for _ in 0..5 {
        spine::get(addr, "/forecast/paris").await;
    }
    spine::flush();
    assert_eq!(requests(db), before, "level 0 keeps no request rows");
    let stored: Option<i64> = spine::db(db)
        .query_row(
            "SELECT level FROM endpoint WHERE name LIKE '%forecast'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, Some(0), "stored, so it survives a restart");

    // Back to the default: requests are recorded again.
    c.goto(&format!("http://{addr}/dashboard")).await.unwrap();
    let select = c
        .wait()
        .for_element(Locator::XPath(
            "//tr[contains(., 'forecast')]//select[@name='level']",
        ))
        .await
        .unwrap();
    select.select_by_value("").await.unwrap();
    c.wait()
        .for_element(Locator::Css("div.notice"))
        .await
        .unwrap();
    spine::get(addr, "/forecast/paris").await;
    spine::flush();
    assert_eq!(requests(db), before + 1);
    b.close().await;
}
