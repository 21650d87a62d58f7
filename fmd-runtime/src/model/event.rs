//! What the request path hands to the writer thread: small, owned, no I/O done yet.
//!
//! Besides the event types: the names of the endpoints that are no handler
//! ([`UNMATCHED`], [`FALLBACK`], [`BACKGROUND`], a route's per-method twin [`twin_name`]) and
//! of a cut call-tree node ([`CUT_NODE`]), and
//! [`collapse`], which folds recursion in a trace.

/// Endpoint name of requests that matched no route.
pub const UNMATCHED: &str = "(unmatched)";

/// Route (and endpoint) of requests without a route template that a service answered: a
/// `fallback_service` (static files) or one nested with `nest_service`, for which the
/// framework gives no template. Unmatched paths answered 404 stay [`UNMATCHED`].
pub const FALLBACK: &str = "(fallback)";

/// Endpoint name of errors captured outside any request.
pub const BACKGROUND: &str = "(background)";

/// Endpoint name of a rejection (bad JSON, a failed extractor) that `method` on `route`
/// answered before its handler was known: `POST /items`. The writer moves it into the
/// handler's endpoint once it learns which handler serves `method` on `route` (see
/// `store::twin`), or into the route's endpoint when no `#[monitored]` function does.
pub fn twin_name(method: &str, route: &str) -> String {
    format!("{method} {route}")
}

/// Name of the node that stands for the calls left out of a full call tree.
pub const CUT_NODE: &str = "(more calls, not recorded: the call tree is full)";

use super::counted::Counted;
use super::function::FnInfo;
use super::link::Link;
use std::borrow::Cow;
use std::sync::Arc;
use std::sync::mpsc::SyncSender;

/// How an error reached fmd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ErrorKind {
    /// A panic in monitored code (counted as a 500).
    Panic = 0,
    /// An `Err` returned by a monitored handler: it became the response.
    Uncaught = 1,
    /// Recorded with `fmd::capture!` and handled by the application.
    Captured = 2,
    /// An `Err` returned by a monitored handler that became a 4xx answer: the client's
    /// mistake (a missing page, wrong credentials), shown apart and never alerted on.
    Client = 3,
}

/// One frame of a stored trace, innermost first.
#[derive(Debug, Clone)]
pub enum TraceFrame {
    /// A frame of an annotated function; `line` 0 means unknown.
    App {
        /// The function.
        info: &'static FnInfo,
        /// The line inside it, 0 if unknown.
        line: u32,
        /// Consecutive repetitions (recursion), at least 1.
        repeat: u32,
    },
    /// A place outside annotated code: a library, or an unannotated function.
    Other {
        /// Function name, or a description such as `panic location`.
        name: Cow<'static, str>,
        /// Source file as reported.
        file: Cow<'static, str>,
        /// Line, 0 if unknown.
        line: u32,
    },
}

/// An error or panic with everything needed to store and group it.
#[derive(Debug, Clone)]
pub struct ErrorRecord {
    /// Panic, uncaught or captured.
    pub kind: ErrorKind,
    /// The Rust type name (`weather::AppError`), or `panic`.
    pub type_name: Cow<'static, str>,
    /// `Display` of the error, or the panic payload.
    pub message: String,
    /// The `source()` chain's messages, outermost first.
    pub sources: Vec<String>,
    /// The trace, innermost frame first.
    pub frames: Vec<TraceFrame>,
    /// Frames left out of the middle of a very long trace.
    pub omitted_frames: u32,
    /// Unix milliseconds.
    pub time_ms: i64,
    /// A native backtrace (a panic's, or one the error carried), resolved by the writer
    /// thread.
    pub native: Option<NativeTrace>,
}

/// One finished request.
#[derive(Debug, Clone)]
pub struct RequestEvent {
    /// The endpoint's name (handler `module::fn`, route template, or `(unmatched)`).
    pub endpoint: Cow<'static, str>,
    /// The route template, never the raw URI.
    pub route: Arc<str>,
    /// HTTP method.
    pub method: Cow<'static, str>,
    /// Start, unix milliseconds.
    pub time_ms: i64,
    /// Duration in microseconds.
    pub duration_us: u64,
    /// Final status; `None` when the request was cancelled, or when it is unknown (a
    /// `#[monitored]` function outside any framework layer: its output is no answer yet).
    pub status: Option<u16>,
    /// The future was dropped before it finished.
    pub cancelled: bool,
    /// The monitoring level in force: 0 stores only "last requested".
    pub level: u8,
    /// Client address, if known.
    pub ip: Option<String>,
    /// The group-by value (e.g. a user id), if any.
    pub group_by: Option<String>,
    /// Errors and panics, in the order they happened.
    pub errors: Vec<ErrorRecord>,
    /// Level 2: set when the request was slower than its endpoint's threshold.
    pub outlier: Option<Box<OutlierEvent>>,
    /// Level 3: the call tree of the `#[capture]` functions the request ran.
    pub profile: Option<Box<ProfileEvent>>,
    /// Shared with the tasks that carry this request's context, when it has any: the
    /// writer notes the stored row in it, for their late records.
    pub link: Option<Arc<RequestLink>>,
}

/// The link a request shares with the tasks carrying its context (see [`super::link`]).
pub type RequestLink = Link<ErrorRecord>;

/// An error recorded by a task carrying a request's context after that request was queued:
/// stored on the request's endpoint, linked to its row when that was stored.
#[derive(Debug, Clone)]
pub struct LateError {
    /// The request's endpoint.
    pub endpoint: Cow<'static, str>,
    /// The request's link (its row, once stored).
    pub link: Arc<RequestLink>,
    /// The error or panic.
    pub record: ErrorRecord,
}

/// What level 2 keeps of a request slower than `outlier_factor` × its endpoint's typical
/// duration. Secrets in the URL and headers are already scrubbed.
#[derive(Debug, Clone)]
pub struct OutlierEvent {
    /// Path and query.
    pub url: String,
    /// Header names and values, in the order received.
    pub headers: Vec<(String, String)>,
    /// The endpoint's typical duration when the request started (µs).
    pub typical_us: u64,
    /// The duration past which it counted as an outlier (µs).
    pub threshold_us: u64,
    /// The logical stack when the request was found slow, innermost frame first.
    pub stack: Vec<TraceFrame>,
    /// Process CPU use (% of one core) over about the last second; set by the writer.
    pub cpu_percent: Option<f64>,
    /// Process resident memory in bytes; set by the writer.
    pub memory_bytes: Option<u64>,
}

/// Level 3: the call tree of one request, nodes in the order they were first called.
#[derive(Debug, Clone, Default)]
pub struct ProfileEvent {
    /// One entry per (parent, function); a parent comes before its children.
    pub calls: Vec<ProfileCall>,
    /// Calls left out because the tree reached its size limit.
    pub cut: u32,
}

/// One node of a request's call tree: every call of one function under one parent.
#[derive(Debug, Clone)]
pub struct ProfileCall {
    /// Index of the parent in [`ProfileEvent::calls`]; `None` for a root (called by the
    /// handler itself).
    pub parent: Option<u32>,
    /// The `#[capture]` function.
    pub info: &'static FnInfo,
    /// How many calls were merged into this node.
    pub calls: u32,
    /// Their inclusive time, first poll to completion (µs).
    pub total_us: u64,
}

/// One value of a custom graph.
#[derive(Debug, Clone)]
pub struct Sample {
    /// The graph's name.
    pub graph: Arc<str>,
    /// Unix milliseconds.
    pub time_ms: i64,
    /// The value (always finite).
    pub value: f64,
}

/// A message on the queue to the writer thread.
#[derive(Debug)]
pub enum Event {
    /// A finished request with its errors.
    Request(Box<RequestEvent>),
    /// An error captured outside any request (e.g. a background job).
    Error(Box<ErrorRecord>),
    /// An error a spawned task recorded for a request that had ended.
    Late(Box<LateError>),
    /// A custom graph's value.
    Sample(Box<Sample>),
    /// Store everything queued before this, then answer.
    Flush(SyncSender<()>),
    /// Requests whose rows were dropped because the queue was full, added up per endpoint
    /// and hour: they go into the rollups only. Never queued; the writer drains them from
    /// the request path's fixed table into its batch.
    Counted(Box<Counted>),
}

/// A native backtrace waiting for the writer: a panic's raw addresses, or the printed
/// backtrace an error carried.
#[derive(Debug, Clone)]
pub struct NativeTrace {
    /// The frames, as they were obtained.
    pub backtrace: NativeBacktrace,
    /// How many frames at the start of the logical trace precede the panic site (error
    /// return trace hops of an `Err` that was unwrapped); they are kept in front.
    pub prefix: usize,
}

/// Where a native trace's frames come from.
#[derive(Debug, Clone)]
pub enum NativeBacktrace {
    /// Raw addresses taken in the panic hook, resolved on the writer.
    Unresolved(backtrace::Backtrace),
    /// A `std::backtrace::Backtrace` as an error printed it (anyhow's and eyre's `Stack
    /// backtrace:`): std gives no stable access to its addresses, only to this text, which
    /// the writer reads with [`printed::parse`](super::printed::parse).
    Printed(String),
}

impl NativeTrace {
    /// Captures the current thread's stack without resolving it.
    pub fn capture(prefix: usize) -> Self {
        NativeTrace {
            backtrace: NativeBacktrace::Unresolved(backtrace::Backtrace::new_unresolved()),
            prefix,
        }
    }

    /// The backtrace an error carried, as printed text (the error's own origin: no logical
    /// frames are kept in front of it).
    pub fn printed(text: String) -> Self {
        NativeTrace {
            backtrace: NativeBacktrace::Printed(text),
            prefix: 0,
        }
    }

    /// About how many bytes it holds (see [`Event::weight`]).
    fn weight(&self) -> usize {
        std::mem::size_of::<NativeTrace>()
            + match &self.backtrace {
                // An unresolved backtrace holds a few words per native frame.
                NativeBacktrace::Unresolved(b) => b.frames().len() * 64,
                NativeBacktrace::Printed(text) => text.len(),
            }
    }
}

/// Collapses consecutive identical frames into one with a repeat count (recursion), in
/// place.
pub fn collapse(mut frames: Vec<TraceFrame>) -> Vec<TraceFrame> {
    frames.dedup_by(|next, kept| match (kept, next) {
        (
            TraceFrame::App {
                info: a,
                line: la,
                repeat,
            },
            TraceFrame::App {
                info: b,
                line: lb,
                repeat: rb,
            },
        ) if std::ptr::eq(*a, *b) && la == lb => {
            *repeat = repeat.saturating_add(*rb);
            true
        }
        _ => false,
    });
    frames
}

impl Event {
    /// About how many bytes this event holds, itself and what it owns on the heap: what the
    /// queue's byte budget counts. An estimate, but one that grows with every part a
    /// client or an error can make large (messages, chains, traces, URLs, headers).
    pub fn weight(&self) -> usize {
        use std::mem::size_of;
        match self {
            Event::Request(r) => {
                let owned = |s: &Option<String>| s.as_ref().map_or(0, String::len);
                let mut bytes = size_of::<RequestEvent>() + owned(&r.ip) + owned(&r.group_by);
                if let Cow::Owned(e) = &r.endpoint {
                    bytes += e.len();
                }
                bytes += r.errors.iter().map(ErrorRecord::weight).sum::<usize>();
                if let Some(o) = &r.outlier {
                    bytes += size_of::<OutlierEvent>()
                        + o.url.len()
                        + o.headers
                            .iter()
                            .map(|(k, v)| k.len() + v.len() + 48)
                            .sum::<usize>()
                        + o.stack.len() * size_of::<TraceFrame>();
                }
                if let Some(p) = &r.profile {
                    bytes += size_of::<ProfileEvent>() + p.calls.len() * size_of::<ProfileCall>();
                }
                bytes
            }
            Event::Error(e) => e.weight(),
            Event::Late(l) => l.record.weight() + l.endpoint.len(),
            Event::Sample(s) => size_of::<Sample>() + s.graph.len(),
            // Not queued: the queue's byte budget does not hold them.
            Event::Flush(_) | Event::Counted(_) => 0,
        }
    }
}

impl ErrorRecord {
    /// About how many bytes this record holds (see [`Event::weight`]).
    pub fn weight(&self) -> usize {
        use std::mem::size_of;
        let frames: usize = self
            .frames
            .iter()
            .map(|f| match f {
                TraceFrame::App { .. } => size_of::<TraceFrame>(),
                TraceFrame::Other { name, file, .. } => {
                    size_of::<TraceFrame>() + name.len() + file.len()
                }
            })
            .sum();
        let native = self.native.as_ref().map_or(0, NativeTrace::weight);
        size_of::<ErrorRecord>()
            + self.type_name.len()
            + self.message.len()
            + self.sources.iter().map(|s| s.len() + 24).sum::<usize>()
            + frames
            + native
    }
}
