//! Schema builders for the derive's `JsonSchema` impl: field annotations, objects,
//! flattening, enums in serde's four tagging styles, generic names and the schema cache.

use std::sync::OnceLock;

use schemars::{JsonSchema, Schema as JsonSchemaDoc, SchemaGenerator};
use serde_json::{Map, Value};
use std::borrow::Cow;

use crate::json;
use crate::{Extract, Schema};

/// The constraints and docs one field, variant or container declares.
#[derive(Clone, Copy, Default)]
pub struct Annotations {
    pub description: Option<&'static str>,
    /// Each example as JSON text, checked at compile time.
    pub examples: &'static [&'static str],
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub pattern: Option<&'static str>,
    pub format: Option<&'static str>,
    /// `#[extract(grounded)]`: marked with the grounding keyword.
    pub grounded: bool,
    /// `#[extract(unique)]`: `uniqueItems`, the list's items must not repeat.
    pub unique_items: bool,
    /// `#[extract(inferred)]`: marked as derived, never checked against the text by
    /// default grounding.
    pub inferred: bool,
}

/// A bound as JSON: an integer when it is whole, so that `range(min = 0)` reads `0`.
fn number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 9.0e15 {
        Value::from(value as i64)
    } else {
        serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
    }
}

/// Most `$ref` hops followed from one schema: a chain of newtypes is short, and a cycle of
/// references must not loop.
const MAX_REF_HOPS: usize = 8;

/// Follows top-level `$ref`s into the generator's definitions, to the schema they name;
/// `None` when a reference names no definition.
fn deref<'g>(generator: &'g SchemaGenerator, schema: &'g Value) -> Option<&'g Value> {
    let mut current = schema;
    for _ in 0..MAX_REF_HOPS {
        let Some(reference) = current.get("$ref").and_then(Value::as_str) else {
            break;
        };
        current = generator
            .definitions()
            .get(json::def_name(reference)?.as_ref())?;
    }
    Some(current)
}

/// `schema` with top-level `$ref`s replaced by the definitions they name, or `schema`
/// itself when one names no definition.
fn inline(generator: &SchemaGenerator, schema: Value) -> Value {
    match deref(generator, &schema) {
        Some(target) if !std::ptr::eq(target, &raw const schema) => target.clone(),
        _ => schema,
    }
}

/// The JSON types a schema admits, following a top-level `$ref` into the generator's
/// definitions so that constraints land on the right keywords for newtypes too.
fn admitted_types(generator: &SchemaGenerator, schema: &Value) -> Vec<String> {
    let Some(current) = deref(generator, schema) else {
        return Vec::new();
    };
    match current.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => {
            // Option<Struct> is `anyOf: [{$ref}, {type: null}]`: look through the union.
            let mut out = Vec::new();
            for key in ["anyOf", "oneOf"] {
                if let Some(Value::Array(branches)) = current.get(key) {
                    for branch in branches {
                        out.extend(admitted_types(generator, branch));
                    }
                }
            }
            out
        }
    }
}

/// Applies a field's docs and constraints to its schema.
pub fn annotate(
    generator: &SchemaGenerator,
    schema: &mut JsonSchemaDoc,
    annotations: &Annotations,
) {
    let types = if annotations.min_length.is_some() || annotations.max_length.is_some() {
        admitted_types(generator, schema.as_value())
    } else {
        Vec::new()
    };
    describe_container(schema, annotations.description, annotations.examples);
    let object = schema.ensure_object();
    if let Some(min) = annotations.minimum {
        object.insert("minimum".into(), number(min));
    }
    if let Some(max) = annotations.maximum {
        object.insert("maximum".into(), number(max));
    }
    let is_array = types.iter().any(|t| t == "array");
    let is_string = types.iter().any(|t| t == "string") || !is_array;
    for (bound, string_key, array_key) in [
        (annotations.min_length, "minLength", "minItems"),
        (annotations.max_length, "maxLength", "maxItems"),
    ] {
        if let Some(bound) = bound {
            if is_array {
                object.insert(array_key.into(), bound.into());
            }
            if is_string {
                object.insert(string_key.into(), bound.into());
            }
        }
    }
    keywords(object, annotations);
}

/// The keywords that annotations set as they are: `pattern`, `format`, and the marks.
fn keywords(object: &mut Map<String, Value>, annotations: &Annotations) {
    for (key, text) in [
        ("pattern", annotations.pattern),
        ("format", annotations.format),
    ] {
        if let Some(text) = text {
            object.insert(key.into(), text.into());
        }
    }
    for (set, key) in [
        (annotations.inferred, json::INFERRED),
        (annotations.grounded, json::GROUNDED),
        (annotations.unique_items, "uniqueItems"),
    ] {
        if set {
            object.insert(key.into(), true.into());
        }
    }
}

/// A new `{"type": "object", "properties": {}}` schema.
pub fn object() -> JsonSchemaDoc {
    let mut map = Map::new();
    map.insert("type".into(), "object".into());
    map.insert("properties".into(), Value::Object(Map::new()));
    JsonSchemaDoc::from(map)
}

/// Adds a property to an object schema, listing it in `required` when serde needs it.
pub fn property(schema: &mut JsonSchemaDoc, name: &str, property: JsonSchemaDoc, required: bool) {
    let object = schema.ensure_object();
    if let Some(Value::Object(properties)) = object.get_mut("properties") {
        properties.insert(name.to_owned(), property.to_value());
    }
    if required {
        push_required(object, name);
    }
}

fn push_required(object: &mut Map<String, Value>, name: &str) {
    let required = object
        .entry("required")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(list) = required
        && !list.iter().any(|v| v == name)
    {
        list.push(name.into());
    }
}

/// Merges a `#[serde(flatten)]` field's object schema into its parent.
///
/// An `Option<Flattened>` contributes its properties but none of its requirements, as serde
/// accepts the inner fields being absent.
pub fn flatten(
    schema: &mut JsonSchemaDoc,
    generator: &mut SchemaGenerator,
    inner: JsonSchemaDoc,
    optional: bool,
) {
    // A flattened struct reached through a `$ref` is inlined so its properties can merge.
    let inner = inline(generator, inner.to_value());
    let object = schema.ensure_object();
    let Value::Object(inner) = inner else { return };
    if let Some(Value::Object(props)) = inner.get("properties")
        && let Some(Value::Object(target)) = object.get_mut("properties")
    {
        for (k, v) in props {
            target.insert(k.clone(), v.clone());
        }
    }
    if !optional && let Some(Value::Array(required)) = inner.get("required") {
        for name in required.iter().filter_map(Value::as_str) {
            push_required(object, name);
        }
    }
    // A flattened map (`HashMap<String, T>`) opens the parent to extra keys.
    if let Some(extra) = inner.get("additionalProperties") {
        object.insert("additionalProperties".into(), extra.clone());
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(branches) = inner.get(key) {
            object.insert(key.into(), branches.clone());
        }
    }
}

/// Closes an object schema (`#[serde(deny_unknown_fields)]`, tagged variants).
pub fn close(schema: &mut JsonSchemaDoc) {
    let object = schema.ensure_object();
    object
        .entry("additionalProperties")
        .or_insert(Value::Bool(false));
}

/// Sets the description and examples of a type, a variant's branch or a field.
pub fn describe_container(
    schema: &mut JsonSchemaDoc,
    description: Option<&'static str>,
    examples: &'static [&'static str],
) {
    let object = schema.ensure_object();
    if let Some(description) = description {
        object.insert("description".into(), description.into());
    }
    if !examples.is_empty() {
        let examples = examples
            .iter()
            .filter_map(|text| serde_json::from_str::<Value>(text).ok())
            .collect();
        object.insert("examples".into(), Value::Array(examples));
    }
}

/// A string enum. Variants with docs become `oneOf` constants so that each keeps its
/// description; otherwise a plain `enum` list.
pub fn unit_enum(variants: &[(&'static str, Option<&'static str>)]) -> JsonSchemaDoc {
    let mut map = Map::new();
    map.insert("type".into(), "string".into());
    if variants.iter().any(|(_, doc)| doc.is_some()) {
        let branches = variants
            .iter()
            .map(|(name, doc)| {
                let mut branch = Map::new();
                branch.insert("type".into(), "string".into());
                branch.insert("const".into(), (*name).into());
                if let Some(doc) = doc {
                    branch.insert("description".into(), (*doc).into());
                }
                Value::Object(branch)
            })
            .collect();
        map.insert("oneOf".into(), Value::Array(branches));
    } else {
        map.insert(
            "enum".into(),
            variants
                .iter()
                .map(|(name, _)| Value::from(*name))
                .collect(),
        );
    }
    JsonSchemaDoc::from(map)
}

/// A `{"type": "string", "const": name}` schema.
pub fn constant(name: &str) -> JsonSchemaDoc {
    let mut map = Map::new();
    map.insert("type".into(), "string".into());
    map.insert("const".into(), name.into());
    JsonSchemaDoc::from(map)
}

/// `{"type": "null"}`, what serde's untagged unit variants deserialize from.
pub fn null() -> JsonSchemaDoc {
    let mut map = Map::new();
    map.insert("type".into(), "null".into());
    JsonSchemaDoc::from(map)
}

/// Externally tagged data variant: `{"Variant": …}`.
pub fn externally_tagged(name: &str, inner: JsonSchemaDoc) -> JsonSchemaDoc {
    let mut schema = object();
    property(&mut schema, name, inner, true);
    close(&mut schema);
    schema
}

/// Internally tagged variant: the tag is a required constant property of the variant's
/// object (which the derive builds inline, newtype variants flattened in).
pub fn internally_tagged(mut schema: JsonSchemaDoc, tag: &str, name: &str) -> JsonSchemaDoc {
    let object = schema.ensure_object();
    object.entry("type").or_insert_with(|| "object".into());
    let properties = object
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(properties) = properties {
        // The tag comes first, so that grammar-constrained models write it first.
        let mut reordered = Map::new();
        reordered.insert(tag.to_owned(), constant(name).to_value());
        for (k, v) in std::mem::take(properties) {
            if k != tag {
                reordered.insert(k, v);
            }
        }
        *properties = reordered;
    }
    let required = object
        .entry("required")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(list) = required {
        list.retain(|v| v != tag);
        list.insert(0, tag.into());
    }
    schema
}

/// Adjacently tagged variant: `{"tag": "Variant", "content": …}`.
pub fn adjacently_tagged(
    tag: &str,
    content: &str,
    name: &str,
    inner: Option<JsonSchemaDoc>,
) -> JsonSchemaDoc {
    let mut schema = object();
    property(&mut schema, tag, constant(name), true);
    if let Some(inner) = inner {
        property(&mut schema, content, inner, true);
    }
    close(&mut schema);
    schema
}

/// Inline schema of a newtype variant's content for internal tagging: a struct is inlined
/// so the tag can join its properties.
pub fn inline_object<T: JsonSchema + ?Sized>(generator: &mut SchemaGenerator) -> JsonSchemaDoc {
    let schema = generator.subschema_for::<T>();
    JsonSchemaDoc::try_from(inline(generator, schema.to_value())).unwrap_or_default()
}

/// A union of variant schemas under `key` (`oneOf` for tagged enums, `anyOf` for untagged).
pub fn union(key: &str, variants: Vec<JsonSchemaDoc>) -> JsonSchemaDoc {
    let mut map = Map::new();
    map.insert(
        key.into(),
        Value::Array(variants.into_iter().map(JsonSchemaDoc::to_value).collect()),
    );
    JsonSchemaDoc::from(map)
}

/// The cached schema of a non-generic type: one `static` per type, so a cached call is a
/// single atomic load.
pub fn static_schema<T: Extract>(cell: &'static OnceLock<Schema>) -> &'static Schema {
    cell.get_or_init(Schema::of::<T>)
}

/// The pieces of a type name, for generic schema names such as `Page_for_Person`.
pub fn generic_name(base: &str, params: &[Cow<'static, str>]) -> Cow<'static, str> {
    if params.is_empty() {
        return Cow::Owned(base.to_owned());
    }
    Cow::Owned(format!("{base}_for_{}", params.join("_and_")))
}
