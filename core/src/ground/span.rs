//! [`Span`] and [`Match`]: what grounding says of one leaf of a value.

use std::ops::Range;

/// Where one leaf of an extracted value was found in the source text.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
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
#[non_exhaustive]
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
    /// A span of the leaf at `path`, whose text is `value`, found at `range` of the source
    /// text with `quality` (`None` and [`Match::NotFound`] when it is nowhere).
    pub fn new(
        path: impl Into<String>,
        value: impl Into<String>,
        range: Option<Range<usize>>,
        quality: Match,
    ) -> Span {
        Span {
            path: path.into(),
            value: value.into(),
            range,
            quality,
        }
    }

    /// The passage of `text` this span points at, when it was found.
    pub fn text<'t>(&self, text: &'t str) -> Option<&'t str> {
        self.range.clone().and_then(|r| text.get(r))
    }
}
