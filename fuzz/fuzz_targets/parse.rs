//! Arbitrary bytes through `parse_json` and `parse`: nothing may panic, strict JSON
//! must come back unchanged with no repairs, and a value that differs from strict JSON
//! of the text (or comes from text that is not strict JSON) carries a repair.
#![no_main]

use std::sync::OnceLock;

use factum::parse::{Leniency, parse, parse_json};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        json!({
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "age": {"type": "integer", "minimum": 0},
                "tags": {"type": "array", "items": {"type": "string"}},
                "status": {"$ref": "#/$defs/Status"},
                "next": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]}
            },
            "required": ["name", "age"],
            "$defs": {
                "Status": {"type": "string", "enum": ["open", "in_progress", "closed"]},
                "Node": {"type": "object", "properties": {"v": {"type": "number"}, "next": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]}}}
            }
        })
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parsed = parse_json(&text);
    // Strict JSON as serde_json reads it: JSON's own whitespace around it, no other.
    let strict = serde_json::from_str::<Value>(&text).ok();
    if let Some(strict) = &strict {
        let parsed = parsed.as_ref().expect("strict json must parse");
        assert_eq!(&parsed.value, strict);
        assert!(parsed.repairs.is_empty());
    }
    let leniency = match data.first().map(|b| b % 3) {
        Some(0) => Leniency::Exact,
        Some(1) => Leniency::Standard,
        _ => Leniency::Lenient,
    };
    for found in [parsed, parse(&text, schema(), leniency)] {
        if let Ok(found) = found
            && found.repairs.is_empty()
        {
            assert_eq!(Some(&found.value), strict.as_ref(), "changed without a repair");
        }
    }
});
