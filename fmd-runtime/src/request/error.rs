//! Turning errors and panics into [`ErrorRecord`]s: message, `source()` chain and trace.
//!
//! Messages are written through a capped writer, so a 10 MB `Display` costs at most
//! [`MAX_MESSAGE`] bytes of work and memory on the request path.

use super::return_trace::{self, Hop};
use super::stack::{self, Frame};
use crate::model::event::{ErrorKind, ErrorRecord, NativeTrace, TraceFrame, collapse};
use std::borrow::Cow;
use std::fmt::{self, Display, Write};

/// Largest message stored, in bytes; longer ones end with a visible marker.
pub const MAX_MESSAGE: usize = 64 * 1024;
/// Deepest `source()` chain followed.
pub const MAX_SOURCES: usize = 32;
/// Marker appended to a truncated message.
pub const TRUNCATED: &str = " …[truncated by fmd]";

struct Capped {
    out: String,
    truncated: bool,
}

impl Write for Capped {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = MAX_MESSAGE - self.out.len();
        if s.len() <= room {
            self.out.push_str(s);
            return Ok(());
        }
        let mut cut = room;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        self.out.push_str(&s[..cut]);
        self.truncated = true;
        Err(fmt::Error) // stop the formatter: the rest would be thrown away
    }
}

/// `Display` of `value`, capped at [`MAX_MESSAGE`] bytes. A `Display` impl that fails or
/// panics yields what it wrote so far.
pub fn message_of(value: &dyn Display) -> String {
    finish(render(value)).0
}

/// `value` written through the capped writer; a panic in its `Display` is contained.
fn render(value: &dyn Display) -> Capped {
    let mut w = Capped {
        // Most messages fit: one allocation instead of a growth per `write_str`.
        out: String::with_capacity(64),
        truncated: false,
    };
    let _ = crate::fence::contain(|| {
        let _ = write!(w, "{value}");
    });
    w
}

/// A message given as text, capped like [`message_of`].
pub fn cap_message(text: &str) -> String {
    let mut w = Capped {
        out: String::new(),
        truncated: false,
    };
    let _ = w.write_str(text);
    finish(w).0
}

/// The message, and the backtrace printed into it after [`STACK_BACKTRACE`] or color-eyre's
/// [`COLOR_EYRE_BACKTRACE`] (if any). The message is kept as written, terminal colours
/// included (the pages escape it); the writer takes the colours out of the backtrace.
fn finish(mut w: Capped) -> (String, Option<String>) {
    let (kept, printed) = split_backtrace(&w.out);
    let (kept, printed) = (kept.len(), printed.map(str::to_owned));
    if kept < w.out.len() {
        // A backtrace's text belongs in frames; in a message it splits one error into as
        // many groups as there are call sites and addresses.
        w.out.truncate(kept);
    } else if w.truncated {
        w.out.push_str(TRUNCATED);
    }
    (w.out, printed)
}

/// The marker anyhow and eyre print in their `Debug` before the error's backtrace
/// (`std::backtrace::Backtrace`'s `Display`).
const STACK_BACKTRACE: &str = "Stack backtrace:";

/// The middle of the line color-eyre prints above a report's backtrace (`━━━━ BACKTRACE
/// ━━━━`, the rule drawn with U+2501).
const COLOR_EYRE_BACKTRACE: &str = "\u{2501} BACKTRACE \u{2501}";

/// `text` up to a backtrace printed into it (anyhow's and eyre's `Stack backtrace:`,
/// color-eyre's section, std's `Debug` form `Backtrace [{ fn: ..`), without the blank lines
/// before it; and the printed backtrace: what follows anyhow's and eyre's marker or
/// color-eyre's header line, or std's `Debug` form itself.
fn split_backtrace(text: &str) -> (&str, Option<&str>) {
    let cut = [STACK_BACKTRACE, COLOR_EYRE_BACKTRACE, "Backtrace [{"]
        .iter()
        .filter_map(|marker| text.find(marker).map(|at| (at, *marker)))
        .min();
    let Some((at, marker)) = cut else {
        return (text, None);
    };
    let (at, tail) = if marker == COLOR_EYRE_BACKTRACE {
        // The whole header line goes: the frames start on the next one.
        let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
        let next_line = text[at..].find('\n').map_or(text.len(), |n| at + n + 1);
        (line_start, text[next_line..].trim())
    } else {
        let tail = &text[at..];
        // std's `Debug` form is read as such by the writer.
        (
            at,
            tail.strip_prefix(STACK_BACKTRACE).map_or(tail, str::trim),
        )
    };
    let printed = Some(tail).filter(|frames| !frames.is_empty());
    (text[..at].trim_end(), printed)
}

/// The `std::backtrace::Backtrace` that `value`'s `Debug` prints (anyhow's and eyre's
/// reports print theirs; so does a `#[derive(Debug)]` wrapper of one), as text.
fn printed_backtrace(value: &dyn fmt::Debug) -> Option<String> {
    finish(render(&AsDisplay(value))).1
}

/// `Debug` used where a `Display` is taken.
struct AsDisplay<'a>(&'a dyn fmt::Debug);

impl Display for AsDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0, f)
    }
}

/// What fmd knows of an error value before it has a trace.
#[derive(Debug, Clone)]
pub struct Described {
    /// The Rust type name.
    pub type_name: Cow<'static, str>,
    /// Its `Display` (or `Debug` when it has no `Display`), capped.
    pub message: String,
    /// The `source()` chain's messages.
    pub sources: Vec<String>,
    /// The backtrace the error carried, as printed (see [`Described::with_backtrace_of`]).
    pub backtrace: Option<String>,
}

impl Described {
    /// Describes a `std::error::Error`, following its `source()` chain.
    pub fn error(type_name: &'static str, err: &(dyn std::error::Error + 'static)) -> Self {
        let mut sources = Vec::new();
        chain(err, |e| sources.push(message_of(&e)));
        Described {
            type_name: Cow::Borrowed(type_name),
            message: message_of(&err),
            sources,
            backtrace: None,
        }
    }

    /// Describes an error behind a type-erasing wrapper (`anyhow::Error`, `eyre::Report`,
    /// `Box<dyn Error>`): named by the outermost error's type when it is one fmd knows
    /// (the standard library's), else by the wrapper's, with the root cause's type
    /// added when known: `anyhow::Error (caused by std::io::Error)`.
    pub fn wrapped(wrapper: &'static str, err: &(dyn std::error::Error + 'static)) -> Self {
        let mut described = Described::error(wrapper, err);
        let mut root = None;
        chain(err, |e| root = Some(e));
        described.type_name = super::known::name(wrapper, err, root);
        described
    }

    /// Describes an error of a concrete type: [`Described::error`] plus the backtrace its
    /// `Debug` prints (an application's error with a `Backtrace` field, a thiserror
    /// `#[error(transparent)]` over anyhow). std's own error types print none: their
    /// `Debug` is not written a second time.
    pub fn concrete(type_name: &'static str, err: &(dyn std::error::Error + 'static)) -> Self {
        let described = Described::error(type_name, err);
        if super::known::type_of(err).is_some() {
            return described;
        }
        described.with_backtrace_of(err)
    }

    /// Adds the backtrace that `value`'s `Debug` prints, if any: anyhow's and eyre's
    /// `Stack backtrace:`. std offers no stable way to a backtrace's addresses, only its
    /// printed form, and printing it resolves its symbols: that is done here, on the
    /// request path, only for errors that carry a captured backtrace (the price the
    /// application chose with `RUST_LIB_BACKTRACE`); the writer reads the text into frames.
    pub fn with_backtrace_of(mut self, value: &dyn fmt::Debug) -> Self {
        self.backtrace = printed_backtrace(value);
        self
    }

    /// Describes a value that only has `Display`.
    pub fn display(type_name: &'static str, value: &dyn Display) -> Self {
        let (message, backtrace) = finish(render(value));
        Described {
            type_name: Cow::Borrowed(type_name),
            message,
            sources: Vec::new(),
            backtrace,
        }
    }

    /// Describes a value that has neither `Error`, `Display` nor `Debug`: its type alone.
    pub fn opaque(type_name: &'static str) -> Self {
        Described {
            type_name: Cow::Borrowed(type_name),
            message: String::new(),
            sources: Vec::new(),
            backtrace: None,
        }
    }

    /// Describes a value that only has `Debug` (a backtrace it prints becomes frames).
    pub fn debug(type_name: &'static str, value: &dyn fmt::Debug) -> Self {
        Described::display(type_name, &AsDisplay(value))
    }

    /// Completes the record with a kind and a trace.
    pub(crate) fn into_record(
        self,
        kind: ErrorKind,
        frames: Vec<TraceFrame>,
        omitted: u32,
    ) -> ErrorRecord {
        ErrorRecord {
            kind,
            type_name: self.type_name,
            message: self.message,
            sources: self.sources,
            frames,
            omitted_frames: omitted,
            time_ms: crate::clock::now_ms(),
            native: self.backtrace.map(NativeTrace::printed),
        }
    }
}

/// Calls `each` on every error of `err`'s `source()` chain, outermost first, at most
/// [`MAX_SOURCES`]. `source()` is the application's code: a panic there ends the chain.
fn chain<'a>(
    err: &'a (dyn std::error::Error + 'static),
    mut each: impl FnMut(&'a (dyn std::error::Error + 'static)),
) {
    let _ = crate::fence::contain(|| {
        let mut next = err.source();
        let mut seen = 0;
        while let Some(e) = next {
            if seen == MAX_SOURCES {
                break;
            }
            seen += 1;
            each(e);
            next = e.source();
        }
    });
}

fn app(frame: &Frame, line: u32) -> TraceFrame {
    TraceFrame::App {
        info: frame.info,
        line,
        repeat: 1,
    }
}

fn hop_frames(hops: &[Hop]) -> impl Iterator<Item = TraceFrame> + '_ {
    hops.iter().map(|h| TraceFrame::App {
        info: h.info,
        line: h.line,
        repeat: h.repeat,
    })
}

fn same_file(a: &str, b: &str) -> bool {
    a == b || a.ends_with(b) || b.ends_with(a)
}

/// The trace of something that happened at `file:line` in the current frame: the error
/// return trace that led there (if the error came from a callee), the site, then the callers.
/// `keep`: leave the error return trace in place for a later `return Err(e)` (a
/// `capture!`); a panic consumes it.
pub(crate) fn trace_at(
    file: Cow<'static, str>,
    line: u32,
    label: &'static str,
    keep: bool,
) -> SiteTrace {
    let stack = stack::snapshot();
    let Some(top) = stack.first() else {
        return SiteTrace {
            frames: vec![TraceFrame::Other {
                name: Cow::Borrowed(label),
                file,
                line,
            }],
            omitted: 0,
            prefix: 0,
        };
    };
    let mut frames: Vec<TraceFrame> = Vec::with_capacity(8 + stack.len());
    let collect = |hops: &[Hop], omitted: u32| {
        frames.extend(hop_frames(hops));
        if return_trace::ends_in(hops, top.id) {
            frames.pop(); // the site itself is added below, at the line where it happened
        }
        omitted
    };
    let omitted = if keep {
        return_trace::peek_for(top.id, collect)
    } else {
        return_trace::take_for(top.id, collect)
    }
    .unwrap_or(0);
    let mut frames = collapse(frames);
    let prefix = frames.len();
    if same_file(top.info.file, &file) && top.info.contains_line(line) {
        frames.push(app(top, line));
    } else {
        frames.push(TraceFrame::Other {
            name: Cow::Borrowed(label),
            file,
            line,
        });
        frames.push(app(top, 0));
    }
    frames.extend(stack[1..].iter().map(|f| app(f, 0)));
    SiteTrace {
        frames: collapse(frames),
        omitted,
        prefix,
    }
}

/// A trace ending at a site (a panic or a `capture!`).
pub(crate) struct SiteTrace {
    pub frames: Vec<TraceFrame>,
    pub omitted: u32,
    /// Frames of the error return trace in front of the site.
    pub prefix: usize,
}

/// The trace of an `Err` returned by the activation `frame` (a monitored handler).
pub(crate) fn trace_of_return(frame: Frame) -> (Vec<TraceFrame>, u32) {
    let stack = stack::snapshot();
    let callers = match stack.iter().position(|f| f.id == frame.id) {
        Some(pos) => &stack[pos + 1..],
        None => &[],
    };
    let mut frames: Vec<TraceFrame> = Vec::with_capacity(9 + callers.len());
    let (ends_here, omitted) = return_trace::take_for(frame.id, |hops, omitted| {
        frames.extend(hop_frames(hops));
        (return_trace::ends_in(hops, frame.id), omitted)
    })
    .unwrap_or((false, 0));
    if !ends_here {
        frames.push(app(&frame, 0));
    }
    frames.extend(callers.iter().map(|f| app(f, 0)));
    (collapse(frames), omitted)
}
