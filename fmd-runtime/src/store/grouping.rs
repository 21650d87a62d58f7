//! Grouping hashes: which errors are "the same error".
//!
//! The thesis' rule — same trace and same code of every in-app frame — with two fixes to its
//! known limits. A frame is hashed by *function identity* (`module::name`), the line's
//! *offset inside the function* and the function's *code hash*; so lines inserted elsewhere
//! in a file do not split a group, while any edit to a function on the trace does. And the
//! message can be normalized (numbers, hex ids, UUIDs) so that ids in messages do not create
//! one group per occurrence. Recursion depth is not part of the hash.

use crate::model::event::{ErrorRecord, TraceFrame};
use once_cell::sync::Lazy;
use regex::Regex;
use std::borrow::Cow;
use xxhash_rust::xxh3::Xxh3;

static UUID: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
        .expect("valid regex")
});
static HEX: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"\b(?:0[xX][0-9a-fA-F]+|[0-9a-fA-F]*[0-9][0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*|[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*[0-9][0-9a-fA-F]*)\b")
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
            h.update(info.fn_name().as_bytes());
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

/// The frames of a trace as its snapshot stores them (innermost first): `omitted` frames
/// left out of the middle are shown as one marker frame at the end.
pub(crate) fn snapshot_frames(frames: &[TraceFrame], omitted: u32) -> Cow<'_, [TraceFrame]> {
    let mut frames = Cow::Borrowed(frames);
    if omitted > 0 {
        frames.to_mut().push(TraceFrame::Other {
            name: format!("({omitted} more frames not recorded)").into(),
            file: "".into(),
            line: 0,
        });
    }
    frames
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

#[cfg(test)]
mod group_tests {
    use super::*;
    use crate::model::event::{ErrorKind, ErrorRecord, TraceFrame};
    use crate::model::function::{FnInfo, FnKind, FnSite};

    const SOURCE: &str = "fn load() {\n    step()?;\n}";

    fn info(start: u32, hash: u64) -> &'static FnInfo {
        Box::leak(Box::new(FnInfo::new(FnSite {
            name: "load",
            endpoint: None,
            module: "app::store",
            file: "src/store.rs",
            start_line: start,
            end_line: start + 2,
            source: SOURCE,
            verbatim: true,
            code_hash: hash,
            kind: FnKind::Capture,
            crate_name: "app",
            crate_version: "1.0.0",
            manifest_dir: "",
            build_commit: "",
            method: false,
        })))
    }

    fn error_at(f: &'static FnInfo, line: u32, message: &str) -> ErrorRecord {
        ErrorRecord {
            kind: ErrorKind::Uncaught,
            type_name: "app::Error".into(),
            message: message.to_owned(),
            sources: vec![],
            frames: vec![TraceFrame::App {
                info: f,
                line,
                repeat: 1,
            }],
            omitted_frames: 0,
            time_ms: 0,
            native: None,
        }
    }

    #[test]
    fn lines_inserted_above_a_function_keep_its_group() {
        let before = error_at(info(10, 7), 11, "boom");
        let shifted = error_at(info(25, 7), 26, "boom");
        assert_eq!(group_hash(&before, false), group_hash(&shifted, false));
        // ...while the stored snapshot still shows where it was.
        assert_ne!(
            snapshot_hash(&before.frames),
            snapshot_hash(&shifted.frames)
        );
    }

    #[test]
    fn a_changed_function_body_starts_a_new_group() {
        let before = error_at(info(10, 7), 11, "boom");
        let edited = error_at(info(10, 8), 11, "boom");
        assert_ne!(group_hash(&before, false), group_hash(&edited, false));
    }

    #[test]
    fn a_different_line_inside_the_function_is_a_different_group() {
        let a = error_at(info(10, 7), 11, "boom");
        let b = error_at(info(10, 7), 12, "boom");
        assert_ne!(group_hash(&a, false), group_hash(&b, false));
    }

    #[test]
    fn normalization_merges_messages_that_differ_only_in_ids() {
        let a = error_at(info(10, 7), 11, "user 41 not found");
        let b = error_at(info(10, 7), 11, "user 42 not found");
        assert_ne!(group_hash(&a, false), group_hash(&b, false));
        assert_eq!(group_hash(&a, true), group_hash(&b, true));
    }

    #[test]
    fn recursion_depth_does_not_split_a_group() {
        let mut a = error_at(info(10, 7), 11, "deep");
        let mut b = a.clone();
        if let TraceFrame::App { repeat, .. } = &mut a.frames[0] {
            *repeat = 10;
        }
        if let TraceFrame::App { repeat, .. } = &mut b.frames[0] {
            *repeat = 9_999;
        }
        assert_eq!(group_hash(&a, false), group_hash(&b, false));
    }
}
