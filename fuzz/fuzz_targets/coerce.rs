//! Bytes that are JSON, coerced against a few fixed schemas: nothing may
//! panic, and under `Exact` a value that passes comes back unchanged.
#![no_main]

use std::sync::OnceLock;

use factum::parse::{Leniency, coerce};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fn schemas() -> &'static [Value] {
    static SCHEMAS: OnceLock<Vec<Value>> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        vec![
            json!({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": ["string", "null"]}, "c": {"type": "boolean"}}, "required": ["a", "b"], "additionalProperties": false}),
            json!({"type": "array", "items": {"type": "string", "enum": ["low", "medium", "high"]}}),
            json!({"oneOf": [
                {"type": "string", "enum": ["Empty"]},
                {"type": "object", "properties": {"Circle": {"type": "object", "properties": {"r": {"type": "number"}}, "required": ["r"]}}, "required": ["Circle"], "additionalProperties": false},
                {"type": "object", "properties": {"kind": {"const": "rect"}, "w": {"type": "number"}}, "required": ["kind", "w"]}
            ]}),
            json!({"$ref": "#/$defs/T", "$defs": {"T": {"type": "object", "properties": {"v": {"type": "integer"}, "kids": {"type": "array", "items": {"$ref": "#/$defs/T"}}}, "required": ["v"]}}}),
            json!({"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}], "items": false}),
            json!({"anyOf": [{"type": "integer"}, {"type": "boolean"}, {"type": "object", "additionalProperties": {"type": "number"}}]}),
            json!({"$ref": "#/$defs/Loop", "$defs": {"Loop": {"$ref": "#/$defs/Loop"}}}),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(value) = serde_json::from_slice::<Value>(rest) else {
        return;
    };
    let schemas = schemas();
    let schema = &schemas[usize::from(selector) % schemas.len()];
    let leniency = match (selector / 16) % 3 {
        0 => Leniency::Exact,
        1 => Leniency::Standard,
        _ => Leniency::Lenient,
    };
    if let Ok(parsed) = coerce(value.clone(), schema, leniency) {
        if leniency == Leniency::Exact {
            assert_eq!(parsed.value, value, "strict coercion changed the value");
        }
    }
});
