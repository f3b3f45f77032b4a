//! The parse seam: from the model's text (after classification) to a JSON value.
//!
//! [`parse_reply`] is the one function the extraction loop calls. Today it tries strict
//! JSON, then fenced code blocks, then the first balanced JSON value in prose; the
//! repairing parser will replace its body and fill the repairs list.

use serde_json::Value;

use super::AttemptFailure;
use crate::Schema;

/// How far factum goes to read the model's reply as the type.
///
/// The variants mirror the repairing parser's levels; until it lands, `Standard` and
/// `Lenient` both mean: strict JSON, else the first fenced block that parses, else the
/// first balanced JSON value in prose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Leniency {
    /// The whole reply (after `<think>` blocks are stripped) must be one JSON value.
    Strict,
    /// Syntax repairs and the coercions that cannot change meaning (the default).
    #[default]
    Standard,
    /// Also the riskier coercions.
    Lenient,
}

/// How many candidate values the prose scan tries before giving up: bounds the work on
/// replies full of unbalanced braces.
const MAX_CANDIDATES: usize = 64;

/// Parses the model's reply into a JSON value, returning the value and the repairs made.
///
/// `schema` is unused until the repairing parser lands (it aligns repairs to the schema).
pub(crate) fn parse_reply(
    text: &str,
    schema: &Schema,
    leniency: Leniency,
) -> Result<(Value, Vec<String>), AttemptFailure> {
    let _ = schema;
    let trimmed = text.trim();
    let strict_error = match serde_json::from_str::<Value>(trimmed) {
        Ok(value) => return Ok((value, Vec::new())),
        Err(e) => e,
    };
    if leniency == Leniency::Strict {
        return Err(AttemptFailure::NotJson(strict_error.to_string()));
    }
    for block in fenced_blocks(trimmed) {
        if let Ok(value) = serde_json::from_str::<Value>(block.trim()) {
            return Ok((value, Vec::new()));
        }
    }
    if let Some(value) = first_balanced_value(trimmed) {
        return Ok((value, Vec::new()));
    }
    Err(AttemptFailure::NotJson(if trimmed.contains(['{', '[']) {
        "no complete JSON value was found".to_owned()
    } else {
        "the reply holds no JSON object or array".to_owned()
    }))
}

/// The contents of each ```` ``` ```` fenced block, the language tag line skipped.
fn fenced_blocks(text: &str) -> Vec<&str> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("```") {
        let after = &rest[open + 3..];
        // The info string (`json`, `JSON`, …) runs to the end of the line.
        let Some(newline) = after.find('\n') else {
            break;
        };
        let body = &after[newline + 1..];
        let Some(close) = body.find("```") else {
            break;
        };
        blocks.push(&body[..close]);
        rest = &body[close + 3..];
    }
    blocks
}

/// The first `{…}` or `[…]` in `text` that is balanced (outside strings) and parses.
fn first_balanced_value(text: &str) -> Option<Value> {
    let bytes = text.as_bytes();
    let mut tried = 0;
    let mut start = 0;
    while start < bytes.len() && tried < MAX_CANDIDATES {
        let offset = bytes[start..]
            .iter()
            .position(|&b| b == b'{' || b == b'[')?;
        let begin = start + offset;
        tried += 1;
        if let Some(end) = balanced_end(&bytes[begin..])
            && let Ok(value) = serde_json::from_str::<Value>(&text[begin..begin + end])
        {
            return Some(value);
        }
        start = begin + 1;
    }
    None
}

/// The length of the balanced bracket run that starts at `bytes[0]`, if it closes.
fn balanced_end(bytes: &[u8]) -> Option<usize> {
    let mut stack = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' => stack.push(b'}'),
            b'[' => stack.push(b']'),
            b'}' | b']' => {
                if stack.pop() != Some(b) {
                    return None;
                }
                if stack.is_empty() {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema() -> Schema {
        Schema::new("T", json!({"type": "object"}), None)
    }

    fn parse(text: &str) -> Result<Value, AttemptFailure> {
        parse_reply(text, &schema(), Leniency::Standard).map(|(v, _)| v)
    }

    #[test]
    fn strict_json() {
        assert_eq!(parse(" {\"a\": 1} ").unwrap(), json!({"a": 1}));
        assert_eq!(parse("\"billing\"").unwrap(), json!("billing"));
    }

    #[test]
    fn fenced_block() {
        let text = "Here you go:\n```json\n{\"a\": [1, 2]}\n```\nAnything else?";
        assert_eq!(parse(text).unwrap(), json!({"a": [1, 2]}));
    }

    #[test]
    fn balanced_value_in_prose() {
        let text =
            "Sure! {not json} The answer is {\"a\": \"x}y\", \"b\": {\"c\": [1]}} hope it helps";
        assert_eq!(parse(text).unwrap(), json!({"a": "x}y", "b": {"c": [1]}}));
    }

    #[test]
    fn prose_and_cut_json_fail() {
        assert!(matches!(
            parse("I cannot find a person."),
            Err(AttemptFailure::NotJson(_))
        ));
        assert!(matches!(
            parse("{\"a\": [1, 2"),
            Err(AttemptFailure::NotJson(_))
        ));
        let strict = parse_reply("x {\"a\": 1}", &schema(), Leniency::Strict);
        assert!(matches!(strict, Err(AttemptFailure::NotJson(_))));
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let text = "[".repeat(100_000);
        assert!(parse(&text).is_err());
        let closed = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse(&closed).is_err());
    }
}
