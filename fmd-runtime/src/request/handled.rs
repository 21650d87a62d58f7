//! `fmd::capture!(err)`: record a handled error, in a request or outside one.

use super::ctx as request;
use super::error::{self, Described};
use crate::model::event::ErrorKind;
use std::borrow::Cow;

/// Records `described` as captured at `file:line` (the macro passes its call site).
///
/// Inside a request the error joins that request's record; elsewhere (a background job)
/// it is stored on its own.
pub fn capture(described: Described, file: &'static str, line: u32) {
    capture_at(described, Cow::Borrowed(file), line, "capture site");
}

/// [`capture`] with the site's name (shown when the site is outside every annotated
/// function): the `tracing` layer names the event's module.
pub(crate) fn capture_at(
    described: Described,
    file: Cow<'static, str>,
    line: u32,
    label: &'static str,
) {
    crate::start::ensure_started();
    let trace = error::trace_at(file, line, label, true);
    let mut record = Some(described.into_record(ErrorKind::Captured, trace.frames, trace.omitted));
    request::with_current(|ctx| {
        if let Some(r) = record.take() {
            ctx.push_error(r);
        }
    });
    if let Some(record) = record {
        crate::pipeline::monitor::monitor().send_error(record);
    }
}
