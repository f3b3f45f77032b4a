//! From factum's JSON Schema to an Arrow [`DataType`], and from a validated JSON value to the
//! JSON that Arrow's own JSON decoder reads as that type.
//!
//! The schema is read once, at registration, into a [`Node`] tree: every construct the
//! derive produces has a node, and anything else is an [`ArrowTypeError`] naming where it
//! is. The same tree then reshapes each row's value (a data-carrying enum becomes its
//! tagged struct, a tuple its struct, free JSON its text), so that the type and the rows
//! can never disagree.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Fields, TimeUnit};
use factum::{Dynamic, Extract, Schema};
use serde_json::{Map, Value};

/// The name of the tag field of a data-carrying enum's struct: the variant's name.
pub(crate) const TAG: &str = "tag";

/// Why a schema has no Arrow type: where in the schema (a JSON pointer into the value, `""`
/// for the root) and what is there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} at `{path}` has no Arrow type: {reason}")]
pub struct ArrowTypeError {
    /// Where the construct is, as a JSON pointer into the extracted value (`/items/0`
    /// for a list's items).
    pub path: String,
    /// The construct, as the schema spells it.
    pub what: String,
    /// Why it cannot be mapped, and what would.
    pub reason: String,
}

/// The Arrow type of an extracted `T`, from its JSON Schema.
///
/// | schema | Arrow |
/// | --- | --- |
/// | object with properties (a struct, flattened fields included) | `Struct`, a field per property, nullable unless required and not `null`-able |
/// | `Option<X>` (`["x", "null"]`, `anyOf [x, null]`) | X, nullable |
/// | array (`Vec`, sets) | `List` |
/// | tuple (`prefixItems`) | `Struct` with fields `_0`, `_1`, … |
/// | map (`additionalProperties` only) | `Map<Utf8, V>` |
/// | string enum (unit variants) | `Utf8` |
/// | data-carrying enum (external, internal or adjacent tags) | `Struct<tag: Utf8, <variant>: payload, …>`, one nullable field per variant that carries data |
/// | string with `format: date` / `date-time` / `partial-date-time` (the `chrono` feature) | `Date32` / `Timestamp(µs, "UTC")` / `Timestamp(µs)` |
/// | other strings (uuid, url, email, …) | `Utf8` |
/// | integer by `format` (`int8` … `uint64`) | the same Arrow integer; no format: `Int64` |
/// | number | `Float64` (`Float32` for `format: float`) |
/// | boolean | `Boolean` |
/// | any JSON (`serde_json::Value`, `{}`) | `Utf8` holding the JSON text |
///
/// # Errors
///
/// An [`ArrowTypeError`] for a recursive type (a tree has no fixed Arrow type), an
/// untagged enum whose variants have different shapes, a value of several JSON types, and
/// a `$ref` that does not resolve.
pub fn arrow_type<T: Extract>() -> Result<DataType, ArrowTypeError> {
    schema_arrow_type(T::schema())
}

/// The Arrow type of a run-time [`Dynamic`] target's values, as [`arrow_type`] maps a
/// derived type's.
///
/// # Errors
///
/// Those of [`arrow_type`].
pub fn arrow_type_dynamic(target: &Dynamic) -> Result<DataType, ArrowTypeError> {
    schema_arrow_type(target.schema())
}

/// The Arrow type of values of any factum [`Schema`].
///
/// # Errors
///
/// Those of [`arrow_type`].
pub fn schema_arrow_type(schema: &Schema) -> Result<DataType, ArrowTypeError> {
    Ok(Node::of(schema)?.data_type())
}

/// A schema as Arrow sees it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Utf8,
    /// Any JSON, kept as its text.
    Json,
    Boolean,
    /// An integer or float type.
    Number(DataType),
    Date,
    /// A timestamp, in UTC when `zoned`.
    Timestamp {
        zoned: bool,
    },
    /// Only `null`.
    Null,
    List(Box<Slot>),
    Struct(Vec<(String, Slot)>),
    /// A tuple: an array read as a struct of `_0`, `_1`, …
    Tuple(Vec<Slot>),
    Map(Box<Slot>),
    Tagged(Vec<Variant>),
}

/// A node and whether a value of it may be null.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Slot {
    node: Node,
    nullable: bool,
}

/// One variant of a data-carrying enum.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Variant {
    name: String,
    form: Form,
    payload: Option<Slot>,
}

/// How a variant is written in JSON.
#[derive(Debug, Clone, PartialEq)]
enum Form {
    /// Its name as a string.
    Unit,
    /// `{"Name": payload}`.
    External,
    /// An object whose `tag` property is the name, the payload its other properties.
    Internal { tag: String },
}

impl Node {
    /// The tree of a factum schema; `$ref`s resolve against the schema's root.
    pub(crate) fn of(schema: &Schema) -> Result<Node, ArrowTypeError> {
        let root = schema.json();
        // The root is on the stack from the start: a `$ref` below it to the root (or to
        // the root's copy in `$defs`, as schemars writes a recursive type) is recursion.
        let mut reader = Reader {
            root,
            bare_root: bare(root),
            refs: vec!["#".to_owned()],
        };
        Ok(reader.slot(root, "")?.node)
    }

    pub(crate) fn data_type(&self) -> DataType {
        match self {
            Node::Utf8 | Node::Json => DataType::Utf8,
            Node::Boolean => DataType::Boolean,
            Node::Number(t) => t.clone(),
            Node::Date => DataType::Date32,
            Node::Timestamp { zoned } => {
                DataType::Timestamp(TimeUnit::Microsecond, zoned.then(|| Arc::from("UTC")))
            }
            Node::Null => DataType::Null,
            Node::List(item) => DataType::List(Arc::new(item.field("item"))),
            Node::Struct(fields) => DataType::Struct(
                fields
                    .iter()
                    .map(|(name, slot)| slot.field(name))
                    .collect::<Fields>(),
            ),
            Node::Tuple(items) => DataType::Struct(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, slot)| slot.field(&format!("_{i}")))
                    .collect::<Fields>(),
            ),
            Node::Map(value) => map_type(value),
            Node::Tagged(variants) => tagged_type(variants),
        }
    }

    /// `value` (valid against the schema this node was read from) as the JSON Arrow's JSON
    /// decoder reads as [`data_type`](Node::data_type).
    pub(crate) fn reshape(&self, value: Value) -> Value {
        match (self, value) {
            (_, Value::Null) => Value::Null,
            (Node::Json, value) => Value::String(value.to_string()),
            (Node::Utf8, Value::String(s)) => Value::String(s),
            (Node::Utf8, other) => Value::String(other.to_string()),
            (Node::List(item), Value::Array(items)) => {
                Value::Array(items.into_iter().map(|v| item.node.reshape(v)).collect())
            }
            (Node::Tuple(slots), Value::Array(items)) => Value::Object(
                slots
                    .iter()
                    .zip(items)
                    .enumerate()
                    .map(|(i, (slot, v))| (format!("_{i}"), slot.node.reshape(v)))
                    .collect(),
            ),
            (Node::Struct(fields), Value::Object(mut object)) => Value::Object(
                fields
                    .iter()
                    .map(|(name, slot)| {
                        let v = object.remove(name).unwrap_or(Value::Null);
                        (name.clone(), slot.node.reshape(v))
                    })
                    .collect(),
            ),
            (Node::Map(slot), Value::Object(object)) => Value::Object(
                object
                    .into_iter()
                    .map(|(k, v)| (k, slot.node.reshape(v)))
                    .collect(),
            ),
            (Node::Tagged(variants), value) => reshape_tagged(variants, value),
            (_, value) => value,
        }
    }
}

/// `Map<Utf8, value>`, as Arrow's JSON decoder reads a JSON object.
fn map_type(value: &Slot) -> DataType {
    let entries = Field::new(
        "entries",
        DataType::Struct(Fields::from(vec![
            Field::new("keys", DataType::Utf8, false),
            value.field("values"),
        ])),
        false,
    );
    DataType::Map(Arc::new(entries), false)
}

/// `Struct<tag: Utf8, <variant>: payload, …>`: a nullable field per variant with data.
fn tagged_type(variants: &[Variant]) -> DataType {
    let mut fields = vec![Field::new(TAG, DataType::Utf8, false)];
    for variant in variants {
        if let Some(payload) = &variant.payload {
            let mut field = payload.field(&variant.name);
            field.set_nullable(true);
            fields.push(field);
        }
    }
    DataType::Struct(Fields::from(fields))
}

/// A data-carrying enum's value as its tagged struct; a value no variant matches (which
/// validation rules out) becomes null.
fn reshape_tagged(variants: &[Variant], value: Value) -> Value {
    let mut out = Map::new();
    match value {
        Value::String(name) => {
            out.insert(TAG.to_owned(), Value::String(name));
        }
        Value::Object(mut object) => {
            let internal = variants.iter().find(|v| match &v.form {
                Form::Internal { tag } => object.get(tag).and_then(Value::as_str) == Some(&v.name),
                _ => false,
            });
            if let Some(variant) = internal {
                if let Form::Internal { tag } = &variant.form {
                    object.remove(tag);
                }
                out.insert(TAG.to_owned(), Value::String(variant.name.clone()));
                if let Some(payload) = &variant.payload {
                    out.insert(
                        variant.name.clone(),
                        payload.node.reshape(Value::Object(object)),
                    );
                }
            } else if object.len() == 1 {
                let Some((name, payload)) = object.into_iter().next() else {
                    return Value::Null;
                };
                let slot = variants
                    .iter()
                    .find(|v| v.form == Form::External && v.name == name)
                    .and_then(|v| v.payload.as_ref());
                if let Some(slot) = slot {
                    out.insert(name.clone(), slot.node.reshape(payload));
                }
                out.insert(TAG.to_owned(), Value::String(name));
            } else {
                return Value::Null;
            }
        }
        _ => return Value::Null,
    }
    Value::Object(out)
}

impl Slot {
    fn field(&self, name: &str) -> Field {
        Field::new(name, self.node.data_type(), self.nullable)
    }
}

/// Reads a schema into nodes, following `$ref`s and refusing recursion.
struct Reader<'a> {
    root: &'a Value,
    /// The root without the keywords a `$defs` copy of it lacks.
    bare_root: Value,
    /// The `$ref`s being read, outermost first.
    refs: Vec<String>,
}

impl<'a> Reader<'a> {
    fn error(path: &str, what: impl Into<String>, reason: impl Into<String>) -> ArrowTypeError {
        ArrowTypeError {
            path: path.to_owned(),
            what: what.into(),
            reason: reason.into(),
        }
    }

    fn slot(&mut self, schema: &Value, path: &str) -> Result<Slot, ArrowTypeError> {
        let object = match schema {
            Value::Bool(true) => {
                return Ok(Slot {
                    node: Node::Json,
                    nullable: true,
                });
            }
            Value::Object(object) => object,
            _ => {
                return Err(Self::error(path, "the schema `false`", "no value fits it"));
            }
        };
        if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
            return self.reference(reference, path);
        }
        if let Some(Value::Array(members)) = object.get("anyOf").or_else(|| object.get("oneOf")) {
            return self.union(members, path);
        }
        if let Some(Value::Array(members)) = object.get("allOf") {
            return match members.as_slice() {
                [one] => self.slot(one, path),
                _ => Err(Self::error(
                    path,
                    "`allOf` of several schemas",
                    "only a single-member allOf maps to Arrow",
                )),
            };
        }
        if let Some(Value::Array(values)) = object.get("enum") {
            return enum_slot(values, path);
        }
        if let Some(value) = object.get("const") {
            return enum_slot(std::slice::from_ref(value), path);
        }
        self.typed(object, path)
    }

    /// A schema by its `type`.
    fn typed(&mut self, object: &Map<String, Value>, path: &str) -> Result<Slot, ArrowTypeError> {
        let (kind, nullable) = match object.get("type") {
            None => {
                return Ok(Slot {
                    node: Node::Json,
                    nullable: true,
                });
            }
            Some(Value::String(kind)) => (kind.as_str(), kind == "null"),
            Some(Value::Array(kinds)) => one_type(kinds, path)?,
            Some(other) => {
                return Err(Self::error(path, format!("`type: {other}`"), "not a type"));
            }
        };
        let node = match kind {
            "string" => string_node(object),
            "integer" => Node::Number(integer_type(object)),
            "number" => Node::Number(
                if object.get("format").and_then(Value::as_str) == Some("float") {
                    DataType::Float32
                } else {
                    DataType::Float64
                },
            ),
            "boolean" => Node::Boolean,
            "null" => Node::Null,
            "array" => self.array(object, path)?,
            "object" => self.object(object, path)?,
            other => {
                return Err(Self::error(
                    path,
                    format!("`type: {other}`"),
                    "not a JSON Schema type",
                ));
            }
        };
        Ok(Slot { node, nullable })
    }

    /// The schema a local `$ref` points to.
    fn target(&self, reference: &str, path: &str) -> Result<&'a Value, ArrowTypeError> {
        reference
            .strip_prefix('#')
            .and_then(|pointer| self.root.pointer(pointer))
            .ok_or_else(|| {
                Self::error(
                    path,
                    format!("`$ref: {reference}`"),
                    "does not resolve inside the schema",
                )
            })
    }

    fn reference(&mut self, reference: &str, path: &str) -> Result<Slot, ArrowTypeError> {
        let target = self.target(reference, path)?;
        let identity = if bare(target) == self.bare_root {
            "#"
        } else {
            reference
        };
        if self.refs.iter().any(|r| r == identity) {
            return Err(Self::error(
                path,
                format!("`$ref: {reference}`"),
                "the type holds itself (a tree or a linked list); a recursive type has no fixed Arrow type",
            ));
        }
        self.refs.push(identity.to_owned());
        let slot = self.slot(target, path);
        self.refs.pop();
        slot
    }

    fn array(&mut self, object: &Map<String, Value>, path: &str) -> Result<Node, ArrowTypeError> {
        if let Some(Value::Array(items)) = object.get("prefixItems") {
            let slots = items
                .iter()
                .enumerate()
                .map(|(i, item)| self.slot(item, &format!("{path}/{i}")))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Node::Tuple(slots));
        }
        let item = match object.get("items") {
            Some(items) => self.slot(items, &format!("{path}/0"))?,
            None => Slot {
                node: Node::Json,
                nullable: true,
            },
        };
        Ok(Node::List(Box::new(item)))
    }

    fn object(&mut self, object: &Map<String, Value>, path: &str) -> Result<Node, ArrowTypeError> {
        let properties = object.get("properties").and_then(Value::as_object);
        let additional = object.get("additionalProperties");
        match (properties, additional) {
            (Some(properties), _) if !properties.is_empty() => {
                let required: Vec<&str> = object
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let mut fields = Vec::with_capacity(properties.len());
                for (name, schema) in properties {
                    let mut slot = self.slot(schema, &format!("{path}/{}", escape(name)))?;
                    slot.nullable |= !required.contains(&name.as_str());
                    fields.push((name.clone(), slot));
                }
                Ok(Node::Struct(fields))
            }
            (_, Some(value @ Value::Object(_))) => {
                let mut slot = self.slot(value, &format!("{path}/*"))?;
                // A map's values may be null where its value type says so; Arrow's map
                // values are a field like any other.
                slot.nullable |= matches!(slot.node, Node::Json);
                Ok(Node::Map(Box::new(slot)))
            }
            (_, Some(Value::Bool(false))) => Ok(Node::Struct(Vec::new())),
            _ => Ok(Node::Json),
        }
    }

    /// `anyOf`/`oneOf`: an optional value, a string enum split into members, or a
    /// data-carrying enum.
    fn union(&mut self, members: &[Value], path: &str) -> Result<Slot, ArrowTypeError> {
        let is_null = |m: &Value| m.get("type").and_then(Value::as_str) == Some("null");
        let nullable = members.iter().any(is_null);
        let rest: Vec<&Value> = members.iter().filter(|m| !is_null(m)).collect();
        if let [one] = rest[..] {
            let mut slot = self.slot(one, path)?;
            slot.nullable |= nullable;
            return Ok(slot);
        }
        let mut variants: Vec<Variant> = Vec::new();
        for member in rest {
            let member = self.resolve(member, path)?;
            self.variants(member, path, &mut variants)?;
        }
        let mut names: Vec<&str> = variants.iter().map(|v| v.name.as_str()).collect();
        names.sort_unstable();
        if let Some([twice, _]) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(Self::error(
                path,
                format!("the enum variant `{twice}`"),
                "two variants have this name",
            ));
        }
        if names.contains(&TAG) && variants.iter().any(|v| v.payload.is_some()) {
            return Err(Self::error(
                path,
                format!("the enum variant `{TAG}`"),
                format!("`{TAG}` is the field that names the variant in the Arrow struct"),
            ));
        }
        let node = if variants
            .iter()
            .all(|v| v.payload.is_none() && v.form == Form::Unit)
        {
            Node::Utf8
        } else {
            Node::Tagged(variants)
        };
        Ok(Slot { node, nullable })
    }

    fn resolve<'v>(&self, member: &'v Value, path: &str) -> Result<&'v Value, ArrowTypeError>
    where
        'a: 'v,
    {
        match member.get("$ref").and_then(Value::as_str) {
            Some(reference) => self.target(reference, path),
            None => Ok(member),
        }
    }

    /// The variants one member of a union stands for.
    fn variants(
        &mut self,
        member: &Value,
        path: &str,
        out: &mut Vec<Variant>,
    ) -> Result<(), ArrowTypeError> {
        let untagged = || untagged(path);
        if let Some(names) = unit_names(member, path)? {
            out.extend(names.into_iter().map(|name| Variant {
                name,
                form: Form::Unit,
                payload: None,
            }));
            return Ok(());
        }
        let Some(properties) = member.get("properties").and_then(Value::as_object) else {
            return Err(untagged());
        };
        let required: Vec<&str> = member
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some((tag, name)) = tag_of(properties, &required) {
            let payload = self.payload(member, properties, &required, &tag, &name, path)?;
            out.push(Variant {
                name,
                form: Form::Internal { tag },
                payload,
            });
            return Ok(());
        }
        match (properties.iter().next(), required.as_slice()) {
            (Some((name, schema)), [only]) if properties.len() == 1 && name == only => {
                let payload = self.slot(schema, &format!("{path}/{}", escape(name)))?;
                out.push(Variant {
                    name: name.clone(),
                    form: Form::External,
                    payload: Some(payload),
                });
                Ok(())
            }
            _ => Err(untagged()),
        }
    }

    /// An internally or adjacently tagged variant's payload: its object without the tag,
    /// or `None` when the tag is all it holds.
    fn payload(
        &mut self,
        member: &Value,
        properties: &Map<String, Value>,
        required: &[&str],
        tag: &str,
        name: &str,
        path: &str,
    ) -> Result<Option<Slot>, ArrowTypeError> {
        let mut props = properties.clone();
        props.shift_remove(tag);
        if props.is_empty() {
            return Ok(None);
        }
        let mut rest = member.as_object().cloned().unwrap_or_default();
        rest.insert("properties".into(), Value::Object(props));
        rest.insert(
            "required".into(),
            required
                .iter()
                .filter(|r| **r != tag)
                .map(|r| Value::from(*r))
                .collect(),
        );
        rest.remove("additionalProperties");
        let owned = Value::Object(rest);
        Ok(Some(
            self.slot(&owned, &format!("{path}/{}", escape(name)))?,
        ))
    }
}

/// The error of an enum whose variants Arrow cannot tell apart.
fn untagged(path: &str) -> ArrowTypeError {
    Reader::error(
        path,
        "an untagged enum",
        "its variants are told apart by shape only, and Arrow needs one type: tag the enum (`#[serde(tag = \"…\")]`, or serde's default external tagging)",
    )
}

/// The names of a union member made of unit variants (`const`, or an `enum` schemars
/// groups them in); `None` when the member is not one.
fn unit_names(member: &Value, path: &str) -> Result<Option<Vec<String>>, ArrowTypeError> {
    let values = match (member.get("enum"), member.get("const")) {
        (Some(Value::Array(values)), _) => values.as_slice(),
        (_, Some(one)) => std::slice::from_ref(one),
        _ => return Ok(None),
    };
    values
        .iter()
        .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| untagged(path)))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The tag property of an internally or adjacently tagged variant, and the variant's name:
/// a required property whose schema is one string (`const`, or a one-value `enum`).
fn tag_of(properties: &Map<String, Value>, required: &[&str]) -> Option<(String, String)> {
    properties.iter().find_map(|(key, schema)| {
        let name = schema.get("const").and_then(Value::as_str).or_else(|| {
            match schema
                .get("enum")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
            {
                Some([one]) => one.as_str(),
                _ => None,
            }
        })?;
        required
            .contains(&key.as_str())
            .then(|| (key.clone(), name.to_owned()))
    })
}

/// A `type` list: its one type besides `null`, and whether `null` is among them.
fn one_type<'v>(kinds: &'v [Value], path: &str) -> Result<(&'v str, bool), ArrowTypeError> {
    let named: Vec<&str> = kinds.iter().filter_map(Value::as_str).collect();
    let nullable = named.contains(&"null");
    match named.iter().filter(|k| **k != "null").collect::<Vec<_>>()[..] {
        [one] => Ok((*one, nullable)),
        [] => Ok(("null", true)),
        _ => Err(Reader::error(
            path,
            format!("`type: {}`", Value::Array(kinds.to_vec())),
            "a value of several JSON types has no single Arrow type",
        )),
    }
}

/// A schema without `$schema`, `$defs`, `title` and `description`: what a type's root and
/// its copy under `$defs` share.
fn bare(schema: &Value) -> Value {
    let mut schema = schema.clone();
    if let Value::Object(object) = &mut schema {
        for key in ["$schema", "$defs", "title", "description"] {
            object.remove(key);
        }
    }
    schema
}

/// A JSON pointer segment.
fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

fn string_node(object: &Map<String, Value>) -> Node {
    match object.get("format").and_then(Value::as_str) {
        Some("date") => Node::Date,
        Some("date-time") => Node::Timestamp { zoned: true },
        Some("partial-date-time") => Node::Timestamp { zoned: false },
        _ => Node::Utf8,
    }
}

fn integer_type(object: &Map<String, Value>) -> DataType {
    match object.get("format").and_then(Value::as_str) {
        Some("int8") => DataType::Int8,
        Some("int16") => DataType::Int16,
        Some("int32") => DataType::Int32,
        Some("uint8") => DataType::UInt8,
        Some("uint16") => DataType::UInt16,
        Some("uint32") => DataType::UInt32,
        Some("uint64" | "uint") => DataType::UInt64,
        _ => DataType::Int64,
    }
}

/// An `enum` or `const`: strings are `Utf8`, integers `Int64`, booleans `Boolean`; `null`
/// among them makes the slot nullable.
fn enum_slot(values: &[Value], path: &str) -> Result<Slot, ArrowTypeError> {
    let nullable = values.iter().any(Value::is_null);
    let rest: Vec<&Value> = values.iter().filter(|v| !v.is_null()).collect();
    let node = if rest.iter().all(|v| v.is_string()) {
        Node::Utf8
    } else if rest.iter().all(|v| v.is_i64() || v.is_u64()) {
        Node::Number(DataType::Int64)
    } else if rest.iter().all(|v| v.is_boolean()) {
        Node::Boolean
    } else {
        return Err(Reader::error(
            path,
            format!("`enum: {}`", Value::Array(values.to_vec())),
            "values of several JSON types have no single Arrow type",
        ));
    };
    Ok(Slot { node, nullable })
}
