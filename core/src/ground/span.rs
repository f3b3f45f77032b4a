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
    /// The value appears in the text as it is, as whole words.
    Exact,
    /// The value appears once case, whitespace runs, punctuation, Latin, Greek and
    /// Cyrillic accents, or compatibility forms (fullwidth `ＡＢＣ`) are set aside, or, for
    /// a number, written with the separators the document uses (`1,234.5` in a text that
    /// writes `.` as its decimal point, `1.234,5` in one that writes `,`) or with a minus
    /// sign (`−5`).
    ///
    /// Never for what would change the value: marks of other scripts and Vietnamese
    /// tones are letters (`कल` is not in `काला`, `mả` is not `ma`); an acronym or a token
    /// with symbols keeps its case and symbols (`US` is not `us`, `C++` is not `C`, `$5`
    /// is not `5`); a capitalised word is not its lower-case namesake (`May`, `may`);
    /// and a match is whole words (Unicode's word boundaries; a run of Han, kana or Thai
    /// is one word, so `京都` is not in `東京都`).
    Normalized,
    /// The closest passage, starting and ending on word boundaries, differs by a few
    /// edits; the score is 1 − edits / length, in `0.8..1.0`. A passage scoring below
    /// 0.8 overall, or in any one of its words, is [`NotFound`](Match::NotFound): true
    /// variants (a typo, a plural, British and American spelling) score 0.8 or more,
    /// and look-alikes of absent values (`Austria` for `Australia`, 0.78; `Joan` for
    /// `John`, 0.75 in the word) less. Values with a digit or an `@` (numbers, dates,
    /// codes, emails), literal tokens, and values in scripts written without spaces
    /// are never fuzzy: a char changed is another value.
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
