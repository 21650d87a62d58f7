//! A stack trace, innermost frame first, each frame expandable to its whole function.
//!
//! In-app frames start open, library frames collapsed; recursion shows as "× N"; a trace
//! longer than [`LONG_TRACE`] frames shows its head and tail with the middle expandable.
//!
//! In a list of many traces ([`compact_trace`]) only the failing function (the innermost
//! in-app frame) comes with its code; the other frames are summary lines, and opening one
//! fetches the whole trace from the group's own page (the dashboard's script), or follows
//! a link to it without script. That keeps a list of ten deep traces under 300 KB.

use maud::{Markup, html};

use super::components::code_block;
use crate::format;
use fmd_runtime::store::read::StackFrame;

/// Traces with more frames than this are shortened to head and tail.
pub const LONG_TRACE: usize = 20;
/// Frames shown at each end of a shortened trace.
pub const HEAD_TAIL: usize = 8;

/// The whole trace, every frame with its code.
pub fn trace(frames: &[StackFrame]) -> Markup {
    frames_list(frames, None)
}

/// The trace with only the failing function's code; the others' code is at `full` (the
/// group's own page, whose `ol.trace` under the same card id replaces this one).
pub fn compact_trace(frames: &[StackFrame], full: &str) -> Markup {
    frames_list(frames, Some(full))
}

/// The frame whose code a compact trace shows: the innermost in-app one, else the first.
fn failing(frames: &[StackFrame]) -> usize {
    frames.iter().position(|f| f.in_app).unwrap_or(0)
}

fn frames_list(frames: &[StackFrame], full: Option<&str>) -> Markup {
    let shown = failing(frames);
    let one = |i: usize| match full {
        Some(_) if i != shown => summary_only(&frames[i]),
        _ => frame(&frames[i]),
    };
    if frames.is_empty() {
        return html! { p.muted { "No stack trace was recorded." } };
    }
    html! {
        ol.trace data-full-trace=[full] {
            @if frames.len() > LONG_TRACE {
                @for i in 0..HEAD_TAIL { (one(i)) }
                li {
                    details.middle {
                        summary { "Show " (frames.len() - 2 * HEAD_TAIL) " more frames" }
                        ol.trace {
                            @for i in HEAD_TAIL..frames.len() - HEAD_TAIL { (one(i)) }
                        }
                    }
                }
                @for i in frames.len() - HEAD_TAIL..frames.len() { (one(i)) }
            } @else {
                @for i in 0..frames.len() { (one(i)) }
            }
        }
        @if let Some(url) = full {
            @if frames.len() > 1 {
                p.more { a href=(url) { "Show the code of every frame" } }
            }
        }
    }
}

/// One frame of a compact trace: its summary line, collapsed; its code comes with the
/// whole trace (the list's `data-full-trace`, or the link under it).
fn summary_only(f: &StackFrame) -> Markup {
    html! {
        li class=(if f.in_app { "frame app" } else { "frame lib" }) {
            details { (summary(f)) }
        }
    }
}

/// One frame: a summary line and, expanded, the function's code.
pub fn frame(f: &StackFrame) -> Markup {
    html! {
        li class=(if f.in_app { "frame app" } else { "frame lib" }) {
            details open[f.in_app] {
                (summary(f))
                @match &f.code {
                    Some(code) => {
                        @if !f.verbatim {
                            div.nocode { "Reconstructed from tokens (macro-generated function): formatting and line numbers are approximate." }
                        }
                        (code_block(code, f.start_line, f.line))
                    }
                    None => div.nocode {
                        @if f.in_app { "Source not stored (source embedding is switched off)." }
                        @else { "Library code: source not stored." }
                    }
                }
            }
        }
    }
}

/// A frame's summary line: function, recursion, library badge, place.
fn summary(f: &StackFrame) -> Markup {
    let (short, full) = format::source_path(&f.file);
    let place = if f.line > 0 {
        format!("{short}:{}", f.line)
    } else {
        short
    };
    let module = if f.module.is_empty() {
        String::new()
    } else {
        format!("{}::", f.module)
    };
    html! {
        summary {
            span.fn { span.muted { (module) } (f.name) }
            @if f.repeat > 1 { span.badge.rep title="consecutive recursive calls" { "× " (f.repeat) } }
            @if !f.in_app { span.badge.lib { "library" } }
            span.loc title=(full) { (place) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(i: u32, in_app: bool) -> StackFrame {
        StackFrame {
            location_id: i as i64,
            module: "app::handlers".into(),
            name: format!("f{i}"),
            file: "src/handlers.rs".into(),
            line: 11,
            start_line: 10,
            end_line: 12,
            in_app,
            code: Some("fn f() {\n    g()?;\n}".into()),
            verbatim: true,
            repeat: 1,
        }
    }

    #[test]
    fn library_frames_start_collapsed_and_app_frames_open() {
        let html = trace(&[f(0, true), f(1, false)]).into_string();
        assert!(
            html.contains(r#"<li class="frame app"><details open>"#),
            "{html}"
        );
        assert!(html.contains(r#"<li class="frame lib"><details>"#));
    }

    #[test]
    fn a_compact_trace_has_only_the_failing_functions_code() {
        let frames = [f(0, false), f(1, true), f(2, true)];
        let html = compact_trace(&frames, "/d/endpoint/1/exceptions?group=4").into_string();
        assert_eq!(html.matches(r#"class="code""#).count(), 1, "{html}");
        assert_eq!(
            html.matches(r#"data-full-trace="/d/endpoint/1/exceptions?group=4""#)
                .count(),
            1
        );
        assert!(
            html.contains(r#"<a href="/d/endpoint/1/exceptions?group=4">"#),
            "a link without script"
        );
        assert!(
            html.contains(r#"<li class="frame app"><details open>"#),
            "the failing frame open"
        );
    }

    #[test]
    fn recursion_shows_a_count_and_long_traces_fold_their_middle() {
        let mut frames: Vec<_> = (0..30).map(|i| f(i, true)).collect();
        frames[0].repeat = 7;
        let html = trace(&frames).into_string();
        assert!(html.contains("× 7"));
        assert!(html.contains("Show 14 more frames"));
    }
}
