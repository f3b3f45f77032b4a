//! Schema-aligned parsing on realistic model output: prose, fences, broken
//! JSON and type drift, against schemas in the shape schemars 1.x emits.
//!
//! Each case states the exact outcome (the value, or the JSON pointer of the
//! mismatch when fitting the output would mean guessing) and the repairs that
//! must have been recorded.

use factum::parse::{Leniency, ParseError, RepairKind, parse};
use serde_json::{Value, json};

use Leniency::{Exact, Lenient, Standard};
use RepairKind as K;

enum Expect {
    Value(Value, Vec<RepairKind>),
    Mismatch(&'static str),
    NoJson,
}

struct Case {
    name: &'static str,
    text: &'static str,
    schema: Value,
    leniency: Leniency,
    expect: Expect,
}

fn ok(
    name: &'static str,
    text: &'static str,
    schema: Value,
    leniency: Leniency,
    value: Value,
    kinds: &[RepairKind],
) -> Case {
    Case {
        name,
        text,
        schema,
        leniency,
        expect: Expect::Value(value, kinds.to_vec()),
    }
}

fn bad(
    name: &'static str,
    text: &'static str,
    schema: Value,
    leniency: Leniency,
    path: &'static str,
) -> Case {
    Case {
        name,
        text,
        schema,
        leniency,
        expect: Expect::Mismatch(path),
    }
}

fn person() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Person",
        "description": "A person mentioned in the text.",
        "type": "object",
        "properties": {
            "name": {"description": "Full name, as written.", "type": "string"},
            "age": {"description": "Age in whole years.", "type": "integer", "format": "uint8", "minimum": 0, "maximum": 255},
            "email": {"type": ["string", "null"], "format": "email"}
        },
        "required": ["name", "age"]
    })
}

fn people() -> Value {
    json!({
        "type": "array",
        "items": {"$ref": "#/$defs/Person"},
        "$defs": {"Person": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "age": {"type": "integer", "format": "uint8", "minimum": 0, "maximum": 255}},
            "required": ["name", "age"]
        }}
    })
}

fn ticket() -> Value {
    json!({
        "title": "Ticket",
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "status": {"$ref": "#/$defs/Status"},
            "urgent": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}}
        },
        "required": ["title", "status", "urgent", "tags"],
        "$defs": {"Status": {"type": "string", "enum": ["open", "in_progress", "closed"]}}
    })
}

fn invoice() -> Value {
    json!({
        "title": "Invoice",
        "type": "object",
        "properties": {
            "number": {"type": "string"},
            "total": {"type": "number", "format": "double"},
            "lines": {"type": "array", "items": {"$ref": "#/$defs/Line"}}
        },
        "required": ["number", "total", "lines"],
        "additionalProperties": false,
        "$defs": {"Line": {
            "type": "object",
            "properties": {
                "sku": {"type": "string"},
                "qty": {"type": "integer", "format": "uint32", "minimum": 0},
                "price": {"type": "number", "format": "double"}
            },
            "required": ["sku", "qty", "price"],
            "additionalProperties": false
        }}
    })
}

/// `enum Shape { Empty, Circle { radius: f64 }, Rect { w: f64, h: f64 } }`, externally tagged.
fn shape() -> Value {
    json!({
        "title": "Shape",
        "oneOf": [
            {"type": "string", "enum": ["Empty"]},
            {"type": "object", "properties": {"Circle": {"type": "object", "properties": {"radius": {"type": "number"}}, "required": ["radius"]}}, "required": ["Circle"], "additionalProperties": false},
            {"type": "object", "properties": {"Rect": {"type": "object", "properties": {"w": {"type": "number"}, "h": {"type": "number"}}, "required": ["w", "h"]}}, "required": ["Rect"], "additionalProperties": false}
        ]
    })
}

/// `#[serde(tag = "kind")] enum Event { Click { x: i32, y: i32 }, Key { key: String } }`.
fn event() -> Value {
    json!({
        "title": "Event",
        "oneOf": [
            {"type": "object", "properties": {"kind": {"type": "string", "const": "click"}, "x": {"type": "integer", "format": "int32"}, "y": {"type": "integer", "format": "int32"}}, "required": ["kind", "x", "y"]},
            {"type": "object", "properties": {"kind": {"type": "string", "const": "key"}, "key": {"type": "string"}}, "required": ["kind", "key"]}
        ]
    })
}

/// A struct with an `Option<Address>` that the OpenAI-strict lowering marks required.
fn contact() -> Value {
    json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "phone": {"type": ["string", "null"]},
            "address": {"anyOf": [{"$ref": "#/$defs/Address"}, {"type": "null"}]}
        },
        "required": ["name", "phone", "address"],
        "$defs": {"Address": {"type": "object", "properties": {"city": {"type": "string"}, "zip": {"type": "string"}}, "required": ["city"]}}
    })
}

fn settings() -> Value {
    json!({
        "type": "object",
        "properties": {
            "active": {"type": "boolean"},
            "retries": {"type": "integer", "format": "uint8", "minimum": 0},
            "ratio": {"type": "number", "format": "double"}
        },
        "required": ["active", "retries", "ratio"]
    })
}

fn priority() -> Value {
    json!({"type": "string", "enum": ["low", "medium", "high", "critical"]})
}

fn city() -> Value {
    json!({"type": "string", "enum": ["Zurich", "Sao Paulo", "Malmo", "New York"]})
}

fn pair() -> Value {
    json!({"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "minItems": 2, "maxItems": 2})
}

fn counts() -> Value {
    json!({"type": "object", "additionalProperties": {"type": "integer", "format": "uint32", "minimum": 0}})
}

fn tree() -> Value {
    json!({
        "$ref": "#/$defs/Node",
        "$defs": {"Node": {
            "type": "object",
            "properties": {"value": {"type": "integer"}, "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
            "required": ["value", "children"]
        }}
    })
}

fn id_or_name() -> Value {
    json!({"anyOf": [{"type": "integer"}, {"type": "string"}]})
}

fn price() -> Value {
    json!({"type": "object", "properties": {"amount": {"type": "number"}, "units": {"type": "integer"}}, "required": ["amount"]})
}

fn label() -> Value {
    json!({"type": "object", "properties": {"code": {"type": "string"}}, "required": ["code"]})
}

#[allow(clippy::too_many_lines)] // one table, one case per entry
fn cases() -> Vec<Case> {
    vec![
        // --- Clean and lightly wrapped output ---
        ok(
            "clean",
            r#"{"name": "Ada Lovelace", "age": 36}"#,
            person(),
            Standard,
            json!({"name": "Ada Lovelace", "age": 36}),
            &[],
        ),
        ok(
            "clean with null option",
            r#"{"name": "Ada", "age": 36, "email": null}"#,
            person(),
            Standard,
            json!({"name": "Ada", "age": 36, "email": null}),
            &[],
        ),
        ok(
            "clean strict",
            r#"{"name": "Ada", "age": 36}"#,
            person(),
            Exact,
            json!({"name": "Ada", "age": 36}),
            &[],
        ),
        ok(
            "prose before",
            "Here is the extracted data: {\"name\": \"Ada\", \"age\": 36}",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36}),
            &[K::ExtractedFromProse],
        ),
        ok(
            "prose around",
            "Sure! {\"name\": \"Ada\", \"age\": 36}\nLet me know if you need anything else.",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36}),
            &[K::ExtractedFromProse],
        ),
        ok(
            "json fence",
            "```json\n{\"name\": \"Ada\", \"age\": 36}\n```",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36}),
            &[K::FencedBlock],
        ),
        ok(
            "bare fence",
            "Result:\n```\n{\"name\": \"Ada\", \"age\": 36}\n```\n",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36}),
            &[K::FencedBlock],
        ),
        ok(
            "unterminated fence",
            "```json\n{\"name\": \"Ada\", \"age\": 36}\n",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36}),
            &[K::FencedBlock],
        ),
        ok(
            "fence strict",
            "```json\n{\"name\": \"Ada\", \"age\": 36}\n```",
            person(),
            Exact,
            json!({"name": "Ada", "age": 36}),
            &[K::FencedBlock],
        ),
        ok(
            "prose strict",
            "The answer is {\"name\": \"Ada\", \"age\": 36}.",
            person(),
            Exact,
            json!({"name": "Ada", "age": 36}),
            &[K::ExtractedFromProse],
        ),
        ok(
            "think block",
            "<think>The user wants {\"name\": \"?\"}. Age is 36.</think>\n{\"name\": \"Ada\", \"age\": 36}",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36}),
            &[K::ThinkBlockRemoved],
        ),
        ok(
            "closing think only",
            "age must be a number</think>{\"name\": \"Ada\", \"age\": 36}",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36}),
            &[K::ThinkBlockRemoved],
        ),
        ok(
            "braces in prose strings",
            "Use the format {name, age}. Answer: {\"name\": \"Ada {the first}\", \"age\": 36}",
            person(),
            Standard,
            json!({"name": "Ada {the first}", "age": 36}),
            &[K::ExtractedFromProse],
        ),
        ok(
            "second object fits",
            "Example: {\"title\": \"x\"}\nActual: {\"name\": \"Ada\", \"age\": 36}",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36}),
            &[K::ExtractedFromProse],
        ),
        // --- Syntax repairs ---
        ok(
            "single quotes",
            "{'name': 'Ada', 'age': 36}",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36}),
            &[K::SingleQuotes],
        ),
        ok(
            "smart quotes",
            "{“name”: “Ada”, “age”: 36}",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36}),
            &[K::SmartQuotes],
        ),
        ok(
            "unquoted keys",
            "{name: \"Ada\", age: 36}",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36}),
            &[K::UnquotedKey],
        ),
        ok(
            "trailing comma",
            "{\"name\": \"Ada\", \"age\": 36,}",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36}),
            &[K::TrailingComma],
        ),
        ok(
            "missing comma",
            "{\"name\": \"Ada\"\n\"age\": 36}",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36}),
            &[K::MissingComma],
        ),
        ok(
            "line comments",
            "{\n  // the person's name\n  \"name\": \"Ada\",\n  \"age\": 36 # years\n}",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36}),
            &[K::Comment],
        ),
        ok(
            "block comment",
            "{\"name\": \"Ada\", /* guessed */ \"age\": 36}",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36}),
            &[K::Comment],
        ),
        ok(
            "python literals",
            "{'active': True, 'retries': 3, 'ratio': 0.5}",
            settings(),
            Standard,
            json!({"active": true, "retries": 3, "ratio": 0.5}),
            &[K::PythonLiteral],
        ),
        ok(
            "python none",
            "{'name': 'Ada', 'age': 36, 'email': None}",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36, "email": null}),
            &[K::PythonLiteral],
        ),
        ok(
            "undefined becomes null",
            "{\"name\": \"Ada\", \"age\": 36, \"email\": undefined}",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36, "email": null}),
            &[K::NonJsonLiteral],
        ),
        ok(
            "unescaped inner quotes",
            "{\"title\": \"Fix the \"save\" button\", \"status\": \"open\", \"urgent\": false, \"tags\": []}",
            ticket(),
            Standard,
            json!({"title": "Fix the \"save\" button", "status": "open", "urgent": false, "tags": []}),
            &[K::UnescapedQuote],
        ),
        ok(
            "raw newline in string",
            "{\"title\": \"Line one\nline two\", \"status\": \"open\", \"urgent\": false, \"tags\": []}",
            ticket(),
            Standard,
            json!({"title": "Line one\nline two", "status": "open", "urgent": false, "tags": []}),
            &[K::UnescapedNewline],
        ),
        ok(
            "unquoted string value",
            "{name: Ada Lovelace, age: 36}",
            person(),
            Standard,
            json!({"name": "Ada Lovelace", "age": 36}),
            &[K::UnquotedString],
        ),
        ok(
            "missing closing quote",
            "{\"name\": \"Ada, \"age\": 36}",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36}),
            &[K::MissingClosingQuote],
        ),
        ok(
            "truncated after value",
            "{\"name\": \"Ada\", \"age\": 36",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36}),
            &[K::ClosedTruncated],
        ),
        ok(
            "truncated in string",
            "{\"age\": 36, \"name\": \"Ada Lov",
            person(),
            Standard,
            json!({"name": "Ada Lov", "age": 36}),
            &[K::ClosedTruncated],
        ),
        ok(
            "truncated dangling key",
            "{\"name\": \"Ada\", \"age\": 36, \"email\":",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36}),
            &[K::DroppedDanglingKey],
        ),
        ok(
            "truncated nested",
            "{\"number\": \"INV-7\", \"total\": 12.5, \"lines\": [{\"sku\": \"A1\", \"qty\": 1, \"price\": 12.5}",
            invoice(),
            Standard,
            json!({"number": "INV-7", "total": 12.5, "lines": [{"sku": "A1", "qty": 1, "price": 12.5}]}),
            &[K::ClosedTruncated],
        ),
        bad(
            "truncated loses required",
            "{\"number\": \"INV-7\", \"total\": 12.5, \"lines\": [{\"sku\": \"A1\", \"qty\": 1, \"pri",
            invoice(),
            Standard,
            "/lines/0/price",
        ),
        ok(
            "mismatched bracket",
            "{\"title\": \"t\", \"status\": \"open\", \"urgent\": true, \"tags\": [\"a\", \"b\"}",
            ticket(),
            Standard,
            json!({"title": "t", "status": "open", "urgent": true, "tags": ["a", "b"]}),
            &[K::MismatchedBracket],
        ),
        ok(
            "doubled quotes",
            "{\"\"name\"\": \"\"Ada\"\", \"\"age\"\": 36}",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36}),
            &[K::DoubledQuotes],
        ),
        ok(
            "number syntax",
            "{\"active\": true, \"retries\": 1_0, \"ratio\": .25}",
            settings(),
            Standard,
            json!({"active": true, "retries": 10, "ratio": 0.25}),
            &[K::NumberSyntax],
        ),
        ok(
            "fence with broken json",
            "Here you go:\n```json\n{'name': 'Ada', age: 36,}\n```",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36}),
            &[
                K::FencedBlock,
                K::SingleQuotes,
                K::UnquotedKey,
                K::TrailingComma,
            ],
        ),
        ok(
            "stray words between members",
            "{\"name\": \"Ada\", NOTE \"age\": 36}",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36}),
            &[K::DroppedJunk],
        ),
        ok(
            "reopened object",
            "{\"name\": \"Ada\"}, \"age\": 36}",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36}),
            &[K::ReopenedObject],
        ),
        ok(
            "escaped unicode",
            "{\"name\": \"Ad\\u00e1\", \"age\": 36,}",
            person(),
            Standard,
            json!({"name": "Adá", "age": 36}),
            &[K::TrailingComma],
        ),
        Case {
            name: "strict refuses single quotes",
            text: "{'name': 'Ada', 'age': 36}",
            schema: person(),
            leniency: Exact,
            expect: Expect::NoJson,
        },
        Case {
            name: "strict finds nothing in broken text",
            text: "{name: Ada",
            schema: person(),
            leniency: Exact,
            expect: Expect::NoJson,
        },
        Case {
            name: "no json at all",
            text: "I could not find a person in the text.",
            schema: person(),
            leniency: Standard,
            expect: Expect::NoJson,
        },
        // --- Numbers ---
        ok(
            "integer from string",
            "{\"name\": \"Ada\", \"age\": \"36\"}",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36}),
            &[K::NumberFromString],
        ),
        ok(
            "integer from padded string",
            "{\"name\": \"Ada\", \"age\": \" 36 \"}",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36}),
            &[K::NumberFromString],
        ),
        ok(
            "integral float",
            "{\"name\": \"Ada\", \"age\": 36.0}",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36}),
            &[K::FloatToInteger],
        ),
        ok(
            "integral float in string",
            "{\"name\": \"Ada\", \"age\": \"36.0\"}",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36}),
            &[K::NumberFromString, K::FloatToInteger],
        ),
        bad(
            "fractional for integer",
            "{\"name\": \"Ada\", \"age\": 36.5}",
            person(),
            Lenient,
            "/age",
        ),
        bad(
            "words are not numbers",
            "{\"name\": \"Ada\", \"age\": \"thirty-six\"}",
            person(),
            Lenient,
            "/age",
        ),
        bad(
            "number with unit",
            "{\"name\": \"Ada\", \"age\": \"36 years\"}",
            person(),
            Lenient,
            "/age",
        ),
        bad(
            "strict refuses number string",
            "{\"name\": \"Ada\", \"age\": \"36\"}",
            person(),
            Exact,
            "/age",
        ),
        bad(
            "strict refuses integral float",
            "{\"name\": \"Ada\", \"age\": 36.0}",
            person(),
            Exact,
            "/age",
        ),
        ok(
            "number from string",
            "{\"amount\": \"12.50\"}",
            price(),
            Standard,
            json!({"amount": 12.5}),
            &[K::NumberFromString],
        ),
        ok(
            "negative exponent string",
            "{\"amount\": \"-2.5e3\"}",
            price(),
            Standard,
            json!({"amount": -2500.0}),
            &[K::NumberFromString],
        ),
        bad(
            "currency needs lenient",
            "{\"amount\": \"$12.50\"}",
            price(),
            Standard,
            "/amount",
        ),
        ok(
            "currency lenient",
            "{\"amount\": \"$12.50\"}",
            price(),
            Lenient,
            json!({"amount": 12.5}),
            &[K::FormattedNumber],
        ),
        ok(
            "euro suffix lenient",
            "{\"amount\": \"12.50 €\"}",
            price(),
            Lenient,
            json!({"amount": 12.5}),
            &[K::FormattedNumber],
        ),
        ok(
            "thousands lenient",
            "{\"amount\": \"1,234\", \"units\": \"1,000\"}",
            price(),
            Lenient,
            json!({"amount": 1234, "units": 1000}),
            &[K::FormattedNumber],
        ),
        ok(
            "thousands with decimals",
            "{\"amount\": \"$1,234.56\"}",
            price(),
            Lenient,
            json!({"amount": 1234.56}),
            &[K::FormattedNumber],
        ),
        ok(
            "percent lenient",
            "{\"amount\": \"12.5%\"}",
            price(),
            Lenient,
            json!({"amount": 12.5}),
            &[K::FormattedNumber],
        ),
        bad(
            "decimal comma is ambiguous",
            "{\"amount\": \"1,5\"}",
            price(),
            Lenient,
            "/amount",
        ),
        bad(
            "bad grouping",
            "{\"amount\": \"12,34,567\"}",
            price(),
            Lenient,
            "/amount",
        ),
        bad(
            "null for required number",
            "{\"amount\": null}",
            price(),
            Lenient,
            "/amount",
        ),
        // --- Booleans ---
        ok(
            "bool from yes",
            "{\"active\": \"Yes\", \"retries\": 2, \"ratio\": 1}",
            settings(),
            Standard,
            json!({"active": true, "retries": 2, "ratio": 1}),
            &[K::BoolFromString],
        ),
        ok(
            "bool from off",
            "{\"active\": \"OFF\", \"retries\": 2, \"ratio\": 1}",
            settings(),
            Standard,
            json!({"active": false, "retries": 2, "ratio": 1}),
            &[K::BoolFromString],
        ),
        ok(
            "bool from n",
            "{\"active\": \"n\", \"retries\": 2, \"ratio\": 1}",
            settings(),
            Standard,
            json!({"active": false, "retries": 2, "ratio": 1}),
            &[K::BoolFromString],
        ),
        ok(
            "bool from one",
            "{\"active\": 1, \"retries\": 2, \"ratio\": 1}",
            settings(),
            Standard,
            json!({"active": true, "retries": 2, "ratio": 1}),
            &[K::BoolFromNumber],
        ),
        ok(
            "bool from string zero",
            "{\"active\": \"0\", \"retries\": 2, \"ratio\": 1}",
            settings(),
            Standard,
            json!({"active": false, "retries": 2, "ratio": 1}),
            &[K::BoolFromString],
        ),
        bad(
            "maybe is not a bool",
            "{\"active\": \"maybe\", \"retries\": 2, \"ratio\": 1}",
            settings(),
            Lenient,
            "/active",
        ),
        bad(
            "two is not a bool",
            "{\"active\": 2, \"retries\": 2, \"ratio\": 1}",
            settings(),
            Lenient,
            "/active",
        ),
        bad(
            "strict refuses yes",
            "{\"active\": \"yes\", \"retries\": 2, \"ratio\": 1}",
            settings(),
            Exact,
            "/active",
        ),
        // --- Strings ---
        ok(
            "numeric-looking string stays string",
            "{\"code\": \"007\"}",
            label(),
            Standard,
            json!({"code": "007"}),
            &[],
        ),
        bad(
            "number for string needs lenient",
            "{\"code\": 7}",
            label(),
            Standard,
            "/code",
        ),
        ok(
            "number for string lenient",
            "{\"code\": 7}",
            label(),
            Lenient,
            json!({"code": "7"}),
            &[K::StringFromNumber],
        ),
        ok(
            "bool for string lenient",
            "{\"code\": true}",
            label(),
            Lenient,
            json!({"code": "true"}),
            &[K::StringFromBool],
        ),
        bad(
            "object for string",
            "{\"code\": {\"v\": 1}}",
            label(),
            Lenient,
            "/code",
        ),
        // --- Enums ---
        ok(
            "enum exact",
            "{\"title\": \"t\", \"status\": \"closed\", \"urgent\": false, \"tags\": []}",
            ticket(),
            Exact,
            json!({"title": "t", "status": "closed", "urgent": false, "tags": []}),
            &[],
        ),
        ok(
            "enum case",
            "{\"title\": \"t\", \"status\": \"Closed\", \"urgent\": false, \"tags\": []}",
            ticket(),
            Standard,
            json!({"title": "t", "status": "closed", "urgent": false, "tags": []}),
            &[K::EnumFuzzyMatch],
        ),
        ok(
            "enum spaces",
            "{\"title\": \"t\", \"status\": \"in progress\", \"urgent\": false, \"tags\": []}",
            ticket(),
            Standard,
            json!({"title": "t", "status": "in_progress", "urgent": false, "tags": []}),
            &[K::EnumFuzzyMatch],
        ),
        ok(
            "enum hyphen case",
            "{\"title\": \"t\", \"status\": \"In-Progress\", \"urgent\": false, \"tags\": []}",
            ticket(),
            Standard,
            json!({"title": "t", "status": "in_progress", "urgent": false, "tags": []}),
            &[K::EnumFuzzyMatch],
        ),
        ok(
            "enum camel",
            "{\"title\": \"t\", \"status\": \"InProgress\", \"urgent\": false, \"tags\": []}",
            ticket(),
            Standard,
            json!({"title": "t", "status": "in_progress", "urgent": false, "tags": []}),
            &[K::EnumFuzzyMatch],
        ),
        bad(
            "strict enum case",
            "{\"title\": \"t\", \"status\": \"Closed\", \"urgent\": false, \"tags\": []}",
            ticket(),
            Exact,
            "/status",
        ),
        ok(
            "enum accents",
            "\"Zürich\"",
            city(),
            Standard,
            json!("Zurich"),
            &[K::EnumFuzzyMatch],
        ),
        ok(
            "enum accents and case",
            "\"SÃO PAULO\"",
            city(),
            Standard,
            json!("Sao Paulo"),
            &[K::EnumFuzzyMatch],
        ),
        ok(
            "enum accents punctuation",
            "\"malmö.\"",
            city(),
            Standard,
            json!("Malmo"),
            &[K::EnumFuzzyMatch],
        ),
        bad(
            "enum prefix needs lenient",
            "\"crit\"",
            priority(),
            Standard,
            "",
        ),
        ok(
            "enum unique prefix",
            "\"crit\"",
            priority(),
            Lenient,
            json!("critical"),
            &[K::EnumFuzzyMatch],
        ),
        ok(
            "enum unique substring",
            "\"very high\"",
            priority(),
            Lenient,
            json!("high"),
            &[K::EnumFuzzyMatch],
        ),
        bad("enum ambiguous prefix", "\"m\"", priority(), Lenient, ""),
        bad(
            "enum ambiguous substring",
            "\"low to medium\"",
            priority(),
            Lenient,
            "",
        ),
        bad("enum unknown", "\"urgent\"", priority(), Lenient, ""),
        ok(
            "enum in fence prose",
            "The priority is:\n```\n\"High\"\n```",
            priority(),
            Standard,
            json!("high"),
            &[K::FencedBlock, K::EnumFuzzyMatch],
        ),
        // --- Arrays ---
        ok(
            "single to array",
            "{\"title\": \"t\", \"status\": \"open\", \"urgent\": false, \"tags\": \"bug\"}",
            ticket(),
            Standard,
            json!({"title": "t", "status": "open", "urgent": false, "tags": ["bug"]}),
            &[K::SingleToArray],
        ),
        bad(
            "strict refuses single to array",
            "{\"title\": \"t\", \"status\": \"open\", \"urgent\": false, \"tags\": \"bug\"}",
            ticket(),
            Exact,
            "/tags",
        ),
        bad(
            "null is not an array",
            "{\"title\": \"t\", \"status\": \"open\", \"urgent\": false, \"tags\": null}",
            ticket(),
            Lenient,
            "/tags",
        ),
        ok(
            "object list",
            "[{\"name\": \"Ada\", \"age\": 36}, {\"name\": \"Alan\", \"age\": \"41\"}]",
            people(),
            Standard,
            json!([{"name": "Ada", "age": 36}, {"name": "Alan", "age": 41}]),
            &[K::NumberFromString],
        ),
        ok(
            "single object to list",
            "{\"name\": \"Ada\", \"age\": 36}",
            people(),
            Standard,
            json!([{"name": "Ada", "age": 36}]),
            &[K::SingleToArray],
        ),
        ok(
            "objects one per line",
            "{\"name\": \"Ada\", \"age\": 36}\n{\"name\": \"Alan\", \"age\": 41}",
            people(),
            Standard,
            json!([{"name": "Ada", "age": 36}, {"name": "Alan", "age": 41}]),
            &[K::MultipleValues],
        ),
        ok(
            "objects in two fences",
            "```json\n{\"name\": \"Ada\", \"age\": 36}\n```\nand\n```json\n{\"name\": \"Alan\", \"age\": 41}\n```",
            people(),
            Standard,
            json!([{"name": "Ada", "age": 36}, {"name": "Alan", "age": 41}]),
            &[K::MultipleValues],
        ),
        bad(
            "list item missing field",
            "[{\"name\": \"Ada\", \"age\": 36}, {\"name\": \"Alan\"}]",
            people(),
            Lenient,
            "/1/age",
        ),
        ok(
            "wrapped list lenient",
            "{\"people\": [{\"name\": \"Ada\", \"age\": 36}]}",
            people(),
            Lenient,
            json!([{"name": "Ada", "age": 36}]),
            &[K::UnwrappedSingleKey],
        ),
        bad(
            "wrapped list standard",
            "{\"people\": [{\"name\": \"Ada\", \"age\": 36}]}",
            people(),
            Standard,
            "/0/name",
        ),
        ok(
            "tuple",
            "[\"Ada\", 36]",
            pair(),
            Exact,
            json!(["Ada", 36]),
            &[],
        ),
        ok(
            "python tuple",
            "```\n(\"Ada\", \"36\")\n```",
            pair(),
            Standard,
            json!(["Ada", 36]),
            &[K::TupleAsArray, K::NumberFromString],
        ),
        ok(
            "array as string",
            "{\"title\": \"t\", \"status\": \"open\", \"urgent\": false, \"tags\": \"[\\\"a\\\", \\\"b\\\"]\"}",
            ticket(),
            Standard,
            json!({"title": "t", "status": "open", "urgent": false, "tags": ["a", "b"]}),
            &[K::JsonInString],
        ),
        // --- Objects ---
        ok(
            "extra key dropped",
            "{\"number\": \"INV-1\", \"total\": 10, \"currency\": \"EUR\", \"lines\": []}",
            invoice(),
            Standard,
            json!({"number": "INV-1", "total": 10, "lines": []}),
            &[K::DroppedExtraKey],
        ),
        bad(
            "strict extra key",
            "{\"number\": \"INV-1\", \"total\": 10, \"currency\": \"EUR\", \"lines\": []}",
            invoice(),
            Exact,
            "/currency",
        ),
        ok(
            "extra key kept when open",
            "{\"name\": \"Ada\", \"age\": 36, \"note\": \"x\"}",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36, "note": "x"}),
            &[],
        ),
        ok(
            "nested extra key dropped",
            "{\"number\": \"INV-1\", \"total\": 10, \"lines\": [{\"sku\": \"A\", \"qty\": 1, \"price\": 10, \"tax\": 0}]}",
            invoice(),
            Standard,
            json!({"number": "INV-1", "total": 10, "lines": [{"sku": "A", "qty": 1, "price": 10}]}),
            &[K::DroppedExtraKey],
        ),
        ok(
            "renamed keys",
            "{\"Name\": \"Ada\", \"AGE\": 36}",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36}),
            &[K::RenamedKey],
        ),
        ok(
            "renamed spaced key",
            "{\"Title\": \"t\", \"Status\": \"open\", \"Urgent\": false, \"Tags\": []}",
            ticket(),
            Standard,
            json!({"title": "t", "status": "open", "urgent": false, "tags": []}),
            &[K::RenamedKey],
        ),
        bad(
            "strict does not rename",
            "{\"Name\": \"Ada\", \"age\": 36}",
            person(),
            Exact,
            "/name",
        ),
        bad(
            "missing required",
            "{\"name\": \"Ada\"}",
            person(),
            Lenient,
            "/age",
        ),
        ok(
            "missing optional stays absent",
            "{\"name\": \"Ada\", \"age\": 36}",
            person(),
            Standard,
            json!({"name": "Ada", "age": 36}),
            &[],
        ),
        ok(
            "missing required nullable",
            "{\"name\": \"Ada\", \"phone\": \"555\"}",
            contact(),
            Standard,
            json!({"name": "Ada", "phone": "555", "address": null}),
            &[K::MissingOptionalAsNull],
        ),
        bad(
            "strict missing required nullable",
            "{\"name\": \"Ada\", \"phone\": \"555\"}",
            contact(),
            Exact,
            "/address",
        ),
        ok(
            "nullable ref present",
            "{\"name\": \"Ada\", \"phone\": null, \"address\": {\"city\": \"Zurich\", \"zip\": 8000}}",
            contact(),
            Lenient,
            json!({"name": "Ada", "phone": null, "address": {"city": "Zurich", "zip": "8000"}}),
            &[K::StringFromNumber],
        ),
        ok(
            "null from word",
            "{\"name\": \"Ada\", \"phone\": \"None\", \"address\": null}",
            contact(),
            Standard,
            json!({"name": "Ada", "phone": "None", "address": null}),
            &[],
        ),
        ok(
            "object as string",
            "{\"name\": \"Ada\", \"phone\": null, \"address\": \"{\\\"city\\\": \\\"Bern\\\"}\"}",
            contact(),
            Standard,
            json!({"name": "Ada", "phone": null, "address": {"city": "Bern"}}),
            &[K::JsonInString],
        ),
        ok(
            "wrapper unwrapped lenient",
            "{\"person\": {\"name\": \"Ada\", \"age\": 36}}",
            person(),
            Lenient,
            json!({"name": "Ada", "age": 36}),
            &[K::UnwrappedSingleKey],
        ),
        bad(
            "wrapper kept standard",
            "{\"person\": {\"name\": \"Ada\", \"age\": 36}}",
            person(),
            Standard,
            "/name",
        ),
        ok(
            "map values",
            "{\"apples\": 3, \"pears\": \"4\"}",
            counts(),
            Standard,
            json!({"apples": 3, "pears": 4}),
            &[K::NumberFromString],
        ),
        bad(
            "map bad value",
            "{\"apples\": 3, \"pears\": \"many\"}",
            counts(),
            Lenient,
            "/pears",
        ),
        ok(
            "recursive tree",
            "{\"value\": 1, \"children\": [{\"value\": \"2\", \"children\": []}, {\"value\": 3, \"children\": [{\"value\": 4, \"children\": []}]}]}",
            tree(),
            Standard,
            json!({"value": 1, "children": [{"value": 2, "children": []}, {"value": 3, "children": [{"value": 4, "children": []}]}]}),
            &[K::NumberFromString],
        ),
        bad(
            "recursive tree deep mismatch",
            "{\"value\": 1, \"children\": [{\"value\": 3, \"children\": [{\"value\": \"four\", \"children\": []}]}]}",
            tree(),
            Lenient,
            "/children/0/children/0/value",
        ),
        bad(
            "object for array item",
            "{\"number\": \"INV-1\", \"total\": 10, \"lines\": [\"A1 x1\"]}",
            invoice(),
            Lenient,
            "/lines/0",
        ),
        // --- Unions ---
        ok(
            "externally tagged unit",
            "\"Empty\"",
            shape(),
            Exact,
            json!("Empty"),
            &[],
        ),
        ok(
            "externally tagged unit case",
            "\"empty\"",
            shape(),
            Standard,
            json!("Empty"),
            &[K::EnumFuzzyMatch],
        ),
        ok(
            "externally tagged struct",
            "{\"Circle\": {\"radius\": 2}}",
            shape(),
            Exact,
            json!({"Circle": {"radius": 2}}),
            &[],
        ),
        ok(
            "externally tagged case",
            "{\"rect\": {\"w\": \"2\", \"h\": 3}}",
            shape(),
            Standard,
            json!({"Rect": {"w": 2, "h": 3}}),
            &[K::RenamedKey, K::NumberFromString],
        ),
        bad(
            "externally tagged unknown",
            "{\"Triangle\": {\"a\": 1}}",
            shape(),
            Standard,
            "",
        ),
        ok(
            "internally tagged",
            "{\"kind\": \"click\", \"x\": 3, \"y\": 4}",
            event(),
            Exact,
            json!({"kind": "click", "x": 3, "y": 4}),
            &[],
        ),
        ok(
            "internally tagged case",
            "{\"kind\": \"Key\", \"key\": \"Enter\"}",
            event(),
            Standard,
            json!({"kind": "key", "key": "Enter"}),
            &[K::EnumFuzzyMatch],
        ),
        ok(
            "internally tagged drift",
            "Event: {kind: 'click', x: '3', y: 4.0}",
            event(),
            Standard,
            json!({"kind": "click", "x": 3, "y": 4}),
            &[K::NumberFromString, K::FloatToInteger],
        ),
        bad(
            "internally tagged missing field",
            "{\"kind\": \"click\", \"x\": 3}",
            event(),
            Lenient,
            "/y",
        ),
        bad(
            "internally tagged wrong tag",
            "{\"kind\": \"scroll\", \"x\": 3, \"y\": 4}",
            event(),
            Lenient,
            "",
        ),
        ok(
            "untagged prefers exact string",
            "\"42\"",
            id_or_name(),
            Standard,
            json!("42"),
            &[],
        ),
        ok(
            "untagged exact integer",
            "42",
            id_or_name(),
            Standard,
            json!(42),
            &[],
        ),
        ok(
            "untagged coerces float",
            "42.0",
            id_or_name(),
            Standard,
            json!(42),
            &[K::FloatToInteger],
        ),
        ok(
            "nullable string null",
            "{\"name\": \"Ada\", \"phone\": null, \"address\": null}",
            contact(),
            Exact,
            json!({"name": "Ada", "phone": null, "address": null}),
            &[],
        ),
        // --- Whole messages as small models write them ---
        ok(
            "chatty small model",
            "Sure, here's the ticket:\n\n```json\n{\n  \"title\": \"Login fails\",\n  \"status\": \"In Progress\",\n  \"urgent\": \"yes\",\n  \"tags\": \"auth\",\n}\n```\n\nLet me know!",
            ticket(),
            Standard,
            json!({"title": "Login fails", "status": "in_progress", "urgent": true, "tags": ["auth"]}),
            &[
                K::FencedBlock,
                K::TrailingComma,
                K::EnumFuzzyMatch,
                K::BoolFromString,
                K::SingleToArray,
            ],
        ),
        ok(
            "invoice with drift",
            "{'number': 'INV-42', 'total': '99.90', 'lines': [{'sku': 'X', 'qty': '2', 'price': 49.95, 'note': 'gift'}], 'currency': 'EUR'}",
            invoice(),
            Standard,
            json!({"number": "INV-42", "total": 99.9, "lines": [{"sku": "X", "qty": 2, "price": 49.95}]}),
            &[K::SingleQuotes, K::NumberFromString, K::DroppedExtraKey],
        ),
        // The last person was cut off: re-asking beats silently dropping them.
        bad(
            "truncated list of people",
            "[{\"name\": \"Ada\", \"age\": 36}, {\"name\": \"Alan\", \"age\": 41}, {\"name\": \"Gra",
            people(),
            Standard,
            "/2/age",
        ),
        ok(
            "person from yaml-ish json",
            "{\n  name: Grace Hopper\n  age: 85\n}",
            person(),
            Standard,
            json!({"name": "Grace Hopper", "age": 85}),
            &[K::UnquotedKey, K::UnquotedString, K::MissingComma],
        ),
    ]
}

#[test]
fn schema_aligned_table() {
    let cases = cases();
    assert!(cases.len() >= 100, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let got = parse(case.text, &case.schema, case.leniency);
        let problem = match (&case.expect, &got) {
            (Expect::Value(value, kinds), Ok(parsed)) => {
                let missing: Vec<&RepairKind> =
                    kinds.iter().filter(|k| !parsed.has_repair(**k)).collect();
                if parsed.value != *value {
                    Some(format!("value {} != expected {value}", parsed.value))
                } else if !missing.is_empty() {
                    Some(format!(
                        "missing repairs {missing:?} in {:?}",
                        parsed.repairs
                    ))
                } else if kinds.is_empty() && case.leniency == Exact && parsed.cost() != 0 {
                    Some(format!("expected no cost, got {:?}", parsed.repairs))
                } else {
                    None
                }
            }
            (Expect::Mismatch(path), Err(ParseError::Mismatch { path: got, .. }))
                if got == path =>
            {
                None
            }
            (Expect::NoJson, Err(ParseError::NoJson)) => None,
            (_, got) => Some(format!("got {got:?}")),
        };
        if let Some(problem) = problem {
            failures.push(format!("{} ({:?}): {problem}", case.name, case.leniency));
        }
    }
    println!(
        "{} schema-aligned cases, {} failing",
        cases.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn mismatch_messages_name_the_path() {
    let err = parse("{\"name\": \"Ada\", \"age\": \"old\"}", &person(), Standard).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("/age"), "{msg}");
    assert!(msg.contains("integer"), "{msg}");
}

#[test]
fn costs_order_the_leniency_levels() {
    let text = "{\"title\": \"t\", \"status\": \"Closed\", \"urgent\": \"no\", \"tags\": \"x\"}";
    let standard = parse(text, &ticket(), Standard).unwrap();
    let lenient = parse(text, &ticket(), Lenient).unwrap();
    assert_eq!(standard.value, lenient.value);
    assert_eq!(standard.cost(), lenient.cost());
    assert!(standard.cost() >= 3, "{:?}", standard.repairs);
    assert!(parse(text, &ticket(), Exact).is_err());
}
