//! Lowering: one source schema in, one copy per server dialect out.
//!
//! Each pass only removes or rewrites what its dialect cannot carry, and moves the meaning
//! of what it removes into the description text, so that a model that reads the schema
//! still learns the constraint. Replies are always validated against the source schema.

use std::borrow::Cow;
use std::collections::BTreeSet;

use std::fmt;

use serde_json::{Map, Value};

use crate::json::{NUMERIC_FORMATS, compact, def_name, is_object_schema, push_key, types};

/// The JSON Schema dialects factum lowers the source schema to.
///
/// Each server accepts a subset of JSON Schema; [`Schema::for_dialect`] gives a copy of the
/// source schema that fits the subset. What the subset cannot carry moves into the
/// description text and is still checked locally against the full source schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// OpenAI Structured Outputs with `strict: true`: every object closed, every property
    /// required (`Option` as a null union), no `oneOf`, `allOf` or `default`, an object
    /// root, and the documented size limits.
    OpenAiStrict,
    /// llama.cpp's json-schema-to-grammar subset, enforced by Dria nodes, llama-server and
    /// Ollama: anchored patterns, only the formats it knows, integer-only bounds.
    LlamaCpp,
}

impl Dialect {
    /// Every dialect, in a fixed order.
    pub const ALL: [Dialect; 2] = [Dialect::OpenAiStrict, Dialect::LlamaCpp];

    pub(crate) fn index(self) -> usize {
        match self {
            Dialect::OpenAiStrict => 0,
            Dialect::LlamaCpp => 1,
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dialect::OpenAiStrict => "openai-strict",
            Dialect::LlamaCpp => "llama.cpp",
        })
    }
}

/// Why a schema cannot be lowered to a dialect. Each message names the JSON path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// Objects nest deeper than the dialect allows.
    #[error("schema nests {depth} levels deep at `{path}`, over the {dialect} limit of {limit}")]
    TooDeep {
        /// JSON pointer into the lowered schema.
        path: String,
        /// Nesting depth found.
        depth: usize,
        /// The dialect's limit.
        limit: usize,
        /// The dialect.
        dialect: Dialect,
    },
    /// More object properties in total than the dialect allows.
    #[error(
        "schema has {count} object properties (the last at `{path}`), over the {dialect} limit of {limit}"
    )]
    TooManyProperties {
        /// JSON pointer of the property that crossed the limit.
        path: String,
        /// Properties counted.
        count: usize,
        /// The dialect's limit.
        limit: usize,
        /// The dialect.
        dialect: Dialect,
    },
    /// More enum values in total than the dialect allows.
    #[error(
        "schema has {count} enum values (the last at `{path}`), over the {dialect} limit of {limit}"
    )]
    TooManyEnumValues {
        /// JSON pointer of the enum that crossed the limit.
        path: String,
        /// Values counted.
        count: usize,
        /// The dialect's limit.
        limit: usize,
        /// The dialect.
        dialect: Dialect,
    },
    /// The schema's name does not match `[a-zA-Z0-9_-]{1,64}`.
    #[error("schema name `{name}` does not match [a-zA-Z0-9_-]{{1,64}}")]
    InvalidName {
        /// The offending name.
        name: String,
    },
    /// The source schema is not a valid JSON Schema: the validator does not compile.
    #[error("the schema is not a valid JSON Schema: {message}")]
    Invalid {
        /// The validator's message.
        message: String,
    },
    /// A construct the dialect cannot express at all.
    #[error("{dialect} cannot express the schema at `{path}`: {reason}")]
    Unsupported {
        /// JSON pointer into the source schema.
        path: String,
        /// What is wrong.
        reason: String,
        /// The dialect.
        dialect: Dialect,
    },
}

impl SchemaError {
    /// The JSON pointer the error is about (`""` for the root).
    pub fn path(&self) -> &str {
        match self {
            SchemaError::TooDeep { path, .. }
            | SchemaError::TooManyProperties { path, .. }
            | SchemaError::TooManyEnumValues { path, .. }
            | SchemaError::Unsupported { path, .. } => path,
            SchemaError::InvalidName { .. } | SchemaError::Invalid { .. } => "",
        }
    }
}

/// OpenAI's documented limits. The conservative figures (2024 docs, still current on
/// Azure) are the defaults: a schema that fits them fits every deployment.
pub(crate) const MAX_DEPTH: usize = 5;
pub(crate) const MAX_PROPERTIES: usize = 100;
pub(crate) const MAX_ENUM_VALUES: usize = 500;
const MAX_NAME_LEN: usize = 64;

/// Formats OpenAI strict mode accepts.
const OPENAI_FORMATS: &[&str] = &[
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
/// Formats llama.cpp's grammar converter enforces; others are skipped silently there.
const LLAMA_FORMATS: &[&str] = &[
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

pub(crate) fn lower(name: &str, source: &Value, dialect: Dialect) -> Result<Value, SchemaError> {
    match dialect {
        Dialect::OpenAiStrict => openai_strict(name, source),
        Dialect::LlamaCpp => Ok(llama_cpp(source)),
    }
}

// ---- shared helpers ------------------------------------------------------------------

/// Appends a sentence to a schema's description.
fn note(object: &mut Map<String, Value>, sentence: &str) {
    match object.get_mut("description") {
        Some(Value::String(text)) if !text.is_empty() => {
            if !text.ends_with('.') {
                text.push('.');
            }
            text.push(' ');
            text.push_str(sentence);
        }
        _ => {
            object.insert("description".into(), sentence.into());
        }
    }
}

// ---- OpenAI strict -------------------------------------------------------------------

fn openai_strict(name: &str, source: &Value) -> Result<Value, SchemaError> {
    if name.is_empty()
        || name.len() > MAX_NAME_LEN
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(SchemaError::InvalidName {
            name: name.to_owned(),
        });
    }
    let mut root = source.clone();
    let Value::Object(object) = &mut root else {
        return Err(unsupported("", "the schema is not an object"));
    };
    object.remove("$schema");
    let defs = object.remove("$defs");
    if !is_object_schema(&root) {
        // `Schema` wraps non-object roots before lowering; a bare one here is a schema
        // built by hand, which strict mode cannot take as it is.
        return Err(unsupported("", "the root must be an object"));
    }
    let source_defs = match defs {
        Some(Value::Object(defs)) => defs,
        _ => Map::new(),
    };
    let mut lowered_defs = Map::new();
    for (def, schema) in &source_defs {
        let mut schema = schema.clone();
        let mut path = String::from("/$defs");
        push_key(&mut path, def);
        strict_pass(&mut schema, &mut path, &source_defs)?;
        lowered_defs.insert(def.clone(), schema);
    }
    strict_pass(&mut root, &mut String::new(), &source_defs)?;
    if !lowered_defs.is_empty()
        && let Value::Object(object) = &mut root
    {
        object.insert("$defs".into(), Value::Object(lowered_defs));
    }
    check_limits(&root)?;
    Ok(root)
}

fn unsupported(path: &str, reason: &str) -> SchemaError {
    SchemaError::Unsupported {
        path: path.to_owned(),
        reason: reason.to_owned(),
        dialect: Dialect::OpenAiStrict,
    }
}

/// Rewrites one subschema (and everything below it) into the strict subset.
fn strict_pass(
    schema: &mut Value,
    path: &mut String,
    defs: &Map<String, Value>,
) -> Result<(), SchemaError> {
    let Value::Object(object) = schema else {
        if schema == &Value::Bool(true) {
            return Err(unsupported(
                path,
                "an unconstrained value (`serde_json::Value`) cannot be expressed",
            ));
        }
        return Ok(());
    };

    // `{}` (what `serde_json::Value` gives) admits anything, which strict mode cannot say.
    if object.keys().all(|k| {
        matches!(
            k.as_str(),
            "description" | "title" | "$comment" | "examples" | "default"
        )
    }) {
        return Err(unsupported(
            path,
            "an unconstrained value (`serde_json::Value`) cannot be expressed",
        ));
    }

    // `$ref` takes no sibling keywords in strict mode; the prompt carries the description.
    if object.contains_key("$ref") {
        object.retain(|k, _| k == "$ref");
        return Ok(());
    }

    for keyword in [
        "$schema",
        "title",
        "deprecated",
        "readOnly",
        "writeOnly",
        "$comment",
    ] {
        object.remove(keyword);
    }
    if let Some(default) = object.remove("default") {
        note(object, &format!("Default: {}.", compact(&default)));
    }
    if let Some(Value::Array(examples)) = object.remove("examples")
        && let Some(first) = examples.first()
    {
        note(object, &format!("Example: {}.", compact(first)));
    }
    for (keyword, words) in [
        ("minLength", "At least {} characters."),
        ("maxLength", "At most {} characters."),
        ("minProperties", "At least {} entries."),
        ("maxProperties", "At most {} entries."),
    ] {
        if let Some(bound) = object.remove(keyword) {
            note(object, &words.replace("{}", &compact(&bound)));
        }
    }
    if object.remove("uniqueItems") == Some(Value::Bool(true)) {
        note(object, "Items must be unique.");
    }
    if let Some(format) = object
        .get("format")
        .and_then(Value::as_str)
        .map(str::to_owned)
        && !OPENAI_FORMATS.contains(&format.as_str())
    {
        object.remove("format");
        if !NUMERIC_FORMATS.contains(&format.as_str()) {
            note(object, &format!("Format: {format}."));
        }
    }
    for keyword in [
        "not",
        "if",
        "then",
        "else",
        "dependentRequired",
        "dependentSchemas",
        "patternProperties",
        "propertyNames",
        "contains",
        "minContains",
        "maxContains",
        "unevaluatedProperties",
        "unevaluatedItems",
    ] {
        if object.remove(keyword).is_some() {
            note(
                object,
                &format!("(The `{keyword}` constraint is checked after the reply.)"),
            );
        }
    }
    if object.contains_key("prefixItems") {
        return Err(unsupported(
            path,
            "tuples (`prefixItems`) cannot be expressed",
        ));
    }

    if let Some(one_of) = object.remove("oneOf") {
        object.insert("anyOf".into(), one_of);
    }
    if let Some(Value::Array(all_of)) = object.remove("allOf") {
        merge_all_of(object, all_of, defs);
    }

    if let Some(Value::Array(branches)) = object.get_mut("anyOf") {
        for (i, branch) in branches.iter_mut().enumerate() {
            let len = path.len();
            path.push_str("/anyOf/");
            path.push_str(&i.to_string());
            strict_pass(branch, path, defs)?;
            path.truncate(len);
        }
        // A string enum written as `oneOf` constants is simpler, and as valid, as `enum`.
        collapse_constants(object);
    }

    let is_object = types(object).contains(&"object") || object.contains_key("properties");
    if is_object {
        match object.get("additionalProperties") {
            Some(Value::Bool(false)) | None => {}
            Some(_) => {
                return Err(unsupported(
                    path,
                    "an object with open keys (a map such as `HashMap`) cannot be expressed",
                ));
            }
        }
        object.insert("additionalProperties".into(), Value::Bool(false));
        let mut all = Vec::new();
        if let Some(Value::Object(properties)) = object.get_mut("properties") {
            for (key, property) in properties.iter_mut() {
                let len = path.len();
                path.push_str("/properties");
                push_key(path, key);
                strict_pass(property, path, defs)?;
                path.truncate(len);
                // Every property becomes required. An optional `Option` field admits null
                // already; a field with a serde default that is not an `Option` stays
                // non-null, since serde would reject null for it.
                all.push(Value::String(key.clone()));
            }
        } else {
            object.insert("properties".into(), Value::Object(Map::new()));
        }
        object.insert("required".into(), Value::Array(all));
        if !object.contains_key("type") {
            object.insert("type".into(), "object".into());
        }
    }

    if let Some(items) = object.get_mut("items") {
        let len = path.len();
        path.push_str("/items");
        strict_pass(items, path, defs)?;
        path.truncate(len);
    }
    if let Some(Value::Object(extra)) = object.get_mut("$defs") {
        for (key, def) in extra.iter_mut() {
            let len = path.len();
            path.push_str("/$defs");
            push_key(path, key);
            strict_pass(def, path, defs)?;
            path.truncate(len);
        }
    }
    Ok(())
}

fn collapse_constants(object: &mut Map<String, Value>) {
    let Some(Value::Array(branches)) = object.get("anyOf") else {
        return;
    };
    let constants: Option<Vec<Value>> = branches
        .iter()
        .map(|b| {
            let b = b.as_object()?;
            let c = b.get("const")?.as_str()?;
            b.keys()
                .all(|k| matches!(k.as_str(), "const" | "type" | "description"))
                .then(|| Value::from(c))
        })
        .collect();
    if let Some(values) = constants
        && !values.is_empty()
    {
        let lines: Vec<String> = branches
            .iter()
            .filter_map(|b| {
                let d = b.get("description")?.as_str()?.trim().trim_end_matches('.');
                Some(format!("\"{}\" means {d}", b.get("const")?.as_str()?))
            })
            .collect();
        object.remove("anyOf");
        object.insert("type".into(), "string".into());
        object.insert("enum".into(), Value::Array(values));
        if !lines.is_empty() {
            note(object, &format!("{}.", lines.join("; ")));
        }
    }
}

/// Strict mode has no `allOf`: merge the branches' properties into the object.
fn merge_all_of(object: &mut Map<String, Value>, all_of: Vec<Value>, defs: &Map<String, Value>) {
    for branch in all_of {
        let branch = match branch
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(def_name)
            .map(Cow::into_owned)
        {
            Some(name) => defs.get(&name).cloned().unwrap_or(branch),
            None => branch,
        };
        let Value::Object(branch) = branch else {
            continue;
        };
        for (key, value) in branch {
            match (key.as_str(), object.get_mut(&key), value) {
                ("properties", Some(Value::Object(mine)), Value::Object(theirs)) => {
                    mine.extend(theirs);
                }
                ("required", Some(Value::Array(mine)), Value::Array(theirs)) => {
                    for name in theirs {
                        if !mine.contains(&name) {
                            mine.push(name);
                        }
                    }
                }
                (_, Some(_), _) => {}
                (_, None, value) => {
                    object.insert(key, value);
                }
            }
        }
    }
}

/// Depth, property and enum limits, following `$ref`s once each.
fn check_limits(root: &Value) -> Result<(), SchemaError> {
    struct Walk<'a> {
        defs: Option<&'a Map<String, Value>>,
        properties: usize,
        enums: usize,
        stack: Vec<String>,
    }
    impl Walk<'_> {
        fn visit(
            &mut self,
            schema: &Value,
            path: &mut String,
            depth: usize,
        ) -> Result<(), SchemaError> {
            let Value::Object(object) = schema else {
                return Ok(());
            };
            if let Some(name) = object
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(def_name)
                .map(Cow::into_owned)
            {
                // A recursive type is allowed; its depth is counted once round the cycle.
                if self.stack.contains(&name) {
                    return Ok(());
                }
                if let Some(target) = self.defs.and_then(|d| d.get(&name)) {
                    self.stack.push(name);
                    let result = self.visit(target, path, depth);
                    self.stack.pop();
                    return result;
                }
                return Ok(());
            }
            let mut depth = depth;
            if let Some(Value::Object(properties)) = object.get("properties") {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(SchemaError::TooDeep {
                        path: path.clone(),
                        depth,
                        limit: MAX_DEPTH,
                        dialect: Dialect::OpenAiStrict,
                    });
                }
                for (key, property) in properties {
                    self.properties += 1;
                    let len = path.len();
                    path.push_str("/properties");
                    push_key(path, key);
                    if self.properties > MAX_PROPERTIES {
                        return Err(SchemaError::TooManyProperties {
                            path: path.clone(),
                            count: self.properties,
                            limit: MAX_PROPERTIES,
                            dialect: Dialect::OpenAiStrict,
                        });
                    }
                    self.visit(property, path, depth)?;
                    path.truncate(len);
                }
            }
            if let Some(Value::Array(values)) = object.get("enum") {
                self.enums += values.len();
                if self.enums > MAX_ENUM_VALUES {
                    return Err(SchemaError::TooManyEnumValues {
                        path: format!("{path}/enum"),
                        count: self.enums,
                        limit: MAX_ENUM_VALUES,
                        dialect: Dialect::OpenAiStrict,
                    });
                }
            }
            if let Some(items) = object.get("items") {
                let len = path.len();
                path.push_str("/items");
                self.visit(items, path, depth)?;
                path.truncate(len);
            }
            if let Some(Value::Array(branches)) = object.get("anyOf") {
                for (i, branch) in branches.iter().enumerate() {
                    let len = path.len();
                    path.push_str("/anyOf/");
                    path.push_str(&i.to_string());
                    self.visit(branch, path, depth)?;
                    path.truncate(len);
                }
            }
            Ok(())
        }
    }
    let mut walk = Walk {
        defs: root.get("$defs").and_then(Value::as_object),
        properties: 0,
        enums: 0,
        stack: Vec::new(),
    };
    walk.visit(root, &mut String::new(), 0)
}

// ---- llama.cpp -----------------------------------------------------------------------

fn llama_cpp(source: &Value) -> Value {
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
    let mut kept = Map::new();
    for (name, schema) in &defs {
        if recursive.contains(name) {
            let mut schema = schema.clone();
            llama_pass(&mut schema, &defs, &recursive, &mut Vec::new());
            kept.insert(name.clone(), schema);
        }
    }
    llama_pass(&mut root, &defs, &recursive, &mut Vec::new());
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
    fn refs(value: &Value, out: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                if let Some(name) = map
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(def_name)
                    .map(Cow::into_owned)
                {
                    out.insert(name);
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let edges: Vec<(String, BTreeSet<String>)> = defs
        .iter()
        .map(|(name, schema)| {
            let mut out = BTreeSet::new();
            refs(schema, &mut out);
            (name.clone(), out)
        })
        .collect();
    let mut recursive = BTreeSet::new();
    for (start, _) in &edges {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<&String> = edges
            .iter()
            .find(|(n, _)| n == start)
            .map(|(_, e)| e.iter().collect())
            .unwrap_or_default();
        while let Some(next) = todo.pop() {
            if next == start {
                recursive.insert(start.clone());
                break;
            }
            if seen.insert(next.clone())
                && let Some((_, e)) = edges.iter().find(|(n, _)| n == next)
            {
                todo.extend(e.iter());
            }
        }
    }
    recursive
}

fn llama_pass(
    schema: &mut Value,
    defs: &Map<String, Value>,
    recursive: &BTreeSet<String>,
    stack: &mut Vec<String>,
) {
    let Value::Object(object) = schema else {
        return;
    };
    if let Some(name) = object
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(def_name)
        .map(Cow::into_owned)
        && !recursive.contains(&name)
        && !stack.contains(&name)
        && let Some(target) = defs.get(&name)
    {
        let mut inlined = target.clone();
        if let (Value::Object(inlined), Some(description)) =
            (&mut inlined, object.get("description"))
        {
            inlined.insert("description".into(), description.clone());
        }
        stack.push(name);
        llama_pass(&mut inlined, defs, recursive, stack);
        stack.pop();
        *schema = inlined;
        return;
    }
    for keyword in [
        "default",
        "examples",
        "title",
        "deprecated",
        "readOnly",
        "writeOnly",
        "$comment",
    ] {
        object.remove(keyword);
    }
    if let Some(pattern) = object
        .get("pattern")
        .and_then(Value::as_str)
        .map(str::to_owned)
    {
        let anchored = anchor(&pattern);
        if anchored != pattern {
            note(object, &format!("Must match the pattern {pattern}."));
            object.insert("pattern".into(), anchored.into());
        }
    }
    if let Some(format) = object
        .get("format")
        .and_then(Value::as_str)
        .map(str::to_owned)
        && !LLAMA_FORMATS.contains(&format.as_str())
    {
        object.remove("format");
        if !NUMERIC_FORMATS.contains(&format.as_str()) {
            note(object, &format!("Format: {format}."));
        }
    }
    // Bounds on non-integers are ignored by the converter: say them in words too.
    if types(object).contains(&"number") {
        for (keyword, words) in [("minimum", "At least"), ("maximum", "At most")] {
            if let Some(bound) = object.get(keyword).map(compact) {
                note(object, &format!("{words} {bound}."));
            }
        }
    }
    for key in ["properties", "$defs"] {
        if let Some(Value::Object(children)) = object.get_mut(key) {
            for child in children.values_mut() {
                llama_pass(child, defs, recursive, stack);
            }
        }
    }
    for key in ["anyOf", "oneOf", "allOf", "prefixItems"] {
        if let Some(Value::Array(children)) = object.get_mut(key) {
            for child in children {
                llama_pass(child, defs, recursive, stack);
            }
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(child) = object.get_mut(key) {
            llama_pass(child, defs, recursive, stack);
        }
    }
    distribute_properties(object);
}

/// llama.cpp ignores `properties` that sit beside `anyOf`/`oneOf` (llama.cpp #7703): push
/// them down into every branch instead.
fn distribute_properties(object: &mut Map<String, Value>) {
    let key = if object.contains_key("anyOf") {
        "anyOf"
    } else if object.contains_key("oneOf") {
        "oneOf"
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
        let Value::Object(branch) = branch else {
            continue;
        };
        branch.entry("type").or_insert_with(|| "object".into());
        let target = branch
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(target) = target {
            let mut merged = properties.clone();
            merged.extend(std::mem::take(target));
            *target = merged;
        }
        if let Some(Value::Array(required)) = &required {
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
    object.remove("properties");
    object.remove("required");
    object.remove("type");
}

/// llama.cpp rejects a `pattern` without `^…$`. JSON Schema patterns match anywhere, so an
/// unanchored one is wrapped to keep its meaning.
fn anchor(pattern: &str) -> String {
    let starts = pattern.starts_with('^');
    let ends = pattern.ends_with('$') && !pattern.ends_with("\\$");
    match (starts, ends) {
        (true, true) => pattern.to_owned(),
        (true, false) => format!("{pattern}.*$"),
        (false, true) => format!("^.*{pattern}"),
        (false, false) => format!("^.*({pattern}).*$"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn anchors_keep_meaning() {
        assert_eq!(anchor("^a$"), "^a$");
        assert_eq!(anchor("^a"), "^a.*$");
        assert_eq!(anchor("a$"), "^.*a$");
        assert_eq!(anchor("a|b"), "^.*(a|b).*$");
    }

    #[test]
    fn optional_non_null_defaults_stay_non_null() {
        let source = json!({
            "type": "object",
            "properties": {
                "a": {"type": "string"},
                "b": {"type": ["string", "null"]},
                "c": {"type": "integer", "default": 3}
            },
            "required": ["a"]
        });
        let lowered = openai_strict("T", &source).unwrap();
        assert_eq!(lowered["required"], json!(["a", "b", "c"]));
        assert_eq!(lowered["properties"]["c"]["type"], "integer");
        assert_eq!(
            lowered["properties"]["b"]["type"],
            json!(["string", "null"])
        );
        assert!(lowered["properties"]["c"].get("default").is_none());
        assert!(
            lowered["properties"]["c"]["description"]
                .as_str()
                .unwrap()
                .contains("Default: 3")
        );
    }
}
