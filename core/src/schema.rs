use std::any::TypeId;
use std::collections::HashMap;
use std::fmt;
use std::sync::{OnceLock, RwLock};

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::Value;

use crate::validate::{self, Violation};
use crate::{Extract, lower, prompt};

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

    fn index(self) -> usize {
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
            SchemaError::InvalidName { .. } => "",
        }
    }
}

/// A type's schema: the full source schema, its lowered copies, and its prompt rendering.
///
/// Get one with [`schema::<T>()`](schema); it is built once per type and cached for the
/// life of the process, and so is each lowered dialect.
pub struct Schema {
    name: String,
    json: Value,
    prompt: String,
    instructions: Option<&'static str>,
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
                let name = reference.rsplit('/').next().unwrap_or_default().to_owned();
                let name = name.replace("~1", "/").replace("~0", "~");
                let body = defs.get(&name).cloned().unwrap_or(Value::Bool(true));
                if !references(&defs, reference) {
                    defs.remove(&name);
                }
                body
            }
            _ => root.to_value(),
        };
        let mut json = serde_json::Map::new();
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
        Schema {
            name,
            json,
            prompt,
            instructions,
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
            .get_or_init(|| lower::lower(&self.name, &self.json, dialect))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Whether the schema was wrapped as `{"value": …}` for `dialect` because the dialect
    /// needs an object root. The reply then has to be unwrapped.
    pub fn is_wrapped(&self, dialect: Dialect) -> bool {
        dialect == Dialect::OpenAiStrict && !lower::is_object_schema(&self.json)
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

fn references(defs: &serde_json::Map<String, Value>, reference: &str) -> bool {
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
