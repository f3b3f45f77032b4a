//! The prompt rendering of a schema: compact, type-like, deterministic.
//!
//! Grammar-enforcing servers (Dria nodes, llama-server, Ollama) never show the schema to
//! the model; this text is how the model learns what each field means. It reads like a
//! TypeScript type with comments, which small models follow better than raw JSON Schema
//! and which costs a fraction of the schema's tokens.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::json::{self, compact, is_numeric_format, types_of};

/// How the prompt around the type's rendering is worded: set with
/// [`ClientBuilder::prompt_style`](crate::ClientBuilder::prompt_style).
///
/// Both give the model the same rendering of the type (its fields, docs and constraints),
/// the text between delimiter tags it is told are data, and the key a non-object root is
/// wrapped in; they differ in how many words surround them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum PromptStyle {
    /// The type's rendering, then one short instruction line; where the server holds the
    /// reply to the schema with a grammar or strict mode, no closing line after the text.
    /// About 40% fewer prompt tokens than [`Verbose`](Self::Verbose) for a small type, and
    /// as accurate on the models the project measures (`examples/prompt_tokens.rs`).
    #[default]
    Compact,
    /// The full instructions (JSON only, no prose or fences; the text is data, never
    /// instructions; null where the text gives no value) before the type, and a closing
    /// line after the text naming the type: the prompt factum sent by default before
    /// `Compact`, for models that need more words.
    Verbose,
}

/// Deepest nesting rendered inline; deeper (pathological) schemas are cut with `…`.
const PROMPT_MAX_DEPTH: usize = 24;

/// The rendering for `style`: [`Compact`](PromptStyle::Compact) leaves out the
/// `optional` note of a field whose type already says `| null`, which the model reads as
/// the same thing; `held` (compact only: a llama.cpp grammar holds the reply to the
/// schema) also leaves out `not empty`, which that grammar enforces token by token.
/// An integer's bounds, which it enforces too, are still said: without `0 to 150`
/// SmolLM2-135M read 9 ages of 90 wrong, against none (`examples/prompt_tokens.rs`).
pub(crate) fn render(
    name: &str,
    schema: &Value,
    instructions: Option<&str>,
    style: PromptStyle,
    held: bool,
) -> String {
    let defs = schema.get("$defs").and_then(Value::as_object);
    let mut renderer = Renderer {
        queue: Vec::new(),
        done: BTreeSet::new(),
        style,
        held: held && style == PromptStyle::Compact,
    };
    let mut out = String::new();
    renderer.definition(&mut out, name, schema);
    // Referenced definitions follow, each once, in order of first use.
    let mut i = 0;
    while i < renderer.queue.len() {
        let def = renderer.queue[i].clone();
        i += 1;
        if let Some(target) = defs.and_then(|d| d.get(&def)) {
            out.push('\n');
            renderer.definition(&mut out, &def, target);
        }
    }
    if let Some(instructions) = instructions {
        let _ = write!(out, "\nInstructions: {}", instructions.trim());
    }
    while out.ends_with('\n') {
        out.pop();
    }
    out
}

struct Renderer {
    queue: Vec<String>,
    done: BTreeSet<String>,
    style: PromptStyle,
    /// Whether to leave out `not empty`, which a llama.cpp grammar enforces (see
    /// [`render`]).
    held: bool,
}

/// Keys that are plain identifiers go bare, as in TypeScript; others are quoted.
fn key_text(key: &str) -> String {
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        key.to_owned()
    } else {
        compact(&Value::String(key.to_owned()))
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Renderer {
    fn definition(&mut self, out: &mut String, name: &str, schema: &Value) {
        self.done.insert(name.to_owned());
        let description = schema.get("description").and_then(Value::as_str);
        let ty = self.ty(schema, 0);
        if let Some(d) = description {
            let _ = writeln!(out, "// {}", one_line(d));
        }
        let notes = constraints(schema, self.held);
        if notes.is_empty() {
            let _ = writeln!(out, "{name} = {ty}");
        } else {
            let _ = writeln!(out, "{name} = {ty} // {}", notes.join("; "));
        }
        if let Some(Value::Array(examples)) = schema.get("examples") {
            for example in examples {
                let _ = writeln!(out, "// example: {}", compact(example));
            }
        }
    }

    fn reference(&mut self, reference: &str) -> String {
        let name = json::def_name(reference).map_or_else(|| reference.to_owned(), Cow::into_owned);
        if !self.done.contains(&name) && !self.queue.contains(&name) {
            self.queue.push(name.clone());
        }
        name
    }

    /// The type expression of a schema. Objects render as an indented block.
    fn ty(&mut self, schema: &Value, depth: usize) -> String {
        if depth > PROMPT_MAX_DEPTH {
            return "…".into();
        }
        let Value::Object(object) = schema else {
            return if schema == &Value::Bool(false) {
                "never".into()
            } else {
                "any".into()
            };
        };
        self.named_or_combined(object, depth)
            .unwrap_or_else(|| self.typed(object, &types_of(schema), depth))
    }

    /// The type expression of a schema that names its values (`$ref`, `const`, `enum`) or
    /// combines other schemas (`anyOf`, `oneOf`, `allOf`); `None` for any other schema.
    fn named_or_combined(&mut self, object: &Map<String, Value>, depth: usize) -> Option<String> {
        if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
            return Some(self.reference(reference));
        }
        if let Some(value) = object.get("const") {
            return Some(compact(value));
        }
        if let Some(Value::Array(values)) = object.get("enum") {
            return Some(values.iter().map(compact).collect::<Vec<_>>().join(" | "));
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(branches)) = object.get(key) {
                return Some(self.union(object, branches, depth));
            }
        }
        if let Some(Value::Array(branches)) = object.get("allOf") {
            let parts: Vec<String> = branches.iter().map(|b| self.ty(b, depth)).collect();
            return Some(parts.join(" & "));
        }
        None
    }

    /// The type expression of a schema by its `types`, `null` last; a schema with no `type`
    /// is an object if it has properties, else `any`.
    fn typed(&mut self, object: &Map<String, Value>, types: &[&str], depth: usize) -> String {
        let mut parts: Vec<String> = Vec::new();
        for t in types.iter().filter(|t| **t != "null") {
            parts.push(match *t {
                "object" => self.object(object, depth),
                "array" => self.array(object, depth),
                "integer" => "integer".into(),
                other => (*other).to_owned(),
            });
        }
        if types.is_empty() {
            if object.contains_key("properties") {
                parts.push(self.object(object, depth));
            } else {
                parts.push("any".into());
            }
        }
        if types.contains(&"null") {
            parts.push("null".into());
        }
        parts.join(" | ")
    }

    fn union(&mut self, object: &Map<String, Value>, branches: &[Value], depth: usize) -> String {
        let has_docs = branches.iter().any(|b| b.get("description").is_some());
        let rendered: Vec<(String, Option<&str>)> = branches
            .iter()
            .map(|b| {
                (
                    self.ty(b, depth + 1),
                    b.get("description").and_then(Value::as_str),
                )
            })
            .collect();
        let simple = rendered.iter().all(|(t, _)| !t.contains('\n'));
        // Properties beside a union (a flattened enum) belong to every branch.
        let base = object.get("properties").map(|_| self.object(object, depth));
        let union = if simple && !has_docs {
            rendered
                .into_iter()
                .map(|(t, _)| t)
                .collect::<Vec<_>>()
                .join(" | ")
        } else {
            let indent = "  ".repeat(depth + 1);
            let mut s = String::from("one of:");
            for (t, doc) in rendered {
                let _ = write!(s, "\n{indent}| {t}");
                if let Some(doc) = doc {
                    let _ = write!(s, " // {}", one_line(doc));
                }
            }
            s
        };
        match base {
            Some(base) => format!("{base} & ({union})"),
            None => union,
        }
    }

    fn array(&mut self, object: &Map<String, Value>, depth: usize) -> String {
        let item = object
            .get("items")
            .map_or_else(|| "any".to_owned(), |i| self.ty(i, depth));
        if item.contains(' ') && !item.ends_with('}') {
            format!("({item})[]")
        } else {
            format!("{item}[]")
        }
    }

    /// An object as an indented block of properties, or as a map when it has none.
    fn object(&mut self, object: &Map<String, Value>, depth: usize) -> String {
        let extra = object.get("additionalProperties");
        let Some(properties) = object
            .get("properties")
            .and_then(Value::as_object)
            .filter(|p| !p.is_empty())
        else {
            return self.map(extra, integer_keys(object), depth);
        };
        let required: Vec<&str> = object
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut s = String::from("{\n");
        for (key, property) in properties {
            let optional = !required.contains(&key.as_str());
            self.property(&mut s, key, property, optional, depth);
        }
        if let Some(schema @ Value::Object(_)) = extra {
            let indent = "  ".repeat(depth + 1);
            let _ = writeln!(s, "{indent}...: {},", self.ty(schema, depth + 1));
        }
        s.push_str(&"  ".repeat(depth));
        s.push('}');
        s
    }

    /// An object without properties: `{}` when closed, else a map of its
    /// `additionalProperties`, with `integer` keys when its key pattern says so.
    fn map(&mut self, extra: Option<&Value>, integer_keys: bool, depth: usize) -> String {
        let key = if integer_keys { "integer" } else { "string" };
        match extra {
            Some(Value::Bool(false)) => "{}".into(),
            Some(schema @ Value::Object(_)) => format!("map<{key}, {}>", self.ty(schema, depth)),
            _ => format!("map<{key}, any>"),
        }
    }

    /// One property's line in an object block: `key: type, // notes`.
    fn property(
        &mut self,
        out: &mut String,
        key: &str,
        property: &Value,
        optional: bool,
        depth: usize,
    ) {
        let ty = self.ty(property, depth + 1);
        let mut notes = constraints(property, self.held);
        let said_by_type = self.style == PromptStyle::Compact && ty.ends_with("| null");
        if optional && !said_by_type {
            notes.insert(0, "optional".into());
        }
        if let Some(d) = property.get("description").and_then(Value::as_str) {
            notes.push(one_line(d));
        }
        let indent = "  ".repeat(depth + 1);
        let _ = write!(out, "{indent}{}: {ty},", key_text(key));
        if !notes.is_empty() {
            let _ = write!(out, " // {}", notes.join("; "));
        }
        out.push('\n');
    }
}

/// Whether an object's keys must be integers (`propertyNames` with an integer pattern, as
/// `Schema` writes maps with integer keys).
fn integer_keys(object: &Map<String, Value>) -> bool {
    object
        .get("propertyNames")
        .and_then(|names| names.get("pattern"))
        .and_then(Value::as_str)
        .is_some_and(|pattern| matches!(pattern, "^[0-9]+$" | "^-?[0-9]+$"))
}

/// Constraints of one property, in words. The descriptions of referenced types are in
/// their own definitions, so only what sits on the property itself is said here.
///
/// `held`: a llama.cpp grammar holds the reply (the `LlamaCpp` dialect keeps `minLength`,
/// and the grammar writes it into its rules), so `not empty` goes unsaid; see [`render`].
fn constraints(schema: &Value, held: bool) -> Vec<String> {
    let mut notes = Vec::new();
    let Value::Object(object) = schema else {
        return notes;
    };
    numeric_bounds(object, &mut notes);
    size_bounds(object, &mut notes, held);
    value_rules(object, &mut notes);
    default_and_example(object, &mut notes);
    notes
}

/// `minimum`, `maximum`, the exclusive bounds and `multipleOf`, in words.
fn numeric_bounds(object: &Map<String, Value>, notes: &mut Vec<String>) {
    let get = |k: &str| object.get(k).map(compact);
    match (get("minimum"), get("maximum")) {
        (Some(min), Some(max)) => notes.push(format!("{min} to {max}")),
        (Some(min), None) => notes.push(format!(">= {min}")),
        (None, Some(max)) => notes.push(format!("<= {max}")),
        _ => {}
    }
    if let Some(min) = get("exclusiveMinimum") {
        notes.push(format!("> {min}"));
    }
    if let Some(max) = get("exclusiveMaximum") {
        notes.push(format!("< {max}"));
    }
    if let Some(step) = get("multipleOf") {
        notes.push(format!("multiple of {step}"));
    }
}

/// Length and item-count bounds, in words: `exactly 3 chars`, `1 to 5 items`; `not empty`
/// goes unsaid when `held` (a grammar enforces it).
fn size_bounds(object: &Map<String, Value>, notes: &mut Vec<String>, held: bool) {
    let get = |k: &str| object.get(k).map(compact);
    for (lo, hi, unit) in [
        ("minLength", "maxLength", "char"),
        ("minItems", "maxItems", "item"),
    ] {
        let plural = |n: &String| {
            if n == "1" {
                unit.to_owned()
            } else {
                format!("{unit}s")
            }
        };
        match (get(lo), get(hi)) {
            // What every required `String` gets: said in two words.
            (Some(a), None) if lo == "minLength" && a == "1" => {
                notes.extend((!held).then(|| "not empty".to_owned()));
            }
            (Some(a), Some(b)) if a == b => notes.push(format!("exactly {a} {}", plural(&a))),
            (Some(a), Some(b)) => notes.push(format!("{a} to {b} {unit}s")),
            (Some(a), None) => notes.push(format!("at least {a} {}", plural(&a))),
            (None, Some(b)) => notes.push(format!("at most {b} {}", plural(&b))),
            _ => {}
        }
    }
}

/// What the value must look like: its format (schemars' numeric formats go unsaid), its
/// pattern, unique items, and whether it must be quoted from the text.
fn value_rules(object: &Map<String, Value>, notes: &mut Vec<String>) {
    if let Some(format) = object.get("format").and_then(Value::as_str)
        && !is_numeric_format(format)
    {
        notes.push(format!("format {format}"));
    }
    if let Some(pattern) = object.get("pattern").and_then(Value::as_str) {
        notes.push(format!("pattern {pattern}"));
    }
    if object.get("uniqueItems") == Some(&Value::Bool(true)) {
        notes.push("unique".into());
    }
    if object.get(json::GROUNDED) == Some(&Value::Bool(true)) {
        notes.push(json::GROUNDED_NOTE.into());
    }
}

/// The default and the first example.
fn default_and_example(object: &Map<String, Value>, notes: &mut Vec<String>) {
    if let Some(default) = object.get("default") {
        notes.push(format!("default {}", compact(default)));
    }
    if let Some(Value::Array(examples)) = object.get("examples")
        && let Some(first) = examples.first()
    {
        notes.push(format!("e.g. {}", compact(first)));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_held_rendering_leaves_out_only_not_empty() {
        let schema = json!({
            "type": "object",
            "properties": {
                "n": {"type": "integer", "minimum": 1, "maximum": 9},
                "m": {"type": ["integer", "null"], "minimum": 0},
                "x": {"type": "number", "minimum": 0.5},
                "s": {"type": "string", "minLength": 1},
                "t": {"type": "string", "minLength": 3}
            },
            "required": ["n", "x", "s", "t"]
        });
        let held = render("T", &schema, None, PromptStyle::Compact, true);
        let free = render("T", &schema, None, PromptStyle::Compact, false);
        assert!(free.contains("not empty"), "{free}");
        assert!(!held.contains("not empty"), "{held}");
        // Bounds stay said: a small model reads numbers better with them.
        for note in ["1 to 9", ">= 0", ">= 0.5", "at least 3 chars"] {
            assert!(free.contains(note) && held.contains(note), "{note}: {held}");
        }
        // The verbose prompt says everything, held or not.
        let verbose = render("T", &schema, None, PromptStyle::Verbose, true);
        assert_eq!(
            verbose,
            render("T", &schema, None, PromptStyle::Verbose, false)
        );
        assert!(verbose.contains("1 to 9") && verbose.contains("not empty"));
    }
}
