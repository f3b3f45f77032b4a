//! Arbitrary text through the streaming parser, cut at arbitrary points: nothing may panic,
//! the pieces must leave the parser exactly where the whole text does (same value so far,
//! closed or frozen alike), and text that is one strict JSON object or array must close,
//! unfrozen, as `serde_json`'s reading of it.
#![no_main]

use factum::stream::StreamParser;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    // The first bytes choose the cuts; the rest is the text.
    let (cuts, text) = data.split_at(data.len().min(4));
    let text = String::from_utf8_lossy(text);
    let whole = fed(&text, &[]);
    let pieces = fed(&text, cuts);
    assert_eq!(whole.0, pieces.0, "a cut changed the value");
    assert_eq!(whole.1, pieces.1, "a cut changed whether it closed or froze");
    // Text that is one strict JSON object or array is read as that value. (Anything
    // else before a bracket, a bare string included, is prose the preview skips.)
    if let Ok(strict) = serde_json::from_str::<Value>(&text)
        && (strict.is_object() || strict.is_array())
    {
        assert_eq!(whole.1, (true, false), "a strict container closes, unfrozen");
        assert_eq!(whole.0.as_ref(), Some(&strict), "a strict container differs from serde_json's");
    }
});

/// Feeds `text` in pieces ending at the given byte offsets (moved onto char boundaries),
/// then finishes: the complete value, and whether it closed and froze.
fn fed(text: &str, cuts: &[u8]) -> (Option<Value>, (bool, bool)) {
    let mut parser = StreamParser::new();
    let mut from = 0;
    for &cut in cuts {
        let mut at = (from + usize::from(cut)).min(text.len());
        while !text.is_char_boundary(at) {
            at += 1;
        }
        parser.feed(&text[from..at]);
        from = at;
    }
    parser.feed(&text[from..]);
    parser.finish();
    let value = parser.snapshot().map(|node| node.to_value_so_far());
    (value, (parser.is_closed(), parser.is_frozen()))
}
