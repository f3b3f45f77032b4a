//! The words every stage of the parser shares: how lenient it may be ([`Leniency`]), what
//! it gives ([`Parsed`]) and how it fails ([`ParseError`]), its bounds, and the exact
//! reading that every stage tries first.

use serde_json::Value;

use super::repair::{Repair, RepairKind, display_path, total_cost};

/// Largest input accepted, in bytes (16 MiB).
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;

/// Deepest nesting of arrays and objects accepted, in the text and in values.
pub const MAX_NESTING: usize = 128;

/// How far the parser and the coercion may go to make model output fit.
///
/// See the [module documentation](crate::parse) for the table of what each level allows. The
/// levels are ordered: each allows everything the one before it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Leniency {
    /// Plain JSON found anywhere in the text; values must already have the
    /// schema's types and exact enum spellings.
    Exact,
    /// All syntax repairs and every reading of a value the text states, in the one
    /// way it can be read.
    #[default]
    Standard,
    /// Also the readings that drop or re-spell part of what was written: enum
    /// prefixes and substrings, numbers with a unit, unwrapping a single-key wrapper,
    /// numbers and booleans as text, `""` as `null`.
    Lenient,
}

/// A parsed (and possibly coerced) value with the repairs that produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The recovered value.
    pub value: Value,
    /// Every change made to get it, in the order made.
    pub repairs: Vec<Repair>,
}

impl Parsed {
    /// The summed cost of all repairs; 0 means the output was used as written.
    #[must_use]
    pub fn cost(&self) -> u32 {
        total_cost(&self.repairs)
    }

    /// Whether a repair of `kind` was recorded.
    #[must_use]
    pub fn has_repair(&self, kind: RepairKind) -> bool {
        self.repairs.iter().any(|r| r.kind == kind)
    }
}

/// Why no value could be recovered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The text holds nothing that can be read as JSON.
    #[error("no json value found in the text")]
    NoJson,
    /// Arrays and objects were nested deeper than the limit.
    #[error("json nested deeper than {limit} levels")]
    TooDeep {
        /// The nesting limit.
        limit: usize,
    },
    /// The text was longer than the limit.
    #[error("input larger than {limit} bytes")]
    TooLarge {
        /// The size limit in bytes.
        limit: usize,
    },
    /// The value does not fit the schema, and fitting it would mean guessing.
    #[error("value at {} does not match the schema: expected {expected}, found {found}", display_path(.path))]
    Mismatch {
        /// JSON pointer to the offending value; `""` is the root.
        path: String,
        /// What the schema asks for.
        expected: String,
        /// What the value holds.
        found: String,
    },
    /// The schema itself cannot be used (an unresolvable or cyclic `$ref`).
    #[error("unusable schema at {}: {reason}", display_path(.path))]
    InvalidSchema {
        /// JSON pointer into the schema.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Coercion took more steps than the limit (a schema with deeply nested unions).
    #[error("schema too complex to coerce within {limit} steps")]
    TooComplex {
        /// The step limit.
        limit: usize,
    },
}

/// Plain JSON of the whole text, as `serde_json` reads it (JSON's own whitespace
/// around it included): the fast path.
pub(super) fn exact_json(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok()
}

/// Plain JSON once blanks JSON does not allow (a no-break space, an ideographic space)
/// are trimmed from around it, with the repair that says so.
pub(super) fn blank_trimmed_json(text: &str) -> Option<(Value, Repair)> {
    let trimmed = text.trim();
    if trimmed.len() == text.trim_matches([' ', '\t', '\n', '\r']).len() {
        return None;
    }
    let value = exact_json(trimmed)?;
    let repair = Repair::new(
        RepairKind::DroppedJunk,
        "",
        "trimmed blanks that JSON does not allow",
    )
    .with_cost(1);
    Some((value, repair))
}

pub(super) fn check_size(text: &str) -> Result<(), ParseError> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(ParseError::TooLarge {
            limit: MAX_INPUT_BYTES,
        });
    }
    Ok(())
}
