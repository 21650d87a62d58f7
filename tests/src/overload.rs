//! The overload scenario shared by the SQLite and PostgreSQL tests: the writer is blocked
//! by another connection's lock, the queue holds 8 events, 1,000 requests arrive through
//! the axum layer, and the overview must still count every one of them.

use crate::engines::{Db, off_runtime};
use crate::http;
use crate::spine;
use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use fmd::prelude::*;
use fmd_runtime::Database;
use fmd_runtime::store::AnyReader;
use fmd_runtime::store::histogram::{bucket, bucket_value};
use std::time::Duration;

/// Requests sent while the writer is blocked.
pub const SENT: u64 = 1_000;
/// Of them, answered 500.
pub const FAILING: u64 = 100;
/// Of them, sleeping [`SLOW_US`] before answering: more than half, so the median of all
/// requests is a slow one, while the few rows that fit the queue are fast ones.
pub const SLOW: u64 = 600;
/// How long a slow request sleeps (µs).
pub const SLOW_US: i64 = 4_000;

/// The JSON API's bearer token.
const TOKEN: &str = "overload-token-0123456789abcdef";

/// One endpoint: `fail` answers 500, `slow` sleeps [`SLOW_US`] first, anything else 200.
#[monitored]
async fn work(Path(kind): Path<String>) -> StatusCode {
    match kind.as_str() {
        "fail" => StatusCode::INTERNAL_SERVER_ERROR,
        "slow" => {
            tokio::time::sleep(Duration::from_micros(SLOW_US as u64)).await;
            StatusCode::OK
        }
        _ => StatusCode::OK,
    }
}

/// Runs the scenario against `database`; `lock` is the SQL that makes another connection
/// block fmd's writer until `ROLLBACK`.
pub async fn every_request_counts_with_the_writer_blocked(database: Database, lock: &str) {
    let reader_db = database.clone();
    spine::start_with(|c| {
        c.queue_capacity = 8;
        // The writer tops up a batch it holds between retries, up to its batch size: a
        // batch as small as the queue keeps the bound below exact.
        c.batch_size = 8;
        c.database = database;
        c.api_token = Some(TOKEN.to_owned());
    });
    let addr = spine::serve(Router::new().route("/work/{kind}", get(work))).await;
    // One request before the lock: the schema exists and the endpoint is stored.
    assert_eq!(spine::get(addr, "/work/fast").await.status, 200);
    spine::flush();

    let locker = Db::open(&reader_db);
    locker.batch(lock);
    let before = fmd::monitor().stats();
    // Fast requests and failures first (those are the few that fit the queue), then the
    // slow ones.
    let fast = SENT - SLOW;
    for i in 0..SENT {
        let (path, status) = match i {
            _ if i < fast && i % (fast / FAILING) == 0 => ("/work/fail", 500),
            _ if i < fast => ("/work/fast", 200),
            _ => ("/work/slow", 200),
        };
        assert_eq!(spine::get(addr, path).await.status, status, "request {i}");
    }
    let during = fmd::monitor().stats();
    let queued = during.events_queued - before.events_queued;
    let dropped = during.events_dropped - before.events_dropped;
    let counted = during.dropped_requests_counted - before.dropped_requests_counted;
    println!(
        "{SENT} requests, writer blocked: {queued} queued, {dropped} dropped, {counted} of them counted"
    );
    assert_eq!(
        queued + dropped,
        SENT,
        "every request was queued or dropped"
    );
    // The queue, and the batch the writer holds (at most 8 as well, however often it
    // retried and topped it up).
    assert!(
        queued <= 2 * 8 + 1,
        "no more than the bound waited: {queued}"
    );
    assert_eq!(counted, dropped, "every dropped request was counted");

    locker.batch("ROLLBACK");
    drop(locker);
    spine::flush();

    let now = fmd_runtime::clock::now_ms();
    let overview = off_runtime(|| {
        AnyReader::open(&reader_db)
            .expect("open the store")
            .overview(now, None)
            .expect("overview")
    });
    let row = overview
        .iter()
        .find(|e| e.name.ends_with("::work"))
        .expect("the endpoint is in the overview");
    println!(
        "overview: {} hits this week, {} 5xx, median {:?} µs",
        row.week.hits, row.server_errors_week, row.week.median_us
    );
    assert_eq!(row.week.hits, SENT + 1, "every request served is a hit");
    assert_eq!(row.all.hits, SENT + 1);
    assert_eq!(row.server_errors_week, FAILING, "every 500 is counted");
    assert_eq!(row.client_errors_week, 0);
    // 600 of the 1,001 requests slept 4 ms: the median is one of them, within the
    // histogram's precision (its bucket's value is at most 2.2 % below the duration).
    let median = row.week.median_us.expect("a median");
    let floor = bucket_value(bucket(SLOW_US)).min(SLOW_US);
    assert!(
        median >= floor,
        "the median ({median} µs) comes from all requests, not from the {queued} stored rows"
    );

    let db = Db::open(&reader_db);
    let rows = db.count("request") as u64;
    assert!(rows <= 1 + queued, "raw rows stay dropped: {rows} stored");
    let histogram_hits = db
        .query_i64("SELECT CAST(sum(hits) AS BIGINT) FROM duration_daily", &[])
        .unwrap_or(0);
    assert_eq!(
        histogram_hits as u64,
        SENT + 1,
        "the histogram holds every request"
    );
    let slow_hits = db
        .query_i64(
            &format!(
                "SELECT CAST(sum(hits) AS BIGINT) FROM duration_daily WHERE bucket >= {}",
                bucket(SLOW_US)
            ),
            &[],
        )
        .unwrap_or(0);
    assert!(
        slow_hits as u64 >= SLOW,
        "every slow request is in a slow bucket: {slow_hits}"
    );

    // The same through the JSON API and the configuration page, over HTTP.
    let res = http::get_bearer(addr, "/dashboard/api/v1/endpoints", TOKEN).await;
    assert_eq!(res.status, 200);
    let list = res.json();
    let api_row = list["endpoints"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["name"] == row.name.as_str()))
        .unwrap_or_else(|| panic!("the endpoint is listed: {list:#}"))
        .clone();
    assert_eq!(api_row["week"]["hits"], SENT + 1);
    assert_eq!(api_row["server_errors_week"], FAILING);
    let session = http::login(addr, "/dashboard", "admin", "test-password").await;
    let total = fmd::monitor().stats().dropped_requests_counted;
    let page = http::get(addr, "/dashboard/config", &[("cookie", &session)]).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(&format!(
            "{total} raw request rows dropped (queue full) but counted"
        )),
        "the configuration page says the dropped rows were counted"
    );

    let metrics = fmd::monitor().metrics_text();
    assert!(
        metrics.contains(&format!("fmd_dropped_requests_counted_total {counted}")),
        "/metrics says how many dropped rows were counted"
    );
}
