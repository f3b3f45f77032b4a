//! Finding where JSON sits in model text: `<think>` blocks, Markdown fences and
//! balanced values in prose. Each function is one linear pass.

use std::borrow::Cow;

use super::repair::{Repair, RepairKind};
use super::terms::MAX_NESTING;
use crate::json;

/// Most fences, prose spans or top-level values taken from one text, so the
/// number of candidates (and the coercion work) stays bounded.
pub(crate) const MAX_CANDIDATES: usize = 16;

const THINK_OPEN: &str = "<think>";
const THINK_CLOSE: &str = "</think>";

/// Removes reasoning blocks.
///
/// `<think>…</think>` is dropped; an unterminated `<think>` drops the rest (the
/// model ran out of tokens while reasoning, so any JSON there is a draft); a
/// `</think>` with no opening tag drops everything before it (chat templates
/// often put the opening tag in the prompt).
pub(crate) fn strip_think(text: &str) -> (Cow<'_, str>, Vec<Repair>) {
    let first_close = text.find(THINK_CLOSE);
    if first_close.is_none() && !text.contains(THINK_OPEN) {
        return (Cow::Borrowed(text), Vec::new());
    }
    strip_opened(text, first_close)
}

fn strip_opened(text: &str, first_close: Option<usize>) -> (Cow<'_, str>, Vec<Repair>) {
    let mut rest = text;
    if let Some(close) = first_close {
        let before = &text[..close];
        if !before.contains(THINK_OPEN) {
            rest = &text[close + THINK_CLOSE.len()..];
        }
    }
    let mut out = String::with_capacity(rest.len());
    loop {
        let Some(open) = rest.find(THINK_OPEN) else {
            out.push_str(rest);
            break;
        };
        out.push_str(&rest[..open]);
        let after = &rest[open + THINK_OPEN.len()..];
        match after.find(THINK_CLOSE) {
            Some(close) => rest = &after[close + THINK_CLOSE.len()..],
            None => break,
        }
    }
    let repair = Repair::new(RepairKind::ThinkBlockRemoved, "", "removed a <think> block");
    (Cow::Owned(out), vec![repair])
}

/// The contents of Markdown code fences, in order, at most `max`.
///
/// A fence opens with three or more backticks at the start of the text or
/// after whitespace or a colon (so backticks inside a JSON string such as
/// `"```json"` are not fences), optionally followed by an info word such as
/// `json`; it closes at the next run of three or more backticks, or at the end
/// of the text when the model stopped early.
pub(crate) fn fences(text: &str, max: usize) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() && out.len() < max {
        let Some(off) = text[i..].find("```") else {
            break;
        };
        let start = i + off;
        let run_end = backtick_run_end(bytes, start);
        let opens = start == 0 || matches!(bytes[start - 1], b' ' | b'\t' | b'\n' | b'\r' | b':');
        if !opens {
            i = run_end;
            continue;
        }
        // Skip an info word (`json`, `JSON`, `json5`, `jsonc`, …).
        let mut content_start = run_end;
        while content_start < bytes.len()
            && (bytes[content_start].is_ascii_alphanumeric()
                || matches!(bytes[content_start], b'_' | b'-' | b'+'))
        {
            content_start += 1;
        }
        let (content_end, next) = match text[content_start..].find("```") {
            Some(off) => {
                let close = content_start + off;
                (close, backtick_run_end(bytes, close))
            }
            None => (bytes.len(), bytes.len()),
        };
        if let Some(content) = text.get(content_start..content_end)
            && !content.trim().is_empty()
        {
            out.push(content);
        }
        i = next;
    }
    out
}

fn backtick_run_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i] == b'`' {
        i += 1;
    }
    i
}

/// Byte ranges of the outermost balanced `{…}` and `[…]` values in `text`, at
/// most `max`.
///
/// Quotes only count inside brackets, so apostrophes and quotation marks in
/// the surrounding prose do not hide a value, while brackets inside JSON
/// strings do not end one. A mismatched closer abandons the value being
/// scanned; nesting deeper than [`MAX_NESTING`] is not a candidate.
pub(crate) fn balanced_spans(text: &str, max: usize) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut stack: Vec<u8> = Vec::new();
    let mut start = 0;
    let mut string = json::InString::default();
    for (i, &b) in bytes.iter().enumerate() {
        if string.consumes(b) {
            continue;
        }
        match b {
            b'{' | b'[' => {
                if stack.is_empty() {
                    start = i;
                }
                if stack.len() >= MAX_NESTING {
                    stack.clear();
                    continue;
                }
                stack.push(if b == b'{' { b'}' } else { b']' });
            }
            b'}' | b']' if !stack.is_empty() => {
                if stack.pop() != Some(b) {
                    stack.clear();
                } else if stack.is_empty() {
                    out.push((start, i + 1));
                    if out.len() >= max {
                        break;
                    }
                }
            }
            b'"' if !stack.is_empty() => string.open(),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn think_blocks_are_removed_closed_open_or_several() {
        assert_eq!(strip_think("a<think>b</think>c").0, "ac");
        assert_eq!(strip_think("a<think>b").0, "a");
        assert_eq!(strip_think("b</think>c").0, "c");
        assert_eq!(strip_think("<think>x</think>a<think>y</think>b").0, "ab");
        assert!(strip_think("plain").1.is_empty());
    }

    #[test]
    fn fences_are_found_whole_open_or_longer_but_not_inside_strings() {
        assert_eq!(fences("```json\n{}\n```", 16), vec!["\n{}\n"]);
        assert_eq!(fences("a ```{1}``` b ```[2]```", 16), vec!["{1}", "[2]"]);
        assert_eq!(fences("x:```json\n{\"a\":", 16), vec!["\n{\"a\":"]);
        assert!(fences("{\"k\": \"```json\"}", 16).is_empty());
        assert!(fences("{}```", 16).is_empty());
        assert_eq!(fences("````{ \"k\": 1 }```", 16), vec!["{ \"k\": 1 }"]);
    }

    #[test]
    fn spans_respect_strings_and_prose_quotes() {
        let t = r#"It's "here": {"a": "}"} and [1, [2]] end"#;
        let spans = balanced_spans(t, 16);
        let got: Vec<&str> = spans.iter().map(|&(s, e)| &t[s..e]).collect();
        assert_eq!(got, vec![r#"{"a": "}"}"#, "[1, [2]]"]);
        assert!(balanced_spans("{ never closed", 16).is_empty());
        assert_eq!(balanced_spans("{]{}", 16), vec![(2, 4)]);
    }
}
