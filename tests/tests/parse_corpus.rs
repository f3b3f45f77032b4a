//! Conformance against two test suites written outside the project.
//!
//! `json_repair`'s (schemaless): every case in
//! `tests/data/parse/json_repair_cases.jsonl` goes through `parse_json` and the
//! parsed value is compared with the expected one.
//!
//! `expected: null` (and the three top-level `""` cases, `json_repair`'s way of
//! saying it found nothing either) means nothing is recoverable: an `Err` is
//! the matching outcome. Cases where factum deliberately answers differently
//! are listed in `known_differences.md` with the reason; this test keeps that
//! list exact in both directions.
//!
//! BAML's jsonish parser's (schema-aligned): every case in
//! `tests/data/parse/baml_jsonish.jsonl` goes through `parse` with its schema at
//! `Lenient` and at `Standard`, and is right, refused (an error where a value is
//! expected, which the re-ask can fix) or silently wrong (a value other than the
//! expected one, or a value where an error is expected: the worst outcome). The
//! differences are listed in `baml_known_differences.md`, kept exact the same way.

use std::collections::BTreeSet;

use factum::parse::{Leniency, ParseError, parse, parse_json};
use serde_json::Value;

const CASES: &str = include_str!("../data/parse/json_repair_cases.jsonl");
const KNOWN: &str = include_str!("../data/parse/known_differences.md");

/// The `source` of every case listed in `known_differences.md` (lines of the
/// form ``- `file:line` — reason``).
fn known_differences() -> BTreeSet<String> {
    KNOWN
        .lines()
        .filter_map(|line| line.strip_prefix("- `"))
        .filter_map(|rest| rest.split_once('`'))
        .map(|(source, reason)| {
            assert!(
                reason.trim().len() > 3,
                "{source}: a known difference needs a reason"
            );
            source.to_owned()
        })
        .collect()
}

fn passes(input: &str, expected: &Value) -> (bool, String) {
    let nothing = expected.is_null() || expected == &Value::String(String::new());
    match parse_json(input) {
        Ok(parsed) if !nothing => (parsed.value == *expected, parsed.value.to_string()),
        Ok(parsed) => (false, parsed.value.to_string()),
        Err(e) => (
            nothing && matches!(e, ParseError::NoJson),
            format!("error: {e}"),
        ),
    }
}

/// A corpus case that did not parse to its expected value.
struct Failure {
    source: String,
    input: String,
    expected: String,
    got: String,
}

/// Runs every case; returns the number of cases, the failures, and the cases listed as
/// known differences that now pass.
fn run_corpus(known: &BTreeSet<String>) -> (usize, Vec<Failure>, Vec<String>) {
    let mut total = 0usize;
    let mut failing = Vec::new();
    let mut newly_passing = Vec::new();
    for line in CASES.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).expect("corpus line is JSON");
        let source = case["source"].as_str().expect("source").to_owned();
        let input = case["input"].as_str().expect("input");
        let expected = &case["expected"];
        total += 1;
        let (ok, got) = passes(input, expected);
        if !ok {
            failing.push(Failure {
                source,
                input: input.to_owned(),
                expected: expected.to_string(),
                got,
            });
        } else if known.contains(&source) {
            newly_passing.push(source);
        }
    }
    (total, failing, newly_passing)
}

#[test]
fn json_repair_corpus() {
    let known = known_differences();
    let (total, failing, newly_passing) = run_corpus(&known);
    let passed = total - failing.len();
    let rate = f64::from(u32::try_from(passed).unwrap_or(0))
        / f64::from(u32::try_from(total).unwrap_or(1));
    println!(
        "json_repair corpus: {passed}/{total} = {:.1}%",
        rate * 100.0
    );
    for f in &failing {
        println!(
            "  differs: {}\n    input:    {:?}\n    expected: {}\n    got:      {}",
            f.source, f.input, f.expected, f.got
        );
    }
    assert_eq!(total, 206, "the corpus has 206 cases");
    let unlisted: Vec<&String> = failing
        .iter()
        .map(|f| &f.source)
        .filter(|s| !known.contains(*s))
        .collect();
    assert!(
        unlisted.is_empty(),
        "failing cases missing from known_differences.md: {unlisted:?}"
    );
    assert!(
        newly_passing.is_empty(),
        "listed in known_differences.md but now passing: {newly_passing:?}"
    );
    assert!(rate >= 0.98, "pass rate {rate:.3} is below 0.98");
}

// --- BAML's jsonish deserializer tests ---

const BAML_CASES: &str = include_str!("../data/parse/baml_jsonish.jsonl");
const BAML_KNOWN: &str = include_str!("../data/parse/baml_known_differences.md");

/// How one case came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// The expected value, or an error where one is expected.
    Right,
    /// An error where a value is expected: the re-ask can fix it.
    Refused,
    /// A value other than the expected one, or a value where an error is expected.
    SilentlyWrong,
}

/// Values equal with numbers compared numerically (`1 == 1.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn baml_outcome(case: &Value, leniency: Leniency) -> (Outcome, String) {
    let input = case["input"].as_str().expect("input");
    let expect_error = case["expect_error"].as_bool().expect("expect_error");
    match parse(input, &case["schema"], leniency) {
        Ok(parsed) if !expect_error && same(&parsed.value, &case["expected"]) => {
            (Outcome::Right, parsed.value.to_string())
        }
        Ok(parsed) => {
            let kinds: Vec<String> = parsed.repairs.iter().map(|r| r.kind.to_string()).collect();
            let got = format!("{} with [{}]", parsed.value, kinds.join(", "));
            (Outcome::SilentlyWrong, got)
        }
        Err(_) if expect_error => (Outcome::Right, "error".to_owned()),
        Err(e) => (Outcome::Refused, format!("error: {e}")),
    }
}

/// The cases listed in `baml_known_differences.md`, each with the levels it is listed for:
/// ``- `source` — reason`` for both, ``- `source` (Standard) — reason`` for one.
fn baml_known(leniency: Leniency) -> BTreeSet<String> {
    let level = format!("({leniency:?})");
    BAML_KNOWN
        .lines()
        .filter_map(|line| line.strip_prefix("- `"))
        .filter_map(|rest| rest.split_once('`'))
        .filter(|(_, rest)| {
            let rest = rest.trim_start();
            !rest.starts_with('(') || rest.starts_with(&level)
        })
        .map(|(source, reason)| {
            assert!(
                reason.trim().len() > 12,
                "{source}: a known difference needs a reason"
            );
            source.to_owned()
        })
        .collect()
}

/// Runs the corpus at one level: prints every difference, checks the known list
/// both ways, and returns the right and silently wrong counts.
fn baml_run(leniency: Leniency) -> (usize, usize, usize) {
    let known = baml_known(leniency);
    let (mut total, mut right, mut wrong) = (0, 0, 0);
    let mut unlisted = Vec::new();
    let mut newly_passing = Vec::new();
    for line in BAML_CASES.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).expect("corpus line is JSON");
        let source = case["source"].as_str().expect("source").to_owned();
        total += 1;
        let (outcome, got) = baml_outcome(&case, leniency);
        match outcome {
            Outcome::Right => {
                right += 1;
                if known.contains(&source) {
                    newly_passing.push(source);
                }
                continue;
            }
            Outcome::SilentlyWrong => wrong += 1,
            Outcome::Refused => {}
        }
        println!(
            "  {leniency:?} {outcome:?}: {source}\n    input:    {:?}\n    expected: {}\n    got:      {got}",
            case["input"].as_str().unwrap_or_default(),
            case["expected"]
        );
        if !known.contains(&source) {
            unlisted.push(source);
        }
    }
    println!("baml corpus at {leniency:?}: {right}/{total} right, {wrong} silently wrong");
    assert!(
        unlisted.is_empty(),
        "{leniency:?}: failing cases missing from baml_known_differences.md: {unlisted:?}"
    );
    assert!(
        newly_passing.is_empty(),
        "{leniency:?}: listed in baml_known_differences.md but now passing: {newly_passing:?}"
    );
    (total, right, wrong)
}

fn percent(part: usize, total: usize) -> f64 {
    f64::from(u32::try_from(part).unwrap_or(0)) * 100.0
        / f64::from(u32::try_from(total).unwrap_or(1))
}

#[test]
fn baml_corpus_lenient() {
    let (total, right, wrong) = baml_run(Leniency::Lenient);
    assert_eq!(total, 159, "the corpus has 159 cases");
    assert!(
        percent(right, total) >= 97.0,
        "{right}/{total} right at Lenient, below 97%"
    );
    assert!(wrong <= 2, "{wrong} silently wrong at Lenient, above 2");
}

#[test]
fn baml_corpus_standard() {
    let (total, right, wrong) = baml_run(Leniency::Standard);
    assert!(
        percent(right, total) >= 90.0,
        "{right}/{total} right at Standard, below 90%"
    );
    assert!(wrong <= 2, "{wrong} silently wrong at Standard, above 2");
}
