//! Server-side syntax highlighting of Rust source with `syntect`.
//!
//! The highlighter emits class-based spans (`hl-keyword`, `hl-string`, ...) styled by the
//! embedded stylesheet, over text it has escaped itself. [`rust_lines`] splits its output
//! into one self-contained HTML fragment per source line, closing the spans still open at
//! each line end and reopening them on the next line, so that each line can get its own
//! number and the failing one its marker.

use maud::{Markup, PreEscaped};
use once_cell::sync::Lazy;
use syntect::html::{ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

static SYNTAXES: Lazy<SyntaxSet> = Lazy::new(SyntaxSet::load_defaults_newlines);

/// Highlights Rust `code` and returns one escaped HTML fragment per line.
///
/// Falls back to plain escaped text if the highlighter fails.
pub fn rust_lines(code: &str) -> Vec<Markup> {
    match highlight(code) {
        Some(html) => split_lines(&html).into_iter().map(PreEscaped).collect(),
        None => code.lines().map(|l| maud::html! { (l) }).collect(),
    }
}

fn highlight(code: &str) -> Option<String> {
    let syntax = SYNTAXES.find_syntax_by_extension("rs")?;
    let mut generator = ClassedHTMLGenerator::new_with_class_style(
        syntax,
        &SYNTAXES,
        ClassStyle::SpacedPrefixed { prefix: "hl-" },
    );
    for line in LinesWithEndings::from(code) {
        generator
            .parse_html_for_line_which_includes_newline(line)
            .ok()?;
    }
    Some(generator.finalize())
}

/// Splits highlighter HTML at newlines, keeping each line's span nesting balanced.
fn split_lines(html: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut open: Vec<&str> = Vec::new(); // the opening tags in force
    let mut current = String::new();
    let mut has_text = false;
    let mut rest = html;
    while !rest.is_empty() {
        if rest.starts_with("<span") {
            let end = rest.find('>').map_or(rest.len(), |i| i + 1);
            open.push(&rest[..end]);
            current.push_str(&rest[..end]);
            rest = &rest[end..];
        } else if let Some(after) = rest.strip_prefix("</span>") {
            open.pop();
            current.push_str("</span>");
            rest = after;
        } else if let Some(after) = rest.strip_prefix('\n') {
            current.push_str(&"</span>".repeat(open.len()));
            lines.push(std::mem::take(&mut current));
            current.extend(open.iter().copied());
            has_text = false;
            rest = after;
        } else {
            let next = rest.find(['<', '\n']).unwrap_or(rest.len()).max(1);
            current.push_str(&rest[..next]);
            has_text = true;
            rest = &rest[next..];
        }
    }
    current.push_str(&"</span>".repeat(open.len()));
    // After a final newline the last "line" holds only reopened spans: drop it.
    if has_text {
        lines.push(current);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_balanced_fragment_per_line() {
        let code = "fn f() {\n    /* a\n       b */ let s = \"<x>\";\n}\n";
        let lines = rust_lines(code);
        assert_eq!(lines.len(), 4);
        for l in &lines {
            let s = &l.0;
            assert_eq!(
                s.matches("<span").count(),
                s.matches("</span>").count(),
                "{s}"
            );
        }
        assert!(lines[0].0.contains("hl-keyword") || lines[0].0.contains("hl-storage"));
        assert!(
            lines[2].0.contains("&lt;x&gt;"),
            "text is escaped: {}",
            lines[2].0
        );
        assert!(
            lines[2].0.contains("hl-comment"),
            "comment continues: {}",
            lines[2].0
        );
    }

    #[test]
    fn code_without_trailing_newline_keeps_its_last_line() {
        assert_eq!(rust_lines("fn a() {}\nfn b() {}").len(), 2);
    }
}
