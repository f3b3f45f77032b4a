//! The concise field syntax of [`Dynamic::from_fields`](super::Dynamic::from_fields), as
//! Simon Willison's `llm` writes it: `name [type][: description]`, with `?` for an optional
//! field and `[]` for a list.

use serde_json::{Map, Value, json};

use crate::SchemaError;

/// The JSON Schema of an object with the fields `spec` lists.
pub(super) fn parse(spec: &str) -> Result<Value, SchemaError> {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for field in fields(spec) {
        let parsed = parse_field(spec, field)?;
        if properties.contains_key(&parsed.name) {
            return Err(error(
                spec,
                field.start,
                format!("`{}` is named twice", parsed.name),
            ));
        }
        if !parsed.optional {
            required.push(Value::String(parsed.name.clone()));
        }
        properties.insert(parsed.name, parsed.schema);
    }
    if properties.is_empty() {
        return Err(error(spec, 0, "the spec names no field".to_owned()));
    }
    Ok(json!({
        "type": "object",
        "properties": properties,
        "required": required,
    }))
}

/// One field's text and where it starts in the spec (in bytes).
#[derive(Clone, Copy)]
struct Field<'a> {
    text: &'a str,
    start: usize,
}

/// The fields: one per line when the spec has several lines (so a description may hold
/// commas), else one per comma. Blank ones are skipped.
fn fields(spec: &str) -> Vec<Field<'_>> {
    let separator = if spec.trim().contains('\n') {
        '\n'
    } else {
        ','
    };
    let mut out = Vec::new();
    let mut start = 0;
    for piece in spec.split(separator) {
        let trimmed = piece.trim_start();
        let lead = piece.len() - trimmed.len();
        let text = trimmed.trim_end();
        if !text.is_empty() {
            out.push(Field {
                text,
                start: start + lead,
            });
        }
        start += piece.len() + separator.len_utf8();
    }
    out
}

struct Parsed {
    name: String,
    optional: bool,
    schema: Value,
}

/// `name[?] [type[[]]][: description]`.
fn parse_field(spec: &str, field: Field<'_>) -> Result<Parsed, SchemaError> {
    let (head, description) = match field.text.split_once(':') {
        Some((head, description)) => (head, Some(description.trim())),
        None => (field.text, None),
    };
    let at = |word: &str| field.start + offset_in(field.text, word);
    let mut words = head.split_whitespace();
    let name_word = words.next().unwrap_or_default();
    let (name, optional) = match name_word.strip_suffix('?') {
        Some(name) => (name, true),
        None => (name_word, false),
    };
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
    {
        return Err(error(
            spec,
            at(name_word),
            format!("`{name_word}` is not a field name (letters, digits, `_` and `-`)"),
        ));
    }
    let type_word = words.next();
    if let Some(extra) = words.next() {
        return Err(error(
            spec,
            at(extra),
            format!("unexpected `{extra}`: a field is `name [type][: description]`"),
        ));
    }
    let mut schema = type_schema(type_word.unwrap_or("str"), optional)
        .map_err(|message| error(spec, type_word.map_or(field.start, at), message))?;
    if let Some(description) = description.filter(|d| !d.is_empty()) {
        schema["description"] = description.into();
    }
    Ok(Parsed {
        name: name.to_owned(),
        optional,
        schema,
    })
}

/// The schema of a field's type word (`int`, `str[]`, …), nullable when it is optional.
fn type_schema(word: &str, optional: bool) -> Result<Value, String> {
    let (base, list) = match word.strip_suffix("[]") {
        Some(base) => (base, true),
        None => (word, false),
    };
    let mut schema = match base {
        "str" | "string" if optional || list => json!({"type": "string"}),
        // A required text is never empty, as a derived `String` field.
        "str" | "string" => json!({"type": "string", "minLength": 1}),
        "int" | "integer" => json!({"type": "integer"}),
        "float" | "number" => json!({"type": "number"}),
        "bool" | "boolean" => json!({"type": "boolean"}),
        other => {
            return Err(format!(
                "unknown type `{other}`: use str, int, float or bool, with [] for a list"
            ));
        }
    };
    if list {
        schema = json!({"type": "array", "items": schema});
    }
    if optional {
        let kind = schema["type"].clone();
        schema["type"] = json!([kind, "null"]);
    }
    Ok(schema)
}

/// Where `part`, a slice of `whole`, starts in it.
fn offset_in(whole: &str, part: &str) -> usize {
    (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize)
}

/// An error at byte `at` of `spec`, as a line and a column counted in characters from 1.
fn error(spec: &str, at: usize, message: String) -> SchemaError {
    let before = &spec[..at.min(spec.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .unwrap_or_default()
        .chars()
        .count()
        + 1;
    SchemaError::Spec {
        line,
        column,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_field() {
        let schema = parse(
            "name, age int, score float: out of 10, ok bool, email?, tags str[], sizes? int[]",
        )
        .unwrap();
        assert_eq!(
            schema,
            json!({
                "type": "object",
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "age": {"type": "integer"},
                    "score": {"type": "number", "description": "out of 10"},
                    "ok": {"type": "boolean"},
                    "email": {"type": ["string", "null"]},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "sizes": {"type": ["array", "null"], "items": {"type": "integer"}},
                },
                "required": ["name", "age", "score", "ok", "tags"],
            })
        );
    }

    #[test]
    fn lines_let_descriptions_hold_commas() {
        let schema = parse("name: full name, as written\nbio: short, kind\n").unwrap();
        assert_eq!(
            schema["properties"]["name"]["description"],
            "full name, as written"
        );
        assert_eq!(schema["properties"]["bio"]["description"], "short, kind");
    }

    fn at(spec: &str) -> (usize, usize, String) {
        match parse(spec).unwrap_err() {
            SchemaError::Spec {
                line,
                column,
                message,
            } => (line, column, message),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn errors_point_at_the_line_and_column() {
        let (line, column, message) = at("name, age integr");
        assert_eq!((line, column), (1, 11), "{message}");
        assert!(message.contains("unknown type `integr`"), "{message}");
        let (line, column, _) = at("name\nage int\nbad name here");
        assert_eq!((line, column), (3, 10));
        let (_, column, message) = at("name, na$me");
        assert_eq!(column, 7);
        assert!(message.contains("not a field name"), "{message}");
        let (_, column, message) = at("name, age int, name");
        assert_eq!(column, 16);
        assert!(message.contains("named twice"), "{message}");
        let (_, _, message) = at(" , ,");
        assert!(message.contains("no field"), "{message}");
    }
}
