//! [`Dynamic`]: an extraction target made at run time, from a JSON Schema or the concise
//! field syntax, that goes through the same pipeline as a derived type and gives a
//! `serde_json::Value`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{OnceLock, RwLock};

use serde_json::{Map, Value};

use crate::schema::{Schema, envelope_key_for, sanitize_name};
use crate::{Dialect, SchemaError};

mod spec;

/// The name a target gets when neither the schema's `title` nor [`Dynamic::name`] gives one.
const DEFAULT_NAME: &str = "Extraction";

/// A run-time extraction target: for a schema that comes from a config file, a database or
/// the shell instead of a Rust type.
///
/// A `Dynamic` goes through exactly the pipeline a derived type does: the schema lowered
/// for the server's dialect and rendered as the compact prompt, lenient parsing and
/// coercion against it, local validation, re-asks, grounding (`"x-grounded": true` marks a
/// field that must be quoted from the text, as `#[extract(grounded)]` does), streaming with
/// partial values, batches and chunked runs. The value is a [`serde_json::Value`] that
/// fits the schema. Use it with [`Client::extract_dynamic`](crate::Client::extract_dynamic),
/// [`Client::extraction_dynamic`](crate::Client::extraction_dynamic) and
/// [`Client::batch_dynamic`](crate::Client::batch_dynamic).
///
/// A schema is built once per distinct target and kept for the life of the process (as a
/// derived type's is), so make a `Dynamic` once per schema, not once per call, when the
/// schemas come from an open-ended source.
///
/// # Examples
///
/// ```
/// use factum::Dynamic;
///
/// let person = Dynamic::from_fields("name, age int: in whole years, email?")?
///     .name("Person")
///     .instructions("Use only what the text says.");
/// assert!(person.schema().prompt().contains("age: integer"));
/// let people = person.clone().multi();
/// assert_eq!(people.schema().json()["type"], "array");
/// # Ok::<(), factum::SchemaError>(())
/// ```
#[derive(Clone)]
pub struct Dynamic {
    /// The item schema: the object the fields describe.
    json: Value,
    name: String,
    instructions: Option<String>,
    multi: bool,
    schema: OnceLock<&'static Schema>,
}

impl fmt::Debug for Dynamic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dynamic")
            .field("name", &self.name)
            .field("multi", &self.multi)
            .field("json", &self.json)
            .finish_non_exhaustive()
    }
}

impl Dynamic {
    /// A target from a JSON Schema document. Its `title`, when it has one, is the target's
    /// name (see [`name`](Dynamic::name)), and its `description` the type's description in
    /// the prompt. Required strings are taken as the schema says (a derived type's schema
    /// already holds `minLength: 1` where the derive put it).
    ///
    /// # Errors
    ///
    /// A [`SchemaError`] naming the path and the keyword, when factum cannot use the
    /// schema: it is not an object or a boolean schema, it does not compile as a JSON
    /// Schema, a `$ref` is not local (`#/…`) or does not
    /// resolve ([`SchemaError::Unusable`]), or it cannot be lowered for llama.cpp grammars.
    pub fn from_json_schema(schema: Value) -> Result<Dynamic, SchemaError> {
        let Value::Object(object) = &schema else {
            return Err(SchemaError::Unusable {
                path: String::new(),
                keyword: "type".to_owned(),
                reason: format!("a schema is a JSON object, not {}", kind(&schema)),
            });
        };
        let name = object
            .get("title")
            .and_then(Value::as_str)
            .map_or_else(|| DEFAULT_NAME.to_owned(), sanitize);
        check_refs(&schema, &schema, &mut String::new())?;
        // A keyword whose value is not JSON Schema, named where it is in the schema.
        if let Err(e) = jsonschema::options().build(&schema) {
            let path = e.instance_path().to_string();
            let keyword = path.rsplit('/').next().unwrap_or_default().to_owned();
            return Err(SchemaError::Unusable {
                path,
                keyword,
                reason: e.to_string(),
            });
        }
        let dynamic = Dynamic {
            json: schema,
            name,
            instructions: None,
            multi: false,
            schema: OnceLock::new(),
        };
        // Compiled above; what is left to prove is that it lowers.
        dynamic.build().for_dialect(Dialect::LlamaCpp)?;
        Ok(dynamic)
    }

    /// A target from the concise field syntax of Simon Willison's `llm`: fields separated
    /// by commas (or by newlines, so that descriptions may hold commas), each
    /// `name [type][: description]`, with types `str` (the default), `int`, `float` and
    /// `bool`. `?` after the name makes a field optional (`email?`), and `[]` after the type
    /// makes it a list (`tags str[]`). A required `str` is never empty (`minLength: 1`), as
    /// a derived `String` field.
    ///
    /// ```
    /// let d = factum::Dynamic::from_fields("name, age int, bio: a short bio, email?, tags str[]")?;
    /// assert_eq!(d.schema().json()["required"], serde_json::json!(["name", "age", "bio", "tags"]));
    /// # Ok::<(), factum::SchemaError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`SchemaError::Spec`] with the line and column of the first mistake: an unknown
    /// type, a name that is not one, a field named twice, or a spec with no field.
    pub fn from_fields(spec: &str) -> Result<Dynamic, SchemaError> {
        Ok(Dynamic {
            json: spec::parse(spec)?,
            name: DEFAULT_NAME.to_owned(),
            instructions: None,
            multi: false,
            schema: OnceLock::new(),
        })
    }

    /// The same target as a list: every such object in the text, as `llm --schema-multi`.
    #[must_use]
    pub fn multi(mut self) -> Dynamic {
        self.multi = true;
        self.schema = OnceLock::new();
        self
    }

    /// Instructions that open the prompt's description of the target.
    #[must_use]
    pub fn instructions(mut self, instructions: impl Into<String>) -> Dynamic {
        self.instructions = Some(instructions.into());
        self.schema = OnceLock::new();
        self
    }

    /// The target's name, as the prompt and the server see it (default: the schema's
    /// `title`, else `Extraction`). Characters other than ASCII letters, digits, `_` and
    /// `-` become `_`.
    #[must_use]
    pub fn name(mut self, name: impl AsRef<str>) -> Dynamic {
        self.name = sanitize(name.as_ref());
        self.schema = OnceLock::new();
        self
    }

    /// Whether the target is a list ([`multi`](Dynamic::multi)).
    pub fn is_multi(&self) -> bool {
        self.multi
    }

    /// The schema extractions of this target are asked with: the object's, or with
    /// [`multi`](Dynamic::multi) a list of them (asked under the key `{name}_list`).
    pub fn schema(&self) -> &'static Schema {
        self.schema.get_or_init(|| intern(self.build()))
    }

    fn build(&self) -> Schema {
        let instructions = self.instructions.clone().map(Into::into);
        if !self.multi {
            return Schema::new(self.name.clone(), self.json.clone(), instructions);
        }
        // As schemars writes `Vec<T>`: the item a definition of its own, referred to by
        // `items`, its own definitions beside it.
        let mut item = self.json.clone();
        let mut root = Map::new();
        let mut defs = Map::new();
        if let Value::Object(object) = &mut item {
            if let Some(schema) = object.remove("$schema") {
                root.insert("$schema".to_owned(), schema);
            }
            if let Some(Value::Object(inner)) = object.remove("$defs") {
                defs.extend(inner);
            }
            // Draft 7's `definitions` stay where their references point.
            if let Some(definitions) = object.remove("definitions") {
                root.insert("definitions".to_owned(), definitions);
            }
        }
        let mut reference = String::from("#/$defs");
        crate::json::push_key(&mut reference, &self.name);
        root.insert("type".to_owned(), "array".into());
        root.insert("items".to_owned(), serde_json::json!({ "$ref": reference }));
        defs.insert(self.name.clone(), item);
        root.insert("$defs".to_owned(), Value::Object(defs));
        let mut schema = Schema::new(
            format!("Array_of_{}", self.name),
            Value::Object(root),
            instructions,
        );
        schema.rename_envelope(format!("{}_list", envelope_key_for(&self.name)));
        schema
    }
}

/// One schema per distinct target, kept for the life of the process: the pipeline holds
/// schemas as `&'static`, as it holds a derived type's.
pub(crate) fn intern(schema: Schema) -> &'static Schema {
    type Interned = HashMap<(u64, Option<String>), &'static Schema>;
    static INTERNED: OnceLock<RwLock<Interned>> = OnceLock::new();
    let interned = INTERNED.get_or_init(RwLock::default);
    let key = (
        schema.fingerprint(),
        schema.instructions().map(str::to_owned),
    );
    if let Some(found) = interned
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&key)
    {
        return found;
    }
    let mut map = interned
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    map.entry(key)
        .or_insert_with(|| Box::leak(Box::new(schema)))
}

/// Every `$ref` below `node` is local and resolves in `root`.
fn check_refs(root: &Value, node: &Value, path: &mut String) -> Result<(), SchemaError> {
    let below = |path: &mut String, step: &dyn Fn(&mut String), child: &Value| {
        let len = path.len();
        step(path);
        let checked = check_refs(root, child, path);
        path.truncate(len);
        checked
    };
    match node {
        Value::Object(object) => {
            if let Some(reference) = object.get("$ref") {
                let len = path.len();
                crate::json::push_key(path, "$ref");
                check_ref(root, reference, path)?;
                path.truncate(len);
            }
            // Values that are data, not schemas, hold no references.
            let schemas = object.iter().filter(|(key, _)| {
                !matches!(
                    key.as_str(),
                    "$ref" | "const" | "enum" | "examples" | "default"
                )
            });
            for (key, value) in schemas {
                below(path, &|p| crate::json::push_key(p, key), value)?;
            }
            Ok(())
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                below(path, &|p| crate::json::push_index(p, index), item)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// One `$ref`, at `path`: a local reference that resolves in `root`.
fn check_ref(root: &Value, reference: &Value, path: &str) -> Result<(), SchemaError> {
    let unusable = |reason: String| SchemaError::Unusable {
        path: path.to_owned(),
        keyword: "$ref".to_owned(),
        reason,
    };
    let Some(reference) = reference.as_str() else {
        return Err(unusable("a `$ref` is a string".to_owned()));
    };
    if !reference.starts_with('#') {
        return Err(unusable(format!(
            "`{reference}` is not local: only references into the schema itself (`#/$defs/…`) resolve"
        )));
    }
    if crate::json::local_ref(root, reference).is_none() {
        return Err(unusable(format!(
            "`{reference}` does not resolve in the schema"
        )));
    }
    Ok(())
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A derived type's name rule ([`sanitize_name`]), at most 64 characters, never empty.
fn sanitize(name: &str) -> String {
    let mut name = sanitize_name(name);
    // Only ASCII is left, so any byte is a character boundary.
    name.truncate(64);
    if name.is_empty() {
        DEFAULT_NAME.to_owned()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_non_local_or_dangling_ref_is_named_by_path_and_keyword() {
        let remote = json!({"type": "object", "properties": {"a": {"$ref": "https://x/y.json"}}});
        let error = Dynamic::from_json_schema(remote).unwrap_err();
        assert_eq!(error.path(), "/properties/a/$ref");
        assert!(error.to_string().contains("`$ref`"), "{error}");
        assert!(error.to_string().contains("not local"), "{error}");
        let dangling = json!({"type": "object", "properties": {"a": {"$ref": "#/$defs/B"}}});
        let error = Dynamic::from_json_schema(dangling).unwrap_err();
        assert!(error.to_string().contains("does not resolve"), "{error}");
        let local = json!({
            "type": "object",
            "properties": {"a": {"$ref": "#/$defs/B"}},
            "$defs": {"B": {"type": "string"}}
        });
        assert!(Dynamic::from_json_schema(local).is_ok());
    }

    #[test]
    fn a_schema_that_is_not_one_is_refused() {
        let error = Dynamic::from_json_schema(json!([1, 2])).unwrap_err();
        assert!(error.to_string().contains("not an array"), "{error}");
        let error = Dynamic::from_json_schema(json!({"properties": {"age": {"type": "objekt"}}}))
            .unwrap_err();
        assert_eq!(error.path(), "/properties/age/type", "{error}");
        assert!(error.to_string().contains("keyword `type`"), "{error}");
    }

    #[test]
    fn multi_asks_for_a_list_under_the_names_list_key() {
        let d = Dynamic::from_fields("name").unwrap().name("Person").multi();
        let schema = d.schema();
        assert_eq!(schema.envelope_key(), Some("person_list"));
        assert_eq!(schema.name(), "Array_of_Person");
        assert_eq!(schema.json()["items"]["$ref"], "#/$defs/Person");
        let item = &schema.json()["$defs"]["Person"];
        assert_eq!(item["properties"]["name"]["type"], "string");
        // The same target twice is one schema.
        let again = Dynamic::from_fields("name").unwrap().name("Person").multi();
        assert!(std::ptr::eq(schema, again.schema()));
    }
}
