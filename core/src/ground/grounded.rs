//! `#[extract(grounded)]`: the fields whose values must be quoted from the text. The
//! derive marks their schemas with [`GROUNDED`](json::GROUNDED); after grounding, a marked string found
//! only fuzzily or not at all is a violation at its path, which the re-ask shows the model.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::span::{Match, Span};
use crate::{Grounding, Violation, json};

/// What the feedback says of a value that is not in the text; the pipeline knows such a
/// failure by it.
pub(crate) const NOT_IN_TEXT: &str = "is not in the text";

/// Deepest schema walked: deeper values are not checked (the parser bounds nesting well
/// below this anyway).
const MAX_DEPTH: usize = 64;

/// The values of a reply that are not in the text although they should be, by the fields
/// marked `#[extract(grounded)]` and the [`Grounding`] policy.
#[derive(Debug, Default)]
pub(crate) struct Unfounded {
    /// One violation per such value, with the feedback the re-ask shows.
    pub(crate) violations: Vec<Violation>,
    /// Those that default grounding may drop after a re-ask (an optional field's value):
    /// the path, and whether the field takes `null` (else it is left out).
    pub(crate) droppable: Vec<(String, bool)>,
}

/// The violations of the grounded fields of `value` (checked against `schema`, the source
/// schema), given its spans in `text`. A field marked `grounded` must be quoted (Exact or
/// Normalized); a value the policy checks must be found at all (not NotFound). Callers skip
/// it when there is nothing to check ([`Schema::has_grounded`](crate::Schema::has_grounded)
/// and [`Grounding::Off`]).
pub(crate) fn unfounded(
    schema: &Value,
    value: &Value,
    spans: &[Span],
    text: &str,
    policy: Grounding,
) -> Unfounded {
    // Only a value not quoted can fail either check, so a reply whose every value is
    // quoted (the common case) needs no walk of its schema: the walk cost 22,000
    // instructions of a three-field reply, half of factum's lead over raw reqwest on the
    // batch bench.
    if spans.iter().all(|span| span.quality.is_quoted()) {
        return Unfounded::default();
    }
    let mut paths = BTreeMap::new();
    let mut walk = Walk {
        root: schema,
        paths: &mut paths,
        policy,
    };
    walk.visit(schema, value, &mut String::new(), Check::No, 0);
    let mut out = Unfounded::default();
    for span in spans {
        let (fix, strict) = match paths.get(&span.path) {
            Some(Check::Grounded(fix)) if !span.quality.is_quoted() => (*fix, true),
            Some(Check::Default(fix)) if span.quality == Match::NotFound => (*fix, false),
            _ => continue,
        };
        if !strict && matches!(fix, Fix::NullOrCopy | Fix::OmitOrCopy) {
            out.droppable
                .push((span.path.clone(), fix == Fix::NullOrCopy));
        }
        out.violations
            .push(Violation::new(span.path.clone(), message(span, fix, text)));
    }
    out
}

/// How a value is checked against the text, as the walk goes down the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    No,
    /// `#[extract(grounded)]`: quoted exactly.
    Grounded(Fix),
    /// The [`Grounding`] policy: found at all.
    Default(Fix),
    /// `#[extract(inferred)]`, an enum, a boolean, a date: never.
    Exempt,
}

/// What a model can do about a grounded value that is not in the text, besides copying
/// it as written: by the schema that carries the mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fix {
    /// A required string: copy it.
    Copy,
    /// An optional one: copy it, or `null` when the text gives none.
    NullOrCopy,
    /// A field with a default: copy it, or leave it out when the text gives none.
    OmitOrCopy,
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
            Fix::OmitOrCopy => {
                "copy the value exactly as it is written in the text, or leave the field out if the text does not give it"
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
        _ => format!("\"{value}\" {NOT_IN_TEXT}; {advice}"),
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
    paths: &'a mut BTreeMap<String, Check>,
    policy: Grounding,
}

/// Whether a schema says its value is never checked: `#[extract(inferred)]`, an enum or a
/// `const`, a boolean, a date or time.
fn exempt(object: &Map<String, Value>) -> bool {
    object.contains_key(json::INFERRED)
        || object.contains_key("enum")
        || object.contains_key("const")
        || object.get("type") == Some(&Value::from("boolean"))
        || matches!(
            object.get("format").and_then(Value::as_str),
            Some("date" | "date-time" | "time")
        )
}

/// Whether a schema admits a leaf value of this JSON type (a schema without a `type`
/// admits any).
fn takes_leaf(object: &Map<String, Value>, value: &Value) -> bool {
    let composite = ["$ref", "anyOf", "oneOf", "allOf"]
        .iter()
        .any(|k| object.contains_key(*k));
    let ty = match value {
        Value::String(_) => "string",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        _ => return false,
    };
    !composite
        && (!object.contains_key("type")
            || admits(object, ty)
            || (ty == "integer" && admits(object, "number")))
}

impl Walk<'_> {
    /// Walks `value` with its schema, collecting the paths of checked leaves.
    fn visit(
        &mut self,
        schema: &Value,
        value: &Value,
        path: &mut String,
        check: Check,
        depth: usize,
    ) {
        static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);
        if depth > MAX_DEPTH {
            return;
        }
        // `true` (or any non-object schema) says nothing more about the value.
        let object = schema.as_object().unwrap_or(&EMPTY);
        let root = self.root;
        let check = if object.get(json::GROUNDED) == Some(&Value::Bool(true)) {
            Check::Grounded(Fix::of(object))
        } else if !matches!(check, Check::Grounded(_)) && exempt(object) {
            Check::Exempt
        } else {
            check
        };
        if let Some(target) = object
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| json::local_ref(root, r))
        {
            self.visit(target, value, path, check, depth + 1);
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            if let Some(Value::Array(branches)) = object.get(key) {
                for branch in branches {
                    self.visit(branch, value, path, check, depth + 1);
                }
            }
        }
        // A `$ref` or a union says what the value is through its branches, walked above;
        // walked here too, it would read every member as unknown (and optional).
        let composite = ["$ref", "anyOf", "oneOf", "allOf"]
            .iter()
            .any(|k| object.contains_key(*k));
        let own = ["type", "properties", "items"]
            .iter()
            .any(|k| object.contains_key(*k));
        if own || !composite {
            self.leaf_or_members(object, value, path, check, depth);
        }
    }

    fn leaf_or_members(
        &mut self,
        object: &Map<String, Value>,
        value: &Value,
        path: &mut String,
        check: Check,
        depth: usize,
    ) {
        match value {
            Value::String(_) | Value::Number(_) if takes_leaf(object, value) => {
                let checked = match check {
                    Check::Grounded(_) => value.is_string(),
                    Check::Default(_) => true,
                    Check::No | Check::Exempt => false,
                };
                if checked {
                    self.paths.entry(path.clone()).or_insert(check);
                }
            }
            Value::Array(items) => {
                let check = match check {
                    Check::Default(_) if self.policy == Grounding::All => {
                        Check::Default(Fix::DropOrCopy)
                    }
                    Check::Default(_) => Check::No,
                    other => other,
                };
                self.items(object, items, path, check, depth);
            }
            Value::Object(map) => self.properties(object, map, path, check, depth),
            _ => {}
        }
    }

    /// How the policy checks the value of property `key` of `object`, whose schema is
    /// `schema`, when nothing above decided it.
    fn policy_for(&self, object: &Map<String, Value>, key: &str, schema: &Value) -> Check {
        let required = object
            .get("required")
            .and_then(Value::as_array)
            .is_some_and(|r| r.iter().any(|k| k == key));
        let nullable = schema.as_object().is_some_and(|s| admits(s, "null"));
        let fix = match (nullable, required) {
            (true, _) => Fix::NullOrCopy,
            (false, false) => Fix::OmitOrCopy,
            (false, true) => Fix::Copy,
        };
        match self.policy {
            Grounding::All => Check::Default(fix),
            Grounding::Optional if fix != Fix::Copy => Check::Default(fix),
            _ => Check::No,
        }
    }

    fn items(
        &mut self,
        object: &Map<String, Value>,
        items: &[Value],
        path: &mut String,
        check: Check,
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
            self.visit(schema, item, path, check, depth + 1);
            path.truncate(len);
        }
    }

    fn properties(
        &mut self,
        object: &Map<String, Value>,
        map: &Map<String, Value>,
        path: &mut String,
        check: Check,
        depth: usize,
    ) {
        let properties = object.get("properties").and_then(Value::as_object);
        for (key, item) in map {
            let schema = properties
                .and_then(|p| p.get(key))
                .or_else(|| object.get("additionalProperties"))
                .unwrap_or(&Value::Bool(true));
            let check = match check {
                Check::Grounded(_) | Check::Exempt => check,
                Check::No | Check::Default(_) => self.policy_for(object, key, schema),
            };
            let len = path.len();
            json::push_key(path, key);
            self.visit(schema, item, path, check, depth + 1);
            path.truncate(len);
        }
    }
}

/// [`unfounded`] of the fields marked `grounded` alone: their violations.
#[cfg(test)]
pub(crate) fn violations(
    schema: &Value,
    value: &Value,
    spans: &[Span],
    text: &str,
) -> Vec<Violation> {
    unfounded(schema, value, spans, text, Grounding::Off).violations
}
