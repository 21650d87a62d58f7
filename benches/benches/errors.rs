//! P3: the request-path cost of one error with a 5-hop trace, and of a panic.
//!
//! The "request" is a `#[monitored]` function called on its own (it builds and queues its
//! event); the error starts in the innermost of four `#[capture]` functions and passes every
//! `?` up to the handler, which returns it (5 hops), or captures it with `fmd::capture!`.
//! The same code without attributes is the baseline, and the same annotated code on its Ok
//! path isolates what the error itself costs.

use criterion::Criterion;
use fmd::prelude::*;
use fmd_bench::micro::{chunked, start_fmd};
use std::hint::black_box;
use std::panic::catch_unwind;

#[derive(Debug)]
struct Missing(u64);

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "record {} not found", self.0)
    }
}

impl std::error::Error for Missing {}

/// The unannotated chain.
mod plain {
    use super::*;

    #[inline(never)]
    pub fn fetch(id: u64, fail: bool) -> Result<u64, Missing> {
        if black_box(fail) {
            return Err(Missing(id));
        }
        Ok(id)
    }

    #[inline(never)]
    pub fn load(id: u64, fail: bool) -> Result<u64, Missing> {
        let v = fetch(id, fail)?;
        Ok(v + 1)
    }

    #[inline(never)]
    pub fn check(id: u64, fail: bool) -> Result<u64, Missing> {
        let v = load(id, fail)?;
        Ok(v * 2)
    }

    #[inline(never)]
    pub fn view(id: u64, fail: bool) -> Result<u64, Missing> {
        let v = check(id, fail)?;
        Ok(v + 3)
    }

    #[inline(never)]
    pub fn handler(id: u64, fail: bool) -> Result<u64, Missing> {
        let v = view(id, fail)?;
        Ok(v)
    }

    #[inline(never)]
    pub fn explode(id: u64) -> u64 {
        if black_box(id) != u64::MAX {
            panic!("record {id} is corrupt");
        }
        id
    }

    #[inline(never)]
    pub fn panicking(id: u64) -> u64 {
        explode(id) + 1
    }
}

/// The same chain, annotated.
mod annotated {
    use super::*;

    #[capture]
    pub fn fetch(id: u64, fail: bool) -> Result<u64, Missing> {
        if black_box(fail) {
            return Err(Missing(id));
        }
        Ok(id)
    }

    #[capture]
    pub fn load(id: u64, fail: bool) -> Result<u64, Missing> {
        let v = fetch(id, fail)?;
        Ok(v + 1)
    }

    #[capture]
    pub fn check(id: u64, fail: bool) -> Result<u64, Missing> {
        let v = load(id, fail)?;
        Ok(v * 2)
    }

    #[capture]
    pub fn view(id: u64, fail: bool) -> Result<u64, Missing> {
        let v = check(id, fail)?;
        Ok(v + 3)
    }

    #[monitored(level = 1)]
    pub fn handler(id: u64, fail: bool) -> Result<u64, Missing> {
        let v = view(id, fail)?;
        Ok(v)
    }

    #[monitored(level = 1)]
    pub fn handled(id: u64) -> u64 {
        match view(id, true) {
            Ok(v) => v,
            Err(e) => {
                fmd::capture!(e);
                0
            }
        }
    }

    #[capture]
    pub fn explode(id: u64) -> u64 {
        if black_box(id) != u64::MAX {
            panic!("record {id} is corrupt");
        }
        id
    }

    #[monitored(level = 1)]
    pub fn panicking(id: u64) -> u64 {
        explode(id) + 1
    }
}

fn main() {
    start_fmd("criterion-errors");
    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("P3");
    g.bench_function("ok_monitored", |b| {
        b.iter_custom(|n| chunked(n, |i| annotated::handler(i, false)))
    });
    g.bench_function("error_unannotated", |b| {
        b.iter_custom(|n| chunked(n, |i| plain::handler(i, true)))
    });
    g.bench_function("error_monitored", |b| {
        b.iter_custom(|n| chunked(n, |i| annotated::handler(i, true)))
    });
    g.bench_function("error_captured", |b| {
        b.iter_custom(|n| chunked(n, annotated::handled))
    });
    g.bench_function("panic_unannotated", |b| {
        b.iter_custom(|n| chunked(n, |i| catch_unwind(|| plain::panicking(i))))
    });
    g.bench_function("panic_monitored", |b| {
        b.iter_custom(|n| chunked(n, |i| catch_unwind(|| annotated::panicking(i))))
    });
    g.finish();
    c.final_summary();
    fmd::shutdown();
}
