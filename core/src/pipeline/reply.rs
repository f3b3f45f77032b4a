//! From a model's reply to an attempt and its outcome, in one step: classify (refusal,
//! truncation, empty), parse (the lenient, schema-aligned parser in [`crate::parse`], which
//! also removes `<think>` blocks and the envelope), finish (validate against the full
//! source schema, deserialize with paths, run the type's validators), then ground (every
//! leaf located in the text; a `grounded` field that is not there is a violation).

use serde_json::Value;

use crate::parse::{self, Leniency, ParseError, Repair, RepairKind};
use crate::transport::Completion;
use crate::transport::provider::Mode;
use crate::{Attempt, AttemptFailure, Extract, Grounding, Schema, Span, Violation, json};

/// What the attempt was asked with, to judge its reply by.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Asked<'a> {
    pub(crate) schema: &'a Schema,
    pub(crate) leniency: Leniency,
    pub(crate) mode: Mode,
    pub(crate) max_tokens: u32,
    /// The sampling the request was sent with.
    pub(crate) temperature: f32,
    pub(crate) seed: Option<u64>,
    /// Which values must be found in the text, and whether the model was already asked
    /// again about them (then an optional value still not found is dropped, not re-asked).
    pub(crate) grounding: Grounding,
    pub(crate) reasked: bool,
    /// Whether this is the last attempt allowed: then a reply cut off inside a list keeps
    /// the list's whole items (see [`RepairKind::CutList`]) instead of failing.
    pub(crate) last: bool,
    /// The value of the attempt that failed only on optional values the text does not
    /// hold, if one did: after the re-ask, its values are kept and only those are taken
    /// from the new reply (when the text holds them) or dropped, so that a re-ask about an
    /// email cannot change a name the first reply had right.
    pub(crate) held: Option<&'a Value>,
}

/// What a reply that passed every stage gives: the value, the validated JSON it was read
/// from, and where each of its leaves is in the text.
pub(crate) struct Read<T> {
    pub(crate) value: T,
    pub(crate) json: Value,
    pub(crate) spans: Vec<Span>,
}

/// Judges one reply to a request about `text`: the attempt as recorded (raw text,
/// repairs, usage; `failure` set, once, when it failed) and what it gives, or the failure.
pub(crate) fn read<T: Extract>(
    completion: Completion,
    asked: Asked<'_>,
    text: &str,
) -> (Attempt, Result<Read<T>, AttemptFailure>) {
    let at_token_limit = at_token_limit(&completion, asked.max_tokens);
    let (mut attempt, refusal) = recorded(completion, asked);
    let outcome = classify(&attempt, refusal, at_token_limit)
        .and_then(|()| parse_whole(&mut attempt, asked, at_token_limit))
        .and_then(|mut value| {
            let mut typed = finish::<T>(asked.schema, &value)?;
            let (spans, dropped) = ground(asked, text, &mut value, &mut attempt.repairs)?;
            if dropped {
                typed = finish::<T>(asked.schema, &value)?;
            }
            Ok(Read {
                value: typed,
                json: value,
                spans,
            })
        });
    if let Err(failure) = &outcome {
        attempt.failure = Some(failure.clone());
    }
    (attempt, outcome)
}

/// A value kept from an earlier run (a journal's validated JSON), read again through the
/// last stages a reply goes through: finished (validated, deserialized with paths, checked
/// by the type's validators) and grounded in `text`, so its spans are those a fresh reply
/// with the same value gets.
pub(crate) fn reread<T: Extract>(
    schema: &Schema,
    text: &str,
    json: &Value,
) -> Result<(T, Vec<Span>), AttemptFailure> {
    let value = finish::<T>(schema, json)?;
    let spans = crate::ground::spans(text, json);
    Ok((value, spans))
}

/// The reply's value, its repairs recorded on the attempt. Text that does not parse, or a
/// value closed by repair, was cut off when the cut came from the token limit: the value
/// may go on, so it is a truncation, asked again with more room.
fn parse_whole(
    attempt: &mut Attempt,
    asked: Asked<'_>,
    at_token_limit: bool,
) -> Result<Value, AttemptFailure> {
    let (value, repairs) = match parse_reply(&attempt.raw, asked.schema, asked.leniency) {
        Ok(parsed) => parsed,
        Err(_) if at_token_limit => {
            return cut_list(attempt, asked).ok_or(AttemptFailure::Truncated);
        }
        Err(failure) => return Err(failure),
    };
    let closed = repairs
        .iter()
        .any(|r| r.kind == RepairKind::ClosedTruncated);
    attempt.repairs = repairs;
    if at_token_limit && closed {
        return cut_list(attempt, asked).ok_or(AttemptFailure::Truncated);
    }
    Ok(value)
}

/// On the last attempt allowed, a reply that looped (the guard cut it, or it ran to the
/// token limit repeating itself, or counting: see `looping_but_for_numbers`) and was cut
/// inside a list is read as far as the list is whole, with a
/// [`CutList`](RepairKind::CutList) repair saying what was dropped; never at
/// [`Leniency::Exact`]. `None` when the cut is not inside a list, or when the reply was
/// cut at the token limit without looping: the model was still writing, so the list may
/// go on, and that stays a truncation.
fn cut_list(attempt: &mut Attempt, asked: Asked<'_>) -> Option<Value> {
    let looped = attempt.finish_reason.as_deref() == Some(crate::stream::RUNAWAY)
        || crate::stream::looping(&attempt.raw).is_some()
        || crate::stream::looping_but_for_numbers(&attempt.raw);
    if !asked.last || asked.leniency == Leniency::Exact || !looped {
        return None;
    }
    let cut = crate::stream::whole_items(&attempt.raw)?;
    let text = cut.value.to_string();
    let (value, mut repairs) = parse_reply(&text, asked.schema, asked.leniency).ok()?;
    // The path inside the value the type reads, not the envelope around it.
    let path = asked
        .schema
        .envelope_key()
        .and_then(|key| cut.path.strip_prefix(&format!("/{key}")))
        .unwrap_or(&cut.path);
    let detail = format!(
        "the reply kept repeating itself and was cut off inside this list: kept its {} whole items, dropped {} (repeats, and the item being written)",
        cut.kept, cut.dropped,
    );
    repairs.push(Repair::new(RepairKind::CutList, path, detail));
    attempt.repairs = repairs;
    Some(value)
}

/// Where each leaf of the value is in the text. A grounded field (`#[extract(grounded)]`)
/// that is not there as written fails the attempt, and so does a value the [`Grounding`]
/// policy checks that is not there at all; except that once the model was asked again, an
/// optional value still not found is dropped (`null`, or left out) with a
/// [`NotInText`](RepairKind::NotInText) repair: `true` when one was, and the value must be
/// read again.
fn ground(
    asked: Asked<'_>,
    text: &str,
    json: &mut Value,
    repairs: &mut Vec<Repair>,
) -> Result<(Vec<Span>, bool), AttemptFailure> {
    // No text to ground in: an image-only extraction, or a provider batch result read
    // without its items (see `batch_file::read_results`).
    if text.is_empty() {
        return Ok((Vec::new(), false));
    }
    let spans = crate::ground::spans(text, json);
    if !asked.schema.has_grounded() && asked.grounding == Grounding::Off {
        return Ok((spans, false));
    }
    if let Some(held) = asked.held.filter(|_| asked.reasked)
        && let Some(merged) = merge_held(asked, text, held, json, &spans, repairs)
    {
        *json = merged;
        return Ok((crate::ground::spans(text, json), true));
    }
    let found = crate::ground::unfounded(asked.schema.json(), json, &spans, text, asked.grounding);
    let all_droppable = found.violations.len() == found.droppable.len();
    if found.violations.is_empty() {
        return Ok((spans, false));
    }
    if !(asked.reasked && all_droppable) {
        return Err(AttemptFailure::Violations(found.violations));
    }
    for (path, nullable) in &found.droppable {
        let value = json::drop_at(json, path, *nullable).to_string();
        let detail = format!("{} is not in the text", json::excerpt(&value, 80));
        repairs.push(Repair::new(RepairKind::NotInText, path, detail));
    }
    Ok((crate::ground::spans(text, json), true))
}

/// The held value with each of its optional values the text does not hold taken from the
/// re-ask's `json` where the text holds it there, else dropped (recorded); `None` when the
/// held value failed on more than such values.
fn merge_held(
    asked: Asked<'_>,
    text: &str,
    held: &Value,
    json: &Value,
    spans: &[Span],
    repairs: &mut Vec<Repair>,
) -> Option<Value> {
    let schema = asked.schema.json();
    let held_spans = crate::ground::spans(text, held);
    let found = crate::ground::unfounded(schema, held, &held_spans, text, asked.grounding);
    if found.droppable.is_empty() || found.violations.len() != found.droppable.len() {
        return None;
    }
    let mut merged = held.clone();
    for (path, nullable) in &found.droppable {
        let now = spans.iter().find(|s| &s.path == path);
        match (json.pointer(path), now) {
            (Some(value), Some(span)) if span.quality != crate::Match::NotFound => {
                if let Some(slot) = merged.pointer_mut(path) {
                    *slot = value.clone();
                }
            }
            _ => {
                let value = json::drop_at(&mut merged, path, *nullable).to_string();
                let detail = format!("{} is not in the text", json::excerpt(&value, 80));
                repairs.push(Repair::new(RepairKind::NotInText, path, detail));
            }
        }
    }
    Some(merged)
}

/// Cut off by the token limit, as the server says (`finish_reason: "length"`) or as the
/// usage shows (Dria sets no finish reason). The parse decides whether the cut matters: a
/// value completed before the cut is kept, a value closed by repair is not.
fn at_token_limit(completion: &Completion, max_tokens: u32) -> bool {
    completion
        .usage
        .is_some_and(|u| u.completion_tokens >= u64::from(max_tokens))
        || matches!(
            completion.finish_reason.as_deref(),
            Some("length" | crate::stream::RUNAWAY)
        )
}

/// The attempt of a reply that broke off after it began (see [`receive`](super::receive)):
/// its text as far as it came, its usage (the server's, or the pieces counted), and why it
/// failed. A broken text that repeats one unit is a runaway, recorded as a truncation, so
/// that the re-ask changes what loops; anything else is
/// [`Interrupted`](AttemptFailure::Interrupted) with the fault's message.
pub(crate) fn broken(completion: Completion, asked: Asked<'_>, error: &crate::Error) -> Attempt {
    let (mut attempt, _) = recorded(completion, asked);
    attempt.failure = Some(if crate::stream::looping(&attempt.raw).is_some() {
        AttemptFailure::Truncated
    } else {
        AttemptFailure::Interrupted(error.to_string())
    });
    attempt
}

/// A reply as its attempt records it, not yet judged, and the refusal it carried.
fn recorded(completion: Completion, asked: Asked<'_>) -> (Attempt, Option<String>) {
    let attempt = Attempt {
        raw: completion.content.unwrap_or_default(),
        failure: None,
        usage: completion.usage.unwrap_or_default(),
        node_id: completion.node_id,
        mode: asked.mode,
        repairs: Vec::new(),
        finish_reason: completion.finish_reason,
        max_tokens: asked.max_tokens,
        temperature: asked.temperature,
        seed: asked.seed,
        cached: completion.cached,
    };
    (attempt, completion.refusal)
}

/// Whether the reply holds anything to parse: not a refusal, not blocked, not empty (or
/// only a `<think>` block).
fn classify(
    attempt: &Attempt,
    refusal: Option<String>,
    at_token_limit: bool,
) -> Result<(), AttemptFailure> {
    if let Some(refusal) = refusal.filter(|r| !r.trim().is_empty()) {
        return Err(AttemptFailure::Refusal(refusal));
    }
    if attempt.finish_reason.as_deref() == Some("content_filter") {
        return Err(AttemptFailure::Refusal(
            "the reply was blocked by a content filter".to_owned(),
        ));
    }
    if parse::strip_think(&attempt.raw).0.trim().is_empty() {
        return Err(if at_token_limit {
            AttemptFailure::Truncated
        } else {
            AttemptFailure::Empty
        });
    }
    Ok(())
}

/// Parses the model's text into a value of the schema, with the repairs made. A reply in
/// the schema's envelope (see [`Schema::envelope_key`]) is taken out of it before coercion;
/// a bare value (the model skipped the envelope) is used as it is.
pub(crate) fn parse_reply(
    text: &str,
    schema: &Schema,
    leniency: Leniency,
) -> Result<(Value, Vec<Repair>), AttemptFailure> {
    let parsed = match schema.envelope_key() {
        Some(key) => match open_envelope(text, schema, key, leniency) {
            // No JSON at all: a bare choice named in prose may still be there.
            Err(ParseError::NoJson) => parse::parse(text, schema.json(), leniency),
            other => other,
        },
        None => parse::parse(text, schema.json(), leniency),
    };
    match parsed {
        Ok(parsed) => Ok((parsed.value, parsed.repairs)),
        Err(ParseError::Mismatch {
            path,
            expected,
            found,
        }) => Err(AttemptFailure::Violations(
            every_violation(text, schema).unwrap_or_else(|| {
                vec![Violation::new(
                    path,
                    format!("expected {expected}, found {found}"),
                )]
            }),
        )),
        Err(other) => Err(AttemptFailure::NotJson(other.to_string())),
    }
}

fn open_envelope(
    text: &str,
    schema: &Schema,
    key: &str,
    leniency: Leniency,
) -> Result<parse::Parsed, ParseError> {
    let found = parse::parse_json(text)?;
    let inner = match found.value {
        Value::Object(mut map) if map.len() == 1 && map.contains_key(key) => {
            map.remove(key).unwrap_or(Value::Null)
        }
        other => other,
    };
    let mut coerced = parse::coerce(inner, schema.json(), leniency)?;
    let mut repairs = found.repairs;
    repairs.append(&mut coerced.repairs);
    coerced.repairs = repairs;
    Ok(coerced)
}

/// The text is JSON but not the type. The re-ask should list every problem, not just the
/// first one coercion stopped at: validate what the model wrote.
fn every_violation(text: &str, schema: &Schema) -> Option<Vec<Violation>> {
    let found = parse::parse_json(text).ok()?;
    let mut value = found.value;
    if let (Some(key), Value::Object(map)) = (schema.envelope_key(), &mut value)
        && map.len() == 1
        && let Some(inner) = map.remove(key)
    {
        value = inner;
    }
    schema.validate(&value).err().filter(|v| !v.is_empty())
}

/// From a parsed value to a `T`: validate against the full source schema, deserialize,
/// then run the type's validators.
pub(crate) fn finish<T: Extract>(schema: &Schema, value: &Value) -> Result<T, AttemptFailure> {
    schema.validate(value).map_err(AttemptFailure::Violations)?;
    let typed: T = T::deserialize(value).map_err(|plain| not_the_type::<T>(value, &plain))?;
    typed.validate().map_err(AttemptFailure::Violations)?;
    Ok(typed)
}

/// Why `value` is not a `T`, at the path where deserializing it failed.
///
/// `serde_path_to_error` tracks the path by wrapping every visitor call, which every value
/// paid for, though nearly all of them read (on the batch bench its wrappers were 1.2% of
/// an item's instruction-cache misses). So a value is read plainly first, and only one
/// that failed is read again with paths: the same `Deserialize` on the same value fails at
/// the same place. Should the second read pass after all, the plain error is kept, at the
/// root.
#[cold]
fn not_the_type<T: Extract>(value: &Value, plain: &serde_json::Error) -> AttemptFailure {
    let violation = match serde_path_to_error::deserialize::<_, T>(value) {
        Err(e) => Violation::new(pointer(e.path()), e.into_inner().to_string()),
        Ok(_) => Violation::new("", plain.to_string()),
    };
    AttemptFailure::Violations(vec![violation])
}

/// A `serde_path_to_error` path as a JSON pointer.
pub(crate) fn pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Seq { index } => json::push_index(&mut out, *index),
            Segment::Map { key } => json::push_key(&mut out, key),
            Segment::Enum { variant } => json::push_key(&mut out, variant),
            Segment::Unknown => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::wire::Usage;

    fn schema() -> Schema {
        Schema::new(
            "T",
            json!({
                "type": "object",
                "properties": {"a": {"type": "integer"}, "b": {"type": "string"}},
                "required": ["a"]
            }),
            None,
        )
    }

    fn parse(text: &str) -> Result<Value, AttemptFailure> {
        parse_reply(text, &schema(), Leniency::Standard).map(|(v, _)| v)
    }

    #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
    struct Pair {
        a: i64,
    }

    impl Extract for Pair {
        type Partial = ();

        fn partial_from(_: &crate::stream::Node) -> Option<()> {
            None
        }
    }

    fn completion(content: Option<&str>, finish: Option<&str>, tokens: u64) -> Completion {
        Completion {
            content: content.map(str::to_owned),
            finish_reason: finish.map(str::to_owned),
            usage: Some(Usage {
                completion_tokens: tokens,
                ..Usage::default()
            }),
            ..Completion::default()
        }
    }

    fn judge(completion: Completion) -> (Attempt, Result<Pair, AttemptFailure>) {
        let asked = Asked {
            schema: crate::schema::<Pair>(),
            leniency: Leniency::Standard,
            mode: Mode::PromptOnly,
            max_tokens: 10,
            temperature: 0.0,
            seed: None,
            grounding: Grounding::Off,
            reasked: false,
            last: false,
            held: None,
        };
        let (attempt, outcome) = read::<Pair>(completion, asked, "");
        (attempt, outcome.map(|read| read.value))
    }

    #[test]
    fn strict_json_needs_no_repairs() {
        let (value, repairs) = parse_reply(" {\"a\": 1} ", &schema(), Leniency::Standard).unwrap();
        assert_eq!(value, json!({"a": 1}));
        assert!(repairs.is_empty());
    }

    #[test]
    fn fenced_prose_and_broken_json_are_recovered_with_repairs() {
        let text = "Here you go:\n```json\n{'a': '30', b: \"x\",}\n```\nAnything else?";
        let (value, repairs) = parse_reply(text, &schema(), Leniency::Standard).unwrap();
        assert_eq!(value, json!({"a": 30, "b": "x"}));
        assert!(repairs.len() >= 3, "{repairs:?}");
        let text = "Sure! The answer is {\"a\": 2, \"b\": \"x}y\"} hope it helps";
        assert_eq!(parse(text).unwrap(), json!({"a": 2, "b": "x}y"}));
    }

    #[test]
    fn an_enveloped_reply_is_opened_before_coercion() {
        let schema = Schema::new(
            "E",
            json!({"type": "string", "enum": ["low", "high"]}),
            None,
        );
        assert_eq!(schema.envelope_key(), Some("e"));
        let (value, _) = parse_reply("{\"e\": \"High\"}", &schema, Leniency::Standard).unwrap();
        assert_eq!(value, json!("high"));
        // A model that skips the envelope is still read.
        let (value, _) = parse_reply("\"low\"", &schema, Leniency::Standard).unwrap();
        assert_eq!(value, json!("low"));
    }

    #[test]
    fn mismatches_become_path_level_violations() {
        let Err(AttemptFailure::Violations(violations)) = parse("{\"a\": \"thirty\"}") else {
            panic!("expected violations");
        };
        assert_eq!(violations[0].path, "/a");
        assert!(matches!(
            parse("I cannot find a person."),
            Err(AttemptFailure::NotJson(_))
        ));
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let text = "[".repeat(1_000_000);
        assert!(parse(&text).is_err());
    }

    #[test]
    fn think_blocks_are_recorded_as_repairs() {
        let (attempt, value) = judge(completion(
            Some("<think>a is 1</think>{\"a\": 1}"),
            Some("stop"),
            5,
        ));
        assert_eq!(value.unwrap().a, 1);
        assert!(
            attempt
                .repairs
                .iter()
                .any(|r| r.kind == RepairKind::ThinkBlockRemoved),
            "{:?}",
            attempt.repairs
        );
        assert_eq!(attempt.raw, "<think>a is 1</think>{\"a\": 1}");
    }

    #[test]
    fn a_cut_complete_value_is_kept_and_a_cut_open_one_or_blank_text_fails() {
        // A "length" cut of a complete value is kept: the parse decides whether it matters.
        let (attempt, value) = judge(completion(Some("{\"a\": 2}"), Some("length"), 3));
        assert_eq!(value.unwrap().a, 2);
        assert_eq!(attempt.failure, None);
        let (_, cut) = judge(completion(Some("{\"a\": 2"), Some("length"), 10));
        assert_eq!(cut.unwrap_err(), AttemptFailure::Truncated);
        let (attempt, empty) = judge(completion(Some("  \n"), Some("stop"), 1));
        assert_eq!(empty.unwrap_err(), AttemptFailure::Empty);
        assert_eq!(attempt.failure, Some(AttemptFailure::Empty));
        let (_, none) = judge(completion(None, None, 0));
        assert_eq!(none.unwrap_err(), AttemptFailure::Empty);
        let (_, thinking) = judge(completion(Some("<think>"), None, 10));
        assert_eq!(thinking.unwrap_err(), AttemptFailure::Truncated);
        let (_, none) = judge(Completion::default());
        assert_eq!(none.unwrap_err(), AttemptFailure::Empty);
        let refused = Completion {
            refusal: Some("no".into()),
            ..completion(Some("{\"a\": 1}"), Some("stop"), 1)
        };
        assert_eq!(
            judge(refused).1.unwrap_err(),
            AttemptFailure::Refusal("no".into())
        );
    }

    #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
    struct Line {
        qty: u32,
    }

    #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
    struct Invoice {
        lines: Vec<Line>,
    }

    impl Extract for Invoice {
        type Partial = ();

        fn partial_from(_: &crate::stream::Node) -> Option<()> {
            None
        }
    }

    #[test]
    fn deserialization_errors_point_at_the_offending_value() {
        // A schema that lets the value through, so that deserializing is what fails: the
        // plain read fails, and the read again with paths names where.
        let open = Schema::new("Invoice", json!({"type": "object"}), None);
        let value = json!({"lines": [{"qty": 1}, {"qty": "x"}]});
        let Err(AttemptFailure::Violations(violations)) = finish::<Invoice>(&open, &value) else {
            panic!("a string qty is not an Invoice");
        };
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].path, "/lines/1/qty");
        assert!(
            violations[0].message.contains("invalid type"),
            "{violations:?}"
        );
        // A value that is the type reads plainly.
        let good = json!({"lines": [{"qty": 2}]});
        assert_eq!(finish::<Invoice>(&open, &good).unwrap().lines[0].qty, 2);
    }
}
