//! [`Violation`]: one reason a value does not fit its type, at a JSON path; and the
//! collection of a JSON Schema validator's errors into violations.

use std::fmt::{self, Write as _};

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

/// One reason a value does not fit its type, with the JSON pointer of the part at fault.
///
/// Violations come from three places: the source schema (constraints such as `range`,
/// `pattern` or `format`), deserialization (serde's own message), and the type's
/// validators (`#[extract(validate = …)]`). They are what a re-ask shows the model.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Violation {
    /// JSON pointer of the offending value (`""` for the whole value, `/lines/0/qty` below).
    pub path: String,
    /// What is wrong, in a short sentence without a trailing period.
    pub message: String,
}

impl Violation {
    /// A violation at `path` (a JSON pointer).
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Violation {
        Violation {
            path: path.into(),
            message: message.into(),
        }
    }

    /// A violation at `path` below the value a validator checks, for a validator that
    /// returns `Result<(), Violation>`: `Violation::at("/sku", "must start with SKU-")` on
    /// a type's validator points at its `sku` field. The path is a JSON pointer relative to
    /// the validated value (`""` for the value itself); factum puts the value's own path in
    /// front, so the re-ask feedback and the error name the field.
    ///
    /// # Examples
    ///
    /// ```
    /// use factum::Violation;
    ///
    /// struct Item { sku: String }
    ///
    /// fn check(item: &Item) -> Result<(), Violation> {
    ///     if item.sku.starts_with("SKU-") {
    ///         Ok(())
    ///     } else {
    ///         Err(Violation::at("/sku", "must start with SKU-"))
    ///     }
    /// }
    /// # assert_eq!(check(&Item { sku: "x".into() }).unwrap_err().to_string(), "at /sku: must start with SKU-");
    /// ```
    pub fn at(path: impl Into<String>, message: impl Into<String>) -> Violation {
        Violation::new(path, message)
    }
}

impl From<String> for Violation {
    /// A validator's plain message: a violation at the validated value itself.
    fn from(message: String) -> Violation {
        Violation::new("", message)
    }
}

impl From<&str> for Violation {
    fn from(message: &str) -> Violation {
        Violation::new("", message)
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "at the root: {}", self.message)
        } else {
            write!(f, "at {}: {}", self.path, self.message)
        }
    }
}

/// Longest instance excerpt kept in a violation message: feedback must stay compact.
const EXCERPT: usize = 80;

/// Every error of `validator` (built from `schema`) on `value`, as violations.
pub(crate) fn collect(
    validator: &jsonschema::Validator,
    schema: &Value,
    value: &Value,
) -> Result<(), Vec<Violation>> {
    let violations: Vec<Violation> = validator
        .iter_errors(value)
        .flat_map(|error| match error.kind() {
            ValidationErrorKind::UniqueItems => repeated(&error),
            ValidationErrorKind::PropertyNames { error: key } => vec![bad_key(&error, key)],
            _ => vec![violation(&error, schema)],
        })
        .collect();
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}

/// One validator error as a violation, worded for the re-ask.
///
/// A format error says what the value is not (`not a valid email`) without quoting the
/// value: the echoed reply shows it, and a re-ask without the echo should not hand the
/// model its rejected value again. When the failing schema admits `null` (an `Option`
/// field), the message adds that `null` is the answer where the text gives none: what a
/// small model that invents a value for an absent field needs to read.
fn violation(error: &jsonschema::ValidationError<'_>, schema: &Value) -> Violation {
    let path = error.instance_path().to_string();
    let format = match error.kind() {
        ValidationErrorKind::Format { format } => Some(format.as_str()),
        _ => None,
    };
    let mut message = match format {
        Some(format) => format!("not a valid {format}"),
        None => error.to_string(),
    };
    if message.len() > EXCERPT * 3 {
        message = crate::json::excerpt(&message, EXCERPT * 3).into_owned();
    }
    if admits_null(schema, error.schema_path().as_str()) {
        match format {
            Some(format) => {
                let _ = write!(message, "; if the text gives no {format}, use null");
            }
            None => message.push_str("; if the text gives none, use null"),
        }
    }
    Violation::new(path, message)
}

/// A list that must not repeat itself (`uniqueItems`, `#[extract(unique)]`): one violation
/// at each item that repeats an earlier one, naming that one, as in `at /attendees/3:
/// repeats /attendees/0`. A repeat only JSON Schema's equality sees keeps the validator's
/// message at the list.
fn repeated(error: &jsonschema::ValidationError<'_>) -> Vec<Violation> {
    let list = error.instance_path().to_string();
    let pairs = match error.instance().as_ref() {
        Value::Array(items) => crate::json::repeats(items),
        _ => Vec::new(),
    };
    if pairs.is_empty() {
        return vec![Violation::new(list, "items must be unique")];
    }
    pairs
        .into_iter()
        .map(|(later, first)| {
            let mut path = list.clone();
            crate::json::push_index(&mut path, later);
            let mut earlier = list.clone();
            crate::json::push_index(&mut earlier, first);
            Violation::new(
                path,
                format!("repeats {earlier}; each item must appear once"),
            )
        })
        .collect()
}

/// A map key that breaks its pattern (`propertyNames`: a map with integer keys), at the
/// key's own path: `at /scores/x: key "x" is not a whole number`.
fn bad_key(
    error: &jsonschema::ValidationError<'_>,
    key: &jsonschema::ValidationError<'_>,
) -> Violation {
    let mut path = error.instance_path().to_string();
    let Value::String(name) = key.instance().as_ref() else {
        return Violation::new(path, format!("a key is not allowed: {key}"));
    };
    crate::json::push_key(&mut path, name);
    let message = match key.kind() {
        ValidationErrorKind::Pattern { pattern } if pattern == "^[0-9]+$" => {
            format!("key {name:?} is not a whole number (keys are written as digits, like \"12\")")
        }
        ValidationErrorKind::Pattern { pattern } if pattern == "^-?[0-9]+$" => {
            format!(
                "key {name:?} is not an integer (keys are written as digits, like \"-3\" or \"12\")"
            )
        }
        _ => format!("key {name:?} is not allowed: {key}"),
    };
    Violation::new(path, message)
}

/// Whether the schema holding the keyword at `keyword` (a JSON pointer into `schema`, such
/// as `/properties/email/format`) lists `null` among its types.
fn admits_null(schema: &Value, keyword: &str) -> bool {
    keyword
        .rsplit_once('/')
        .and_then(|(holder, _)| schema.pointer(holder))
        .is_some_and(|holder| crate::json::types_of(holder).contains(&"null"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn violations(schema: &Value, value: &Value) -> Vec<Violation> {
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(schema)
            .unwrap();
        collect(&validator, schema, value).unwrap_err()
    }

    #[test]
    fn an_optional_formatted_field_is_told_to_use_null() {
        let schema = json!({
            "type": "object",
            "properties": {
                "email": {"type": ["string", "null"], "format": "email"},
                "home": {"type": "string", "format": "email"},
                "age": {"type": ["integer", "null"], "maximum": 150}
            }
        });
        let found = violations(
            &schema,
            &json!({"email": "Peter Novak", "home": "nowhere", "age": 200}),
        );
        let text: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert!(
            text.contains(
                &"at /email: not a valid email; if the text gives no email, use null".into()
            ),
            "{text:?}"
        );
        assert!(
            text.contains(&"at /home: not a valid email".into()),
            "{text:?}"
        );
        assert!(
            text.contains(&"at /age: 200 is greater than the maximum of 150; if the text gives none, use null".into()),
            "{text:?}"
        );
        assert!(!text.iter().any(|t| t.contains("Peter Novak")), "{text:?}");
    }

    #[test]
    fn each_repeated_item_is_named_with_the_item_it_repeats() {
        let schema = json!({
            "type": "object",
            "properties": {"attendees": {"type": "array", "items": {"type": "string"}, "uniqueItems": true}}
        });
        let found = violations(
            &schema,
            &json!({"attendees": ["Ann", "Bob", "Cy", "Ann", "Bob"]}),
        );
        let text: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "at /attendees/3: repeats /attendees/0; each item must appear once",
                "at /attendees/4: repeats /attendees/1; each item must appear once"
            ]
        );
    }

    #[test]
    fn a_nullable_definition_behind_a_reference_is_found() {
        let schema = json!({
            "type": "object",
            "properties": {"contact": {"$ref": "#/$defs/Contact"}},
            "$defs": {"Contact": {
                "type": "object",
                "properties": {"email": {"type": ["string", "null"], "format": "email"}}
            }}
        });
        let found = violations(&schema, &json!({"contact": {"email": "x"}}));
        assert_eq!(
            found,
            vec![Violation::new(
                "/contact/email",
                "not a valid email; if the text gives no email, use null"
            )]
        );
    }
}
