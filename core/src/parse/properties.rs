//! A property over generated model output: whatever [`parse`] returns either is what a
//! plain JSON parse of the same text gives, or carries at least one repair. A value
//! that differs from the text as written is never returned silently.
//!
//! The generator is small and seeded, so a failure reproduces: random JSON values,
//! serialized, then broken the ways models break them (characters dropped, added or
//! swapped, the text cut off, wrapped in prose or a fence, quotes swapped).

use serde_json::{Map, Value, json};

use super::{Leniency, Parsed, parse, parse_json};

/// Characters the mutations insert: JSON's own, the ones models misuse, and a few
/// that only look like whitespace or quotes.
const NOISE: &[char] = &[
    '{', '}', '[', ']', '"', '\'', ',', ':', '.', ' ', '\n', '\t', '*', '#', '/', '\\', '`', '-',
    '+', '0', '1', '7', 'e', 'E', 't', 'r', 'u', 'f', 'n', 'l', 's', 'x', '(', ')', '\u{a0}',
    '\u{201c}', '\u{201d}', '\u{2019}', '\u{feff}',
];

fn value(rng: &mut fastrand::Rng, depth: usize) -> Value {
    let leaf = depth >= 3 || rng.u8(..4) == 0;
    match rng.u8(..if leaf { 5 } else { 7 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.bool()),
        2 => json!(rng.i64(-5_000..5_000)),
        3 => json!(f64::from(rng.i32(-1000..1000)) / 8.0),
        4 => Value::String(text(rng)),
        5 => Value::Array((0..rng.usize(..4)).map(|_| value(rng, depth + 1)).collect()),
        _ => {
            let mut map = Map::new();
            for _ in 0..rng.usize(..4) {
                let key = ["a", "b", "name", "First Name", "it's", "k\"q"][rng.usize(..6)];
                map.insert(key.to_owned(), value(rng, depth + 1));
            }
            Value::Object(map)
        }
    }
}

fn text(rng: &mut fastrand::Rng) -> String {
    const WORDS: &[&str] = &[
        "ONE",
        "two",
        "yes",
        "true",
        "1,234",
        "it's",
        "say \"hi\"",
        "a, b",
        "```json",
        "\n",
        "null",
        "",
        " ",
        "In-Progress",
        "-2,000.00",
        "\"\"\"",
    ];
    (0..rng.usize(..3))
        .map(|_| WORDS[rng.usize(..WORDS.len())])
        .collect::<Vec<_>>()
        .join(" ")
}

fn mutate(rng: &mut fastrand::Rng, mut s: String) -> String {
    for _ in 0..rng.usize(..4) {
        let chars: Vec<char> = s.chars().collect();
        let at = rng.usize(..=chars.len());
        let noise = NOISE[rng.usize(..NOISE.len())];
        let mut out: Vec<char> = chars.clone();
        match rng.u8(..8) {
            0 if at < out.len() => {
                out.remove(at);
            }
            1 => out.insert(at, noise),
            2 if at < out.len() => out[at] = noise,
            3 => out.truncate(at),
            4 => return format!("Here you go: {s} Hope it helps"),
            5 => return format!("```json\n{s}\n```"),
            6 => return s.replace('"', "'"),
            _ => {}
        }
        s = out.into_iter().collect();
    }
    s
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

#[test]
fn nothing_differs_from_the_text_without_a_repair() {
    let schemas = schemas();
    let mut rng = fastrand::Rng::with_seed(0x00fa_c7e5);
    let mut failures = Vec::new();
    for _ in 0..4000 {
        let original = value(&mut rng, 0).to_string();
        let text = mutate(&mut rng, original);
        if let Ok(parsed) = parse_json(&text)
            && let Err(e) = silent(&text, &parsed)
        {
            failures.push(format!("parse_json: {e}"));
        }
        for schema in &schemas {
            for leniency in [Leniency::Exact, Leniency::Standard, Leniency::Lenient] {
                if let Ok(parsed) = parse(&text, schema, leniency)
                    && let Err(e) = silent(&text, &parsed)
                {
                    failures.push(format!("{leniency:?} {schema}: {e}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures[..failures.len().min(10)].join("\n")
    );
}
