//! Native backtraces of panics, symbolized on the writer thread, and those errors carried.
//!
//! The panic hook takes an *unresolved* backtrace (raw addresses: a few microseconds, and
//! only for panics). Here, away from the request path, addresses are resolved — cached per
//! address — and merged with the logical trace. An error that carried a backtrace (anyhow,
//! eyre, a `Backtrace` field) brings it as printed text instead, read into the same symbols
//! by [`printed::parse`]; from there both go the same way: frames inside annotated
//! functions become app frames with their real line (the logical stack alone knows only the
//! innermost line), other frames between them become library frames (not in-app, collapsed
//! in the pages).
//! The panic machinery, fmd's own wrappers and the runtime frames outside the outermost
//! annotated function are left out. Without debug information nothing maps to an annotated
//! function, and the logical trace is kept as it was.

use crate::model::event::{ErrorKind, ErrorRecord, NativeBacktrace, TraceFrame, collapse};
use crate::model::function::{FnInfo, registry};
use crate::model::printed;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

/// Loads the debug information symbolization needs, on a thread of its own (started by
/// the writer, whose low priority it inherits). Best effort: a failure only means the first
/// panic loads it.
///
/// When errors carry std backtraces (`RUST_LIB_BACKTRACE` / `RUST_BACKTRACE` set), std's
/// own resolver is loaded too: describing such an error prints its backtrace on the
/// request path, and without this the first one would wait for the debug information to
/// be read (190 ms measured for the test binaries, debug build).
pub(crate) fn load_ahead() {
    let spawned = std::thread::Builder::new()
        .name("fmd-symbols".to_owned())
        .spawn(|| {
            let _ = crate::fence::contain(|| {
                // Resolving this thread's own frames loads the binary's debug information
                // into the process-wide cache that later resolutions use.
                drop(backtrace::Backtrace::new());
                // std keeps a cache of its own; printing a backtrace fills it.
                let std_trace = std::backtrace::Backtrace::capture();
                if std_trace.status() == std::backtrace::BacktraceStatus::Captured {
                    drop(std_trace.to_string());
                }
            });
            LOADED.store(true, Ordering::Release);
        });
    if spawned.is_err() {
        LOADED.store(true, Ordering::Release);
    }
}

/// Set once the symbols are loaded ahead (or loading gave up).
static LOADED: AtomicBool = AtomicBool::new(false);

/// Whether the debug information of the binary has been loaded ahead (see
/// `load_ahead`, on the writer's start): a one-time cost at start (tens of MiB resident for a large debug
/// binary), done by then. Tests that measure memory growth wait for it first.
pub fn symbols_loaded() -> bool {
    LOADED.load(Ordering::Acquire)
}

#[derive(Clone)]
struct Symbol {
    name: String,
    file: String,
    line: u32,
}

/// Resolves and merges native traces; keeps its caches across batches.
#[derive(Default)]
pub(crate) struct Symbolizer {
    by_address: HashMap<usize, Vec<Symbol>>,
    functions: Option<Vec<&'static FnInfo>>,
}

/// Gives the innermost native frame of the panicking function the line of the logical
/// `site` (the panic hook's location, exact through `#[track_caller]`: an index out of
/// bounds names the indexing line) where debug information puts the call elsewhere (an
/// async body's bounds check is attributed to the `async fn` line in debug builds).
fn keep_site_line(native: &mut [TraceFrame], site: Option<&TraceFrame>) {
    let Some(&TraceFrame::App {
        info: site_info,
        line: site_line,
        ..
    }) = site
    else {
        return;
    };
    if site_line == 0 {
        return;
    }
    let innermost = native.iter_mut().find_map(|f| match f {
        TraceFrame::App { info, line, .. } => Some((*info, line)),
        _ => None,
    });
    if let Some((info, line)) = innermost
        && std::ptr::eq(info, site_info)
    {
        *line = site_line;
    }
}

/// Frames that belong to the panic machinery or to fmd itself.
fn is_machinery(name: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "std::panicking",
        "core::panicking",
        "std::panic",
        "core::panic",
        "__rustc::",
        "rust_begin_unwind",
        "std::sys::backtrace",
        "std::rt::",
        "backtrace::",
        "fmd_runtime::",
        "<fmd_runtime::",
        "fmd_dashboard::axum",
        "<fmd_dashboard::axum",
        "<alloc::boxed::Box<F,A> as core::ops::function::Fn",
        // where an error's backtrace was taken: inside the error library
        "std::backtrace::",
        "anyhow::",
        "<anyhow::",
        "eyre::",
        "<eyre::",
        "color_eyre::",
        "<color_eyre::",
    ];
    const INSIDE: &[&str] = &["PanicHookInfo", " as anyhow::", " as eyre::"];
    PREFIXES.iter().any(|p| name.starts_with(p)) || INSIDE.iter().any(|i| name.contains(i))
}

/// Whether the `file` a backtrace names is the `registered` one of an annotated function
/// (`file!()`, relative to the workspace). std prints files under the process' directory
/// relative to it (`./tests/x.rs` for `crate/tests/x.rs`), so either may be a suffix of the
/// other, at a path boundary.
fn same_source(file: &str, registered: &str) -> bool {
    if registered.is_empty() {
        return false;
    }
    let file = file.strip_prefix("./").unwrap_or(file);
    let suffix_of = |long: &str, short: &str| {
        long.strip_suffix(short)
            .is_some_and(|head| head.is_empty() || head.ends_with('/') || head.ends_with('\\'))
    };
    !file.is_empty() && (suffix_of(file, registered) || suffix_of(registered, file))
}

impl Symbolizer {
    fn symbols(&mut self, frame: &backtrace::BacktraceFrame) -> Vec<Symbol> {
        let ip = frame.ip() as usize;
        self.by_address
            .entry(ip)
            .or_insert_with(|| {
                let mut out = Vec::new();
                backtrace::resolve(frame.ip(), |s| {
                    out.push(Symbol {
                        name: s.name().map(|n| format!("{n:#}")).unwrap_or_default(),
                        file: s
                            .filename()
                            .map(|f| f.display().to_string())
                            .unwrap_or_default(),
                        line: s.lineno().unwrap_or(0),
                    });
                });
                out
            })
            .clone()
    }

    fn app_function(&mut self, file: &str, line: u32) -> Option<&'static FnInfo> {
        let functions = self
            .functions
            .get_or_insert_with(|| registry::functions().collect());
        functions
            .iter()
            .copied()
            .find(|f| same_source(file, f.file) && f.contains_line(line))
    }

    /// Replaces the logical part of `record`'s trace with the merged native one.
    pub(crate) fn merge(&mut self, record: &mut ErrorRecord) {
        let Some(native) = record.native.take() else {
            return;
        };
        let mut frames: Vec<TraceFrame> = Vec::new();
        // Symbols seen in the app frame last pushed: an async fn shows up as several
        // native frames of different symbols (its body and its wrapper) for one call,
        // while recursion repeats the same symbol, one native frame per call.
        let mut activation: Vec<String> = Vec::new();
        let symbols: Vec<Symbol> = match &native.backtrace {
            NativeBacktrace::Unresolved(backtrace) => backtrace
                .frames()
                .iter()
                .flat_map(|frame| self.symbols(frame))
                .collect(),
            NativeBacktrace::Printed(text) => printed::parse(text)
                .into_iter()
                .map(|f| Symbol {
                    // as a resolved frame without a name: left out
                    name: if f.name == "<unknown>" {
                        String::new()
                    } else {
                        f.name
                    },
                    file: f.file,
                    line: f.line,
                })
                .collect(),
        };
        for s in symbols {
            if is_machinery(&s.name) {
                continue;
            }
            match self.app_function(&s.file, s.line) {
                Some(info) => {
                    let same = matches!(frames.last(), Some(TraceFrame::App { info: last, .. })
                            if std::ptr::eq(*last, info))
                        && !activation.contains(&s.name);
                    if same {
                        activation.push(s.name);
                    } else {
                        activation = vec![s.name];
                        frames.push(TraceFrame::App {
                            info,
                            line: s.line,
                            repeat: 1,
                        });
                    }
                }
                None if !s.name.is_empty() => frames.push(TraceFrame::Other {
                    name: Cow::Owned(s.name),
                    file: Cow::Owned(s.file),
                    line: s.line,
                }),
                None => {}
            }
        }
        let Some(last_app) = frames
            .iter()
            .rposition(|f| matches!(f, TraceFrame::App { .. }))
        else {
            return; // no debug info: keep the logical trace
        };
        frames.truncate(last_app + 1);
        let prefix = native.prefix.min(record.frames.len());
        if record.kind == ErrorKind::Panic {
            keep_site_line(&mut frames, record.frames.get(prefix));
        }
        let mut merged: Vec<TraceFrame> = record.frames[..prefix].to_vec();
        merged.extend(frames);
        record.frames = collapse(merged);
    }
}
