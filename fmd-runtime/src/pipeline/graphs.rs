//! Custom graphs: values the application registers (a cache size, a pool's idle
//! connections, its memory), sampled on one background thread and stored as a time series.
//!
//! Each value goes through the bounded queue like a request (a full queue drops and counts
//! it). A callback that panics is caught and counted in
//! [`Stats::callback_panics`](crate::Stats::callback_panics); a value that is not a finite
//! number is skipped. Values are sampled only while fmd runs.

use crate::model::event::{Event, Sample};
use once_cell::sync::Lazy;
use parking_lot::{Condvar, Mutex};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest graph name, in characters.
pub const MAX_NAME: usize = 200;
/// Shortest sampling interval; shorter ones are raised to it.
pub const MIN_INTERVAL: Duration = Duration::from_millis(10);

type Callback = Arc<dyn Fn() -> f64 + Send + Sync>;

struct Graph {
    name: Arc<str>,
    every: Duration,
    next: Instant,
    sample: Callback,
}

#[derive(Default)]
struct Graphs {
    list: Vec<Graph>,
    thread_started: bool,
}

static GRAPHS: Lazy<(Mutex<Graphs>, Condvar)> = Lazy::new(Default::default);

/// Registers a custom graph: `sample` is called now and then every `every` on fmd's
/// sampling thread, and each value is stored with the time and this instance's name.
/// Registering a name again replaces its callback and interval.
///
/// ```no_run
/// use std::time::Duration;
/// let started = std::time::Instant::now();
/// fmd_runtime::add_graph("Uptime (s)", Duration::from_secs(60), move || {
///     started.elapsed().as_secs_f64()
/// });
/// ```
pub fn add_graph(name: &str, every: Duration, sample: impl Fn() -> f64 + Send + Sync + 'static) {
    let name: Arc<str> = Arc::from(name.chars().take(MAX_NAME).collect::<String>());
    let graph = Graph {
        name,
        every: every.max(MIN_INTERVAL),
        next: Instant::now(),
        sample: Arc::new(sample),
    };
    let (lock, wake) = &*GRAPHS;
    let mut graphs = lock.lock();
    graphs.list.retain(|g| g.name != graph.name);
    graphs.list.push(graph);
    if !graphs.thread_started {
        let spawned = std::thread::Builder::new()
            .name("fmd-graphs".to_owned())
            .spawn(run);
        match spawned {
            Ok(_) => graphs.thread_started = true,
            Err(e) => eprintln!("fmd: cannot start the custom graph thread ({e})"),
        }
    }
    wake.notify_one();
}

fn run() {
    let (lock, wake) = &*GRAPHS;
    let mut graphs = lock.lock();
    loop {
        let now = Instant::now();
        let mut due: Vec<(Arc<str>, Callback)> = Vec::new();
        for g in graphs.list.iter_mut().filter(|g| g.next <= now) {
            due.push((g.name.clone(), g.sample.clone()));
            // Keep the schedule; after a long stall, resume from now rather than catch up.
            g.next += g.every;
            if g.next <= now {
                g.next = now + g.every;
            }
        }
        if due.is_empty() {
            match graphs.list.iter().map(|g| g.next).min() {
                Some(next) => {
                    wake.wait_until(&mut graphs, next);
                }
                None => wake.wait(&mut graphs),
            }
            continue;
        }
        // Callbacks run without the lock: one may be slow, or register another graph.
        drop(graphs);
        for (name, sample) in due {
            take(name, &*sample);
        }
        graphs = lock.lock();
    }
}

fn take(graph: Arc<str>, sample: &(dyn Fn() -> f64 + Send + Sync)) {
    let value = match catch_unwind(AssertUnwindSafe(sample)) {
        Ok(v) if v.is_finite() => v,
        Ok(_) => return,
        Err(_) => {
            crate::fence::callback_panicked();
            return;
        }
    };
    if let Some(monitor) = super::monitor::running() {
        monitor.send_event(Event::Sample(Box::new(Sample {
            graph,
            time_ms: crate::clock::now_ms(),
            value,
        })));
    }
}
