//! Backtraces known only as printed text: `std::backtrace::Backtrace`'s `Display`, which
//! anyhow and eyre print after `Stack backtrace:` in their `Debug`, or its `Debug`, which a
//! `#[derive(Debug)]` error with a `Backtrace` field prints (std has no stable access to
//! the addresses). Read into frames — function, file, line, no address — by
//! [`parse`], which is total and bounded: any text gives at most [`MAX_PRINTED_FRAMES`]
//! frames of at most [`MAX_PRINTED_NAME`] bytes of name and path each, and never panics.
//!
//! The forms read (both of std's styles, the short one and `RUST_BACKTRACE=full`, and
//! color-eyre's, whose colours, hidden-frame notes and source snippets are skipped):
//!
//! ```text
//!    4: app::load
//!              at ./src/load.rs:12:9
//!       app::inlined_into_load
//!              at ./src/load.rs:30:5
//!    5:     0x55d4a1b2c3d4 - app::handler::h0123456789abcdef
//!                     ⋮ 2 frames hidden ⋮
//!    8: app::render::h0123456789abcdef
//!       at /src/app/src/render.rs:3
//!          2 │ fn render() {
//!          3 > ..
//! ```

use std::borrow::Cow;

/// Most frames read from one printed backtrace; the rest is left out.
pub const MAX_PRINTED_FRAMES: usize = 256;

/// Longest function name or file path kept, in bytes.
pub const MAX_PRINTED_NAME: usize = 1024;

/// One frame of a printed backtrace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintedFrame {
    /// The function, without std's `::h…` hash suffix; `<unknown>` when std could not name
    /// it.
    pub name: String,
    /// The source file as printed (relative to the process' directory when std shortened
    /// it), empty when none was printed.
    pub file: String,
    /// The line, 0 if unknown.
    pub line: u32,
}

/// The frames of `text`, innermost first, each with a name: std's `Display` form (lines
/// that are no frame, a header or std's `note:`, are skipped), or its `Debug` form when
/// `text` starts with [`DEBUG_FORM`].
pub fn parse(text: &str) -> Vec<PrintedFrame> {
    match text.trim_start().strip_prefix(DEBUG_FORM) {
        Some(entries) => parse_debug(entries),
        None => parse_display(text),
    }
}

/// How std's `Debug` of a captured backtrace begins (`Backtrace [{ fn: "app::load", file:
/// "./src/load.rs", line: 12 }, ..]`): what a `#[derive(Debug)]` error with a `Backtrace`
/// field prints.
pub const DEBUG_FORM: &str = "Backtrace [";

/// The entries of std's `Debug` form, up to the list's end.
fn parse_debug(entries: &str) -> Vec<PrintedFrame> {
    let mut frames = Vec::new();
    let mut rest = entries;
    while let Some(entry) = rest.strip_prefix("{ fn: ") {
        let end = entry.find(" }").unwrap_or(entry.len());
        let (fields, after) = entry.split_at(end);
        let (name, fields) = match fields.strip_prefix("<unknown>") {
            Some(more) => ("", more),
            None => quoted(fields),
        };
        let (file, fields) = match fields.strip_prefix(", file: ") {
            Some(more) => quoted(more),
            None => ("", fields),
        };
        let line = fields
            .strip_prefix(", line: ")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let name = without_hash(name);
        if !name.is_empty() {
            if frames.len() == MAX_PRINTED_FRAMES {
                break;
            }
            frames.push(PrintedFrame {
                name: bounded(name),
                file: bounded(file),
                line,
            });
        }
        // `}, { fn: ..` continues the list; anything else ends it.
        rest = match after.strip_prefix(" }, ") {
            Some(next) => next,
            None => break,
        };
    }
    frames
}

/// `"text", more` → (`text`, `, more`): up to the first quote not escaped by a backslash;
/// `("", input)` when `input` is no quoted text.
fn quoted(input: &str) -> (&str, &str) {
    let Some(body) = input.strip_prefix('"') else {
        return ("", input);
    };
    let mut escaped = false;
    for (at, c) in body.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return (&body[..at], &body[at + 1..]),
            _ => escaped = false,
        }
    }
    ("", input)
}

/// `text` without terminal escape sequences (colours and the like: CSI `ESC [ … final`,
/// OSC `ESC ] … BEL` or `ESC ] … ESC \\`, and two-byte `ESC x`); borrowed when it has none.
pub fn without_ansi(text: &str) -> Cow<'_, str> {
    if !text.contains('\u{1b}') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.next() {
            // Parameters and intermediates, up to the final byte (`@` to `~`).
            Some('[') => {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            // An operating-system command: up to BEL or the string terminator.
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\u{7}' {
                        break;
                    }
                    if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                        chars.next();
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    Cow::Owned(out)
}

/// A line of color-eyre's that is no frame: `⋮ 6 frames hidden ⋮`, or a line of the
/// source snippet it prints under a frame with `RUST_BACKTRACE=full` (`12 │ code`,
/// `13 > code`).
fn is_decoration(line: &str) -> bool {
    if line.starts_with('\u{22ee}') {
        return true;
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0
        && line[digits..].starts_with(' ')
        && matches!(
            line[digits..].trim_start().chars().next(),
            Some('\u{2502}' | '>')
        )
}

/// std's `Display` form (or color-eyre's), line by line.
fn parse_display(text: &str) -> Vec<PrintedFrame> {
    let text = without_ansi(text);
    let mut frames: Vec<PrintedFrame> = Vec::new();
    // Set once an indexed frame was read: an unindexed indented line after it is a
    // function inlined into that frame.
    let mut in_frames = false;
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || is_decoration(line) {
            continue;
        }
        if let Some(place) = line.strip_prefix("at ") {
            if let Some(last) = frames.last_mut().filter(|f| f.file.is_empty()) {
                let (file, number) = location(place);
                last.file = bounded(file);
                last.line = number;
            }
            continue;
        }
        let name = match indexed(line) {
            Some(rest) => {
                in_frames = true;
                rest
            }
            None if in_frames
                && raw.starts_with(char::is_whitespace)
                && !line.starts_with("note:") =>
            {
                line
            }
            None => continue,
        };
        // color-eyre prints `<unknown>` where std would print a hash it could not read.
        let name = without_address(name);
        let name = match name.strip_suffix("<unknown>") {
            Some(named) if !named.is_empty() => named,
            _ => name,
        };
        let name = without_hash(name);
        if name.is_empty() {
            continue;
        }
        if frames.len() == MAX_PRINTED_FRAMES {
            break;
        }
        frames.push(PrintedFrame {
            name: bounded(name),
            file: String::new(),
            line: 0,
        });
    }
    frames
}

/// What follows `12: ` in a frame's first line.
fn indexed(line: &str) -> Option<&str> {
    let (index, rest) = line.split_once(':')?;
    if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let rest = rest.trim();
    (!rest.is_empty()).then_some(rest)
}

/// `0x55d4a1b2c3d4 - name` (the full style) → `name`.
fn without_address(name: &str) -> &str {
    match name.split_once(" - ") {
        Some((address, rest))
            if address.len() > 2
                && address.starts_with("0x")
                && address[2..].bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            rest.trim()
        }
        _ => name,
    }
}

/// `app::load::h0123456789abcdef` → `app::load`: the hash differs between builds.
fn without_hash(name: &str) -> &str {
    match name.rsplit_once("::h") {
        Some((head, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            head
        }
        _ => name,
    }
}

/// `./src/load.rs:12:9` → (`./src/load.rs`, 12); `src/load.rs:12` → (`src/load.rs`, 12).
fn location(place: &str) -> (&str, u32) {
    let mut rest = place.trim();
    // The trailing numbers, last first: `[column, line]` or `[line]`.
    let mut numbers: [Option<u32>; 2] = [None, None];
    for slot in numbers.iter_mut() {
        match rest.rsplit_once(':') {
            Some((head, tail)) if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) => {
                *slot = Some(tail.parse().unwrap_or(0));
                rest = head;
            }
            _ => break,
        }
    }
    let line = match numbers {
        [Some(_column), Some(line)] => line,
        [Some(line), None] => line,
        _ => 0,
    };
    (rest, line)
}

/// `text` cut to [`MAX_PRINTED_NAME`] bytes at a character boundary.
fn bounded(text: &str) -> String {
    let mut end = text.len().min(MAX_PRINTED_NAME);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(name: &str, file: &str, line: u32) -> PrintedFrame {
        PrintedFrame {
            name: name.to_owned(),
            file: file.to_owned(),
            line,
        }
    }

    #[test]
    fn the_short_style_with_inlined_functions() {
        let text = "   0: std::backtrace::Backtrace::capture
             at /rustc/abc/library/std/src/backtrace.rs:296:22
   1: app::load
             at ./src/load.rs:12:9
      app::inlined
             at ./src/load.rs:30:5
   2: <unknown>
   3: app::main
             at src/main.rs:7
note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.";
        assert_eq!(
            parse(text),
            [
                frame(
                    "std::backtrace::Backtrace::capture",
                    "/rustc/abc/library/std/src/backtrace.rs",
                    296
                ),
                frame("app::load", "./src/load.rs", 12),
                frame("app::inlined", "./src/load.rs", 30),
                frame("<unknown>", "", 0),
                frame("app::main", "src/main.rs", 7),
            ]
        );
    }

    #[test]
    fn the_full_style_loses_its_addresses_and_hashes() {
        let text = "stack backtrace:
   0:     0x55d4a1b2c3d4 - app::load::h0123456789abcdef
                               at /src/app/src/load.rs:12:9
   1:     0x55d4a1b2c3e0 - <app::Job as core::ops::Drop>::drop::hfedcba9876543210";
        assert_eq!(
            parse(text),
            [
                frame("app::load", "/src/app/src/load.rs", 12),
                frame("<app::Job as core::ops::Drop>::drop", "", 0),
            ]
        );
    }

    #[test]
    fn color_eyres_form_without_colours_hidden_frames_and_snippets() {
        let text = "\u{1b}[96m          \u{22ee} 6 frames hidden \u{22ee}          \u{1b}[0m
   7: \u{1b}[91mapp::origin\u{1b}[0m\u{1b}[90m::h152e1db0c32ae4eb\u{1b}[0m
      at \u{1b}[35m/src/app/src/main.rs\u{1b}[0m:\u{1b}[35m2\u{1b}[0m
         1 \u{2502} #[inline(never)]
  \u{1b}[37;1m       2\u{1b}[0m \u{1b}[37;1m>\u{1b}[0m \u{1b}[37;1mfn origin() {}\u{1b}[0m
   8: \u{1b}[32mstd::panicking::panic_fmt\u{1b}[0m\u{1b}[90m<unknown>\u{1b}[0m
      at \u{1b}[35m/rustc/x/library/std/src/panicking.rs\u{1b}[0m:\u{1b}[35m80\u{1b}[0m
  \u{1b}[96m          \u{22ee} 15 frames hidden \u{22ee}          \u{1b}[0m

Run with COLORBT_SHOW_HIDDEN=1 environment variable to disable frame filtering.";
        assert_eq!(
            parse(text),
            [
                frame("app::origin", "/src/app/src/main.rs", 2),
                frame(
                    "std::panicking::panic_fmt",
                    "/rustc/x/library/std/src/panicking.rs",
                    80
                ),
            ]
        );
    }

    #[test]
    fn escape_sequences_are_taken_out_and_nothing_else() {
        assert_eq!(without_ansi("plain"), Cow::Borrowed("plain"));
        assert_eq!(without_ansi("\u{1b}[1;31mred\u{1b}[0m text"), "red text");
        assert_eq!(
            without_ansi("\u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{7} é"),
            "link é"
        );
        for text in [
            "\u{1b}",
            "\u{1b}[",
            "\u{1b}[12",
            "\u{1b}]unterminated",
            "a\u{1b}b",
        ] {
            let _ = without_ansi(text);
        }
        assert_eq!(without_ansi("a\u{1b}bc"), "ac");
    }

    #[test]
    fn the_debug_form_of_a_backtrace_field() {
        let text = r#"Backtrace [{ fn: "std::backtrace::Backtrace::capture", file: "/rustc/x/library/std/src/backtrace.rs", line: 296 }, { fn: "app::load::h0123456789abcdef", file: "./src/load.rs", line: 12 }, { fn: <unknown> }, { fn: "app::main", file: "C:\\src\\main.rs" }] }"#;
        assert_eq!(
            parse(text),
            [
                frame(
                    "std::backtrace::Backtrace::capture",
                    "/rustc/x/library/std/src/backtrace.rs",
                    296
                ),
                frame("app::load", "./src/load.rs", 12),
                frame("app::main", "C:\\\\src\\\\main.rs", 0),
            ]
        );
        for text in [
            "Backtrace [",
            "Backtrace []",
            "Backtrace [{ fn: ",
            "Backtrace [{ fn: \"unterminated",
            "Backtrace [{ fn: \"f\", file: \"a.rs\", line: x }",
            "Backtrace [{ fn: \"\\\"\" }, { fn: \"é\", line: 99999999999 }",
        ] {
            let _ = parse(text);
        }
        let many: String = (0..1000).map(|i| format!("{{ fn: \"f{i}\" }}, ")).collect();
        assert_eq!(
            parse(&format!("Backtrace [{many}]")).len(),
            MAX_PRINTED_FRAMES
        );
    }

    #[test]
    fn text_that_is_no_backtrace_gives_no_frames() {
        for text in [
            "",
            "connection refused",
            "  at nothing",
            "x: y",
            "12:",
            ":::",
        ] {
            assert_eq!(parse(text), [], "{text:?}");
        }
        // An unindexed line before any frame is not one.
        assert_eq!(parse("    indented words\n"), []);
    }

    #[test]
    fn hostile_text_is_bounded_and_never_panics() {
        let many: String = (0..10_000)
            .map(|i| format!("{i}: f{i}\n at a.rs:{i}:1\n"))
            .collect();
        assert_eq!(parse(&many).len(), MAX_PRINTED_FRAMES);
        let long = format!("0: {}é\n at {}:1", "x".repeat(5000), "ü".repeat(5000));
        let frames = parse(&long);
        assert!(
            frames[0].name.len() <= MAX_PRINTED_NAME && frames[0].file.len() <= MAX_PRINTED_NAME
        );
        assert_eq!(frames[0].line, 1);
        for text in [
            "0: 0x - f",
            "0: 0xzz - f",
            "0: f::h",
            "0: f\n at :99999999999:1",
            "0: f\n at é:é",
        ] {
            let _ = parse(text);
        }
        assert_eq!(parse("0: f\n at a.rs:99999999999:1")[0].line, 0);
    }
}
