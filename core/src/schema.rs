use std::any::TypeId;
use std::collections::HashMap;
use std::fmt;
use std::sync::{OnceLock, RwLock};

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::Value;

use serde_json::{Map, json};

use crate::lower::{self, Dialect, SchemaError};
use crate::validate::{self, Violation};
use crate::{Extract, json, prompt};

/// A type's schema: the full source schema, its lowered copies, and its prompt rendering.
///
/// Get one with [`schema::<T>()`](schema); it is built once per type and cached for the
/// life of the process, and so is each lowered dialect.
pub struct Schema {
    name: String,
    json: Value,
    prompt: String,
    instructions: Option<&'static str>,
    wrapper: Option<String>,
    wrapped_json: OnceLock<Value>,
    dialects: [OnceLock<Result<Value, SchemaError>>; 2],
    validator: OnceLock<Result<jsonschema::Validator, String>>,
}

impl fmt::Debug for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schema")
            .field("name", &self.name)
            .field("json", &self.json)
            .finish_non_exhaustive()
    }
}

impl Schema {
    /// Builds the schema of a type that implements [`Extract`]. Prefer [`schema::<T>()`](schema),
    /// which caches the result.
    pub fn of<T: Extract>() -> Schema {
        Schema::from_json_schema::<T>(T::INSTRUCTIONS)
    }

    /// Builds the schema of any `schemars::JsonSchema` type, with optional instructions.
    pub fn from_json_schema<T: JsonSchema + ?Sized>(instructions: Option<&'static str>) -> Schema {
        let mut generator = SchemaSettings::draft2020_12().into_generator();
        let root = generator.subschema_for::<T>();
        let mut defs = generator.take_definitions(true);
        // The root type's own schema goes at the top level. When the type is recursive its
        // definition also stays in `$defs`, so references to it keep resolving without the
        // `"$ref": "#"` form that some grammar converters mishandle.
        let root = match root.as_value().get("$ref").and_then(Value::as_str) {
            Some(reference) if root.as_object().is_some_and(|o| o.len() == 1) => {
                let name = json::def_name(reference).unwrap_or_default().into_owned();
                let body = defs.get(&name).cloned().unwrap_or(Value::Bool(true));
                if !references(&defs, reference) {
                    defs.remove(&name);
                }
                body
            }
            _ => root.to_value(),
        };
        let mut json = Map::new();
        json.insert(
            "$schema".into(),
            "https://json-schema.org/draft/2020-12/schema".into(),
        );
        if let Value::Object(body) = root {
            json.extend(body);
        } else {
            json.insert("allOf".into(), Value::Array(vec![root]));
        }
        if !defs.is_empty() {
            json.insert("$defs".into(), Value::Object(defs));
        }
        Schema::new(
            sanitize_name(&T::schema_name()),
            Value::Object(json),
            instructions,
        )
    }

    /// Builds a schema from a JSON Schema document you already have. `name` is what servers
    /// see as the schema's name.
    pub fn new(name: impl Into<String>, json: Value, instructions: Option<&'static str>) -> Schema {
        let name = name.into();
        let prompt = prompt::render(&name, &json, instructions);
        let wrapper = (!json::is_object_schema(&json)).then(|| wrapper_key(&name));
        Schema {
            name,
            json,
            prompt,
            instructions,
            wrapper,
            wrapped_json: OnceLock::new(),
            dialects: [OnceLock::new(), OnceLock::new()],
            validator: OnceLock::new(),
        }
    }

    /// The schema's name, as sent in `response_format.json_schema.name`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The source schema (JSON Schema 2020-12): every description and constraint the type
    /// declares. Replies are validated against this, whatever was sent to the server.
    pub fn json(&self) -> &Value {
        &self.json
    }

    /// The source schema lowered to a server's dialect, built once and cached.
    ///
    /// # Errors
    ///
    /// A [`SchemaError`] naming the JSON path when the schema breaks one of the dialect's
    /// hard limits (nesting depth, property count, enum size, name pattern).
    pub fn for_dialect(&self, dialect: Dialect) -> Result<&Value, SchemaError> {
        self.dialects[dialect.index()]
            .get_or_init(|| lower::lower(&self.name, self.wrapped_json(), dialect))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The key a non-object root is wrapped under, as in `{"sentiment": "negative"}`.
    ///
    /// OpenAI strict mode and `json_object` mode need an object at the root, and small
    /// models classify better when a named key comes first, so a type whose JSON is not an
    /// object (an enum, a newtype) is asked for wrapped in every dialect. The key is the
    /// type's name in snake case. The reply is unwrapped before it is validated.
    pub fn wrapper(&self) -> Option<&str> {
        self.wrapper.as_deref()
    }

    /// Whether replies for `dialect` come wrapped in an object (see [`Schema::wrapper`]).
    pub fn is_wrapped(&self, dialect: Dialect) -> bool {
        let _ = dialect;
        self.wrapper.is_some()
    }

    /// The source schema, wrapped as [`Schema::wrapper`] says when the root is not an
    /// object: what is sent to servers that take the full schema.
    pub fn wrapped_json(&self) -> &Value {
        match &self.wrapper {
            None => &self.json,
            Some(key) => self.wrapped_json.get_or_init(|| wrap(&self.json, key)),
        }
    }

    /// The compact, type-like rendering of the schema used in prompts: the type's doc and
    /// instructions, each field's name, type, doc and constraints, and enum choices.
    pub fn prompt(&self) -> &str {
        &self.prompt
    }

    /// The instructions from `#[extract(instructions = "…")]`, if any.
    pub fn instructions(&self) -> Option<&'static str> {
        self.instructions
    }

    /// Validates a JSON value against the full source schema and returns every violation,
    /// each with its JSON pointer.
    pub fn validate(&self, value: &Value) -> Result<(), Vec<Violation>> {
        let validator = self.validator.get_or_init(|| {
            jsonschema::options()
                .should_validate_formats(true)
                .build(&self.json)
                .map_err(|e| e.to_string())
        });
        match validator {
            Ok(validator) => validate::collect(validator, value),
            Err(message) => Err(vec![Violation::new(
                "",
                format!("the schema itself is invalid: {message}"),
            )]),
        }
    }
}

// ---- the envelope of non-object roots ----------------------------------------------

/// The key a non-object root is wrapped under: the type's name in snake case, with
/// schemars' container names read as words (`Array_of_Person` → `person_list`,
/// `Nullable_Person` → `person`) and plain values called `answer`.
pub(crate) fn wrapper_key(name: &str) -> String {
    if let Some(item) = name.strip_prefix("Array_of_") {
        return format!("{}_list", wrapper_key(item));
    }
    if let Some(inner) = name.strip_prefix("Nullable_") {
        return wrapper_key(inner);
    }
    if matches!(
        name,
        "boolean" | "string" | "number" | "integer" | "double" | "float"
    ) || json::is_numeric_format(name)
    {
        return "answer".to_owned();
    }
    let mut key = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if previous_lower {
                key.push('_');
            }
            key.push(c.to_ascii_lowercase());
            previous_lower = false;
        } else if c.is_ascii_alphanumeric() {
            key.push(c);
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !key.ends_with('_') && !key.is_empty() {
                key.push('_');
            }
            previous_lower = false;
        }
    }
    let key = key.trim_matches('_').to_owned();
    if key.is_empty() {
        "value".to_owned()
    } else {
        key
    }
}

/// `{"type": "object", "properties": {key: root}, "required": [key]}`, with the root's
/// `$defs` kept at the top so its references still resolve.
pub(crate) fn wrap(source: &Value, key: &str) -> Value {
    let mut inner = source.clone();
    let (schema, defs) = match &mut inner {
        Value::Object(object) => (object.remove("$schema"), object.remove("$defs")),
        _ => (None, None),
    };
    let mut root = Map::new();
    if let Some(schema) = schema {
        root.insert("$schema".into(), schema);
    }
    root.insert("type".into(), "object".into());
    root.insert("properties".into(), json!({ key: inner }));
    root.insert("required".into(), json!([key]));
    root.insert("additionalProperties".into(), Value::Bool(false));
    if let Some(defs) = defs {
        root.insert("$defs".into(), defs);
    }
    Value::Object(root)
}

fn references(defs: &Map<String, Value>, reference: &str) -> bool {
    fn walk(value: &Value, reference: &str) -> bool {
        match value {
            Value::Object(map) => map
                .iter()
                .any(|(k, v)| (k == "$ref" && v.as_str() == Some(reference)) || walk(v, reference)),
            Value::Array(items) => items.iter().any(|v| walk(v, reference)),
            _ => false,
        }
    }
    defs.values().any(|v| walk(v, reference))
}

/// Schema names travel in `response_format`, where OpenAI requires `[a-zA-Z0-9_-]{1,64}`;
/// schemars' generic names (`Page_for_Person`) already fit, anything else is mapped onto it.
/// A name that is still too long is left as it is so that the dialect check reports it.
fn sanitize_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Returns the cached schema of `T`, built on first use.
///
/// This is the same as `T::schema()`; the derive keeps a `static` per non-generic type, so
/// a cached call is a single atomic load. Generic types share one map keyed by `TypeId`.
pub fn schema<T: Extract>() -> &'static Schema {
    T::schema()
}

/// The cache used by generic types and by hand-written `Extract` impls.
pub(crate) fn cached<T: Extract>() -> &'static Schema {
    static CACHE: OnceLock<RwLock<HashMap<TypeId, &'static Schema>>> = OnceLock::new();
    let cache = CACHE.get_or_init(RwLock::default);
    let id = TypeId::of::<T>();
    if let Some(schema) = cache
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&id)
    {
        return schema;
    }
    // Built outside the lock: building may need other types' schemas.
    let built = Schema::of::<T>();
    let mut map = cache
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    map.entry(id).or_insert_with(|| Box::leak(Box::new(built)))
}
