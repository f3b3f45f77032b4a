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
//! # Layout
//!
//! This file holds [`Leniency`], [`Parsed`], [`ParseError`] and the three entry
//! points. `locate` finds where JSON sits in text (`<think>` blocks, fences,
//! balanced spans); `tolerant` is the repairing parser; `candidates` turns a
//! text into the values [`parse`] weighs; `prose` reads a value named in a reply
//! with no JSON; `cheapest` picks among alternatives by
//! cost; `coerce` bends a value toward a schema, with `fits` as its read-only
//! fast path; `repair` holds [`Repair`] and [`RepairKind`].
//!
//! # Leniency
//!
//! One rule decides the level of every repair:
//!
//! - **[`Standard`](Leniency::Standard)** takes a reading when the text *states* the
//!   value and no other reading is plausible: every part of the result is something the
//!   model wrote, only its form changes (quotes, commas, case, `"30"` for `30`,
//!   thousands separators), and nothing it wrote is dropped or re-spelled. Where the
//!   text can be read two ways and the schema does not decide, Standard refuses, and
//!   the re-ask says where.
//! - **[`Lenient`](Leniency::Lenient)** also takes readings that drop or re-spell part
//!   of what was written (a currency or percent sign, a wrapper key, the rest of an
//!   enum description, a number's own spelling when it becomes text, an empty string
//!   read as absence, a list's repeated items or items past its bound) or that match by a
//!   fragment (an enum by prefix or substring).
//! - **[`Exact`](Leniency::Exact)** takes plain JSON only, wherever it sits in the text.
//!
//! Every repair is recorded with its cost whatever the level, so a value that needed
//! any is never returned silently.
//!
//! | Change | [`Exact`](Leniency::Exact) | [`Standard`](Leniency::Standard) (default) | [`Lenient`](Leniency::Lenient) |
//! |---|---|---|---|
//! | JSON found inside prose, fences or around `<think>` blocks | yes | yes | yes |
//! | Syntax repairs: quotes (single, typographic, doubled, Python's triple), unquoted keys and values (over several lines too), commas, comments, Python literals, unescaped quotes and newlines, apostrophes in single-quoted strings, thousands separators (`-2,000.00`), truncated output | no | yes | yes |
//! | Number from a clean string (`"30"`, `"-2.5e3"`) or one with thousands separators (`"1,234"`) | no | yes | yes |
//! | Integral float to integer (`30.0`) | no | yes | yes |
//! | Boolean from a word (`"yes"`, `"Off"`, `"1"`) or from `1`/`0` | no | yes | yes |
//! | `null` from `"null"`/`"none"`/`"nil"` | no | yes | yes |
//! | `null` from an empty or blank string where `["string", "null"]` is expected (an `Option<String>`) | no | yes | yes |
//! | Enum or `const` value matched through case, accents, spaces and punctuation (`"In-Progress"` → `"in_progress"`) | no | yes | yes |
//! | A reply with no JSON that names one choice, boolean or number in its words (`**ONE** is the answer`, `The answer is true`, `12,111`); a string root takes the whole reply | no | yes | yes |
//! | Object key matched through case and punctuation (`"First Name"` → `first_name`) | no | yes | yes |
//! | A single value where an array is expected becomes a one-element array | no | yes | yes |
//! | A missing *required* property whose schema allows `null` becomes `null` | no | yes | yes |
//! | Extra keys dropped where `additionalProperties` is `false` | no | yes | yes |
//! | A string holding JSON for an object or array schema is parsed | no | yes | yes |
//! | Enum matched by a unique prefix or substring | no | no | yes |
//! | Number from a string with a unit: currency (`"$12.50"`), percent (`"12.5%"` → `12.5`) | no | no | yes |
//! | Unwrap an object whose single unknown key wraps the expected object (`{"person": {…}}`) | no | no | yes |
//! | Number or boolean to its text where a string is expected (`1.50` → `"1.5"` re-spells it) | no | no | yes |
//! | `null` from `""` or `"n/a"` | no | no | yes |
//! | A list's repeated items dropped where it must not repeat (`uniqueItems`), the first kept | no | no | yes |
//! | A list's items past `maxItems` dropped | no | no | yes |
//!
//! Nothing is ever invented: a missing required property that does not allow
//! `null`, a number written as words (`"thirty"`), an ambiguous number (`"1,5"`),
//! a fractional number for an integer (`30.5`), an enum value that matches no
//! variant or several, and prose that names two values are all mismatches.
//!
//! # Bounds
//!
//! Input larger than [`MAX_INPUT_BYTES`] is refused with [`ParseError::TooLarge`];
//! nesting deeper than [`MAX_NESTING`] gives [`ParseError::TooDeep`] (never a stack
//! overflow). Every pass over the text is linear in its length: look-aheads are
//! bounded or cached, and the number of candidates is capped.

mod candidates;
mod cheapest;
mod coerce;
mod fits;
mod locate;
#[cfg(test)]
mod properties;
mod prose;
mod repair;
mod terms;
mod tolerant;

pub(crate) use locate::strip_think;
pub use repair::{Repair, RepairKind};
pub use terms::{Leniency, MAX_INPUT_BYTES, MAX_NESTING, ParseError, Parsed};

use serde_json::Value;

use candidates::{candidates, combine, from_fences, prose_values};
use cheapest::{NoFit, cheapest};
use locate::MAX_CANDIDATES;
use repair::total_cost;
use terms::{blank_trimmed_json, check_size, exact_json};

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
    let (text, mut repairs) = strip_think(text);
    if !repairs.is_empty()
        && let Some(value) = exact_json(&text)
    {
        return Ok(Parsed { value, repairs });
    }
    if let Some((value, blank)) = blank_trimmed_json(&text) {
        repairs.push(blank);
        return Ok(Parsed { value, repairs });
    }

    let found = match from_fences(&text)? {
        Some(found) => Some(found),
        None => prose_values(&text),
    };
    let (value, reps) = if let Some(found) = found {
        found
    } else {
        let values =
            tolerant::parse_document(&text, tolerant::Reading::Schemaless, MAX_CANDIDATES)?;
        combine(values).ok_or(ParseError::NoJson)?
    };
    repairs.extend(reps);
    Ok(Parsed { value, repairs })
}

/// Parses model text against a JSON Schema and returns the cheapest fit.
///
/// Candidates come from the same places as in [`parse_json`] (plain JSON,
/// fenced blocks, balanced values in prose, the repairing parser, each
/// top-level value on its own and all of them together), restricted to plain
/// JSON under [`Leniency::Exact`]. Each is coerced against `schema` (see
/// [`coerce`]); the result with the lowest total cost wins, earlier candidates
/// winning ties. When none fits (above [`Leniency::Exact`]), a value the prose names
/// is tried last: one choice, boolean or number in the reply's words, or, for a root
/// that takes any string and a reply with no JSON, the whole reply.
///
/// # Errors
///
/// [`ParseError::NoJson`] when the text holds no candidate at all,
/// [`ParseError::Mismatch`] (from the most promising candidate) when none fits,
/// and the bound errors.
pub fn parse(text: &str, schema: &Value, leniency: Leniency) -> Result<Parsed, ParseError> {
    check_size(text)?;
    if let Some(value) = exact_json(text) {
        return exact_reply(text, value, schema, leniency);
    }
    let candidates = match candidates(text, leniency) {
        Ok(candidates) => candidates,
        Err(ParseError::NoJson) => Vec::new(),
        Err(e) => return Err(e),
    };
    let found = cheapest(
        candidates,
        |(_, repairs)| total_cost(repairs),
        |(value, mut repairs)| {
            let parsed = coerce(value, schema, leniency)?;
            repairs.extend(parsed.repairs);
            Ok((parsed.value, repairs))
        },
    );
    let (error, no_json) = match found {
        Ok(best) => {
            return Ok(Parsed {
                value: best.value,
                repairs: best.repairs,
            });
        }
        Err(NoFit::Fatal(e)) => return Err(e),
        Err(NoFit::Mismatch { error, .. }) => (error, false),
        Err(NoFit::Nothing) => (ParseError::NoJson, true),
    };
    if leniency == Leniency::Exact {
        return Err(error);
    }
    prose::named_in_prose(text, schema, leniency)
        .or_else(|| {
            no_json
                .then(|| prose::reply_as_string(text, schema))
                .flatten()
        })
        .ok_or(error)
}

/// A reply that is plain JSON as a whole. When it does not fit, a string may still be
/// prose that names the value (`"ONE: the first choice"`), and a bare number or boolean
/// is, as written, the string a string root asks for.
fn exact_reply(
    text: &str,
    value: Value,
    schema: &Value,
    leniency: Leniency,
) -> Result<Parsed, ParseError> {
    let prose = match &value {
        Value::String(s) if leniency != Leniency::Exact => Some(s.clone()),
        _ => None,
    };
    let scalar = matches!(value, Value::Number(_) | Value::Bool(_));
    let error = match coerce(value, schema, leniency) {
        Err(error @ ParseError::Mismatch { .. }) if leniency != Leniency::Exact => error,
        other => return other,
    };
    let found = match prose {
        Some(prose) => prose::named_in_prose(&prose, schema, leniency),
        None if scalar => prose::reply_as_string(text, schema),
        None => None,
    };
    found.ok_or(error)
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

#[cfg(test)]
mod tests {
    use super::repair::MAX_LISTED_REPAIRS;
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
    fn pointer_keys_escape_slash_and_tilde() {
        let mut p = String::new();
        crate::json::push_key(&mut p, "a/b~c");
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
