use std::fmt;

use serde_json::Value;

/// One reason a value does not fit its type, with the JSON pointer of the part at fault.
///
/// Violations come from three places: the source schema (constraints such as `range`,
/// `pattern` or `format`), deserialization (serde's own message), and the type's
/// validators (`#[extract(validate = …)]`). They are what a re-ask shows the model.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

pub(crate) fn collect(
    validator: &jsonschema::Validator,
    value: &Value,
) -> Result<(), Vec<Violation>> {
    let violations: Vec<Violation> = validator
        .iter_errors(value)
        .map(|error| {
            let path = error.instance_path().to_string();
            let mut message = error.to_string();
            if message.len() > EXCERPT * 3 {
                message = crate::json::excerpt(&message, EXCERPT * 3).into_owned();
            }
            Violation::new(path, message)
        })
        .collect();
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}
