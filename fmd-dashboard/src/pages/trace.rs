//! A stack trace, innermost frame first, each frame expandable to its whole function.
//!
//! In-app frames start open, library frames collapsed; recursion shows as "× N"; a trace
//! longer than [`LONG_TRACE`] frames shows its head and tail with the middle expandable.

use maud::{Markup, html};

use super::components::code_block;
use crate::format;
use fmd_runtime::store::read::StackFrame;

/// Traces with more frames than this are shortened to head and tail.
pub const LONG_TRACE: usize = 20;
/// Frames shown at each end of a shortened trace.
pub const HEAD_TAIL: usize = 8;

/// The whole trace.
pub fn trace(frames: &[StackFrame]) -> Markup {
    if frames.is_empty() {
        return html! { p.muted { "No stack trace was recorded." } };
    }
    html! {
        ol.trace {
            @if frames.len() > LONG_TRACE {
                @for f in &frames[..HEAD_TAIL] { (frame(f)) }
                li {
                    details.middle {
                        summary { "Show " (frames.len() - 2 * HEAD_TAIL) " more frames" }
                        ol.trace {
                            @for f in &frames[HEAD_TAIL..frames.len() - HEAD_TAIL] { (frame(f)) }
                        }
                    }
                }
                @for f in &frames[frames.len() - HEAD_TAIL..] { (frame(f)) }
            } @else {
                @for f in frames { (frame(f)) }
            }
        }
    }
}

/// One frame: a summary line and, expanded, the function's code.
pub fn frame(f: &StackFrame) -> Markup {
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
        li class=(if f.in_app { "frame app" } else { "frame lib" }) {
            details open[f.in_app] {
                summary {
                    span.fn { span.muted { (module) } (f.name) }
                    @if f.repeat > 1 { span.badge.rep title="consecutive recursive calls" { "× " (f.repeat) } }
                    @if !f.in_app { span.badge.lib { "library" } }
                    span.loc title=(full) { (place) }
                }
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
    fn recursion_shows_a_count_and_long_traces_fold_their_middle() {
        let mut frames: Vec<_> = (0..30).map(|i| f(i, true)).collect();
        frames[0].repeat = 7;
        let html = trace(&frames).into_string();
        assert!(html.contains("× 7"));
        assert!(html.contains("Show 14 more frames"));
    }
}
