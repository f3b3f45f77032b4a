//! A property over generated model output: whatever [`parse`] returns either is what a
//! plain JSON parse of the same text gives, or carries at least one repair. A value
//! that differs from the text as written is never returned silently.
//!
//! The values come from proptest's recursive strategy (`crate::arbitrary`), serialized,
//! then broken the ways models break them (characters dropped, added or swapped, the text
//! cut off, wrapped in prose or a fence, quotes swapped); a failure shrinks to the
//! smallest value and breaks that show it.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::{Leniency, Parsed, coerce, parse, parse_json};
use crate::arbitrary::written;

/// Characters the mutations insert: JSON's own, the ones models misuse, and a few
/// that only look like whitespace or quotes.
const NOISE: &[char] = &[
    '{', '}', '[', ']', '"', '\'', ',', ':', '.', ' ', '\n', '\t', '*', '#', '/', '\\', '`', '-',
    '+', '0', '1', '7', 'e', 'E', 't', 'r', 'u', 'f', 'n', 'l', 's', 'x', '(', ')', '\u{a0}',
    '\u{201c}', '\u{201d}', '\u{2019}', '\u{feff}',
];

/// One way a model breaks its output.
#[derive(Debug, Clone)]
enum Break {
    Drop(usize),
    Insert(usize, char),
    Replace(usize, char),
    Cut(usize),
    InProse,
    InFence,
    SingleQuotes,
}

fn breaks() -> impl Strategy<Value = Vec<Break>> {
    let noise = prop::sample::select(NOISE);
    let at = 0usize..400;
    let one = prop_oneof![
        at.clone().prop_map(Break::Drop),
        (at.clone(), noise.clone()).prop_map(|(i, c)| Break::Insert(i, c)),
        (at.clone(), noise).prop_map(|(i, c)| Break::Replace(i, c)),
        at.prop_map(Break::Cut),
        Just(Break::InProse),
        Just(Break::InFence),
        Just(Break::SingleQuotes),
    ];
    prop::collection::vec(one, 0..4)
}

fn broken(text: &str, breaks: &[Break]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for b in breaks {
        let len = chars.len();
        match *b {
            Break::Drop(i) if i < len => {
                chars.remove(i);
            }
            Break::Insert(i, c) => chars.insert(i.min(len), c),
            Break::Replace(i, c) if i < len => chars[i] = c,
            Break::Cut(i) => chars.truncate(i),
            Break::InProse => {
                let inner: String = chars.iter().collect();
                chars = format!("Here you go: {inner} Hope it helps")
                    .chars()
                    .collect();
            }
            Break::InFence => {
                let inner: String = chars.iter().collect();
                chars = format!("```json\n{inner}\n```").chars().collect();
            }
            Break::SingleQuotes => chars
                .iter_mut()
                .filter(|c| **c == '"')
                .for_each(|c| *c = '\''),
            _ => {}
        }
    }
    chars.into_iter().collect()
}

fn schemas() -> Vec<Value> {
    vec![
        json!(true),
        json!({"type": "object", "properties": {"a": {"type": "integer"}, "name": {"type": ["string", "null"]}}, "required": ["name"], "additionalProperties": false}),
        json!({"type": "array", "items": {"anyOf": [{"type": "number"}, {"type": "string"}]}}),
        json!({"type": "string"}),
        json!({"type": "boolean"}),
        json!({"type": "integer"}),
        json!({"enum": ["ONE", "TWO", "in_progress"]}),
    ]
}

/// `Err` with a description when `parsed` is a value other than what the text says,
/// returned without a repair.
fn silent(text: &str, parsed: &Parsed) -> Result<(), String> {
    if !parsed.repairs.is_empty() {
        return Ok(());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(plain) if plain == parsed.value => Ok(()),
        plain => Err(format!(
            "{text:?} gave {} with no repair; plain JSON gives {plain:?}",
            parsed.value
        )),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Whatever `parse_json` and `parse` (every schema, every leniency) return from broken
    /// model output is what plain JSON of the text gives, or carries a repair.
    #[test]
    fn nothing_differs_from_the_text_without_a_repair(
        (_, text) in written(),
        breaks in breaks(),
    ) {
        let text = broken(&text, &breaks);
        if let Ok(parsed) = parse_json(&text) {
            prop_assert!(silent(&text, &parsed).is_ok(), "parse_json: {:?}", silent(&text, &parsed));
        }
        for schema in &schemas() {
            for leniency in [Leniency::Exact, Leniency::Standard, Leniency::Lenient] {
                if let Ok(parsed) = parse(&text, schema, leniency) {
                    let silent = silent(&text, &parsed);
                    prop_assert!(silent.is_ok(), "{:?} {}: {:?}", leniency, schema, silent);
                }
            }
        }
    }

    /// Any value written as JSON, compact or pretty, comes back as itself with no repair,
    /// and coercing it against a schema that allows anything changes nothing.
    #[test]
    fn written_json_is_read_back_unchanged((value, text) in written()) {
        let parsed = parse_json(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&parsed.value, &value);
        prop_assert!(parsed.repairs.is_empty(), "{:?}", parsed.repairs);
        let coerced = coerce(value.clone(), &json!(true), Leniency::Standard)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(coerced.value, value);
        prop_assert!(coerced.repairs.is_empty());
    }
}
