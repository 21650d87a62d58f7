//! "What changed" between the variants of an issue: for each function on both traces of
//! two consecutive variants (newer against the one before it) whose embedded source
//! differs, a line diff of the two versions (the `similar` crate), newest pair first.
//!
//! The result is plain text in lines; the page escapes it like any other text.

use fmd_runtime::store::read::Variant;
use serde::Serialize;
use similar::{ChangeTag, TextDiff};
use utoipa::ToSchema;

/// Lines of unchanged context around each change.
const CONTEXT: usize = 3;

/// One line of a diff.
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
pub struct DiffLine {
    /// `"+"` added in the newer variant, `"-"` removed from the older one, `" "` context,
    /// `"…"` unchanged lines left out between two hunks.
    pub tag: String,
    /// The line's text, without its line break.
    pub text: String,
}

/// The diff of one function between two variants.
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
pub struct FunctionDiff {
    /// Module path of the function.
    pub module: String,
    /// Function name.
    pub name: String,
    /// The newer variant's group id.
    pub newer: i64,
    /// The older variant's group id.
    pub older: i64,
    /// The lines, hunks in order.
    pub lines: Vec<DiffLine>,
}

/// The functions whose source differs between consecutive variants (`variants` newest
/// first, as the issue page lists them), newest pair first.
pub fn variant_diffs(variants: &[Variant]) -> Vec<FunctionDiff> {
    let mut out = Vec::new();
    for pair in variants.windows(2) {
        let (newer, older) = (&pair[0], &pair[1]);
        let mut seen = std::collections::HashSet::new();
        for f in newer.frames.iter().filter(|f| f.in_app) {
            if !seen.insert((&f.module, &f.name)) {
                continue;
            }
            let Some(new_code) = f.code.as_deref() else {
                continue;
            };
            let old = older
                .frames
                .iter()
                .find(|o| o.in_app && o.module == f.module && o.name == f.name);
            let Some(old_code) = old.and_then(|o| o.code.as_deref()) else {
                continue;
            };
            if old_code == new_code || old_code.is_empty() || new_code.is_empty() {
                continue;
            }
            out.push(FunctionDiff {
                module: f.module.clone(),
                name: f.name.clone(),
                newer: newer.group.id,
                older: older.group.id,
                lines: diff_lines(old_code, new_code),
            });
        }
    }
    out
}

/// A unified line diff of `old` against `new`, with three lines of context around changes.
pub fn diff_lines(old: &str, new: &str) -> Vec<DiffLine> {
    let diff = TextDiff::from_lines(old, new);
    let mut lines = Vec::new();
    for (i, group) in diff.grouped_ops(CONTEXT).iter().enumerate() {
        if i > 0 {
            lines.push(DiffLine {
                tag: "…".into(),
                text: String::new(),
            });
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let tag = match change.tag() {
                    ChangeTag::Insert => "+",
                    ChangeTag::Delete => "-",
                    ChangeTag::Equal => " ",
                };
                lines.push(DiffLine {
                    tag: tag.into(),
                    text: change.value().trim_end_matches(['\n', '\r']).to_owned(),
                });
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_line_is_removed_and_added_with_its_context() {
        let old = "fn f() {\n    a();\n    b();\n}\n";
        let new = "fn f() {\n    a();\n    c();\n}\n";
        let tags: Vec<(String, String)> = diff_lines(old, new)
            .into_iter()
            .map(|l| (l.tag, l.text))
            .collect();
        assert!(tags.contains(&("-".into(), "    b();".into())));
        assert!(tags.contains(&("+".into(), "    c();".into())));
        assert!(tags.contains(&(" ".into(), "fn f() {".into())));
    }
}
