//! The writer thread: drains the queue in batches into the store.
//!
//! It runs at the lowest scheduling priority, so it uses the CPU the application leaves.
//! It never makes the request path wait, nor wake it: after the first event of a batch it
//! lets the others gather for [`GATHER`] instead of waiting on the queue for each one. When the store cannot be opened or written, it
//! reports the problem once on stderr, keeps the batch in hand and retries; meanwhile the
//! bounded queue fills and the request path drops (and counts) new events; dropped
//! requests still reach the rollups, through the overflow table the writer drains into
//! each batch (see [`super::overflow`]). When storage
//! works again it says so and carries on by itself. A deleted database file is noticed and
//! recreated.

use super::process::{self, CpuMeter};
use super::state::PipelineState;
use super::symbolize::Symbolizer;
use super::typicals::Typicals;
use crate::clock::now_ms;
use crate::config::Config;
use crate::model::event::{ErrorRecord, Event};
use crate::secrets::{ExtraPatterns, scrub_in_place};
use crate::store::{Store, StoreError, WriteOptions};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// How long the writer lets events gather after the first one of a batch arrives (unless
/// it is a flush request or the last batch was full).
const GATHER: Duration = Duration::from_millis(50);

/// Failed writes of one batch, for an error that is not about storage, before the batch
/// is dropped (so one bad batch cannot stop the writer).
const MAX_ATTEMPTS: u32 = 3;

pub(crate) fn spawn(
    rx: Receiver<Event>,
    shared: Arc<PipelineState>,
    config: Config,
    options: WriteOptions,
) -> std::io::Result<thread::JoinHandle<()>> {
    thread::Builder::new()
        .name("fmd-writer".to_owned())
        .spawn(move || run(rx, &shared, &config, &options))
}

fn open(config: &Config, shared: &PipelineState) -> Option<Box<dyn Store>> {
    match crate::store::open::open_store(&config.database) {
        Ok(mut store) => {
            if let Ok(levels) = store.stored_levels() {
                shared.apply_stored_levels(levels);
            }
            Some(store)
        }
        Err(e) => {
            shared.storage_failed(&config.database, &e);
            None
        }
    }
}

/// What the writer keeps between batches besides the store.
struct Carry {
    /// The configured secret patterns, besides the built-in shapes.
    scrub: ExtraPatterns,
    /// Bytes held by the batch in hand (counted by the queue's byte budget until the
    /// batch is stored or dropped).
    held_bytes: usize,
    symbolizer: Symbolizer,
    typicals: Typicals,
    cpu: CpuMeter,
}

impl Carry {
    /// Takes in one event: its duration joins its endpoint's typical duration.
    fn receive(&mut self, event: Event, batch: &mut Vec<Event>, shared: &PipelineState) {
        if let Event::Request(r) = &event {
            self.typicals.observe(r, &shared.typicals);
        }
        shared.metrics.observe(&event);
        self.held_bytes += event.weight();
        batch.push(event);
    }

    /// Work done on the batch before it is written: native backtraces resolved, process
    /// figures added to outliers, typical durations published.
    fn prepare(&mut self, batch: &mut [Event]) {
        let scrub = &self.scrub;
        let _ = crate::fence::contain(|| scrub_batch(batch, scrub));
        symbolize(&mut self.symbolizer, batch);
        for event in batch.iter_mut() {
            if let Event::Request(r) = event
                && let Some(o) = r.outlier.as_mut()
                && o.memory_bytes.is_none()
            {
                o.cpu_percent = self.cpu.percent();
                o.memory_bytes = process::resident_bytes();
            }
        }
        self.typicals.publish();
    }
}

/// The writer's nice value: when the application keeps every core busy, its own threads
/// get the CPU and the writer what is left (the queue absorbs bursts; a sustained
/// overload drops and counts events rather than slowing requests).
const WRITER_NICE: i32 = 19;

/// Lowers the calling thread's scheduling priority to [`WRITER_NICE`] (Linux: the nice
/// value is per thread). Best effort: a refusal changes nothing else.
fn yield_to_the_application() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid and setpriority take plain integers and touch no memory of ours.
    unsafe {
        let tid = libc::gettid();
        let _ = libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, WRITER_NICE);
    }
}

fn run(rx: Receiver<Event>, shared: &PipelineState, config: &Config, options: &WriteOptions) {
    yield_to_the_application();
    super::symbolize::load_ahead();
    let mut options = options.clone();
    if options.git_commit.is_none() {
        options.git_commit = super::version::git_commit(config);
    }
    let options = &options;
    let mut store: Option<Box<dyn Store>> = None;
    let mut batch: Vec<Event> = Vec::with_capacity(config.batch_size);
    let mut attempts = 0;
    let mut backlog = false;
    let mut next_digests = Instant::now() + DIGESTS_EVERY;
    let mut side = Carry {
        scrub: ExtraPatterns::compile(&config.scrub_patterns).unwrap_or_default(),
        held_bytes: 0,
        symbolizer: Symbolizer::default(),
        typicals: Typicals::default(),
        cpu: CpuMeter::default(),
    };
    loop {
        if store.as_ref().is_none_or(|s| s.needs_reopen()) {
            // The old connection lets go of its file before the new one opens the path.
            drop(store.take());
            store = open(config, shared);
            if store.is_none() {
                thread::sleep(config.retry_interval());
                continue;
            }
        }
        side.cpu.tick();
        if let (Some(notifier), Some(s)) = (shared.alerts.get(), store.as_mut())
            && Instant::now() >= next_digests
        {
            next_digests = Instant::now() + DIGESTS_EVERY;
            alert_issues(notifier, s.take_due_digests(now_ms()), config, options);
        }
        if batch.is_empty() {
            // Wake at least once a second to keep the CPU meter's window short.
            match rx.recv_timeout(Duration::from_secs(1)) {
                Ok(event) => {
                    let urgent = matches!(event, Event::Flush(_));
                    side.receive(event, &mut batch, shared);
                    if !urgent && !backlog {
                        // Let a batch gather. Meanwhile the writer is not parked on the
                        // queue, so a request's push is a plain store: no futex wake-up, no
                        // system call on the request path, and one transaction per window
                        // instead of one per request.
                        thread::sleep(GATHER);
                    }
                }
                // Idle, but the request path counted requests the queue could not take.
                Err(RecvTimeoutError::Timeout) if shared.overflow.is_pending() => {}
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return, // the process is ending
            }
        }
        while batch.len() < config.batch_size {
            match rx.try_recv() {
                Ok(event) => side.receive(event, &mut batch, shared),
                Err(_) => break,
            }
        }
        take_counted(&mut batch, shared);
        if batch.is_empty() {
            continue;
        }
        // The file may have been deleted while the writer waited for events: writing now
        // would store the batch in the unlinked file. Reopen first (the batch is kept).
        if store.as_ref().is_some_and(|s| s.needs_reopen()) {
            store = None;
            continue;
        }
        // A full batch: more are probably waiting, so the next one is not gathered.
        backlog = batch.len() >= config.batch_size;
        side.prepare(&mut batch);
        let Some(s) = store.as_mut() else { continue };
        // A bug in fmd must not kill the writer: a panic counts as a failed write.
        let written = crate::fence::contain(|| {
            injected_panic(&batch);
            s.write_batch(&batch, options)
        })
        .unwrap_or_else(|| {
            Err(StoreError {
                message: "internal error while writing (a panic in fmd)".to_owned(),
                transient: false,
            })
        });
        match written {
            Ok(stored) => {
                shared.stored(stored);
                if let Some(notifier) = shared.alerts.get() {
                    let rule = crate::store::issues::AlertRule {
                        rate: config.alerts.rate,
                        now: now_ms(),
                    };
                    alert_issues(notifier, s.take_issue_changes(&rule), config, options);
                }
                attempts = 0;
                finish(&mut batch);
                shared.release(std::mem::take(&mut side.held_bytes));
            }
            Err(e) => {
                attempts += 1;
                shared.storage_failed(&config.database, &e);
                if e.transient {
                    store = None; // reopen: the file may have changed, the connection gone
                    thread::sleep(config.retry_interval());
                } else if attempts >= MAX_ATTEMPTS {
                    give_up(&mut batch, shared, &e);
                    shared.release(std::mem::take(&mut side.held_bytes));
                    attempts = 0;
                }
            }
        }
    }
}

/// How often the writer looks for digests due (issues whose quiet hour ended with alerts
/// held back in it; one indexed query when there are none).
const DIGESTS_EVERY: Duration = Duration::from_secs(10);

/// Hands the alerts a committed batch's issues make (decided in the database, shared by
/// every instance writing it: see [`Store::take_issue_changes`]) to the alerts thread.
fn alert_issues(
    notifier: &super::alerts::Notifier,
    changes: Vec<crate::store::issues::IssueChange>,
    config: &Config,
    options: &WriteOptions,
) {
    use super::alerts::{Alert, AlertEvent};
    use crate::store::issues::Change;
    let base = config.alerts.public_url.as_deref().unwrap_or("");
    let dashboard = config.dashboard_path.trim_end_matches('/');
    for c in changes {
        let event = match c.change {
            Change::New => AlertEvent::NewIssue,
            Change::Regressed => AlertEvent::Regression,
            Change::Seen => AlertEvent::Rate,
        };
        notifier.send(Alert {
            event,
            issue_id: c.issue_id,
            type_name: c.type_name,
            message: c.message,
            endpoint: c.endpoint,
            version: options.version.clone(),
            url: format!("{base}{dashboard}/issues/{}", c.issue_id),
            held_back: c.held_back,
        });
    }
}

/// Test-only injection point, inert unless set: a batch holding an error whose message
/// contains this text panics inside the writer's fence, as a bug in fmd's storing would.
static PANIC_MARKER: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Makes the writer panic on every batch holding an error whose message contains
/// `marker` (tests of the writer's fence; once per process, the first marker stays).
#[doc(hidden)]
pub fn panic_in_writer_on(marker: &str) {
    let _ = PANIC_MARKER.set(marker.to_owned());
}

/// Panics if the batch holds the test marker (see [`panic_in_writer_on`]).
fn injected_panic(batch: &[Event]) {
    let Some(marker) = PANIC_MARKER.get() else {
        return;
    };
    let marked = |e: &ErrorRecord| e.message.contains(marker.as_str());
    let hit = batch.iter().any(|event| match event {
        Event::Request(r) => r.errors.iter().any(marked),
        Event::Error(e) => marked(e),
        Event::Late(l) => marked(&l.record),
        Event::Flush(_) | Event::Sample(_) | Event::Counted(_) => false,
    });
    if hit {
        panic!("fmd test: injected panic in the writer ({marker})");
    }
}

/// Replaces secret shapes in what the application and its clients wrote: error messages,
/// `source()` chains, panic payloads, the URL and header values of outliers.
fn scrub_batch(batch: &mut [Event], extra: &ExtraPatterns) {
    for event in batch.iter_mut() {
        let errors: &mut [ErrorRecord] = match event {
            Event::Request(r) => {
                if let Some(o) = r.outlier.as_mut() {
                    scrub_in_place(&mut o.url, extra);
                    for (_, value) in o.headers.iter_mut() {
                        scrub_in_place(value, extra);
                    }
                }
                &mut r.errors
            }
            Event::Error(e) => std::slice::from_mut(&mut **e),
            Event::Late(l) => std::slice::from_mut(&mut l.record),
            Event::Flush(_) | Event::Sample(_) | Event::Counted(_) => continue,
        };
        for error in errors.iter_mut() {
            scrub_in_place(&mut error.message, extra);
            for source in error.sources.iter_mut() {
                scrub_in_place(source, extra);
            }
        }
    }
}

/// Resolves the native backtraces of panics (cached per address) and reads those errors
/// carried printed, in the batch.
fn symbolize(symbolizer: &mut Symbolizer, batch: &mut [Event]) {
    for event in batch.iter_mut() {
        let errors: &mut [ErrorRecord] = match event {
            Event::Request(r) => &mut r.errors,
            Event::Error(e) => std::slice::from_mut(&mut **e),
            Event::Late(l) => std::slice::from_mut(&mut l.record),
            Event::Flush(_) | Event::Sample(_) | Event::Counted(_) => continue,
        };
        for error in errors.iter_mut().filter(|e| e.native.is_some()) {
            let merged = crate::fence::contain(|| symbolizer.merge(error));
            if merged.is_none() {
                error.native = None;
            }
        }
    }
}

/// Adds the requests the full queue dropped but the request path counted to the batch: to
/// its one [`Event::Counted`], so a batch kept in hand while the store fails holds one
/// however many times it is retried.
fn take_counted(batch: &mut Vec<Event>, shared: &PipelineState) {
    let Some(counted) = shared.overflow.drain() else {
        return;
    };
    match batch.iter_mut().find_map(|e| match e {
        Event::Counted(c) => Some(c),
        _ => None,
    }) {
        Some(mine) => mine.merge(counted),
        None => batch.push(Event::Counted(Box::new(counted))),
    }
}

/// Answers the flush requests of a stored batch.
fn finish(batch: &mut Vec<Event>) {
    for event in batch.drain(..) {
        if let Event::Flush(ack) = event {
            let _ = ack.send(());
        }
    }
}

fn give_up(batch: &mut Vec<Event>, shared: &PipelineState, e: &StoreError) {
    let lost = batch
        .iter()
        .filter(|e| !matches!(e, Event::Flush(_) | Event::Counted(_)))
        .count();
    shared.dropped(lost as u64);
    // Requests counted for the rollups that go with the batch: no longer counted.
    let counted = batch.iter().map(|e| match e {
        Event::Counted(c) => c.requests(),
        _ => 0,
    });
    shared.overflow.forget(counted.sum());
    eprintln!("fmd: dropped a batch of {lost} events that could not be stored: {e}");
    finish(batch);
}
