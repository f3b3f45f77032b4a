//! Lowering: one source schema in, one copy per server dialect out.
//!
//! This module holds the dialects ([`Dialect`]), the reasons a schema cannot be lowered
//! ([`SchemaError`]), the entry point `lower`, and the helpers both dialects share:
//! `append_sentence`, `drop_format` and `ref_name`. Each dialect's passes live in their own
//! file: `openai.rs` for OpenAI strict mode, `llama.rs` for llama.cpp's grammar converter,
//! with `pattern.rs` rewriting patterns into the converter's regex subset.
//!
//! Each pass only removes or rewrites what its dialect cannot carry, and moves the meaning
//! of what it removes into the description text, so that a model that reads the schema
//! still learns the constraint. Replies are always validated against the source schema.

use std::borrow::Cow;
use std::fmt;

use serde_json::{Map, Value};

use crate::json::{def_name, is_numeric_format};

mod llama;
mod openai;
mod pattern;

/// The JSON Schema dialects factum lowers the source schema to.
///
/// Each server accepts a subset of JSON Schema; [`Schema::for_dialect`](crate::Schema::for_dialect) gives a copy of the
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
    /// A run-time schema ([`Dynamic::from_json_schema`](crate::Dynamic::from_json_schema))
    /// that factum cannot use: not a schema, a keyword whose value is not valid JSON
    /// Schema, or a `$ref` that is not local or does not resolve.
    #[error("the schema cannot be used at `{path}` (keyword `{keyword}`): {reason}")]
    Unusable {
        /// JSON pointer into the schema (`""` for the root).
        path: String,
        /// The keyword at fault.
        keyword: String,
        /// What is wrong.
        reason: String,
    },
    /// A field spec ([`Dynamic::from_fields`](crate::Dynamic::from_fields)) that does not
    /// read, at its line and column (both from 1, the column in characters).
    #[error("field spec, line {line}, column {column}: {message}")]
    Spec {
        /// The line, from 1.
        line: usize,
        /// The column, from 1, in characters.
        column: usize,
        /// What is wrong there.
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
            | SchemaError::Unsupported { path, .. }
            | SchemaError::Unusable { path, .. } => path,
            SchemaError::InvalidName { .. }
            | SchemaError::Invalid { .. }
            | SchemaError::Spec { .. } => "",
        }
    }
}

/// The source schema lowered to `dialect`; `name` is the schema's name, which OpenAI
/// strict mode checks.
pub(crate) fn lower(name: &str, source: &Value, dialect: Dialect) -> Result<Value, SchemaError> {
    let mut source = source.clone();
    unmark_grounded(&mut source);
    match dialect {
        Dialect::OpenAiStrict => openai::lower(name, &source),
        Dialect::LlamaCpp => Ok(llama::lower(&source)),
    }
}

/// Our own `x-grounded` keyword is no server's: it goes, and the description says it.
/// `x-inferred` says nothing the model needs: it just goes.
fn unmark_grounded(schema: &mut Value) {
    match schema {
        Value::Object(object) => {
            object.remove(crate::json::INFERRED);
            if object.remove(crate::json::GROUNDED) == Some(Value::Bool(true)) {
                let note = crate::json::GROUNDED_NOTE;
                let mut sentence = String::from("Must be ");
                sentence.push_str(note);
                sentence.push('.');
                append_sentence(object, &sentence);
            }
            object.values_mut().for_each(unmark_grounded);
        }
        Value::Array(items) => items.iter_mut().for_each(unmark_grounded),
        _ => {}
    }
}

/// Appends a sentence to a schema's description, creating the description if there is none.
fn append_sentence(object: &mut Map<String, Value>, sentence: &str) {
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

/// Drops a `format` the dialect does not know (`allowed` lists those it does) and says it
/// in the description instead. schemars' numeric formats go silently: the bounds already
/// say what they mean.
fn drop_format(object: &mut Map<String, Value>, allowed: &[&str]) {
    if let Some(format) = object
        .get("format")
        .and_then(Value::as_str)
        .map(str::to_owned)
        && !allowed.contains(&format.as_str())
    {
        object.remove("format");
        if !is_numeric_format(&format) {
            append_sentence(object, &format!("Format: {format}."));
        }
    }
}

/// The definition a schema object's local `$ref` names, if it has one.
fn ref_name(object: &Map<String, Value>) -> Option<String> {
    object
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(def_name)
        .map(Cow::into_owned)
}

/// Constraints neither dialect can carry (strict mode refuses them, llama.cpp's converter
/// skips them): removed, and checked after the reply.
pub(crate) const CHECKED_AFTER: &[&str] = &[
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
];

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        let Value::Object(object) = value else {
            unreachable!("a test schema is an object")
        };
        object
    }

    #[test]
    fn the_grounded_mark_is_said_in_words_not_sent() {
        let source = json!({
            "type": "object",
            "properties": {"speaker": {"type": "string", "description": "Who spoke", "x-grounded": true}},
            "required": ["speaker"],
            "additionalProperties": false
        });
        for dialect in Dialect::ALL {
            let lowered = lower("Quote", &source, dialect).unwrap();
            let speaker = &lowered["properties"]["speaker"];
            assert_eq!(speaker.get("x-grounded"), None, "{dialect}: {speaker}");
            assert_eq!(
                speaker["description"], "Who spoke. Must be copied exactly as written in the text.",
                "{dialect}"
            );
        }
    }

    #[test]
    fn sentences_join_the_description() {
        let mut described = object(json!({"description": "A date"}));
        append_sentence(&mut described, "Format: date.");
        assert_eq!(described["description"], "A date. Format: date.");
        let mut bare = object(json!({}));
        append_sentence(&mut bare, "Items must be unique.");
        assert_eq!(bare["description"], "Items must be unique.");
    }

    #[test]
    fn unknown_formats_are_said_in_words() {
        let mut email = object(json!({"type": "string", "format": "email"}));
        drop_format(&mut email, &["date"]);
        assert_eq!(
            email,
            object(json!({"type": "string", "description": "Format: email."}))
        );
        let mut byte = object(json!({"type": "integer", "format": "uint8"}));
        drop_format(&mut byte, &["date"]);
        assert_eq!(byte, object(json!({"type": "integer"})));
        let mut date = object(json!({"type": "string", "format": "date"}));
        drop_format(&mut date, &["date"]);
        assert_eq!(date["format"], "date");
    }
}
