//! The panic hook: records panics in monitored code, then runs the previous hook.
//!
//! The hook runs before unwinding, while the logical stack is still whole, so the trace
//! has every annotated frame. It records only panics inside a request or an annotated
//! function; the panic itself continues unchanged (the previous hook still prints it).
//!
//! Code that fmd runs on the host's behalf (an error's `Display`, `Debug` or `source()`)
//! runs inside [`contain`](crate::fence::contain): a panic there is caught, counted, and not
//! recorded as the request's panic, so it never changes the host's response.

use super::ctx as request;
use super::error::{self, cap_message};
use super::stack;
use crate::model::event::{ErrorKind, ErrorRecord, NativeTrace};
use std::borrow::Cow;
use std::panic::PanicHookInfo;
use std::sync::Once;

static INSTALL: Once = Once::new();

/// Chains fmd's hook in front of the current one (once per process; [`crate::start`]
/// calls it whenever fmd starts).
pub(crate) fn install() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            record(info);
            previous(info);
        }));
    });
}

/// The panic payload as text.
pub fn payload_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        cap_message(s)
    } else if let Some(s) = payload.downcast_ref::<String>() {
        cap_message(s)
    } else {
        "Box<dyn Any>".to_owned()
    }
}

fn record(info: &PanicHookInfo<'_>) {
    if crate::fence::is_contained() {
        return; // caught and counted by `contain`, not the request's panic
    }
    let in_request = request::in_request();
    if !in_request && stack::is_empty() {
        return;
    }
    let (file, line) = info
        .location()
        .map(|l| (Cow::Owned(l.file().to_owned()), l.line()))
        .unwrap_or((Cow::Borrowed("<unknown>"), 0));
    let trace = error::trace_at(file, line, "panic location", false);
    let record = ErrorRecord {
        kind: ErrorKind::Panic,
        type_name: Cow::Borrowed("panic"),
        message: payload_message(info.payload()),
        sources: Vec::new(),
        frames: trace.frames,
        omitted_frames: trace.omitted,
        time_ms: crate::clock::now_ms(),
        native: Some(NativeTrace::capture(trace.prefix)),
    };
    let mut record = Some(record);
    request::with_current(|ctx| {
        ctx.panicked = true;
        if let Some(r) = record.take() {
            ctx.push_error(r);
        }
    });
    if let Some(record) = record {
        crate::pipeline::monitor::monitor().send_error(record);
    }
}
