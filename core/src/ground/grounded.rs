//! `#[extract(grounded)]`: the fields whose values must be quoted from the text. The
//! derive marks their schemas with [`GROUNDED`](json::GROUNDED); after grounding, a marked string found
//! only fuzzily or not at all is a violation at its path, which the re-ask shows the model.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::span::{Match, Span};
use crate::{Violation, json};

/// Deepest schema walked: deeper values are not checked (the parser bounds nesting well
/// below this anyway).
const MAX_DEPTH: usize = 64;

/// The violations of the grounded fields of `value` (checked against `schema`, the source
/// schema), given its spans in `text`. Callers skip it for a schema without grounded fields
/// ([`Schema::has_grounded`](crate::Schema::has_grounded), read once from [`mentions`]).
pub(crate) fn violations(
    schema: &Value,
    value: &Value,
    spans: &[Span],
    text: &str,
) -> Vec<Violation> {
    let mut paths = BTreeMap::new();
    let mut walk = Walk {
        root: schema,
        paths: &mut paths,
    };
    walk.visit(schema, value, &mut String::new(), None, 0);
    spans
        .iter()
        .filter(|s| !s.quality.is_quoted())
        .filter_map(|s| {
            Some(Violation::new(
                s.path.clone(),
                message(s, *paths.get(&s.path)?, text),
            ))
        })
        .collect()
}

/// What a model can do about a grounded value that is not in the text, besides copying
/// it as written: by the schema that carries the mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fix {
    /// A required string: copy it.
    Copy,
    /// An optional one: copy it, or `null` when the text gives none.
    NullOrCopy,
    /// An element of a list: copy it, or leave it out of the list.
    DropOrCopy,
}

impl Fix {
    fn of(object: &Map<String, Value>) -> Fix {
        if admits(object, "array") {
            Fix::DropOrCopy
        } else if admits(object, "null") {
            Fix::NullOrCopy
        } else {
            Fix::Copy
        }
    }

    fn advice(self) -> &'static str {
        match self {
            Fix::Copy => "copy the value exactly as it is written in the text",
            Fix::NullOrCopy => {
                "copy the value exactly as it is written in the text, or use null if the text does not give it"
            }
            Fix::DropOrCopy => {
                "copy each value exactly as it is written in the text, and leave out any the text does not give"
            }
        }
    }
}

/// Whether a schema admits the JSON type `ty`, by its `type` or a branch of its union.
fn admits(object: &Map<String, Value>, ty: &str) -> bool {
    let by_type = match object.get("type") {
        Some(Value::String(t)) => t == ty,
        Some(Value::Array(types)) => types.iter().any(|t| t == ty),
        _ => false,
    };
    by_type
        || ["anyOf", "oneOf"].iter().any(|key| {
            object
                .get(*key)
                .and_then(Value::as_array)
                .is_some_and(|branches| {
                    branches
                        .iter()
                        .filter_map(Value::as_object)
                        .any(|b| admits(b, ty))
                })
        })
}

/// The feedback for one value that is not in the text as written.
fn message(span: &Span, fix: Fix, text: &str) -> String {
    let value = json::excerpt(&span.value, 80);
    let advice = fix.advice();
    match (span.quality, span.text(text)) {
        (Match::Fuzzy(_), Some(passage)) => format!(
            "\"{value}\" is not written so in the text (the closest passage is \"{}\"); {advice}",
            json::excerpt(passage, 80)
        ),
        _ => format!("\"{value}\" is not in the text; {advice}"),
    }
}

/// Whether the schema marks anything grounded at all (most schemas do not: no walk).
pub(crate) fn mentions(schema: &Value) -> bool {
    match schema {
        Value::Object(map) => map.contains_key(json::GROUNDED) || map.values().any(mentions),
        Value::Array(items) => items.iter().any(mentions),
        _ => false,
    }
}

struct Walk<'a> {
    root: &'a Value,
    paths: &'a mut BTreeMap<String, Fix>,
}

impl Walk<'_> {
    /// Walks `value` with its schema, collecting the paths of grounded string leaves.
    fn visit(
        &mut self,
        schema: &Value,
        value: &Value,
        path: &mut String,
        grounded: Option<Fix>,
        depth: usize,
    ) {
        static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);
        if depth > MAX_DEPTH {
            return;
        }
        // `true` (or any non-object schema) says nothing more about the value.
        let object = schema.as_object().unwrap_or(&EMPTY);
        let root = self.root;
        let grounded = if object.get(json::GROUNDED) == Some(&Value::Bool(true)) {
            Some(Fix::of(object))
        } else {
            grounded
        };
        if let Some(target) = object
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| json::local_ref(root, r))
        {
            self.visit(target, value, path, grounded, depth + 1);
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            if let Some(Value::Array(branches)) = object.get(key) {
                for branch in branches {
                    self.visit(branch, value, path, grounded, depth + 1);
                }
            }
        }
        match value {
            Value::String(_) if grounded.is_some() => {
                self.paths
                    .insert(path.clone(), grounded.unwrap_or(Fix::Copy));
            }
            Value::Array(items) => self.items(object, items, path, grounded, depth),
            Value::Object(map) => self.properties(object, map, path, grounded, depth),
            _ => {}
        }
    }

    fn items(
        &mut self,
        object: &Map<String, Value>,
        items: &[Value],
        path: &mut String,
        grounded: Option<Fix>,
        depth: usize,
    ) {
        let prefix = object.get("prefixItems").and_then(Value::as_array);
        for (i, item) in items.iter().enumerate() {
            let schema = prefix
                .and_then(|p| p.get(i))
                .or_else(|| object.get("items"))
                .unwrap_or(&Value::Bool(true));
            let len = path.len();
            json::push_index(path, i);
            self.visit(schema, item, path, grounded, depth + 1);
            path.truncate(len);
        }
    }

    fn properties(
        &mut self,
        object: &Map<String, Value>,
        map: &Map<String, Value>,
        path: &mut String,
        grounded: Option<Fix>,
        depth: usize,
    ) {
        let properties = object.get("properties").and_then(Value::as_object);
        for (key, item) in map {
            let schema = properties
                .and_then(|p| p.get(key))
                .or_else(|| object.get("additionalProperties"))
                .unwrap_or(&Value::Bool(true));
            let len = path.len();
            json::push_key(path, key);
            self.visit(schema, item, path, grounded, depth + 1);
            path.truncate(len);
        }
    }
}
