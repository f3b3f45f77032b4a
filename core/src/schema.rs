//! [`Schema`], a type's source schema with its lowered dialects, prompt and validator, the
//! per-type cache behind [`schema`], and the envelope of non-object roots.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use heck::ToSnakeCase as _;
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::Value;
use serde_json::value::RawValue;

use serde_json::{Map, json};

use crate::lower::{self, Dialect, SchemaError};
use crate::validate::{self, Violation};
use crate::{PromptStyle, json, prompt};

/// A type's schema: the full source schema, its lowered copies, and its prompt rendering.
///
/// Get one with [`schema::<T>()`](crate::schema()); it is built once per type and cached for the
/// life of the process, and so is each lowered dialect.
pub struct Schema {
    name: String,
    json: Value,
    prompt: String,
    /// The [`PromptStyle::Compact`] renderings, made at their first use: as
    /// [`prompt_in`](Schema::prompt_in) gives it, and under a llama.cpp grammar.
    compact_prompt: OnceLock<String>,
    held_prompt: OnceLock<String>,
    instructions: Option<Cow<'static, str>>,
    envelope: Option<String>,
    enveloped_json: OnceLock<Value>,
    dialects: [OnceLock<Result<Value, SchemaError>>; 2],
    /// The JSON text of what requests send ([`sent`](Schema::sent)), written at its first
    /// use: the enveloped source schema, then each dialect's lowering.
    sent_texts: [OnceLock<Option<Box<RawValue>>>; 3],
    validator: OnceLock<Result<jsonschema::Validator, SchemaError>>,
    /// [`fingerprint`](Schema::fingerprint), made at its first use.
    fingerprint: OnceLock<u64>,
    /// Whether any field is `#[extract(grounded)]`: most schemas have none, and then no
    /// reply's value is walked for them.
    grounded: bool,
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
    /// Names the key a non-object root is asked for under, when it has one (a type's own
    /// [`Extract::envelope_key`](crate::Extract::envelope_key)).
    pub(crate) fn rename_envelope(&mut self, key: String) {
        if self.envelope.is_some() {
            self.envelope = Some(key);
        }
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
        let mut json = Value::Object(json);
        integer_keys(&mut json);
        Schema::new(
            sanitize_name(&T::schema_name()),
            json,
            instructions.map(Cow::Borrowed),
        )
    }

    /// Builds a schema from a JSON Schema document you already have. `name` is what servers
    /// see as the schema's name; `instructions`, borrowed or owned, open the prompt's
    /// description of the type.
    pub fn new(
        name: impl Into<String>,
        json: Value,
        instructions: Option<Cow<'static, str>>,
    ) -> Schema {
        let name = name.into();
        let prompt = prompt::render(
            &name,
            &json,
            instructions.as_deref(),
            PromptStyle::Verbose,
            false,
        );
        let envelope = (!json::is_object_schema(&json)).then(|| envelope_key_for(&name));
        let grounded = crate::ground::mentions(&json);
        Schema {
            name,
            json,
            prompt,
            compact_prompt: OnceLock::new(),
            held_prompt: OnceLock::new(),
            instructions,
            envelope,
            enveloped_json: OnceLock::new(),
            dialects: [OnceLock::new(), OnceLock::new()],
            sent_texts: [OnceLock::new(), OnceLock::new(), OnceLock::new()],
            validator: OnceLock::new(),
            fingerprint: OnceLock::new(),
            grounded,
        }
    }

    /// The same schema with its root list bounded to `max` items (`maxItems`, the smaller
    /// bound when it has one already): what `Extraction::max_items` asks with. The prompt
    /// says the bound too.
    pub(crate) fn with_max_items(&self, max: usize) -> Schema {
        let mut json = self.json.clone();
        if let Value::Object(root) = &mut json {
            let bound = root
                .get("maxItems")
                .and_then(Value::as_u64)
                .map_or(max as u64, |old| old.min(max as u64));
            root.insert("maxItems".into(), bound.into());
        }
        let mut schema = Schema::new(self.name.clone(), json, self.instructions.clone());
        schema.envelope.clone_from(&self.envelope);
        schema
    }

    /// A hash of the schema (its name, its JSON and the key a non-object root is asked
    /// under), stable across runs and releases: what cassettes and the response cache key
    /// a request's schema by, so any change to the type misses.
    pub(crate) fn fingerprint(&self) -> u64 {
        *self.fingerprint.get_or_init(|| {
            let json = serde_json::to_vec(&self.json).unwrap_or_default();
            let hash = json::fnv(json::FNV_OFFSET, self.name.as_bytes());
            let hash = json::fnv(hash, &[0xff]);
            let hash = json::fnv(
                hash,
                self.envelope.as_deref().unwrap_or_default().as_bytes(),
            );
            let hash = json::fnv(hash, &[0xff]);
            json::fnv(hash, &json)
        })
    }

    /// Whether any field of the schema must be quoted from the text
    /// (`#[extract(grounded)]`).
    pub(crate) fn has_grounded(&self) -> bool {
        self.grounded
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
            .get_or_init(|| lower::lower(&self.name, self.enveloped_json(), dialect))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The schema a request sends in `dialect`: its lowering when it lowers, else (or
    /// with no dialect) the enveloped source schema; with its JSON text, written once.
    pub(crate) fn sent(&self, dialect: Option<Dialect>) -> (&Value, Option<&RawValue>) {
        let (slot, json) = match dialect.map(|d| (d, self.for_dialect(d))) {
            Some((d, Ok(lowered))) => (1 + d.index(), lowered),
            Some((_, Err(e))) => {
                // The run refuses a schema strict mode cannot take before it sends
                // anything; any other dialect falls back to the source schema, and the
                // reply is still checked locally against it.
                tracing::debug!(error = %e, "schema does not lower; sending the source schema");
                (0, self.enveloped_json())
            }
            None => (0, self.enveloped_json()),
        };
        let text = self.sent_texts[slot]
            .get_or_init(|| serde_json::value::to_raw_value(json).ok())
            .as_deref();
        (json, text)
    }

    /// The envelope key of a non-object root, as in `{"sentiment": "negative"}`.
    ///
    /// OpenAI strict mode and `json_object` mode need an object at the root, and small
    /// models classify better when a named key comes first, so a type whose JSON is not an
    /// object (an enum, a newtype, a list, a plain value) is asked for under this key in
    /// every dialect and mode. The key comes from [`Extract::envelope_key`](crate::Extract::envelope_key): the type's name
    /// in snake case, `person_list` for `Vec<Person>`, `answer` for plain values. The
    /// envelope is removed from the reply before it is validated.
    pub fn envelope_key(&self) -> Option<&str> {
        self.envelope.as_deref()
    }

    /// The source schema inside its envelope when the root is not an object (see
    /// [`Schema::envelope_key`]): what is sent to servers that take the full schema.
    pub fn enveloped_json(&self) -> &Value {
        match &self.envelope {
            None => &self.json,
            Some(key) => self.enveloped_json.get_or_init(|| envelop(&self.json, key)),
        }
    }

    /// The compact, type-like rendering of the schema used in prompts: the type's doc and
    /// instructions, each field's name, type, doc and constraints, and enum choices.
    ///
    /// This is the [`PromptStyle::Verbose`] rendering; [`prompt_in`](Schema::prompt_in)
    /// gives the one a style sends.
    pub fn prompt(&self) -> &str {
        &self.prompt
    }

    /// The rendering a client with `style` puts in its prompt. The two differ only in
    /// notes the type already says: [`PromptStyle::Compact`] leaves out `optional` where
    /// the type reads `| null`. Where a llama.cpp grammar holds the reply (the
    /// [`Dialect::LlamaCpp`](crate::Dialect::LlamaCpp) dialect of `json_schema`: Dria,
    /// llama-server, Ollama, the in-process model), the compact prompt also leaves out
    /// `not empty`, which the grammar enforces.
    pub fn prompt_in(&self, style: PromptStyle) -> &str {
        self.rendering(style, false)
    }

    /// The rendering for `style`, with `held` as in [`prompt::render`].
    pub(crate) fn rendering(&self, style: PromptStyle, held: bool) -> &str {
        let cell = match (style, held) {
            (PromptStyle::Verbose, _) => return &self.prompt,
            (PromptStyle::Compact, false) => &self.compact_prompt,
            (PromptStyle::Compact, true) => &self.held_prompt,
        };
        cell.get_or_init(|| {
            prompt::render(
                &self.name,
                &self.json,
                self.instructions.as_deref(),
                style,
                held,
            )
        })
    }

    /// The instructions from `#[extract(instructions = "…")]`, if any.
    pub fn instructions(&self) -> Option<&str> {
        self.instructions.as_deref()
    }

    /// Checks that the source schema compiles as a JSON Schema validator. Every extraction
    /// does this once before its first request, so a broken schema is the caller's error,
    /// never a violation shown to the model.
    ///
    /// # Errors
    ///
    /// [`SchemaError::Invalid`] with the validator's message.
    pub fn check(&self) -> Result<(), SchemaError> {
        self.validator().map(|_| ())
    }

    /// Validates a JSON value against the full source schema and returns every violation,
    /// each with its JSON pointer. A schema that does not compile (see [`Schema::check`])
    /// gives one violation at the root.
    ///
    /// # Errors
    ///
    /// Every [`Violation`] of the value, each at its path, when there is at least one.
    pub fn validate(&self, value: &Value) -> Result<(), Vec<Violation>> {
        match self.validator() {
            Ok(validator) => validate::collect(validator, &self.json, value),
            Err(e) => Err(vec![Violation::new("", e.to_string())]),
        }
    }

    fn validator(&self) -> Result<&jsonschema::Validator, SchemaError> {
        self.validator
            .get_or_init(|| {
                jsonschema::options()
                    .should_validate_formats(true)
                    .build(&self.json)
                    .map_err(|e| SchemaError::Invalid {
                        message: e.to_string(),
                    })
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

// ---- the envelope of non-object roots ----------------------------------------------

/// The envelope key for a schema known only by its name: the name in snake case, or
/// `value` when nothing of it is left. Types that implement [`Extract`] name their own key
/// ([`Extract::envelope_key`]); this is for [`Schema::new`] and plain `JsonSchema` types.
pub(crate) fn envelope_key_for(name: &str) -> String {
    let key = name.to_snake_case();
    if key.is_empty() {
        "value".to_owned()
    } else {
        key
    }
}

/// `{"type": "object", "properties": {key: root}, "required": [key]}`, with the root's
/// `$defs` kept at the top so its references still resolve.
pub(crate) fn envelop(source: &Value, key: &str) -> Value {
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

/// The key patterns schemars gives maps with unsigned and signed integer keys, and the
/// `propertyNames` pattern each becomes.
const INTEGER_KEYS: [(&str, &str); 2] = [(r"^\d+$", "^[0-9]+$"), (r"^-?\d+$", "^-?[0-9]+$")];

/// Rewrites every map with integer keys into the shape of a map with string keys:
/// schemars closes it and puts its values under a key pattern (`patternProperties`),
/// which neither OpenAI strict mode nor llama.cpp's converter reads, so lowered it would
/// admit only `{}`. As `additionalProperties: V` with `propertyNames: {"pattern": …}` it is
/// refused under strict mode like any map, a llama.cpp grammar takes its values, and the
/// key pattern is still checked locally.
fn integer_keys(value: &mut Value) {
    match value {
        Value::Object(object) => {
            integer_key_map(object);
            object.values_mut().for_each(integer_keys);
        }
        Value::Array(items) => items.iter_mut().for_each(integer_keys),
        _ => {}
    }
}

/// One schema object: the rewrite of [`integer_keys`] when it is such a map.
fn integer_key_map(object: &mut Map<String, Value>) {
    let Some(Value::Object(patterns)) = object.get("patternProperties") else {
        return;
    };
    let Some(key_pattern) = (match patterns.iter().next() {
        Some((pattern, _)) if patterns.len() == 1 => INTEGER_KEYS
            .iter()
            .find(|(from, _)| from == pattern)
            .map(|(_, to)| *to),
        _ => None,
    }) else {
        return;
    };
    if object.get("additionalProperties") != Some(&Value::Bool(false))
        || object.contains_key("properties")
        || object.contains_key("propertyNames")
    {
        return;
    }
    let Some(Value::Object(patterns)) = object.remove("patternProperties") else {
        return;
    };
    let values = patterns
        .into_iter()
        .next()
        .map_or(Value::Bool(true), |(_, v)| v);
    object.insert("propertyNames".into(), json!({ "pattern": key_pattern }));
    object.insert("additionalProperties".into(), values);
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
pub(crate) fn sanitize_name(name: &str) -> String {
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

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use serde_json::json;

    use super::*;

    #[test]
    fn a_map_with_unsigned_keys_is_an_object_whose_keys_are_digits() {
        let schema = Schema::from_json_schema::<HashMap<u32, u8>>(None);
        let json = schema.json();
        assert_eq!(json["type"], "object");
        assert_eq!(json["propertyNames"], json!({"pattern": "^[0-9]+$"}));
        assert_eq!(json["additionalProperties"]["type"], "integer");
        assert!(json.get("patternProperties").is_none(), "{json}");
        assert!(
            schema.prompt().contains("map<integer, "),
            "{}",
            schema.prompt()
        );
    }

    #[test]
    fn a_map_with_signed_keys_allows_a_minus_sign_and_nested_maps_are_rewritten_too() {
        let schema = Schema::from_json_schema::<Vec<BTreeMap<i64, String>>>(None);
        let items = &schema.json()["items"];
        assert_eq!(items["propertyNames"], json!({"pattern": "^-?[0-9]+$"}));
        assert_eq!(items["additionalProperties"]["type"], "string");
        assert!(schema.validate(&json!([{"-3": "a", "12": "b"}])).is_ok());
    }

    #[test]
    fn a_key_that_is_no_integer_is_a_violation_at_its_key() {
        let schema = Schema::from_json_schema::<HashMap<u32, u32>>(None);
        assert!(schema.validate(&json!({"1": 5, "22": 7})).is_ok());
        let violations = schema.validate(&json!({"1": 5, "x": 7})).unwrap_err();
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert_eq!(violations[0].path, "/x");
        assert!(
            violations[0]
                .message
                .starts_with("key \"x\" is not a whole number"),
            "{violations:?}"
        );
        let negative = schema.validate(&json!({"-1": 5})).unwrap_err();
        assert_eq!(negative[0].path, "/-1", "{negative:?}");
    }

    #[test]
    fn a_map_with_string_keys_is_left_as_it_is() {
        let schema = Schema::from_json_schema::<HashMap<String, u32>>(None);
        assert!(schema.json().get("propertyNames").is_none());
        assert_eq!(schema.json()["additionalProperties"]["type"], "integer");
    }
}
