//! llama.cpp's json-schema-to-grammar subset, which Dria nodes, llama-server and Ollama
//! enforce: the llama.cpp pass and its helpers.
//!
//! `lower` keeps the `$ref`s of recursive definitions (`recursive_defs`) and inlines every
//! other one. `Pass::run` then drops annotations, rewrites patterns into the converter's
//! regex subset (`lower_pattern`, see `pattern.rs`), drops the
//! formats the converter does not know, drops every keyword it would skip and says it in
//! words (`ignored.rs`), and pushes properties and `type` that sit beside a union down
//! into its branches (`distribute_properties`, `push_type_into_branches`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::{append_sentence, drop_format, pattern, ref_name};
mod ignored;

/// Formats llama.cpp's grammar converter enforces; others are skipped silently there.
const FORMATS: &[&str] = &[
    "date",
    "time",
    "date-time",
    "uuid",
    "uuid1",
    "uuid2",
    "uuid3",
    "uuid4",
    "uuid5",
];

/// Annotations the converter has no use for: dropped.
const DROPPED: &[&str] = &[
    "default",
    "examples",
    "title",
    "deprecated",
    "readOnly",
    "writeOnly",
    "$comment",
];

/// The source schema lowered to the llama.cpp subset. Every schema can be.
pub(super) fn lower(source: &Value) -> Value {
    let mut root = source.clone();
    let defs = match &mut root {
        Value::Object(object) => {
            object.remove("$schema");
            object.remove("$defs")
        }
        _ => None,
    };
    let defs = match defs {
        Some(Value::Object(defs)) => defs,
        _ => Map::new(),
    };
    let recursive = recursive_defs(&defs);
    let mut pass = Pass {
        defs: &defs,
        recursive: &recursive,
        stack: Vec::new(),
    };
    let mut kept = Map::new();
    for (name, schema) in &defs {
        if recursive.contains(name) {
            let mut schema = schema.clone();
            pass.run(&mut schema);
            kept.insert(name.clone(), schema);
        }
    }
    pass.run(&mut root);
    if !kept.is_empty()
        && let Value::Object(object) = &mut root
    {
        object.insert("$defs".into(), Value::Object(kept));
    }
    root
}

/// Definitions that reach themselves: those keep their `$ref`s; every other reference is
/// inlined, since llama.cpp documents nested `$ref`s as broken.
fn recursive_defs(defs: &Map<String, Value>) -> BTreeSet<String> {
    let edges: BTreeMap<&str, BTreeSet<String>> = defs
        .iter()
        .map(|(name, schema)| {
            let mut targets = BTreeSet::new();
            refs(schema, &mut targets);
            (name.as_str(), targets)
        })
        .collect();
    edges
        .keys()
        .filter(|start| reaches_itself(&edges, start))
        .map(|start| (*start).to_owned())
        .collect()
}

/// Every definition a schema's `$ref`s name, at any depth.
fn refs(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(name) = ref_name(map) {
                out.insert(name);
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// Whether following references from `start` leads back to `start`.
fn reaches_itself(edges: &BTreeMap<&str, BTreeSet<String>>, start: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&str> = edges
        .get(start)
        .map(|targets| targets.iter().map(String::as_str).collect())
        .unwrap_or_default();
    while let Some(next) = todo.pop() {
        if next == start {
            return true;
        }
        if seen.insert(next)
            && let Some(targets) = edges.get(next)
        {
            todo.extend(targets.iter().map(String::as_str));
        }
    }
    false
}

/// The llama.cpp pass over one schema, with what it needs to inline references.
struct Pass<'a> {
    /// The source definitions.
    defs: &'a Map<String, Value>,
    /// The definitions that keep their `$ref`s.
    recursive: &'a BTreeSet<String>,
    /// The definitions being inlined, outermost first.
    stack: Vec<String>,
}

impl Pass<'_> {
    /// Rewrites one subschema (and everything below it) into the llama.cpp subset.
    fn run(&mut self, schema: &mut Value) {
        let Value::Object(object) = schema else {
            return;
        };
        if let Some(inlined) = self.inlined(object) {
            *schema = inlined;
            return;
        }
        for keyword in DROPPED {
            object.remove(*keyword);
        }
        lower_pattern(object);
        drop_format(object, FORMATS);
        ignored::drop_ignored(object);
        self.walk_children(object);
        distribute_properties(object);
        push_type_into_branches(object);
    }

    /// The lowered target of a `$ref` to a definition that is not recursive, carrying the
    /// reference's description; `None` when the reference stays.
    fn inlined(&mut self, object: &Map<String, Value>) -> Option<Value> {
        let name = ref_name(object)
            .filter(|name| !self.recursive.contains(name) && !self.stack.contains(name))?;
        let mut inlined = self.defs.get(&name)?.clone();
        if let (Value::Object(inlined), Some(description)) =
            (&mut inlined, object.get("description"))
        {
            inlined.insert("description".into(), description.clone());
        }
        self.stack.push(name);
        self.run(&mut inlined);
        self.stack.pop();
        Some(inlined)
    }

    /// Runs the pass on every subschema directly below this one.
    fn walk_children(&mut self, object: &mut Map<String, Value>) {
        for key in ["properties", "$defs"] {
            if let Some(Value::Object(children)) = object.get_mut(key) {
                for child in children.values_mut() {
                    self.run(child);
                }
            }
        }
        for key in ["anyOf", "oneOf", "allOf", "prefixItems"] {
            if let Some(Value::Array(children)) = object.get_mut(key) {
                for child in children {
                    self.run(child);
                }
            }
        }
        for key in ["items", "additionalProperties"] {
            if let Some(child) = object.get_mut(key) {
                self.run(child);
            }
        }
    }
}

/// Rewrites `pattern` into the converter's regex subset ([`pattern::translate`]): anchored,
/// with `\d`, `\w`, `\s` and their negations spelled as classes. A pattern the subset cannot
/// express is dropped and said in the description; the reply is still checked against it.
fn lower_pattern(object: &mut Map<String, Value>) {
    let Some(source) = object
        .get("pattern")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return;
    };
    match pattern::translate(&source) {
        Ok(translated) => {
            object.insert("pattern".into(), translated.into());
        }
        Err(reason) => {
            tracing::debug!(pattern = %source, %reason, "pattern left to the description");
            object.remove("pattern");
            append_sentence(object, &format!("Must match the pattern {source}."));
        }
    }
}

/// llama.cpp ignores `properties` that sit beside `anyOf`/`oneOf` (llama.cpp #7703): push
/// them down into every branch instead. With both unions present the converter reads
/// `oneOf`.
fn distribute_properties(object: &mut Map<String, Value>) {
    let key = if object.contains_key("oneOf") {
        "oneOf"
    } else if object.contains_key("anyOf") {
        "anyOf"
    } else {
        return;
    };
    let Some(Value::Object(properties)) = object.get("properties").cloned() else {
        return;
    };
    let required = object.get("required").cloned();
    let Some(Value::Array(branches)) = object.get_mut(key) else {
        return;
    };
    for branch in branches {
        if let Value::Object(branch) = branch {
            merge_into_branch(branch, &properties, required.as_ref());
        }
    }
    object.remove("properties");
    object.remove("required");
    object.remove("type");
}

/// The converter reads a union alone, so a `type` beside `anyOf`/`oneOf` would be
/// skipped: it moves into each branch that has no `type` of its own. A branch that is a
/// `$ref`, a `const` or an `enum` is left as it is: the converter reads those alone too,
/// and the validator still checks the outer `type`.
fn push_type_into_branches(object: &mut Map<String, Value>) {
    let key = if object.contains_key("oneOf") {
        "oneOf"
    } else if object.contains_key("anyOf") {
        "anyOf"
    } else {
        return;
    };
    let Some(outer) = object.shift_remove("type") else {
        return;
    };
    if let Some(Value::Array(branches)) = object.get_mut(key) {
        for branch in branches.iter_mut().filter_map(Value::as_object_mut) {
            if !["type", "$ref", "const", "enum"]
                .iter()
                .any(|keyword| branch.contains_key(*keyword))
            {
                branch.insert("type".into(), outer.clone());
            }
        }
    }
}

/// Gives one branch of a union the properties and `required` names of the object around
/// it. The outer properties come first; where both have a property, the branch's wins.
fn merge_into_branch(
    branch: &mut Map<String, Value>,
    properties: &Map<String, Value>,
    required: Option<&Value>,
) {
    branch.entry("type").or_insert_with(|| "object".into());
    let target = branch
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(target) = target {
        let mut merged = properties.clone();
        merged.extend(std::mem::take(target));
        *target = merged;
    }
    if let Some(Value::Array(required)) = required {
        let list = branch
            .entry("required")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = list {
            for name in required.iter().rev() {
                if !list.contains(name) {
                    list.insert(0, name.clone());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_definitions_that_reach_themselves_are_recursive() {
        let defs = json!({
            "Tree": {"properties": {"kids": {"items": {"$ref": "#/$defs/Tree"}}}},
            "Ping": {"properties": {"pong": {"$ref": "#/$defs/Pong"}}},
            "Pong": {"anyOf": [{"$ref": "#/$defs/Ping"}, {"type": "null"}]},
            "Leaf": {"type": "string"},
            "Uses": {"properties": {"leaf": {"$ref": "#/$defs/Leaf"}}}
        });
        let recursive = recursive_defs(defs.as_object().unwrap());
        assert_eq!(recursive, ["Ping", "Pong", "Tree"].map(String::from).into());
    }

    #[test]
    fn a_type_beside_a_union_moves_into_the_branches() {
        let mut union = json!({
            "type": "string",
            "anyOf": [{"minLength": 2}, {"const": "x"}, {"type": "null"}]
        });
        let Value::Object(object) = &mut union else {
            unreachable!("an object")
        };
        push_type_into_branches(object);
        assert_eq!(
            union,
            json!({"anyOf": [{"minLength": 2, "type": "string"}, {"const": "x"}, {"type": "null"}]})
        );
    }
}
