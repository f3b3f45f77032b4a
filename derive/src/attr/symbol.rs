//! The names of our keys, as constants (serde's `symbol.rs`): a key is spelled once.

/// The attribute our keys live in.
pub(crate) const EXTRACT: &str = "extract";

pub(crate) const DESCRIPTION: &str = "description";
pub(crate) const INSTRUCTIONS: &str = "instructions";
pub(crate) const EXAMPLE: &str = "example";
pub(crate) const VALIDATE: &str = "validate";
pub(crate) const STRICT: &str = "strict";
pub(crate) const SCHEMARS: &str = "schemars";
pub(crate) const CRATE: &str = "crate";
pub(crate) const RANGE: &str = "range";
pub(crate) const LENGTH: &str = "length";
pub(crate) const PATTERN: &str = "pattern";
pub(crate) const FORMAT: &str = "format";
pub(crate) const ALLOW_EMPTY: &str = "allow_empty";
pub(crate) const STREAM: &str = "stream";
pub(crate) const GROUNDED: &str = "grounded";
pub(crate) const UNIQUE: &str = "unique";
pub(crate) const INFERRED: &str = "inferred";
pub(super) const MIN: &str = "min";
pub(super) const MAX: &str = "max";

/// The keys of `#[extract(...)]` on a struct or enum, in the order the docs list them.
pub(super) const CONTAINER_KEYS: &[&str] = &[
    DESCRIPTION,
    INSTRUCTIONS,
    EXAMPLE,
    VALIDATE,
    STRICT,
    SCHEMARS,
    CRATE,
];
/// The keys of `#[extract(...)]` on a field or variant.
pub(super) const MEMBER_KEYS: &[&str] = &[
    DESCRIPTION,
    EXAMPLE,
    RANGE,
    LENGTH,
    UNIQUE,
    PATTERN,
    FORMAT,
    ALLOW_EMPTY,
    VALIDATE,
    STREAM,
    GROUNDED,
    INFERRED,
];
