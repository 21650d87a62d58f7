//! Error messages: capping (any length, any text) and normalization for grouping; the
//! backtraces errors print, read into frames (bounded, never a panic).
#![no_main]

use fmd_runtime::model::printed::{self, MAX_PRINTED_FRAMES, MAX_PRINTED_NAME};
use fmd_runtime::request::{MAX_MESSAGE, TRUNCATED, cap_message};
use fmd_runtime::store::grouping::normalize_message;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let capped = cap_message(&text);
    assert!(capped.len() <= MAX_MESSAGE + TRUNCATED.len());
    assert!(text.starts_with(capped.trim_end_matches(TRUNCATED)));
    let normalized = normalize_message(&text);
    // Normalizing twice changes nothing more: placeholders hold no digits.
    assert_eq!(normalize_message(&normalized), normalized);
    let frames = printed::parse(&text);
    assert!(frames.len() <= MAX_PRINTED_FRAMES);
    for f in &frames {
        assert!(f.name.len() <= MAX_PRINTED_NAME && f.file.len() <= MAX_PRINTED_NAME);
        assert!(!f.name.is_empty());
    }
});
