//! Searching issues by words: what is indexed of an issue, and how the words a user
//! types become an engine's full-text query.
//!
//! An issue's search text is its type name, its normalized message and, for each in-app
//! function on its trace, `module::name` and the file: fixed when the issue is created
//! (they are part of what makes the issue), stored in `issue.search_text`. SQLite indexes
//! it with FTS5 (table `issue_fts`, filled by a trigger), PostgreSQL with a GIN index on
//! its `tsvector`. Both split text into words at every character that is not a letter or
//! a digit and compare them lower-cased, so `shop::orders::load_forecast` is found by
//! `orders`, `load` or `forecast`, on either engine; each word typed matches as a prefix
//! (`forec` finds `forecast`) and every word typed must match.

use crate::model::event::{ErrorRecord, TraceFrame};

/// Most bytes of an issue's search text (longer messages are cut at a character
/// boundary; a message is already capped when it is recorded).
pub const MAX_SEARCH_TEXT: usize = 4096;

/// Most words of one search; further words are ignored.
pub const MAX_WORDS: usize = 8;

/// Longest word of a search, in characters; a longer one is cut (and still matches as a
/// prefix).
pub const MAX_WORD: usize = 40;

/// The search text of an issue created for `record`, whose normalized message is
/// `message`.
pub fn search_text(record: &ErrorRecord, message: &str) -> String {
    let mut text = String::with_capacity(128);
    text.push_str(&record.type_name);
    text.push(' ');
    text.push_str(message);
    for frame in &record.frames {
        if let TraceFrame::App { info, .. } = frame {
            text.push(' ');
            text.push_str(info.module);
            text.push_str("::");
            text.push_str(info.name);
            text.push(' ');
            text.push_str(info.file);
        }
    }
    cut(text, MAX_SEARCH_TEXT)
}

/// `text` cut to at most `max` bytes, at a character boundary.
fn cut(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// The words of a search: split at every character that is not a letter or a digit,
/// lower-cased, without repeats, at most [`MAX_WORDS`] of at most [`MAX_WORD`]
/// characters. Only letters and digits remain, so no word can carry query syntax into
/// either engine.
pub fn words(query: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in query.split(|c: char| !c.is_alphanumeric()) {
        if w.is_empty() {
            continue;
        }
        let w: String = w
            .chars()
            .take(MAX_WORD)
            .flat_map(char::to_lowercase)
            .collect();
        if !out.contains(&w) {
            out.push(w);
        }
        if out.len() == MAX_WORDS {
            break;
        }
    }
    out
}

/// The FTS5 `MATCH` expression of `words`: each a quoted prefix, all of them required.
pub fn fts5_query(words: &[String]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("\"{w}\"*")).collect();
    quoted.join(" ")
}

/// The PostgreSQL `to_tsquery('simple', …)` text of `words`: each a prefix, all required.
pub fn tsquery(words: &[String]) -> String {
    let parts: Vec<String> = words.iter().map(|w| format!("{w}:*")).collect();
    parts.join(" & ")
}

/// A `LIKE … ESCAPE '\'` pattern that finds `text` anywhere, its `%`, `_` and `\` taken
/// literally.
pub fn contains_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_letters_and_digits_lower_cased_once_each() {
        assert_eq!(
            words("shop::NotFound  load_forecast src/orders.rs NOTFOUND"),
            [
                "shop", "notfound", "load", "forecast", "src", "orders", "rs"
            ]
        );
        assert_eq!(words("\"x\"* OR y:* & (z) -- ;"), ["x", "or", "y", "z"]);
        assert!(words("  ::  ").is_empty());
        assert_eq!(words("Ärger ünd"), ["ärger", "ünd"]);
    }

    #[test]
    fn a_search_is_bounded() {
        let many = (0..100)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(words(&many).len(), MAX_WORDS);
        let long = "a".repeat(10_000);
        assert_eq!(words(&long)[0].chars().count(), MAX_WORD);
        assert_eq!(
            cut("é".repeat(3000), MAX_SEARCH_TEXT).len(),
            MAX_SEARCH_TEXT
        );
    }

    #[test]
    fn queries_for_each_engine() {
        let w = words("Not found");
        assert_eq!(fts5_query(&w), "\"not\"* \"found\"*");
        assert_eq!(tsquery(&w), "not:* & found:*");
        assert_eq!(contains_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }
}
