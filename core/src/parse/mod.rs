//! Lenient parsing of model output and schema-aligned coercion.
//!
//! Models, small local ones especially, wrap JSON in prose and Markdown fences,
//! write trailing commas, single quotes and comments, answer `"30"` where a
//! number belongs or `"Yes"` where a boolean belongs, use the wrong case for
//! enum values, and stop in the middle of an object. This module recovers
//! everything that can be recovered without guessing, records every change it
//! made as a [`Repair`] with a cost, and reports a [`ParseError::Mismatch`] with
//! a JSON-pointer path when the output really does not say what the type needs,
//! so the caller can re-ask the model.
//!
//! There are three entry points:
//!
//! - [`parse_json`] finds JSON in raw model text without a schema: plain JSON
//!   first, then fenced blocks, then balanced values in prose, then a single-pass
//!   repairing parser.
//! - [`parse`] generates candidates from the text the same way, coerces each
//!   against a JSON Schema (draft 2020-12 as schemars 1.x emits it, with
//!   `$defs` and local `$ref`s) and returns the cheapest one.
//! - [`coerce`] runs the coercion alone on a value that is already parsed.
//!
//! # Leniency
//!
//! | Change | [`Exact`](Leniency::Exact) | [`Standard`](Leniency::Standard) (default) | [`Lenient`](Leniency::Lenient) |
//! |---|---|---|---|
//! | JSON found inside prose, fences or around `<think>` blocks | yes | yes | yes |
//! | Syntax repairs: quotes, unquoted keys, commas, comments, Python literals, unescaped quotes and newlines, truncated output | no | yes | yes |
//! | Number from a clean string (`"30"`, `"-2.5e3"`) | no | yes | yes |
//! | Integral float to integer (`30.0`) | no | yes | yes |
//! | Boolean from a word (`"yes"`, `"Off"`, `"1"`) or from `1`/`0` | no | yes | yes |
//! | `null` from `"null"`/`"none"`/`"nil"` | no | yes | yes |
//! | Enum or `const` value matched through case, accents, spaces and punctuation (`"In-Progress"` → `"in_progress"`) | no | yes | yes |
//! | Object key matched through case and punctuation (`"First Name"` → `first_name`) | no | yes | yes |
//! | A single value where an array is expected becomes a one-element array | no | yes | yes |
//! | A missing *required* property whose schema allows `null` becomes `null` | no | yes | yes |
//! | Extra keys dropped where `additionalProperties` is `false` | no | yes | yes |
//! | A string holding JSON for an object or array schema is parsed | no | yes | yes |
//! | Enum matched by a unique prefix or substring | no | no | yes |
//! | Number from a formatted string: currency (`"$12.50"`), percent (`"12.5%"` → `12.5`), thousands separators (`"1,234"`) | no | no | yes |
//! | Unwrap an object whose single unknown key wraps the expected object (`{"person": {…}}`) | no | no | yes |
//! | Number or boolean to its text where a string is expected | no | no | yes |
//! | `null` from `""` or `"n/a"` | no | no | yes |
//!
//! Nothing is ever invented: a missing required property that does not allow
//! `null`, a number written as words (`"thirty"`), an ambiguous number (`"1,5"`),
//! a fractional number for an integer (`30.5`) and an enum value that matches no
//! variant or several are all mismatches.
//!
//! # Bounds
//!
//! Input larger than [`MAX_INPUT_BYTES`] is refused with [`ParseError::TooLarge`];
//! nesting deeper than [`MAX_NESTING`] gives [`ParseError::TooDeep`] (never a stack
//! overflow). Every pass over the text is linear in its length: look-aheads are
//! bounded or cached, and the number of candidates is capped.

mod coerce;
mod extract;
mod repair;

#[allow(
    unused_imports,
    reason = "the client classifies with it once the pipeline lands"
)]
pub(crate) use extract::strip_think;

use std::fmt;

use serde_json::Value;

/// Largest input accepted, in bytes (16 MiB).
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;

/// Deepest nesting of arrays and objects accepted, in the text and in values.
pub const MAX_NESTING: usize = 128;

/// Most repairs listed one by one; further repairs are folded into one
/// [`RepairKind::MoreRepairs`] entry that carries their summed cost.
const MAX_LISTED_REPAIRS: usize = 512;

/// How far the parser and the coercion may go to make model output fit.
///
/// See the [module documentation](self) for the table of what each level allows. The
/// levels are ordered: each allows everything the one before it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Leniency {
    /// Plain JSON found anywhere in the text; values must already have the
    /// schema's types and exact enum spellings.
    Exact,
    /// All syntax repairs and the coercions that cannot change meaning.
    #[default]
    Standard,
    /// Also the riskier coercions: enum prefixes and substrings, formatted
    /// numbers, unwrapping a single-key wrapper, numbers as strings.
    Lenient,
}

/// One change made to the model's output, with where it was made and what it cost.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
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
    /// More repairs were made than are listed one by one.
    MoreRepairs,
}

impl RepairKind {
    /// The default weight of this kind of repair when candidates are compared.
    ///
    /// Lossless changes weigh 0, changes that keep meaning 1–2, and changes that
    /// rest on a heuristic more.
    #[must_use]
    pub fn cost(self) -> u32 {
        use RepairKind as K;
        match self {
            K::FencedBlock | K::ThinkBlockRemoved | K::UnionChosen | K::MoreRepairs => 0,
            K::ExtractedFromProse
            | K::SingleQuotes
            | K::SmartQuotes
            | K::UnquotedKey
            | K::TrailingComma
            | K::MissingComma
            | K::Comment
            | K::PythonLiteral
            | K::UnescapedNewline
            | K::NumberSyntax
            | K::TupleAsArray
            | K::DuplicateKey
            | K::NumberFromString
            | K::FloatToInteger
            | K::BoolFromString
            | K::BoolFromNumber
            | K::NullFromString
            | K::EnumFuzzyMatch
            | K::DroppedExtraKey
            | K::RenamedKey => 1,
            K::DoubledQuotes
            | K::UnquotedString
            | K::MissingColon
            | K::NonJsonLiteral
            | K::UnescapedQuote
            | K::InvalidEscape
            | K::MissingClosingQuote
            | K::DroppedJunk
            | K::MismatchedBracket
            | K::SetAsArray
            | K::ImpliedObject
            | K::MergedArray
            | K::ReopenedObject
            | K::MultipleValues
            | K::FormattedNumber
            | K::SingleToArray
            | K::MissingOptionalAsNull
            | K::JsonInString
            | K::StringFromNumber
            | K::StringFromBool => 2,
            K::ClosedTruncated | K::DroppedDanglingKey | K::UnwrappedSingleKey => 3,
        }
    }
}

impl fmt::Display for RepairKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
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

/// Finds and parses JSON in raw model text, without a schema.
///
/// Tries, in order: the whole text as plain JSON (no repairs, as fast as
/// `serde_json`); the contents of Markdown code fences; balanced `{…}`/`[…]`
/// values in prose that are plain JSON; and finally the repairing parser over
/// the whole text. `<think>…</think>` blocks are ignored. When several
/// top-level values are found they are returned as one array (empty ones are
/// dropped, and an array followed by an array of the same shape counts as an
/// update of it).
///
/// # Errors
///
/// [`ParseError::NoJson`] when nothing can be recovered, [`ParseError::TooDeep`]
/// and [`ParseError::TooLarge`] when a bound is exceeded.
pub fn parse_json(text: &str) -> Result<Parsed, ParseError> {
    check_size(text)?;
    if let Some(value) = exact_json(text) {
        return Ok(Parsed {
            value,
            repairs: Vec::new(),
        });
    }
    let (text, mut repairs) = extract::strip_think(text);
    if !repairs.is_empty()
        && let Some(value) = exact_json(&text)
    {
        return Ok(Parsed { value, repairs });
    }

    let fences = extract::fences(&text, extract::MAX_CANDIDATES);
    if !fences.is_empty() {
        let mut found = Vec::new();
        for fence in &fences {
            for (value, mut reps) in parse_fragment(fence)? {
                reps.insert(
                    0,
                    Repair::new(RepairKind::FencedBlock, "", "read from a fenced code block"),
                );
                found.push((value, reps));
            }
        }
        if let Some((value, reps)) = combine(found) {
            repairs.extend(reps);
            return Ok(Parsed { value, repairs });
        }
    }

    if let Some((value, reps)) = extract::prose_values(&text) {
        repairs.extend(reps);
        return Ok(Parsed { value, repairs });
    }

    let values = repair::parse_document(&text, true, extract::MAX_CANDIDATES)?;
    match combine(values) {
        Some((value, reps)) => {
            repairs.extend(reps);
            Ok(Parsed { value, repairs })
        }
        None => Err(ParseError::NoJson),
    }
}

/// Parses model text against a JSON Schema and returns the cheapest fit.
///
/// Candidates come from the same places as in [`parse_json`] (plain JSON,
/// fenced blocks, balanced values in prose, the repairing parser, each
/// top-level value on its own and all of them together), restricted to plain
/// JSON under [`Leniency::Exact`]. Each is coerced against `schema` (see
/// [`coerce`]); the result with the lowest total cost wins, earlier candidates
/// winning ties.
///
/// # Errors
///
/// [`ParseError::NoJson`] when the text holds no candidate at all,
/// [`ParseError::Mismatch`] (from the most promising candidate) when none fits,
/// and the bound errors.
pub fn parse(text: &str, schema: &Value, leniency: Leniency) -> Result<Parsed, ParseError> {
    check_size(text)?;
    if let Some(value) = exact_json(text) {
        return coerce(value, schema, leniency);
    }
    let candidates = match candidates(text, leniency) {
        Ok(candidates) => candidates,
        Err(ParseError::NoJson) => Vec::new(),
        Err(e) => return Err(e),
    };
    let mut best: Option<Parsed> = None;
    let mut error: Option<ParseError> = None;
    for (value, mut repairs) in candidates {
        let base = total_cost(&repairs);
        if best.as_ref().is_some_and(|b| b.cost() <= base) {
            continue;
        }
        match coerce(value, schema, leniency) {
            Ok(parsed) => {
                if best
                    .as_ref()
                    .is_none_or(|b| base + parsed.cost() < b.cost())
                {
                    repairs.extend(parsed.repairs);
                    best = Some(Parsed {
                        value: parsed.value,
                        repairs,
                    });
                }
            }
            Err(e @ ParseError::Mismatch { .. }) => {
                if error
                    .as_ref()
                    .is_none_or(|old| mismatch_depth(&e) > mismatch_depth(old))
                {
                    error = Some(e);
                }
            }
            Err(e) => return Err(e),
        }
    }
    if best.is_none()
        && leniency != Leniency::Exact
        && let Some(choice) = choice_in_prose(text, schema, leniency)
    {
        return Ok(choice);
    }
    match (best, error) {
        (Some(parsed), _) => Ok(parsed),
        (None, Some(e)) => Err(e),
        (None, None) => Err(ParseError::NoJson),
    }
}

/// A reply with no JSON at all may still name one of a fixed set of choices: a small model
/// asked to classify often answers `The answer is "In-Progress".` For schemas whose root is
/// such a choice (a string enum or constants, not a free string), each quoted phrase and
/// then the whole reply are tried as the value. Free-string roots are skipped: any prose
/// would "match" them.
fn choice_in_prose(text: &str, schema: &Value, leniency: Leniency) -> Option<Parsed> {
    // A string that no choice list contains: if it coerces, the root takes any string.
    if coerce(Value::String("\u{1}".into()), schema, Leniency::Exact).is_ok() {
        return None;
    }
    let (text, _) = extract::strip_think(text);
    let mut phrases: Vec<&str> = Vec::new();
    let mut rest: &str = &text;
    while phrases.len() < extract::MAX_CANDIDATES {
        let Some(open) = rest.find(['"', '\u{201c}', '`']) else {
            break;
        };
        let after = &rest[open..];
        let quote = after.chars().next().unwrap_or('"');
        let body = &after[quote.len_utf8()..];
        let close_char = if quote == '\u{201c}' {
            '\u{201d}'
        } else {
            quote
        };
        let Some(close) = body.find(close_char) else {
            break;
        };
        phrases.push(&body[..close]);
        rest = &body[close + close_char.len_utf8()..];
    }
    let whole = text.trim().trim_end_matches(['.', '!']);
    if whole.len() <= 200 {
        phrases.push(whole);
    }
    phrases.into_iter().find_map(|phrase| {
        let mut parsed = coerce(Value::String(phrase.trim().to_owned()), schema, leniency).ok()?;
        parsed.repairs.insert(
            0,
            Repair::new(
                RepairKind::ExtractedFromProse,
                "",
                format!("took the choice {phrase:?} from prose"),
            ),
        );
        Some(parsed)
    })
}

/// Coerces an already parsed value to fit `schema`.
///
/// `schema` is a whole JSON Schema document; `$ref`s of the form `#/$defs/Name`,
/// `#/definitions/Name` or any other local JSON pointer are resolved against
/// it. `type` (single or array), `anyOf`/`oneOf` (every branch is scored and the
/// cheapest wins), `allOf` (applied one after another), `enum`, `const`,
/// `properties`, `required`, `additionalProperties`, `items` and `prefixItems`
/// are understood; other keywords are left to validation.
///
/// # Errors
///
/// [`ParseError::Mismatch`] with the path of the first value that cannot be
/// made to fit at this leniency, [`ParseError::InvalidSchema`] for an
/// unresolvable or cyclic `$ref`, and the bound errors.
pub fn coerce(value: Value, schema: &Value, leniency: Leniency) -> Result<Parsed, ParseError> {
    coerce::coerce(value, schema, leniency)
}

/// Candidate values for [`parse`], most trusted first, each with the repairs
/// that produced it.
fn candidates(text: &str, leniency: Leniency) -> Result<Vec<(Value, Vec<Repair>)>, ParseError> {
    let (text, think) = extract::strip_think(text);
    let mut out: Vec<(Value, Vec<Repair>)> = Vec::new();
    let with = |mut repairs: Vec<Repair>, first: Repair| {
        repairs.insert(0, first);
        let mut all = think.clone();
        all.extend(repairs);
        all
    };
    if let Some(value) = exact_json(&text) {
        out.push((value, think.clone()));
        return Ok(out);
    }
    let mut fenced = Vec::new();
    for fence in extract::fences(&text, extract::MAX_CANDIDATES) {
        if let Some(value) = exact_json(fence) {
            fenced.push((value, Vec::new()));
        } else if leniency != Leniency::Exact {
            fenced.extend(parse_fragment(fence)?);
        }
    }
    push_values(&mut out, fenced, |reps| {
        with(
            reps,
            Repair::new(RepairKind::FencedBlock, "", "read from a fenced code block"),
        )
    });
    let spans = extract::balanced_spans(&text, extract::MAX_CANDIDATES);
    for &(start, end) in &spans {
        let Some(span) = text.get(start..end) else {
            continue;
        };
        if let Some(value) = exact_json(span) {
            let prose = Repair::new(RepairKind::ExtractedFromProse, "", "found inside prose");
            let mut reps = Vec::new();
            if spans.len() > 1 {
                reps.push(ignored_others(spans.len() - 1));
            }
            out.push((value, with(reps, prose)));
        }
    }
    if leniency != Leniency::Exact {
        let values = repair::parse_document(&text, true, extract::MAX_CANDIDATES)?;
        let think = think.clone();
        push_values(&mut out, values, |reps| {
            let mut all = think.clone();
            all.extend(reps);
            all
        });
    }
    Ok(out)
}

/// Adds each top-level value as a candidate, and all of them together when
/// there are several (a model listing objects one after another often means
/// an array).
fn push_values(
    out: &mut Vec<(Value, Vec<Repair>)>,
    values: Vec<(Value, Vec<Repair>)>,
    wrap: impl Fn(Vec<Repair>) -> Vec<Repair>,
) {
    let others = values.len().saturating_sub(1);
    if others > 0
        && let Some((value, reps)) = combine(values.clone())
    {
        out.push((value, wrap(reps)));
    }
    for (value, mut reps) in values {
        if others > 0 {
            reps.push(ignored_others(others));
        }
        out.push((value, wrap(reps)));
    }
}

/// Taking one value out of several drops the others; that should cost more
/// than combining them when the schema accepts both.
fn ignored_others(count: usize) -> Repair {
    let cost = u32::try_from(count)
        .unwrap_or(u32::MAX / 2)
        .saturating_mul(2);
    Repair::new(
        RepairKind::DroppedJunk,
        "",
        format!("ignored {count} other top-level value(s)"),
    )
    .with_cost(cost)
}

/// Parses the text of one fence or span: plain JSON, else the repairing parser.
fn parse_fragment(text: &str) -> Result<Vec<(Value, Vec<Repair>)>, ParseError> {
    if let Some(value) = exact_json(text) {
        return Ok(vec![(value, Vec::new())]);
    }
    repair::parse_document(text, true, extract::MAX_CANDIDATES)
}

/// Merges several top-level values into one, the way a reader would.
///
/// Empty containers are dropped when anything else was found; an array
/// followed by an array of the same shape is taken as a corrected copy of it
/// (models streaming an answer twice); several values left become an array.
pub(crate) fn combine(values: Vec<(Value, Vec<Repair>)>) -> Option<(Value, Vec<Repair>)> {
    let any_content = values.iter().any(|(v, _)| !is_empty_container(v));
    let mut kept: Vec<(Value, Vec<Repair>)> = Vec::new();
    for (value, repairs) in values {
        if any_content && is_empty_container(&value) {
            continue;
        }
        if !any_content && !kept.is_empty() {
            break;
        }
        if kept
            .last()
            .is_some_and(|(last, _)| same_shape_arrays(last, &value))
        {
            kept.pop();
        }
        kept.push((value, repairs));
    }
    if kept.len() <= 1 {
        return kept.pop();
    }
    let mut repairs = vec![Repair::new(
        RepairKind::MultipleValues,
        "",
        format!("{} top-level values returned as one array", kept.len()),
    )];
    let mut items = Vec::with_capacity(kept.len());
    for (i, (value, reps)) in kept.into_iter().enumerate() {
        items.push(value);
        for mut r in reps {
            r.path = format!("/{i}{}", r.path);
            push_repair(&mut repairs, r);
        }
    }
    Some((Value::Array(items), repairs))
}

fn is_empty_container(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// Two arrays of the same length whose elements have the same JSON types and,
/// for objects, the same keys.
fn same_shape_arrays(a: &Value, b: &Value) -> bool {
    let (Value::Array(a), Value::Array(b)) = (a, b) else {
        return false;
    };
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len() && x.keys().all(|k| y.contains_key(k))
            }
            _ => std::mem::discriminant(x) == std::mem::discriminant(y),
        })
}

/// Plain JSON of the whole (trimmed) text, as `serde_json` reads it: the fast path.
fn exact_json(text: &str) -> Option<Value> {
    serde_json::from_str(text.trim()).ok()
}

fn check_size(text: &str) -> Result<(), ParseError> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(ParseError::TooLarge {
            limit: MAX_INPUT_BYTES,
        });
    }
    Ok(())
}

fn mismatch_depth(e: &ParseError) -> usize {
    match e {
        ParseError::Mismatch { path, .. } => path.matches('/').count(),
        _ => 0,
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

/// Appends `key` to a JSON pointer, escaped as RFC 6901 says.
pub(crate) fn push_pointer(path: &mut String, key: &str) {
    path.push('/');
    for c in key.chars() {
        match c {
            '~' => path.push_str("~0"),
            '/' => path.push_str("~1"),
            c => path.push(c),
        }
    }
}

fn display_path(path: &str) -> &str {
    if path.is_empty() { "the root" } else { path }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn clean_json_takes_the_fast_path() {
        let p = parse_json(r#" {"a": [1, 2]} "#).unwrap();
        assert_eq!(p.value, json!({"a": [1, 2]}));
        assert!(p.repairs.is_empty());
    }

    #[test]
    fn think_blocks_are_ignored() {
        let p = parse_json("<think>maybe {\"a\": 0}</think>\n{\"a\": 1}").unwrap();
        assert_eq!(p.value, json!({"a": 1}));
        assert!(p.has_repair(RepairKind::ThinkBlockRemoved));
        let p = parse_json("so {\"a\": 0} hmm</think>{\"a\": 2}").unwrap();
        assert_eq!(p.value, json!({"a": 2}));
        assert_eq!(
            parse_json("<think>{\"a\": 0} and then"),
            Err(ParseError::NoJson)
        );
    }

    #[test]
    fn fences_win_over_prose() {
        let text = "Sure {not json}.\n```json\n{\"a\": 1,}\n```\nDone.";
        let p = parse_json(text).unwrap();
        assert_eq!(p.value, json!({"a": 1}));
        assert!(p.has_repair(RepairKind::FencedBlock));
        assert!(p.has_repair(RepairKind::TrailingComma));
    }

    #[test]
    fn prose_wrapped_plain_json() {
        let p = parse_json("Here you go: {\"a\": \"}\"} Hope it helps!").unwrap();
        assert_eq!(p.value, json!({"a": "}"}));
        assert_eq!(p.repairs.len(), 1);
        assert_eq!(p.repairs[0].kind, RepairKind::ExtractedFromProse);
    }

    #[test]
    fn nothing_is_no_json() {
        assert_eq!(parse_json("no json here"), Err(ParseError::NoJson));
        assert_eq!(parse_json(""), Err(ParseError::NoJson));
        assert_eq!(parse_json("]"), Err(ParseError::NoJson));
    }

    #[test]
    fn too_large_is_refused() {
        let big = " ".repeat(MAX_INPUT_BYTES + 1);
        assert_eq!(
            parse_json(&big),
            Err(ParseError::TooLarge {
                limit: MAX_INPUT_BYTES
            })
        );
        assert_eq!(
            parse(&big, &json!({}), Leniency::Standard),
            Err(ParseError::TooLarge {
                limit: MAX_INPUT_BYTES
            })
        );
    }

    #[test]
    fn a_million_brackets_is_too_deep_not_a_crash() {
        let text = "[".repeat(1_000_000);
        assert_eq!(
            parse_json(&text),
            Err(ParseError::TooDeep { limit: MAX_NESTING })
        );
        let schema = json!({"type": "array"});
        assert_eq!(
            parse(&text, &schema, Leniency::Standard),
            Err(ParseError::TooDeep { limit: MAX_NESTING })
        );
    }

    #[test]
    fn pathological_inputs_finish() {
        let start = std::time::Instant::now();
        let text = "{\"a\":".repeat(100_000);
        assert!(matches!(parse_json(&text), Err(ParseError::TooDeep { .. })));
        let text = format!("prose {} more", "{".repeat(1 << 20));
        assert!(parse_json(&text).is_err());
        let text = format!("{{{}}}", "a:b,".repeat(200_000));
        assert!(parse_json(&text).is_ok());
        let text = format!("[{}]", "\"a, ".repeat(200_000));
        assert!(parse_json(&text).is_ok());
        let text = format!("{{\"k\": \"{}", "x}".repeat(200_000));
        assert!(parse_json(&text).is_ok());
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "took {:?}",
            start.elapsed()
        );
    }

    #[test]
    fn repairs_are_bounded_but_cost_is_exact() {
        let text = format!("[{}]", "'a',".repeat(2000));
        let p = parse_json(&text).unwrap();
        assert!(p.repairs.len() <= MAX_LISTED_REPAIRS + 1);
        assert!(p.cost() >= 2000, "cost {}", p.cost());
    }

    #[test]
    fn multiple_values_are_combined() {
        assert_eq!(parse_json("[]{}").unwrap().value, json!([]));
        assert_eq!(
            parse_json("{\"a\":1} {\"b\":2}").unwrap().value,
            json!([{"a": 1}, {"b": 2}])
        );
        assert_eq!(parse_json("[1,2][3,4]").unwrap().value, json!([3, 4]));
    }

    #[test]
    fn parse_picks_the_candidate_that_fits() {
        let schema =
            json!({"type": "object", "properties": {"b": {"type": "integer"}}, "required": ["b"]});
        let p = parse(
            "first {\"a\": 1} then {\"b\": 2}",
            &schema,
            Leniency::Standard,
        )
        .unwrap();
        assert_eq!(p.value, json!({"b": 2}));
        let schema = json!({"type": "array", "items": {"type": "object"}});
        let p = parse("{\"a\": 1}\n{\"a\": 2,}", &schema, Leniency::Standard).unwrap();
        assert_eq!(p.value, json!([{"a": 1}, {"a": 2}]));
    }

    #[test]
    fn exact_leniency_refuses_syntax_repairs() {
        let schema = json!({"type": "object"});
        assert!(parse("{'a': 1}", &schema, Leniency::Exact).is_err());
        let p = parse("Answer: ```json\n{\"a\": 1}\n```", &schema, Leniency::Exact).unwrap();
        assert_eq!(p.value, json!({"a": 1}));
        let p = parse("Answer: {\"a\": 1}.", &schema, Leniency::Exact).unwrap();
        assert_eq!(p.value, json!({"a": 1}));
    }

    #[test]
    fn pointer_escaping() {
        let mut p = String::new();
        push_pointer(&mut p, "a/b~c");
        assert_eq!(p, "/a~1b~0c");
    }

    #[test]
    fn error_messages_are_lowercase_without_period() {
        let e = ParseError::Mismatch {
            path: String::new(),
            expected: "integer".into(),
            found: "string \"x\"".into(),
        };
        let msg = e.to_string();
        assert!(msg.starts_with("value at the root"), "{msg}");
        assert!(!msg.ends_with('.'));
        assert_eq!(
            ParseError::NoJson.to_string(),
            "no json value found in the text"
        );
    }
}
