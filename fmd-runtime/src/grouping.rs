//! Grouping hashes: which errors are "the same error".
//!
//! The thesis' rule — same trace and same code of every in-app frame — with two fixes to its
//! known limits. A frame is hashed by *function identity* (`module::name`), the line's
//! *offset inside the function* and the function's *code hash*; so lines inserted elsewhere
//! in a file do not split a group, while any edit to a function on the trace does. And the
//! message can be normalized (numbers, hex ids, UUIDs) so that ids in messages do not create
//! one group per occurrence. Recursion depth is not part of the hash.

use crate::event::{ErrorRecord, TraceFrame};
use once_cell::sync::Lazy;
use regex::Regex;
use std::borrow::Cow;
use xxhash_rust::xxh3::Xxh3;

static UUID: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
        .expect("valid regex")
});
static HEX: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)\b(?:0x[0-9a-f]+|[0-9a-f]*[0-9][0-9a-f]*[a-f][0-9a-f]*|[0-9a-f]*[a-f][0-9a-f]*[0-9][0-9a-f]*)\b")
        .expect("valid regex")
});
static NUMBER: Lazy<Regex> = Lazy::new(|| Regex::new(r"\d+(?:\.\d+)?").expect("valid regex"));

/// Replaces UUIDs, hexadecimal ids (at least 8 characters) and numbers with placeholders:
/// `user 42 not found (req 9f8e7d6c5b)` → `user <n> not found (req <hex>)`.
pub fn normalize_message(message: &str) -> Cow<'_, str> {
    if !message.bytes().any(|b| b.is_ascii_digit()) {
        return Cow::Borrowed(message);
    }
    let s = UUID.replace_all(message, "<uuid>");
    let s = HEX.replace_all(&s, |c: &regex::Captures<'_>| {
        if c[0].len() >= 8 {
            "<hex>".to_owned()
        } else {
            c[0].to_owned()
        }
    });
    Cow::Owned(NUMBER.replace_all(&s, "<n>").into_owned())
}

fn hash_frame(h: &mut Xxh3, frame: &TraceFrame, with_position: bool) {
    match frame {
        TraceFrame::App { info, line, repeat } => {
            h.update(b"A");
            h.update(info.module.as_bytes());
            h.update(b"::");
            h.update(info.name.as_bytes());
            let offset = if *line == 0 {
                u32::MAX
            } else {
                line.saturating_sub(info.start_line)
            };
            h.update(&offset.to_le_bytes());
            h.update(&info.code_hash.to_le_bytes());
            if with_position {
                h.update(info.file.as_bytes());
                h.update(&info.start_line.to_le_bytes());
                h.update(&repeat.to_le_bytes());
            }
        }
        TraceFrame::Other { name, file, line } => {
            h.update(b"O");
            h.update(name.as_bytes());
            if with_position {
                h.update(file.as_bytes());
                h.update(&line.to_le_bytes());
            }
        }
    }
}

/// The group of an error: type, (normalized) message and the in-app trace.
pub fn group_hash(record: &ErrorRecord, normalize: bool) -> i64 {
    let mut h = Xxh3::new();
    h.update(record.type_name.as_bytes());
    h.update(&[0]);
    let message = if normalize {
        normalize_message(&record.message)
    } else {
        Cow::Borrowed(record.message.as_str())
    };
    h.update(message.as_bytes());
    h.update(&[0]);
    for frame in &record.frames {
        hash_frame(&mut h, frame, false);
    }
    h.digest() as i64
}

/// The identity of a stored trace snapshot: every frame exactly as it will be stored.
pub fn snapshot_hash(frames: &[TraceFrame]) -> i64 {
    let mut h = Xxh3::new();
    for frame in frames {
        hash_frame(&mut h, frame, true);
    }
    h.digest() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization_replaces_ids_but_keeps_words() {
        assert_eq!(
            normalize_message("user 42 not found (req 9f8e7d6c5b)"),
            "user <n> not found (req <hex>)"
        );
        assert_eq!(
            normalize_message("order 123e4567-e89b-12d3-a456-426614174000 failed"),
            "order <uuid> failed"
        );
        assert_eq!(normalize_message("at 0x7ffe1234"), "at <hex>");
        assert_eq!(
            normalize_message("no digits: deadbeef"),
            "no digits: deadbeef"
        );
        assert_eq!(normalize_message("h2 and utf8"), "h<n> and utf<n>");
    }
}
