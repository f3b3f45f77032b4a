//! `#[extract(grounded)]`: the fields whose values must be quoted from the text. The
//! derive marks their schemas with [`GROUNDED`]; after grounding, a marked string found
//! only fuzzily or not at all is a violation at its path, which the re-ask shows the model.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::{Match, Span};
use crate::{Violation, json};

/// The schema keyword of a grounded field. It is ours: lowering takes it out of what
/// servers see and says it in the description instead.
pub(crate) const GROUNDED: &str = "x-grounded";

/// What the prompt and a lowered description say of a grounded field.
pub(crate) const GROUNDED_NOTE: &str = "copied exactly as written in the text";

/// Deepest schema walked: deeper values are not checked (the parser bounds nesting well
/// below this anyway).
const MAX_DEPTH: usize = 64;

/// The violations of the grounded fields of `value` (checked against `schema`, the source
/// schema), given its spans in `text`.
pub(crate) fn violations(
    schema: &Value,
    value: &Value,
    spans: &[Span],
    text: &str,
) -> Vec<Violation> {
    if !mentions(schema) {
        return Vec::new();
    }
    let mut paths = BTreeSet::new();
    let mut walk = Walk {
        root: schema,
        paths: &mut paths,
    };
    walk.visit(schema, value, &mut String::new(), false, 0);
    spans
        .iter()
        .filter(|s| paths.contains(&s.path) && !s.quality.is_quoted())
        .map(|s| Violation::new(s.path.clone(), message(s, text)))
        .collect()
}

/// The feedback for one value that is not in the text as written.
fn message(span: &Span, text: &str) -> String {
    let value = json::excerpt(&span.value, 80);
    match (span.quality, span.text(text)) {
        (Match::Fuzzy(_), Some(passage)) => format!(
            "\"{value}\" is not written so in the text (the closest passage is \"{}\"); copy the value exactly as it is written in the text",
            json::excerpt(passage, 80)
        ),
        _ => format!(
            "\"{value}\" is not in the text; copy the value exactly as it is written in the text, or leave it out if the text does not give it"
        ),
    }
}

/// Whether the schema marks anything grounded at all (most schemas do not: no walk).
fn mentions(schema: &Value) -> bool {
    match schema {
        Value::Object(map) => map.contains_key(GROUNDED) || map.values().any(mentions),
        Value::Array(items) => items.iter().any(mentions),
        _ => false,
    }
}

struct Walk<'a> {
    root: &'a Value,
    paths: &'a mut BTreeSet<String>,
}

impl Walk<'_> {
    /// Walks `value` with its schema, collecting the paths of grounded string leaves.
    fn visit(
        &mut self,
        schema: &Value,
        value: &Value,
        path: &mut String,
        grounded: bool,
        depth: usize,
    ) {
        static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);
        if depth > MAX_DEPTH {
            return;
        }
        // `true` (or any non-object schema) says nothing more about the value.
        let object = schema.as_object().unwrap_or(&EMPTY);
        let root = self.root;
        let grounded = grounded || object.get(GROUNDED) == Some(&Value::Bool(true));
        if let Some(target) = object
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| target(root, r))
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
            Value::String(_) if grounded => {
                self.paths.insert(path.clone());
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
        grounded: bool,
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
        grounded: bool,
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

/// The definition a local `$ref` names.
fn target<'v>(root: &'v Value, reference: &str) -> Option<&'v Value> {
    let name = json::def_name(reference)?;
    root.get("$defs")?.get(name.as_ref())
}
