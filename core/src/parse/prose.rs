//! Values named in prose, for a reply that holds no JSON the schema takes: a choice
//! (`The answer is "In-Progress".`, `**ONE** is the answer`), a boolean or number
//! (`The answer is true`, `Answer: **True**`, `12,111`), or, for a root that takes any
//! string, the whole reply.
//!
//! A value is taken only when the prose names exactly one: two different choices, or a
//! `true` and a `false`, are a mismatch the re-ask can fix, never a guess.

use serde_json::Value;

use super::coerce;
use super::locate::{self, MAX_CANDIDATES};
use super::repair::{Repair, RepairKind};
use super::terms::{Leniency, Parsed};
use crate::fold::key as normalize;

/// Most words of prose looked at, so that a long reply stays cheap.
const MAX_WORDS: usize = 1024;
/// Longest run of words tried as one value (`NUMBER THREE`).
const MAX_RUN: usize = 4;

/// Whether the root takes any string: a string that no choice list contains fits it.
fn takes_any_string(schema: &Value) -> bool {
    coerce(Value::String("\u{1}".into()), schema, Leniency::Exact).is_ok()
}

/// A reply with no JSON at all may still name one of a fixed set of choices, or a
/// boolean or number: a small model asked to classify often answers `The answer is
/// "In-Progress".` For roots that do not take any string (a free-string root would
/// "match" any prose), each quoted phrase and then the whole reply are tried as the
/// value, then every run of up to [`MAX_RUN`] words that names one.
pub(super) fn named_in_prose(text: &str, schema: &Value, leniency: Leniency) -> Option<Parsed> {
    if takes_any_string(schema) {
        return None;
    }
    let (text, _) = locate::strip_think(text);
    let mut phrases = quoted_phrases(&text);
    let whole = text.trim().trim_end_matches(['.', '!']);
    if whole.len() <= 200 {
        phrases.push(whole);
    }
    let quoted = phrases.into_iter().find_map(|phrase| {
        let parsed = coerce(Value::String(phrase.trim().to_owned()), schema, leniency).ok()?;
        Some(from_prose(parsed, &format!("took {phrase:?} from prose")))
    });
    quoted.or_else(|| named_by_words(&text, schema, leniency))
}

/// The text between quotes (`"…"`, `“…”`, `` `…` ``), at most [`MAX_CANDIDATES`].
fn quoted_phrases(text: &str) -> Vec<&str> {
    let mut phrases: Vec<&str> = Vec::new();
    let mut rest = text;
    while phrases.len() < MAX_CANDIDATES {
        let Some(open) = rest.find(['"', '\u{201c}', '`']) else {
            break;
        };
        let after = &rest[open..];
        let quote = after.chars().next().unwrap_or('"');
        let body = &after[quote.len_utf8()..];
        let close_char = if quote == '\u{201c}' {
            '\u{201d}'
        } else {
            quote
        };
        let Some(close) = body.find(close_char) else {
            break;
        };
        phrases.push(&body[..close]);
        rest = &body[close + close_char.len_utf8()..];
    }
    phrases
}

/// The one value that runs of words in `text` name. Several different values are no
/// answer, unless exactly one of them is spelled exactly as written (`TWO" is one of
/// the answers` names `TWO`; `one` there is a word, not the choice `ONE`).
fn named_by_words(text: &str, schema: &Value, leniency: Leniency) -> Option<Parsed> {
    let words = words(text);
    let mut named: Vec<(Parsed, bool, String)> = Vec::new();
    for start in 0..words.len() {
        for end in start + 1..=(start + MAX_RUN).min(words.len()) {
            let run = words[start..end].join(" ");
            let Ok(parsed) = coerce(Value::String(run.clone()), schema, leniency) else {
                continue;
            };
            let Some(exact) = names(&run, &parsed.value) else {
                continue;
            };
            if let Some(seen) = named.iter_mut().find(|(p, ..)| p.value == parsed.value) {
                seen.1 |= exact;
            } else {
                named.push((parsed, exact, run));
            }
        }
    }
    if named.len() > 1 {
        named.retain(|(_, exact, _)| *exact);
    }
    let [(parsed, _, run)] = <[_; 1]>::try_from(named).ok()?;
    Some(from_prose(
        parsed,
        &format!("took {run:?}, the one value named in prose"),
    ))
}

/// Whether `run` names `value` rather than merely coercing to it (`"yes"` coerces to
/// `true` but does not name it), and whether it is spelled exactly so. A one-element
/// array (a single value where a list is expected) is judged by its element.
fn names(run: &str, value: &Value) -> Option<bool> {
    match value {
        Value::String(s) => (normalize(s) == normalize(run)).then_some(s == run),
        Value::Bool(b) => run
            .eq_ignore_ascii_case(if *b { "true" } else { "false" })
            .then_some(true),
        Value::Number(_) => Some(true),
        Value::Array(items) => match items.as_slice() {
            [only] => names(run, only),
            _ => None,
        },
        _ => None,
    }
}

/// The words of `text`: runs of letters, digits and the marks numbers and identifiers
/// use (`-2,000.50`, `k-2-3.1_1`), without a trailing `.` or `,`. Markdown emphasis,
/// quotes, colons and brackets separate words.
fn words(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_alphanumeric() || matches!(c, '.' | ',' | '-' | '+' | '_')))
        .map(|w| w.trim_end_matches(['.', ',']).trim_start_matches(','))
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .take(MAX_WORDS)
        .collect()
}

/// For a root that takes any string, a reply with no JSON in it (or only a bare number
/// or boolean) is that string, as written.
pub(super) fn reply_as_string(text: &str, schema: &Value) -> Option<Parsed> {
    if !takes_any_string(schema) {
        return None;
    }
    let (text, mut repairs) = locate::strip_think(text);
    let reply = text.trim();
    if reply.is_empty() {
        return None;
    }
    let parsed = coerce(Value::String(reply.to_owned()), schema, Leniency::Exact).ok()?;
    repairs.push(Repair::new(
        RepairKind::ReplyAsString,
        "",
        "took the whole reply as the string",
    ));
    repairs.extend(parsed.repairs);
    Some(Parsed {
        value: parsed.value,
        repairs,
    })
}

fn from_prose(mut parsed: Parsed, detail: &str) -> Parsed {
    parsed
        .repairs
        .insert(0, Repair::new(RepairKind::ExtractedFromProse, "", detail));
    parsed
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::parse::{Leniency, ParseError, RepairKind, parse};

    fn read(text: &str, schema: &serde_json::Value) -> Option<serde_json::Value> {
        parse(text, schema, Leniency::Standard)
            .ok()
            .map(|p| p.value)
    }

    #[test]
    fn booleans_and_numbers_stated_in_prose() {
        let flags = json!({"type": "array", "items": {"type": "boolean"}});
        assert_eq!(read("The answer is True", &flags), Some(json!([true])));
        let flag = json!({"type": "boolean"});
        let p = parse("Dependents.\n\nAnswer: **True**", &flag, Leniency::Standard).unwrap();
        assert_eq!(p.value, json!(true));
        assert!(p.has_repair(RepairKind::ExtractedFromProse));
        assert_eq!(
            read("False.\\n\\nThe sum of 2 + 2 is 4, not 5.", &flag),
            Some(json!(false))
        );
        assert_eq!(read("true or false, who knows", &flag), None);
        assert_eq!(
            read("yes", &flag),
            Some(json!(true)),
            "the whole reply as a word"
        );
        assert_eq!(
            read("yes, I think so", &flag),
            None,
            "a word is not named in prose"
        );
        let int = json!({"type": "integer"});
        assert_eq!(read("12,111", &int), Some(json!(12111)));
        assert_eq!(read("I found 3 items in 2 boxes", &int), None);
        assert_eq!(read("It costs 30 dollars.", &int), Some(json!(30)));
        assert!(parse("The answer is true", &flag, Leniency::Exact).is_err());
    }

    #[test]
    fn choices_named_in_prose() {
        let e = json!({"type": "string", "enum": ["ONE", "TWO", "NUMBER THREE"]});
        assert_eq!(read("**one** is the answer", &e), Some(json!("ONE")));
        assert_eq!(
            read("TWO\" is one of the correct answers.", &e),
            Some(json!("TWO"))
        );
        assert_eq!(read("\"ONE: the first one\"", &e), Some(json!("ONE")));
        assert_eq!(read("It is number three.", &e), Some(json!("NUMBER THREE")));
        assert_eq!(read("not ONE but TWO", &e), None);
        let aliases = json!({"enum": ["k1", "k-2-3.1_1"]});
        assert_eq!(
            read("I would think k-2-3.1_1 is the best", &aliases),
            Some(json!("k-2-3.1_1"))
        );
        assert_eq!(
            read("k-2-3.1_1. The second", &aliases),
            Some(json!("k-2-3.1_1"))
        );
    }

    #[test]
    fn a_string_root_takes_the_whole_reply() {
        let s = json!({"type": "string"});
        let p = parse("  hello there ", &s, Leniency::Standard).unwrap();
        assert_eq!(p.value, json!("hello there"));
        assert!(p.has_repair(RepairKind::ReplyAsString));
        assert_eq!(read("1", &s), Some(json!("1")));
        assert_eq!(
            read("1.50", &s),
            Some(json!("1.50")),
            "as written, not re-rendered"
        );
        assert_eq!(parse("hello", &s, Leniency::Exact), Err(ParseError::NoJson));
    }
}
