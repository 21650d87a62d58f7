//! P2: the cost of one call through `#[monitored]` (level 0 and 1) and `#[capture]`, against
//! the same function unannotated; and of one in-process request through the hello service,
//! plain vs under fmd at level 1 (`Router::oneshot`, no socket).
//!
//! A `#[monitored]` function called outside any request is a request of its own: the call
//! builds and queues its event (see `fmd_bench::micro` for how the queue is kept from
//! overflowing).

use axum::body::{Body, to_bytes};
use axum::http::Request;
use criterion::Criterion;
use fmd::prelude::*;
use fmd_bench::hello;
use fmd_bench::micro::{chunked, ready, start_fmd};
use std::hint::black_box;
use tower::ServiceExt;

#[inline(never)]
fn unannotated(x: u64) -> u64 {
    black_box(x).wrapping_mul(3) + 1
}

#[monitored(level = 0)]
fn monitored_level0(x: u64) -> u64 {
    black_box(x).wrapping_mul(3) + 1
}

#[monitored(level = 1)]
fn monitored_level1(x: u64) -> u64 {
    black_box(x).wrapping_mul(3) + 1
}

#[capture]
fn captured(x: u64) -> u64 {
    black_box(x).wrapping_mul(3) + 1
}

#[inline(never)]
async fn unannotated_async(x: u64) -> u64 {
    black_box(x).wrapping_mul(3) + 1
}

#[capture]
async fn captured_async(x: u64) -> u64 {
    black_box(x).wrapping_mul(3) + 1
}

fn one_request(router: &axum::Router) -> usize {
    ready(async {
        let request = Request::get("/hello").body(Body::empty()).expect("request");
        let response = router.clone().oneshot(request).await.expect("response");
        to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("body")
            .len()
    })
}

fn main() {
    start_fmd("criterion-calls");
    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("P2");
    g.bench_function("unannotated", |b| {
        b.iter_custom(|n| chunked(n, unannotated))
    });
    g.bench_function("monitored_level0", |b| {
        b.iter_custom(|n| chunked(n, monitored_level0))
    });
    g.bench_function("monitored_level1", |b| {
        b.iter_custom(|n| chunked(n, monitored_level1))
    });
    g.bench_function("capture", |b| b.iter_custom(|n| chunked(n, captured)));
    g.bench_function("unannotated_async", |b| {
        b.iter_custom(|n| chunked(n, |i| ready(unannotated_async(i))))
    });
    g.bench_function("capture_async", |b| {
        b.iter_custom(|n| chunked(n, |i| ready(captured_async(i))))
    });
    let plain = hello::plain_router();
    let monitored = hello::fmd_router();
    g.bench_function("request_plain", |b| {
        b.iter_custom(|n| chunked(n, |_| one_request(&plain)))
    });
    g.bench_function("request_fmd", |b| {
        b.iter_custom(|n| chunked(n, |_| one_request(&monitored)))
    });
    g.finish();
    c.final_summary();
    fmd::shutdown();
}
