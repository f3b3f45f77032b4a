//! Grounding: where in the source text each value of an extraction comes from.
//!
//! After a reply is validated, every string, number and bool leaf of the value is looked
//! for in the text the caller passed: exactly first, then normalized (case, whitespace
//! runs, punctuation, accents, and numbers written with separators), then by a bounded
//! fuzzy alignment. The result is one [`Span`] per leaf, in the value's order. Grounding
//! only describes the value; it never changes it.

use std::ops::Range;

/// Where one leaf of an extracted value was found in the source text.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Span {
    /// JSON pointer of the leaf in the value: `/name`, `/0/email`.
    pub path: String,
    /// The leaf as text: a string as it is, a number or bool in its JSON form.
    pub value: String,
    /// Byte offsets into the text, on char boundaries; `None` when it was not found.
    pub range: Option<Range<usize>>,
    /// How closely the text at `range` matches the value.
    pub quality: Match,
}

/// How closely the source text matches a value.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub enum Match {
    /// The value appears in the text as it is.
    Exact,
    /// The value appears once case, whitespace runs, punctuation or accents are set aside,
    /// or, for a number, written with separators (`1,234.5`, `1 234,5`).
    Normalized,
    /// The closest passage differs by a few edits; the score is in `0.0..=1.0`, 1 being
    /// identical.
    Fuzzy(f32),
    /// The value is nowhere in the text.
    NotFound,
}

impl Match {
    /// Whether the value is in the text as written or normalized: what
    /// `#[extract(grounded)]` asks of a field.
    pub fn is_quoted(self) -> bool {
        matches!(self, Match::Exact | Match::Normalized)
    }
}

impl Span {
    /// The passage of `text` this span points at, when it was found.
    pub fn text<'t>(&self, text: &'t str) -> Option<&'t str> {
        self.range.clone().and_then(|r| text.get(r))
    }
}
