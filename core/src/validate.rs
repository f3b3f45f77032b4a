//! [`Violation`]: one reason a value does not fit its type, at a JSON path; and the
//! collection of a JSON Schema validator's errors into violations.

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
