//! Throughput of `factum::parse` against `serde_json` on the same input, in
//! the same run. Run in release mode; prints MB/s and the ratio of each
//! measurement's time to `serde_json::from_str::<Value>` on clean input.
//!
//! Targets: `parse_json` on clean input within 1.2× `serde_json` (the exact
//! fast path); the other rows show what repairs and coercion cost.

mod common;

use std::hint::black_box;
use std::time::Duration;

use factum::parse::{Leniency, parse, parse_json};
use serde_json::{Value, json};

use common::best_of;

/// About 1 MB of realistic extraction output: an array of records.
fn clean_input() -> String {
    let records: Vec<Value> = (0..4000)
        .map(|i: u32| {
            let status = ["open", "in_progress", "closed"][(i % 3) as usize];
            json!({
                "id": i,
                "name": format!("Person number {i}"),
                "email": format!("person{i}@example.com"),
                "age": 20 + i % 60,
                "score": f64::from(i) * 0.25,
                "active": i.is_multiple_of(2),
                "status": status,
                "tags": ["alpha", "beta", "gamma"],
                "address": {"city": "Zurich", "zip": format!("{:04}", 8000 + i % 100), "note": "front door \"B\""}
            })
        })
        .collect();
    serde_json::to_string_pretty(&Value::Array(records)).unwrap_or_default()
}

fn schema() -> Value {
    json!({
        "type": "array",
        "items": {"$ref": "#/$defs/Record"},
        "$defs": {
            "Record": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer", "format": "uint32", "minimum": 0},
                    "name": {"type": "string"},
                    "email": {"type": ["string", "null"]},
                    "age": {"type": "integer", "format": "uint8", "minimum": 0},
                    "score": {"type": "number"},
                    "active": {"type": "boolean"},
                    "status": {"type": "string", "enum": ["open", "in_progress", "closed"]},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "address": {"anyOf": [{"$ref": "#/$defs/Address"}, {"type": "null"}]}
                },
                "required": ["id", "name", "age", "score", "active", "status", "tags"]
            },
            "Address": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "zip": {"type": "string"}, "note": {"type": "string"}},
                "required": ["city", "zip"]
            }
        }
    })
}

fn report(name: &str, bytes: usize, took: Duration, baseline: Duration) {
    let mb = f64::from(u32::try_from(bytes).unwrap_or(u32::MAX)) / 1_000_000.0;
    println!(
        "{name:<44} {:>8.1} MB/s  {:>6.2}x serde_json",
        mb / took.as_secs_f64(),
        took.as_secs_f64() / baseline.as_secs_f64()
    );
}

/// The clean input and its damaged variants.
struct Inputs {
    clean: String,
    truncated: String,
    single_quotes: String,
    prose: String,
    fenced: String,
    trailing_commas: String,
}

impl Inputs {
    fn new() -> Self {
        let clean = clean_input();
        Self {
            truncated: clean[..clean.len() * 2 / 3].to_owned(),
            single_quotes: clean.replace("\\\"", "").replace('"', "'"),
            prose: format!(
                "Sure! Here is the extracted data:\n\n{clean}\n\nLet me know if you need anything else."
            ),
            fenced: format!("Here you go:\n```json\n{clean}\n```\n"),
            trailing_commas: clean.replace("\n  }", ",\n  }"),
            clean,
        }
    }

    /// Every input must parse, or the timings mean nothing.
    fn check(&self, schema: &Value) {
        for (name, text) in [
            ("truncated", &self.truncated),
            ("single quotes", &self.single_quotes),
            ("prose", &self.prose),
            ("commas", &self.trailing_commas),
        ] {
            let parsed = parse_json(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(parsed.value.is_array(), "{name}");
        }
        assert!(parse(&self.clean, schema, Leniency::Standard).is_ok());
    }
}

/// The clean-input rows; returns the `serde_json` baseline.
fn bench_clean(rounds: u32, clean: &str, schema: &Value) -> Duration {
    let baseline = best_of(rounds as usize + 1, || {
        black_box(serde_json::from_str::<Value>(black_box(clean)).ok());
    });
    report(
        "serde_json::from_str::<Value> (clean)",
        clean.len(),
        baseline,
        baseline,
    );
    let t = best_of(rounds as usize + 1, || {
        black_box(parse_json(black_box(clean)).ok());
    });
    report("parse_json (clean)", clean.len(), t, baseline);
    let t = best_of(rounds as usize + 1, || {
        black_box(parse(black_box(clean), schema, Leniency::Standard).ok());
    });
    report("parse (clean, schema, Standard)", clean.len(), t, baseline);
    let t = best_of(rounds as usize + 1, || {
        let value: Value = serde_json::from_str(black_box(clean)).unwrap_or_default();
        black_box(factum::parse::coerce(value, schema, Leniency::Standard).ok());
    });
    report(
        "serde_json + coerce (clean, Standard)",
        clean.len(),
        t,
        baseline,
    );
    baseline
}

/// The rows that need repairs.
fn bench_repairs(rounds: u32, inputs: &Inputs, schema: &Value, baseline: Duration) {
    for (name, text) in [
        ("parse_json (prose-wrapped)", &inputs.prose),
        ("parse_json (fenced)", &inputs.fenced),
        ("parse_json (truncated at 2/3)", &inputs.truncated),
        ("parse_json (single quotes)", &inputs.single_quotes),
        ("parse_json (trailing commas)", &inputs.trailing_commas),
    ] {
        let t = best_of(rounds as usize + 1, || {
            black_box(parse_json(black_box(text)).ok());
        });
        report(name, text.len(), t, baseline);
    }
    let single_quotes = &inputs.single_quotes;
    let t = best_of(rounds as usize + 1, || {
        black_box(parse(black_box(single_quotes), schema, Leniency::Standard).ok());
    });
    report(
        "parse (single quotes, schema, Standard)",
        single_quotes.len(),
        t,
        baseline,
    );
}

fn main() {
    let rounds = std::env::args()
        .nth(1)
        .and_then(|r| r.parse().ok())
        .unwrap_or(15);
    let inputs = Inputs::new();
    let schema = schema();
    inputs.check(&schema);
    println!(
        "input: {} bytes of pretty-printed JSON, best of {rounds} runs\n",
        inputs.clean.len()
    );
    let baseline = bench_clean(rounds, &inputs.clean, &schema);
    println!();
    bench_repairs(rounds, &inputs, &schema, baseline);
}
