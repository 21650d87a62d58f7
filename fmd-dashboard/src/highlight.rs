//! Server-side syntax highlighting of Rust source with `syntect`.
//!
//! syntect's parser gives each token a stack of scopes (`source.rust meta.function
//! keyword.other`); the page only colours eight kinds of token, so each token gets at most
//! one short class, that of its innermost scope of a coloured kind ([`KINDS`]), and tokens
//! of no such kind are plain text. That keeps a highlighted line to a few hundred bytes
//! (syntect's own HTML repeats the whole scope stack around every token: about 3 KB a
//! line). [`rust_lines`] gives one self-contained fragment per source line, so that each
//! line gets its number and the failing one its marker; text is escaped by maud.
//!
//! Only the Rust grammar is compiled in: [`RUST_SYNTAX`], syntect's own Rust definition
//! taken out of its default set (every grammar: about 368 KB) once, by the test
//! `fmd-dashboard/tests/rust_syntax.rs`, which also checks that the committed file is
//! what syntect's defaults give and that it parses Rust exactly as they do.

use maud::{Markup, PreEscaped, html};
use once_cell::sync::Lazy;
use syntect::parsing::{ParseState, Scope, ScopeStack, SyntaxSet};
use syntect::util::LinesWithEndings;

/// syntect's Rust syntax alone, as a syntax set dump (`syntect::dumps`, uncompressed:
/// its contexts are compressed inside), for lines with their newlines.
pub const RUST_SYNTAX: &[u8] = include_bytes!("../assets/rust.packdump");

/// The set of [`RUST_SYNTAX`]; empty if the dump could not be read (nothing is
/// highlighted then, the code stays plain text).
static SYNTAXES: Lazy<SyntaxSet> =
    Lazy::new(|| syntect::dumps::from_uncompressed_data(RUST_SYNTAX).unwrap_or_default());

/// The coloured kinds of token: a scope prefix and the class the stylesheet colours.
/// The first prefix that matches a token's innermost matching scope wins.
pub const KINDS: [(&str, &str); 15] = [
    ("comment", "hl-c"),
    ("string", "hl-s"),
    ("constant.character", "hl-s"),
    ("keyword", "hl-k"),
    ("storage", "hl-k"),
    ("entity.name.function", "hl-f"),
    ("support.function", "hl-f"),
    ("entity.name.type", "hl-t"),
    ("entity.name.struct", "hl-t"),
    ("entity.name.enum", "hl-t"),
    ("support.type", "hl-t"),
    ("constant", "hl-n"),
    ("meta.attribute", "hl-a"),
    ("meta.annotation", "hl-a"),
    ("variable.parameter", "hl-p"),
];

static SCOPES: Lazy<Vec<(Scope, &'static str)>> = Lazy::new(|| {
    KINDS
        .iter()
        .filter_map(|(prefix, class)| Scope::new(prefix).ok().map(|s| (s, *class)))
        .collect()
});

/// The class of a token under `stack`, if it is of a coloured kind.
fn class_of(stack: &ScopeStack) -> Option<&'static str> {
    stack.as_slice().iter().rev().find_map(|scope| {
        SCOPES
            .iter()
            .find(|(prefix, _)| prefix.is_prefix_of(*scope))
            .map(|(_, class)| *class)
    })
}

/// Highlights Rust `code` and returns one escaped HTML fragment per line.
///
/// Falls back to plain escaped text if the highlighter fails.
pub fn rust_lines(code: &str) -> Vec<Markup> {
    highlight(code).unwrap_or_else(|| code.lines().map(|l| html! { (l) }).collect())
}

fn highlight(code: &str) -> Option<Vec<Markup>> {
    let syntax = SYNTAXES.find_syntax_by_extension("rs")?;
    let mut state = ParseState::new(syntax);
    let mut stack = ScopeStack::new();
    let mut lines = Vec::new();
    for line in LinesWithEndings::from(code) {
        let ops = state.parse_line(line, &SYNTAXES).ok()?;
        let text = line.trim_end_matches(['\n', '\r']);
        let mut out = String::with_capacity(text.len() * 2);
        let mut at = 0;
        for (pos, op) in ops {
            let pos = pos.min(text.len());
            if pos > at {
                token(&mut out, &text[at..pos], class_of(&stack));
                at = pos;
            }
            stack.apply(&op).ok()?;
        }
        if at < text.len() {
            token(&mut out, &text[at..], class_of(&stack));
        }
        lines.push(PreEscaped(out));
    }
    Some(lines)
}

/// Appends `text`, escaped, in a span of `class` when it has one.
fn token(out: &mut String, text: &str, class: Option<&str>) {
    let escaped = html! { (text) }.into_string();
    match class {
        Some(c) => {
            out.push_str("<span class=\"");
            out.push_str(c);
            out.push_str("\">");
            out.push_str(&escaped);
            out.push_str("</span>");
        }
        None => out.push_str(&escaped),
    }
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
        assert!(
            lines[0].0.contains(r#"<span class="hl-k">fn</span>"#),
            "{}",
            lines[0].0
        );
        assert!(
            lines[0].0.contains(r#"<span class="hl-f">f</span>"#),
            "{}",
            lines[0].0
        );
        assert!(
            lines[2].0.contains("&lt;x&gt;"),
            "text is escaped: {}",
            lines[2].0
        );
        assert!(
            lines[2].0.starts_with(r#"<span class="hl-c">"#),
            "comment continues: {}",
            lines[2].0
        );
    }

    #[test]
    fn code_without_trailing_newline_keeps_its_last_line() {
        assert_eq!(rust_lines("fn a() {}\nfn b() {}").len(), 2);
    }

    #[test]
    fn a_long_line_stays_small() {
        let line = "    let total = orders.iter().filter(|o| o.items.len() > 4).map(|o| o.cents).sum::<u64>();";
        let html = rust_lines(&format!("fn f() {{\n{line}\n}}"))[1].0.clone();
        // syntect's own HTML for this line is about 35 times the text.
        assert!(html.len() < 5 * line.len(), "{} bytes: {html}", html.len());
        assert!(html.contains(r#"<span class="hl-k">let</span>"#), "{html}");
    }

    #[test]
    fn hostile_code_stays_text() {
        let html = rust_lines("fn f() { \"</span><script>alert(1)</script>\" }")[0]
            .0
            .clone();
        assert!(
            !html.contains("<script>") && html.contains("&lt;/span&gt;"),
            "{html}"
        );
    }
}
