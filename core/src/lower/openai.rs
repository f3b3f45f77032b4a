//! OpenAI Structured Outputs with `strict: true`: the strict pass and the size limits.
//!
//! `lower` checks the schema's name, lowers every definition and then the root with
//! `strict_pass`, and checks the documented limits with `check_limits`. `strict_pass` is a
//! sequence of small passes over each subschema: `drop_annotations`; `describe_removed`,
//! which says in words what strict mode cannot carry; `rewrite_unions` (`oneOf` becomes
//! `anyOf`, `allOf` is merged by `merge_all_of`, string constants collapse to an `enum`);
//! `close_object`, which closes every object and makes every property required; and
//! `walk_children`.

use serde_json::{Map, Value};

use super::{Dialect, SchemaError, append_sentence, drop_format, ref_name};
use crate::json::{compact, is_object_schema, push_index, push_key, types};

// OpenAI's documented limits. The conservative figures (2024 docs, still current on
// Azure) are the defaults: a schema that fits them fits every deployment.

/// How deep objects may nest.
pub(crate) const MAX_NESTING: usize = 5;
/// Object properties in the whole schema.
pub(crate) const MAX_PROPERTIES: usize = 100;
/// Enum values in the whole schema.
pub(crate) const MAX_ENUM_VALUES: usize = 500;
/// The longest schema name.
const MAX_NAME_LEN: usize = 64;

/// Formats OpenAI strict mode accepts.
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

/// Keywords a schema that admits anything may hold: `{}`, what `serde_json::Value` gives,
/// with nothing but annotations.
const ANNOTATIONS_ONLY: &[&str] = &["description", "title", "$comment", "examples", "default"];

/// Annotations strict mode does not take, and a model does not need: dropped.
const DROPPED: &[&str] = &[
    "$schema",
    "title",
    "deprecated",
    "readOnly",
    "writeOnly",
    "$comment",
];

/// Size bounds strict mode does not take, and the sentence that says each (`{}` is the
/// bound).
const BOUNDS_IN_WORDS: &[(&str, &str)] = &[
    ("minLength", "At least {} characters."),
    ("maxLength", "At most {} characters."),
    ("minProperties", "At least {} entries."),
    ("maxProperties", "At most {} entries."),
];

/// The source schema lowered to the strict subset, or why it cannot be.
pub(super) fn lower(name: &str, source: &Value) -> Result<Value, SchemaError> {
    check_name(name)?;
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
        let mut path = String::new();
        push_key(&mut path, "$defs");
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

/// Strict mode takes names matching `[a-zA-Z0-9_-]{1,64}` only.
fn check_name(name: &str) -> Result<(), SchemaError> {
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
    Ok(())
}

fn unsupported(path: &str, reason: &str) -> SchemaError {
    SchemaError::Unsupported {
        path: path.to_owned(),
        reason: reason.to_owned(),
        dialect: Dialect::OpenAiStrict,
    }
}

fn unconstrained(path: &str) -> SchemaError {
    unsupported(
        path,
        "an unconstrained value (`serde_json::Value`) cannot be expressed",
    )
}

/// Rewrites one subschema (and everything below it) into the strict subset.
fn strict_pass(
    schema: &mut Value,
    path: &mut String,
    defs: &Map<String, Value>,
) -> Result<(), SchemaError> {
    let Value::Object(object) = schema else {
        if schema == &Value::Bool(true) {
            return Err(unconstrained(path));
        }
        return Ok(());
    };
    // `{}` (what `serde_json::Value` gives) admits anything, which strict mode cannot say.
    if object
        .keys()
        .all(|k| ANNOTATIONS_ONLY.contains(&k.as_str()))
    {
        return Err(unconstrained(path));
    }
    // `$ref` takes no sibling keywords in strict mode; the prompt carries the description.
    if object.contains_key("$ref") {
        object.retain(|k, _| k == "$ref");
        return Ok(());
    }
    drop_annotations(object);
    describe_removed(object);
    if object.contains_key("prefixItems") {
        return Err(unsupported(
            path,
            "tuples (`prefixItems`) cannot be expressed",
        ));
    }
    rewrite_unions(object, path, defs)?;
    if types(object).contains(&"object") || object.contains_key("properties") {
        close_object(object, path, defs)?;
    }
    walk_children(object, path, defs)
}

/// Drops the annotations strict mode does not take.
fn drop_annotations(object: &mut Map<String, Value>) {
    for keyword in DROPPED {
        object.remove(*keyword);
    }
}

/// Removes what strict mode cannot carry and says it in the description: the default, the
/// first example, size bounds, `uniqueItems`, an unknown format, and the constraints
/// checked after the reply.
fn describe_removed(object: &mut Map<String, Value>) {
    if let Some(default) = object.remove("default") {
        append_sentence(object, &format!("Default: {}.", compact(&default)));
    }
    if let Some(Value::Array(examples)) = object.remove("examples")
        && let Some(first) = examples.first()
    {
        append_sentence(object, &format!("Example: {}.", compact(first)));
    }
    for (keyword, words) in BOUNDS_IN_WORDS {
        if let Some(bound) = object.remove(*keyword) {
            append_sentence(object, &words.replace("{}", &compact(&bound)));
        }
    }
    if object.remove("uniqueItems") == Some(Value::Bool(true)) {
        append_sentence(object, "Items must be unique.");
    }
    drop_format(object, FORMATS);
    for keyword in crate::lower::CHECKED_AFTER {
        if object.remove(*keyword).is_some() {
            append_sentence(
                object,
                &format!("(The `{keyword}` constraint is checked after the reply.)"),
            );
        }
    }
}

/// Strict mode has `anyOf` only: `oneOf` becomes `anyOf`, `allOf` is merged into the
/// object, and each branch is lowered.
fn rewrite_unions(
    object: &mut Map<String, Value>,
    path: &mut String,
    defs: &Map<String, Value>,
) -> Result<(), SchemaError> {
    if let Some(one_of) = object.remove("oneOf") {
        object.insert("anyOf".into(), one_of);
    }
    if let Some(Value::Array(all_of)) = object.remove("allOf") {
        merge_all_of(object, all_of, defs);
    }
    if let Some(Value::Array(branches)) = object.get_mut("anyOf") {
        for (i, branch) in branches.iter_mut().enumerate() {
            let len = path.len();
            push_key(path, "anyOf");
            push_index(path, i);
            strict_pass(branch, path, defs)?;
            path.truncate(len);
        }
        // A string enum written as `oneOf` constants is simpler, and as valid, as `enum`.
        collapse_constants(object);
    }
    Ok(())
}

/// Closes an object (`additionalProperties: false`), lowers its properties and makes every
/// one required. An object with open keys (a map) cannot be closed.
fn close_object(
    object: &mut Map<String, Value>,
    path: &mut String,
    defs: &Map<String, Value>,
) -> Result<(), SchemaError> {
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
            push_key(path, "properties");
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
    Ok(())
}

/// Lowers `items` and any `$defs` nested below the root.
fn walk_children(
    object: &mut Map<String, Value>,
    path: &mut String,
    defs: &Map<String, Value>,
) -> Result<(), SchemaError> {
    if let Some(items) = object.get_mut("items") {
        let len = path.len();
        push_key(path, "items");
        strict_pass(items, path, defs)?;
        path.truncate(len);
    }
    if let Some(Value::Object(extra)) = object.get_mut("$defs") {
        for (key, def) in extra.iter_mut() {
            let len = path.len();
            push_key(path, "$defs");
            push_key(path, key);
            strict_pass(def, path, defs)?;
            path.truncate(len);
        }
    }
    Ok(())
}

/// A union of plain string constants becomes an `enum`; the constants' descriptions move
/// into the object's description.
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
            append_sentence(object, &format!("{}.", lines.join("; ")));
        }
    }
}

/// Strict mode has no `allOf`: merge the branches' properties into the object.
fn merge_all_of(object: &mut Map<String, Value>, all_of: Vec<Value>, defs: &Map<String, Value>) {
    for branch in all_of {
        let branch = match branch.as_object().and_then(ref_name) {
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
    let mut limits = Limits {
        defs: root.get("$defs").and_then(Value::as_object),
        properties: 0,
        enums: 0,
        stack: Vec::new(),
    };
    limits.visit(root, &mut String::new(), 0)
}

/// The walk behind `check_limits`.
struct Limits<'a> {
    defs: Option<&'a Map<String, Value>>,
    /// Object properties counted so far.
    properties: usize,
    /// Enum values counted so far.
    enums: usize,
    /// The definitions the walk is inside, outermost first.
    stack: Vec<String>,
}

impl Limits<'_> {
    fn visit(
        &mut self,
        schema: &Value,
        path: &mut String,
        depth: usize,
    ) -> Result<(), SchemaError> {
        let Value::Object(object) = schema else {
            return Ok(());
        };
        if let Some(name) = ref_name(object) {
            return self.follow(name, path, depth);
        }
        let mut depth = depth;
        if let Some(Value::Object(properties)) = object.get("properties") {
            depth += 1;
            self.walk_properties(properties, path, depth)?;
        }
        self.count_enum(object, path)?;
        if let Some(items) = object.get("items") {
            let len = path.len();
            push_key(path, "items");
            self.visit(items, path, depth)?;
            path.truncate(len);
        }
        if let Some(Value::Array(branches)) = object.get("anyOf") {
            for (i, branch) in branches.iter().enumerate() {
                let len = path.len();
                push_key(path, "anyOf");
                push_index(path, i);
                self.visit(branch, path, depth)?;
                path.truncate(len);
            }
        }
        Ok(())
    }

    /// Walks into the definition `name`, unless the walk is inside it already.
    fn follow(&mut self, name: String, path: &mut String, depth: usize) -> Result<(), SchemaError> {
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
        Ok(())
    }

    /// Counts an object's properties, which sit at nesting `depth`, and walks into each.
    fn walk_properties(
        &mut self,
        properties: &Map<String, Value>,
        path: &mut String,
        depth: usize,
    ) -> Result<(), SchemaError> {
        if depth > MAX_NESTING {
            return Err(SchemaError::TooDeep {
                path: path.clone(),
                depth,
                limit: MAX_NESTING,
                dialect: Dialect::OpenAiStrict,
            });
        }
        for (key, property) in properties {
            self.properties += 1;
            let len = path.len();
            push_key(path, "properties");
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
        Ok(())
    }

    /// Counts an object's enum values.
    fn count_enum(&mut self, object: &Map<String, Value>, path: &str) -> Result<(), SchemaError> {
        if let Some(Value::Array(values)) = object.get("enum") {
            self.enums += values.len();
            if self.enums > MAX_ENUM_VALUES {
                let mut path = path.to_owned();
                push_key(&mut path, "enum");
                return Err(SchemaError::TooManyEnumValues {
                    path,
                    count: self.enums,
                    limit: MAX_ENUM_VALUES,
                    dialect: Dialect::OpenAiStrict,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

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
        let lowered = lower("T", &source).unwrap();
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

    #[test]
    fn error_paths_are_json_pointers() {
        let tuple = json!({
            "type": "object",
            "properties": {"a/b": {"anyOf": [{"type": "string"}, {"prefixItems": []}]}}
        });
        let error = lower("T", &tuple).unwrap_err();
        assert_eq!(error.path(), "/properties/a~1b/anyOf/1");
        let names = json!({"type": "object", "properties": {"n": {"enum": vec![0; 501]}}});
        let error = lower("T", &names).unwrap_err();
        assert_eq!(error.path(), "/properties/n/enum");
    }
}
