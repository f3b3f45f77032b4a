//! A checker of OpenAI's strict structured-output subset, written from OpenAI's documented
//! rules ("Supported schemas" in the Structured Outputs guide, as summarised in
//! `shared/PROVIDERS.md` §2), independently of factum's lowering code.

use serde_json::{Map, Value};

/// Keywords the strict subset accepts on a schema object.
const ALLOWED: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "anyOf",
    "$ref",
    "$defs",
    "description",
    "title",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
];
const FORMATS: &[&str] = &[
    "date-time",
    "time",
    "date",
    "duration",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "uuid",
];
const TYPES: &[&str] = &[
    "string", "number", "boolean", "integer", "object", "array", "null",
];

/// Every breach of the strict subset in `schema`, as `path: rule` lines (empty = fits).
pub fn check(schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        out.push("/: the root must be `type: object`".to_owned());
    }
    if schema.get("anyOf").is_some() {
        out.push("/: `anyOf` is not allowed at the root".to_owned());
    }
    let mut counts = Counts::default();
    walk(schema, "", &mut out, &mut counts, 0);
    if counts.properties > 100 {
        out.push(format!("/: {} properties, over 100", counts.properties));
    }
    if counts.enum_values > 500 {
        out.push(format!("/: {} enum values, over 500", counts.enum_values));
    }
    out
}

#[derive(Default)]
struct Counts {
    properties: usize,
    enum_values: usize,
}

fn walk(schema: &Value, path: &str, out: &mut Vec<String>, counts: &mut Counts, depth: usize) {
    let Some(object) = schema.as_object() else {
        out.push(format!("{path}: a boolean schema is not allowed"));
        return;
    };
    keywords(object, path, out);
    if let Some(Value::Array(values)) = object.get("enum") {
        counts.enum_values += values.len();
    }
    let is_object = object.get("type").is_some_and(|t| {
        t == "object" || t.as_array().is_some_and(|a| a.contains(&"object".into()))
    });
    let mut depth = depth;
    if is_object || object.contains_key("properties") {
        depth += 1;
        properties(object, path, out, counts, depth);
    }
    children(object, path, out, counts, depth);
}

/// The keywords, types and format of one schema, checked against the documented lists.
fn keywords(object: &Map<String, Value>, path: &str, out: &mut Vec<String>) {
    if object.contains_key("$ref") && object.len() > 1 {
        out.push(format!("{path}: `$ref` cannot have sibling keywords"));
    }
    for key in object.keys() {
        if !ALLOWED.contains(&key.as_str()) {
            out.push(format!("{path}: keyword `{key}` is not supported"));
        }
    }
    match object.get("type") {
        Some(Value::String(t)) if !TYPES.contains(&t.as_str()) => {
            out.push(format!("{path}: unknown type {t}"));
        }
        Some(Value::Array(ts)) => {
            for t in ts {
                if !t.as_str().is_some_and(|t| TYPES.contains(&t)) {
                    out.push(format!("{path}: unknown type {t}"));
                }
            }
        }
        _ => {}
    }
    if let Some(format) = object.get("format").and_then(Value::as_str)
        && !FORMATS.contains(&format)
    {
        out.push(format!("{path}: format `{format}` is not supported"));
    }
}

/// An object schema at nesting `depth`: closed, every property required, each walked.
fn properties(
    object: &Map<String, Value>,
    path: &str,
    out: &mut Vec<String>,
    counts: &mut Counts,
    depth: usize,
) {
    if depth > 5 {
        out.push(format!("{path}: nesting depth {depth} is over 5"));
    }
    if object.get("additionalProperties") != Some(&Value::Bool(false)) {
        out.push(format!(
            "{path}: objects need `additionalProperties: false`"
        ));
    }
    let properties = object.get("properties").and_then(Value::as_object);
    let required: Vec<&str> = object
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (key, property) in properties.into_iter().flatten() {
        counts.properties += 1;
        if !required.contains(&key.as_str()) {
            out.push(format!(
                "{path}/properties/{key}: every property must be required"
            ));
        }
        walk(
            property,
            &format!("{path}/properties/{key}"),
            out,
            counts,
            depth,
        );
    }
}

/// The subschemas that are not properties: items, `anyOf` branches, definitions.
fn children(
    object: &Map<String, Value>,
    path: &str,
    out: &mut Vec<String>,
    counts: &mut Counts,
    depth: usize,
) {
    if let Some(items) = object.get("items") {
        walk(items, &format!("{path}/items"), out, counts, depth);
    }
    if let Some(Value::Array(branches)) = object.get("anyOf") {
        for (i, branch) in branches.iter().enumerate() {
            walk(branch, &format!("{path}/anyOf/{i}"), out, counts, depth);
        }
    }
    if let Some(Value::Object(defs)) = object.get("$defs") {
        for (name, def) in defs {
            walk(def, &format!("{path}/$defs/{name}"), out, counts, 0);
        }
    }
}
