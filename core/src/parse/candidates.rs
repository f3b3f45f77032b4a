//! Candidate values for [`parse`](super::parse): every place in the text a value
//! may sit (the whole text, fences, balanced spans in prose, the tolerant
//! parser's top-level values, all of them together).

use serde_json::Value;

use super::locate::{self, MAX_CANDIDATES};
use super::repair::push_repair;
use super::repair::{Repair, RepairKind};
use super::terms::{Leniency, ParseError, blank_trimmed_json, exact_json};
use super::tolerant;
use super::tolerant::Reading;

/// Candidate values for [`parse`], most trusted first, each with the repairs
/// that produced it.
pub(super) fn candidates(
    text: &str,
    leniency: Leniency,
) -> Result<Vec<(Value, Vec<Repair>)>, ParseError> {
    let (text, think) = locate::strip_think(text);
    let mut out: Vec<(Value, Vec<Repair>)> = Vec::new();
    if let Some(value) = exact_json(&text) {
        out.push((value, think));
        return Ok(out);
    }
    if let Some((value, blank)) = blank_trimmed_json(&text) {
        let mut repairs = think;
        repairs.push(blank);
        out.push((value, repairs));
        return Ok(out);
    }
    push_values(&mut out, fenced(&text, leniency)?, |reps| {
        let fence = Repair::new(RepairKind::FencedBlock, "", "read from a fenced code block");
        found_by(&think, fence, reps)
    });
    push_prose_spans(&mut out, &text, &think);
    if leniency != Leniency::Exact {
        let values = tolerant::parse_document(&text, Reading::ForSchema, MAX_CANDIDATES)?;
        push_values(&mut out, values, |reps| {
            let mut all = think.clone();
            all.extend(reps);
            all
        });
    }
    Ok(out)
}

/// The values in the text's fences: plain JSON, or (above [`Leniency::Exact`])
/// what the tolerant parser reads there.
fn fenced(text: &str, leniency: Leniency) -> Result<Vec<(Value, Vec<Repair>)>, ParseError> {
    let mut fenced = Vec::new();
    for fence in locate::fences(text, MAX_CANDIDATES) {
        if let Some(value) = exact_json(fence) {
            fenced.push((value, Vec::new()));
        } else if leniency != Leniency::Exact {
            fenced.extend(parse_fragment(fence, Reading::ForSchema)?);
        }
    }
    Ok(fenced)
}

/// Each balanced span in prose that is plain JSON, as a candidate of its own.
fn push_prose_spans(out: &mut Vec<(Value, Vec<Repair>)>, text: &str, think: &[Repair]) {
    let spans = locate::balanced_spans(text, MAX_CANDIDATES);
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
            out.push((value, found_by(think, prose, reps)));
        }
    }
}

/// The repairs of a candidate: the removed `<think>` blocks, how it was found,
/// then its own.
fn found_by(think: &[Repair], how: Repair, repairs: Vec<Repair>) -> Vec<Repair> {
    let mut all = think.to_vec();
    all.push(how);
    all.extend(repairs);
    all
}

/// Adds each top-level value as a candidate, and all of them together when
/// there are several (a model listing objects one after another often means
/// an array). `decorate` adds the repairs that say where the values were found.
fn push_values(
    out: &mut Vec<(Value, Vec<Repair>)>,
    values: Vec<(Value, Vec<Repair>)>,
    decorate: impl Fn(Vec<Repair>) -> Vec<Repair>,
) {
    let others = values.len().saturating_sub(1);
    if others > 0
        && let Some((value, reps)) = combine(values.clone())
    {
        out.push((value, decorate(reps)));
    }
    for (value, mut reps) in values {
        if others > 0 {
            reps.push(ignored_others(others));
        }
        out.push((value, decorate(reps)));
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

/// The [`parse_json`](super::parse_json) stage for fences: every value in every
/// fence, combined; `None` when the text has no fence or the fences hold nothing.
pub(super) fn from_fences(text: &str) -> Result<Option<(Value, Vec<Repair>)>, ParseError> {
    let mut found = Vec::new();
    for fence in locate::fences(text, MAX_CANDIDATES) {
        for (value, mut reps) in parse_fragment(fence, Reading::Schemaless)? {
            reps.insert(
                0,
                Repair::new(RepairKind::FencedBlock, "", "read from a fenced code block"),
            );
            found.push((value, reps));
        }
    }
    Ok(combine(found))
}

/// Parses the text of one fence or span: plain JSON, else the repairing parser.
fn parse_fragment(text: &str, reading: Reading) -> Result<Vec<(Value, Vec<Repair>)>, ParseError> {
    if let Some(value) = exact_json(text) {
        return Ok(vec![(value, Vec::new())]);
    }
    tolerant::parse_document(text, reading, MAX_CANDIDATES)
}

/// Merges several top-level values into one, the way a reader would.
///
/// Empty containers are dropped when anything else was found; an array
/// followed by an array of the same shape is taken as a corrected copy of it
/// (models streaming an answer twice); several values left become an array.
pub(super) fn combine(values: Vec<(Value, Vec<Repair>)>) -> Option<(Value, Vec<Repair>)> {
    let total = values.len();
    let mut kept = kept_values(values);
    if kept.len() <= 1 {
        let mut only = kept.pop()?;
        if total > 1 {
            let detail = format!(
                "dropped {} empty or superseded top-level value(s)",
                total - 1
            );
            push_repair(
                &mut only.1,
                Repair::new(RepairKind::DroppedJunk, "", detail),
            );
        }
        return Some(only);
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

/// The values [`combine`] keeps: empty containers go when anything else was found, and
/// an array followed by one of the same shape gives way to it.
fn kept_values(values: Vec<(Value, Vec<Repair>)>) -> Vec<(Value, Vec<Repair>)> {
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
    kept
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

/// The "balanced values in prose" stage of `parse_json`: used only when every
/// balanced span is plain JSON and the prose around them has no stray
/// brackets or quotes, so the spans are unambiguously the whole answer.
pub(crate) fn prose_values(text: &str) -> Option<(Value, Vec<Repair>)> {
    let spans = locate::balanced_spans(text, MAX_CANDIDATES + 1);
    if spans.is_empty() || spans.len() > MAX_CANDIDATES {
        return None;
    }
    let mut values = Vec::with_capacity(spans.len());
    let mut last = 0;
    let mut has_prose = false;
    for &(start, end) in &spans {
        let between = text.get(last..start)?;
        if between.contains(['{', '}', '[', ']', '"']) {
            return None;
        }
        has_prose |= !between.trim().is_empty();
        let value: Value = serde_json::from_str(text.get(start..end)?).ok()?;
        values.push((value, Vec::new()));
        last = end;
    }
    let tail = text.get(last..)?;
    if tail.contains(['{', '}', '[', ']', '"']) {
        return None;
    }
    has_prose |= !tail.trim().is_empty() || spans.len() > 1;
    let (value, mut repairs) = combine(values)?;
    if has_prose {
        repairs.insert(
            0,
            Repair::new(RepairKind::ExtractedFromProse, "", "found inside prose"),
        );
    }
    Some((value, repairs))
}
