//! The record of what was changed to make model output fit: [`Repair`], its
//! [`RepairKind`] with the default cost of each kind, and the bounded list the
//! repairs are collected in.

use std::fmt;

use RepairKind as K;

/// Most repairs listed one by one; further repairs are folded into one
/// [`RepairKind::MoreRepairs`] entry that carries their summed cost.
pub(crate) const MAX_LISTED_REPAIRS: usize = 512;

/// One change made to the model's output, with where it was made and what it cost.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Repair {
    /// What kind of change it was.
    pub kind: RepairKind,
    /// JSON pointer (RFC 6901) to the value it concerns; `""` is the root.
    pub path: String,
    /// How much the change weighs when candidates are compared; lower is safer.
    pub cost: u32,
    /// A short human-readable description.
    pub detail: String,
}

impl Repair {
    pub(crate) fn new(kind: RepairKind, path: &str, detail: impl Into<String>) -> Self {
        Self {
            kind,
            path: path.to_owned(),
            cost: kind.cost(),
            detail: detail.into(),
        }
    }

    pub(crate) fn with_cost(mut self, cost: u32) -> Self {
        self.cost = cost;
        self
    }
}

impl fmt::Display for Repair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {}: {}",
            self.kind,
            display_path(&self.path),
            self.detail
        )
    }
}

/// The kinds of change the parser and the coercion make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum RepairKind {
    // --- Finding the JSON ---
    /// The value was found inside surrounding prose.
    ExtractedFromProse,
    /// The value came from a Markdown code fence.
    FencedBlock,
    /// A `<think>…</think>` block was removed before parsing.
    ThinkBlockRemoved,
    /// Several top-level values were found and returned as one array.
    MultipleValues,
    /// The whole reply, which holds no JSON, was taken as the string the root asks for.
    ReplyAsString,
    // --- Syntax ---
    /// A string was delimited by single quotes.
    SingleQuotes,
    /// A string was delimited by typographic quotes (“ ” ‘ ’).
    SmartQuotes,
    /// A string was delimited by doubled quotes (`""word""`).
    DoubledQuotes,
    /// An object key had no quotes.
    UnquotedKey,
    /// A string value had no quotes, or only one of them.
    UnquotedString,
    /// A key was not followed by a colon.
    MissingColon,
    /// A comma was followed by a closing bracket.
    TrailingComma,
    /// Two members or elements had no comma between them.
    MissingComma,
    /// A `//`, `#` or `/* */` comment was removed.
    Comment,
    /// A Python literal (`True`, `False`, `None`) or a differently cased JSON literal.
    PythonLiteral,
    /// A literal JSON cannot hold (`NaN`, `Infinity`, `undefined`) became `null`.
    NonJsonLiteral,
    /// A quote inside a string was not escaped.
    UnescapedQuote,
    /// A raw newline or control character inside a string was not escaped.
    UnescapedNewline,
    /// An invalid escape sequence was kept literally or replaced.
    InvalidEscape,
    /// A string's closing quote was missing.
    MissingClosingQuote,
    /// Output stopped mid-value; what was open was closed.
    ClosedTruncated,
    /// A key without a value was dropped.
    DroppedDanglingKey,
    /// A key written with nothing after its colon got `""` (only without a schema, in
    /// [`parse_json`](super::parse_json)).
    EmptyValue,
    /// Text that is not part of any value was dropped (stray words, brackets, `...`).
    DroppedJunk,
    /// A closing bracket did not match the open container.
    MismatchedBracket,
    /// A key appeared twice; the last value was kept.
    DuplicateKey,
    /// A Python tuple `( … )` became an array (or its only element).
    TupleAsArray,
    /// A Python set `{a, b}` became an array.
    SetAsArray,
    /// `"key": value` pairs inside an array became an object.
    ImpliedObject,
    /// An array written where a key belongs was appended to the previous array value.
    MergedArray,
    /// Members written after an object's closing brace were added to it.
    ReopenedObject,
    /// A number was written in a non-JSON form (`.5`, `1.`, `1_000`, `+1`).
    NumberSyntax,
    /// A number was written with thousands separators outside quotes (`-2,000.00`).
    ThousandsSeparators,
    /// A string was delimited by Python's triple quotes (`"""…"""`, `'''…'''`).
    TripleQuotes,
    // --- Coercion ---
    /// A number was read from a clean string (`"30"`).
    NumberFromString,
    /// A number was read from a formatted string (currency, percent, thousands separators).
    FormattedNumber,
    /// An integral float (`30.0`) became an integer.
    FloatToInteger,
    /// A boolean was read from a word (`"yes"`, `"off"`).
    BoolFromString,
    /// A boolean was read from `1` or `0`.
    BoolFromNumber,
    /// `null` was read from a string such as `"null"` or `"none"`.
    NullFromString,
    /// An enum or `const` value was matched loosely.
    EnumFuzzyMatch,
    /// A single value became a one-element array.
    SingleToArray,
    /// A missing required property whose schema allows `null` became `null`.
    MissingOptionalAsNull,
    /// An empty or blank string where the schema allows a string or `null` became `null`:
    /// an optional text the model left empty is absent, not an answer.
    EmptyAsNull,
    /// A key the schema does not allow was dropped.
    DroppedExtraKey,
    /// A key was matched to a property through case or punctuation.
    RenamedKey,
    /// Several branches of a union fit; the cheapest was chosen.
    UnionChosen,
    /// A string holding JSON was parsed.
    JsonInString,
    /// An object wrapping the expected object under one key was unwrapped.
    UnwrappedSingleKey,
    /// A number became its decimal text.
    StringFromNumber,
    /// A boolean became its text.
    StringFromBool,
    /// An item of a list that must not repeat (`#[extract(unique)]`) repeated an earlier
    /// one and was dropped.
    DroppedRepeat,
    /// A list had more items than it may hold (`maxItems`); the items past the bound were
    /// dropped.
    DroppedPastMaxItems,
    /// More repairs were made than are listed one by one.
    MoreRepairs,
    /// A value of an optional field that the text does not hold, still given after the
    /// model was told so, became `null` (or was left out): see [`Grounding`](crate::Grounding).
    NotInText,
    /// A reply that looped (the runaway guard cut it, or it ran to the token limit
    /// repeating itself) and was cut off inside a list, on the last attempt allowed, kept
    /// the list's whole items: each run of identical items once, the item being written
    /// dropped. Items the model had not reached are missing. Never at
    /// [`Leniency::Exact`](super::Leniency::Exact); a list cut at the token limit without
    /// a loop stays a truncation.
    CutList,
}

impl RepairKind {
    /// The default weight of this kind of repair when candidates are compared.
    ///
    /// Lossless changes weigh 0, changes that keep meaning 1–2, and changes that
    /// rest on a heuristic more.
    #[must_use]
    pub fn cost(self) -> u32 {
        if LOSSLESS.contains(&self) {
            0
        } else if MEANING_KEPT.contains(&self) {
            1
        } else if HEURISTIC.contains(&self) {
            3
        } else {
            2
        }
    }
}

/// Kinds that lose nothing: cost 0.
const LOSSLESS: &[RepairKind] = &[
    K::FencedBlock,
    K::ThinkBlockRemoved,
    K::UnionChosen,
    K::MoreRepairs,
];

/// Kinds that keep the meaning plainly: cost 1.
const MEANING_KEPT: &[RepairKind] = &[
    K::ExtractedFromProse,
    K::SingleQuotes,
    K::SmartQuotes,
    K::UnquotedKey,
    K::TrailingComma,
    K::MissingComma,
    K::Comment,
    K::PythonLiteral,
    K::UnescapedNewline,
    K::NumberSyntax,
    K::ThousandsSeparators,
    K::TripleQuotes,
    K::TupleAsArray,
    K::DuplicateKey,
    K::NumberFromString,
    K::FloatToInteger,
    K::BoolFromString,
    K::BoolFromNumber,
    K::NullFromString,
    K::EmptyAsNull,
    K::EnumFuzzyMatch,
    K::DroppedExtraKey,
    K::RenamedKey,
    K::DroppedRepeat,
];

/// Kinds that rest on a guess about what was cut off or wrapped: cost 3.
const HEURISTIC: &[RepairKind] = &[
    K::ClosedTruncated,
    K::CutList,
    K::DroppedDanglingKey,
    K::EmptyValue,
    K::UnwrappedSingleKey,
];

// Every other kind (doubled or missing quotes, a missing colon, non-JSON literals,
// bracket and structure repairs, several values as one, formatted numbers, a single
// value as an array, a missing nullable property, JSON in a string, scalars as text)
// keeps the meaning with some reading between the lines: cost 2.

impl fmt::Display for RepairKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

pub(crate) fn total_cost(repairs: &[Repair]) -> u32 {
    repairs
        .iter()
        .fold(0u32, |acc, r| acc.saturating_add(r.cost))
}

/// Appends a repair, folding everything past [`MAX_LISTED_REPAIRS`] into one
/// [`RepairKind::MoreRepairs`] entry so memory stays bounded while the cost
/// stays exact.
pub(crate) fn push_repair(repairs: &mut Vec<Repair>, repair: Repair) {
    if repairs.len() < MAX_LISTED_REPAIRS {
        repairs.push(repair);
        return;
    }
    if let Some(last) = repairs.last_mut()
        && last.kind == RepairKind::MoreRepairs
    {
        last.cost = last.cost.saturating_add(repair.cost);
        return;
    }
    repairs.push(
        Repair::new(RepairKind::MoreRepairs, "", "further repairs not listed")
            .with_cost(repair.cost),
    );
}

pub(super) fn display_path(path: &str) -> &str {
    if path.is_empty() { "the root" } else { path }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tier_has_its_cost() {
        assert_eq!(K::FencedBlock.cost(), 0);
        assert_eq!(K::TrailingComma.cost(), 1);
        assert_eq!(K::DoubledQuotes.cost(), 2);
        assert_eq!(K::StringFromBool.cost(), 2);
        assert_eq!(K::ClosedTruncated.cost(), 3);
        assert_eq!(K::ThousandsSeparators.cost(), 1);
        assert_eq!(K::TripleQuotes.cost(), 1);
        assert_eq!(K::ReplyAsString.cost(), 2);
        assert_eq!(K::EmptyValue.cost(), 3);
        let mut more = Vec::new();
        for _ in 0..=MAX_LISTED_REPAIRS {
            push_repair(&mut more, Repair::new(K::TrailingComma, "", ""));
        }
        assert_eq!(more.len(), MAX_LISTED_REPAIRS + 1);
        assert_eq!(
            total_cost(&more),
            u32::try_from(MAX_LISTED_REPAIRS).unwrap() + 1
        );
    }
}
