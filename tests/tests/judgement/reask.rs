//! The re-ask loop: feedback content, bounded history, usage and the token budget.

use factum::testing::Script;
use factum::{AttemptFailure, ErrorKind, Extract, Provider, Usage};
use factum_tests::http::{JOHN_JSON, Person, john, message_texts};
use factum_tests::scripted::{client, replies};
use serde::Deserialize;
use serde_json::Value;

const TOO_OLD: &str = r#"{"name":"John Doe","age":200,"email":"john@example.com"}"#;
const INPUT: &str = "John Doe, john@example.com, 30 years old";

#[tokio::test]
async fn range_violation_is_fixed_on_the_reask() {
    let script = replies([(TOO_OLD, 100, 10), (JOHN_JSON, 130, 10)]);
    let out = client(&script, Provider::Dria)
        .extraction::<Person>(INPUT)
        .send()
        .await
        .unwrap();
    assert_eq!(out.value, john());
    assert_eq!(out.attempts.len(), 2);
    let Some(AttemptFailure::Violations(violations)) = &out.attempts[0].failure else {
        panic!("{:?}", out.attempts[0].failure)
    };
    assert_eq!(violations[0].path, "/age");
    assert_eq!(out.attempts[0].raw, TOO_OLD);
    assert_eq!(out.usage, Usage::new(230, 20));

    let sent = script.requests();
    assert_eq!(sent.len(), 2);
    let messages = message_texts(&sent[1]);
    let roles: Vec<&str> = messages.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"]);
    assert_eq!(messages[2].1, TOO_OLD, "the failed output is echoed");
    let feedback = &messages[3].1;
    assert!(feedback.contains("/age"), "{feedback}");
    assert!(feedback.contains("150"), "{feedback}");
    assert!(!feedback.contains("http"), "no URLs: {feedback}");
    assert!(!feedback.contains(INPUT), "the input is not echoed again");
    assert_eq!(
        sent[1]
            .to_string()
            .matches("john@example.com, 30 years old")
            .count(),
        1
    );
}

#[tokio::test]
async fn every_reask_changes_the_prompt_and_history_stays_bounded() {
    let wrong_type = r#"{"name":"John Doe","age":"thirty"}"#;
    let script = replies([(TOO_OLD, 10, 10), (wrong_type, 10, 10), (TOO_OLD, 10, 10)]);
    let error = client(&script, Provider::Dria)
        .extraction::<Person>(INPUT)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Exhausted, "{error:?}");
    let (attempts, usage) = (error.attempts(), &error.usage());
    assert_eq!(attempts.len(), 3);
    assert_eq!(*usage, Usage::new(30, 30));
    assert_eq!(error.usage(), *usage);
    assert_eq!(error.attempts().len(), 3);
    let raws: Vec<&str> = attempts.iter().map(|a| a.raw.as_str()).collect();
    assert_eq!(raws, [TOO_OLD, wrong_type, TOO_OLD]);
    assert!(
        attempts
            .iter()
            .all(|a| matches!(a.failure, Some(AttemptFailure::Violations(_))))
    );
    assert_prompts_change_and_history_is_bounded(&script.requests(), wrong_type);
}

#[tokio::test]
async fn a_reply_repeated_word_for_word_is_reasked_without_its_echo() {
    let script = replies([(TOO_OLD, 10, 10), (TOO_OLD, 10, 10), (JOHN_JSON, 10, 10)]);
    let out = client(&script, Provider::Dria)
        .extraction::<Person>(INPUT)
        .send()
        .await
        .unwrap();
    assert_eq!((out.value, out.attempts.len()), (john(), 3));
    let sent = script.requests();
    let second = message_texts(&sent[1]);
    assert_eq!(second[2], ("assistant".to_owned(), TOO_OLD.to_owned()));
    // The echo led the model to copy its reply: the third request leaves it out.
    let third = message_texts(&sent[2]);
    let roles: Vec<&str> = third.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(roles, ["system", "user", "user"]);
    let feedback = &third[2].1;
    assert!(
        feedback.starts_with("Attempt 2 was rejected: it repeated attempt 1 word for word."),
        "{feedback}"
    );
    assert!(feedback.contains("at /age: 200 is greater than the maximum of 150"));
    script.assert_done();
}

#[tokio::test]
async fn a_reply_cut_while_looping_is_reasked_with_the_same_room() {
    let looping = format!(
        r#"{{"name":"John Doe","age":30,"email":"{}"#,
        "john_".repeat(100)
    );
    let script = Script::new()
        .truncated(looping)
        .reply_with_usage(JOHN_JSON, Usage::new(10, 10));
    let out = client(&script, Provider::Dria)
        .extraction::<Person>(INPUT)
        .max_tokens(64)
        .send()
        .await
        .unwrap();
    assert_eq!(out.attempts[0].failure, Some(AttemptFailure::Truncated));
    let sent = script.requests();
    assert_eq!(
        (
            sent[0]["max_tokens"].as_u64(),
            sent[1]["max_tokens"].as_u64()
        ),
        (Some(64), Some(64))
    );
    let second = message_texts(&sent[1]);
    assert_eq!(second.len(), 3, "no echo of the loop: {second:?}");
    assert!(
        second[2].1.contains(r#"it kept repeating "john_""#),
        "{:?}",
        second[2]
    );
    script.assert_done();
}

/// The three requests of an extraction whose second reply was `wrong_type`: no prompt
/// repeats the one before it, and the third carries only the latest failure.
fn assert_prompts_change_and_history_is_bounded(sent: &[Value], wrong_type: &str) {
    assert_eq!(sent.len(), 3);
    // Dria samples with a fixed seed: identical requests would repeat the same output.
    assert_ne!(sent[0]["messages"], sent[1]["messages"]);
    assert_ne!(sent[1]["messages"], sent[2]["messages"]);
    let third = message_texts(&sent[2]);
    assert_eq!(third.len(), 4, "only the last failure is kept: {third:?}");
    assert_eq!(third[2].1, wrong_type);
    assert!(third[3].1.contains("/age"));
    assert!(third[3].1.contains("Attempt 2"));
}

#[tokio::test]
async fn max_retries_bounds_the_attempts() {
    // One reply more than the attempts allowed: the second must stay unused.
    let script = replies([(TOO_OLD, 10, 10); 2]);
    let error = client(&script, Provider::Dria)
        .extraction::<Person>(INPUT)
        .max_retries(0)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.attempts().len(), 1);
    assert_eq!(script.requests().len(), 1);
}

#[tokio::test]
async fn token_budget_stops_reasking() {
    // Replies for every attempt `max_retries(5)` allows: the budget, not the script, ends it.
    let script = replies([(TOO_OLD, 40, 10); 6]);
    let error = client(&script, Provider::Dria)
        .extraction::<Person>(INPUT)
        .max_retries(5)
        .token_budget(90)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::TokenBudget, "{error:?}");
    let (attempts, usage) = (error.attempts(), error.usage());
    assert_eq!(error.token_budget(), Some(90));
    assert_eq!(attempts.len(), 2, "50 + 50 tokens spend the budget of 90");
    assert_eq!(usage.total_tokens, 100);
    assert_eq!(script.requests().len(), 2);
}

#[allow(
    clippy::ptr_arg,
    reason = "field validators take a reference to the field's type"
)]
fn not_placeholder(name: &String) -> Result<(), String> {
    if name.eq_ignore_ascii_case("unknown") {
        Err("use the name the text gives".into())
    } else {
        Ok(())
    }
}

/// A contact with a validated name.
#[derive(Debug, Deserialize, Extract)]
struct Contact {
    /// The name.
    #[extract(validate = not_placeholder)]
    name: String,
}

#[tokio::test]
async fn user_validators_run_after_the_schema_and_are_reasked() {
    let script = replies([
        (r#"{"name":"unknown"}"#, 10, 10),
        (r#"{"name":"Ada"}"#, 10, 10),
    ]);
    let out = client(&script, Provider::Dria)
        .extraction::<Contact>("Ada wrote this")
        .send()
        .await
        .unwrap();
    assert_eq!(out.value.name, "Ada");
    let Some(AttemptFailure::Violations(violations)) = &out.attempts[0].failure else {
        panic!()
    };
    assert_eq!(violations[0].path, "/name");
    let feedback = &message_texts(&script.requests()[1])[3].1;
    assert!(
        feedback.contains("at /name: use the name the text gives"),
        "{feedback}"
    );
    script.assert_done();
}

/// A re-ask is sampled differently: at least at the re-ask temperature (0.4 by default),
/// with a new seed where the server takes one (not Dria, which gets its documented fields
/// only). Each attempt records the sampling it used; `None` keeps the call's own. The
/// seed is the pipeline's choice, in the body it builds: the script sees the body HTTP
/// would send.
#[tokio::test]
async fn a_reask_changes_the_temperature_and_the_seed_and_the_attempt_records_them() {
    for (provider, seeded) in [(Provider::LlamaCpp, true), (Provider::Dria, false)] {
        let script = replies([(TOO_OLD, 10, 10), (JOHN_JSON, 10, 10)]);
        let out = client(&script, provider)
            .extraction::<Person>(INPUT)
            .temperature(0.0)
            .send()
            .await
            .unwrap();
        let sent = script.requests();
        assert_eq!(
            sent[0]["temperature"], 0.0,
            "{provider}: the first as asked"
        );
        assert!(sent[0].get("seed").is_none(), "{provider}");
        assert_eq!(sent[1]["temperature"].as_f64(), Some(0.4), "{provider}");
        assert_eq!(sent[1]["seed"].is_u64(), seeded, "{provider}: {}", sent[1]);
        assert_eq!(
            (out.attempts[0].temperature, out.attempts[0].seed),
            (0.0, None)
        );
        assert!((out.attempts[1].temperature - 0.4).abs() < f32::EPSILON);
        assert_eq!(out.attempts[1].seed, sent[1]["seed"].as_u64(), "{provider}");
    }
    let script = replies([(TOO_OLD, 10, 10), (JOHN_JSON, 10, 10)]);
    client(&script, Provider::LlamaCpp)
        .extraction::<Person>(INPUT)
        .reask_temperature(None)
        .send()
        .await
        .unwrap();
    let sent = script.requests();
    assert_eq!(
        sent[1]["temperature"], 0.0,
        "None keeps the call's sampling"
    );
    assert!(sent[1].get("seed").is_none());
}
