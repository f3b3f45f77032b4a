//! The extraction pipeline runs the lenient, schema-aligned parser before any re-ask:
//! output a small model writes (prose, fences, single quotes, `"30"`, wrong-case enums)
//! succeeds on the first call, and the attempt says which repairs were applied.

use factum::parse::RepairKind;
use factum::{AttemptFailure, Extract, Leniency, Provider};
use factum_tests::http::{Person, john};
use factum_tests::scripted::{client, replies};
use serde::Deserialize;

const SLOPPY: &str = "Sure! Here is the person:\n```json\n{'name': 'John Doe', 'age': \"30\", email: 'john@example.com',}\n```\nLet me know if you need more.";

#[tokio::test]
async fn sloppy_output_is_repaired_without_a_reask() {
    // A second reply the model would give: it must stay unused.
    let script = replies([(SLOPPY, 20, 30); 2]);
    let out = client(&script, Provider::LlamaCpp)
        .extraction::<Person>("John Doe, john@example.com, 30")
        .send()
        .await
        .unwrap();
    assert_eq!(out.value, john());
    assert_eq!(out.attempts.len(), 1, "no re-ask was needed");
    assert_eq!(script.requests().len(), 1);
    let kinds: Vec<RepairKind> = out.attempts[0].repairs.iter().map(|r| r.kind).collect();
    for expected in [
        RepairKind::FencedBlock,
        RepairKind::SingleQuotes,
        RepairKind::UnquotedKey,
        RepairKind::TrailingComma,
        RepairKind::NumberFromString,
    ] {
        assert!(
            kinds.contains(&expected),
            "{expected:?} missing from {kinds:?}"
        );
    }
    let coercion = out.attempts[0]
        .repairs
        .iter()
        .find(|r| r.kind == RepairKind::NumberFromString)
        .unwrap();
    assert_eq!(coercion.path, "/age");
}

#[tokio::test]
async fn strict_leniency_refuses_the_same_output_and_reasks() {
    let script = replies([(SLOPPY, 20, 30); 2]);
    let error = client(&script, Provider::LlamaCpp)
        .extraction::<Person>("John Doe, john@example.com, 30")
        .leniency(Leniency::Exact)
        .max_retries(1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.attempts().len(), 2);
    assert!(
        error
            .attempts()
            .iter()
            .all(|a| a.failure.is_some() && a.raw == SLOPPY)
    );
    script.assert_done();
}

/// How urgent a ticket is.
#[derive(Debug, PartialEq, Deserialize, Extract)]
#[serde(rename_all = "snake_case")]
enum Urgency {
    Low,
    InProgress,
    High,
}

#[tokio::test]
async fn enum_values_are_matched_through_case_and_punctuation() {
    let script = replies([("The answer is \"In-Progress\".", 20, 30)]);
    let out = client(&script, Provider::LlamaCpp)
        .extraction::<Urgency>("ticket text")
        .send()
        .await
        .unwrap();
    assert_eq!(out.value, Urgency::InProgress);
    assert!(
        out.attempts[0]
            .repairs
            .iter()
            .any(|r| r.kind == RepairKind::EnumFuzzyMatch)
    );
    script.assert_done();
}

#[tokio::test]
async fn a_value_that_would_need_guessing_goes_to_the_reask_with_its_path() {
    let script = replies([
        (
            r#"{"name": "John Doe", "age": "thirty", "email": null}"#,
            20,
            30,
        ),
        (
            r#"{"name": "John Doe", "age": 30, "email": "john@example.com"}"#,
            20,
            30,
        ),
    ]);
    let out = client(&script, Provider::LlamaCpp)
        .extraction::<Person>("John, 30")
        .send()
        .await
        .unwrap();
    assert_eq!(out.attempts.len(), 2);
    let Some(AttemptFailure::Violations(violations)) = &out.attempts[0].failure else {
        panic!("{:?}", out.attempts[0].failure);
    };
    assert_eq!(violations[0].path, "/age");
    script.assert_done();
}
