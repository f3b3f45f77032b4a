//! Conformance against `json_repair`'s test suite: every case in
//! `tests/data/parse/json_repair_cases.jsonl` goes through `parse_json` and the
//! parsed value is compared with the expected one.
//!
//! `expected: null` (and the three top-level `""` cases, `json_repair`'s way of
//! saying it found nothing either) means nothing is recoverable: an `Err` is
//! the matching outcome. Cases where factum deliberately answers differently
//! are listed in `known_differences.md` with the reason; this test keeps that
//! list exact in both directions.

use std::collections::BTreeSet;

use factum::parse::{ParseError, parse_json};
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
    assert!(rate >= 0.95, "pass rate {rate:.3} is below 0.95");
}
