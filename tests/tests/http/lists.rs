//! Lists that must not repeat (`#[extract(unique)]`), lists bounded by
//! `Extraction::<Vec<T>>::max_items`, and maps with integer keys: what is sent, what is
//! re-asked, and what `Leniency::Lenient` repairs instead (each drop recorded).

use std::collections::HashMap;

use factum::parse::RepairKind;
use factum::{AttemptFailure, Extract, Leniency, Mode, Provider, Violation};
use factum_tests::http::{Person, bodies, chat, client, message_texts, respond, respond_in_order};
use serde::Deserialize;
use serde_json::{Value, json};
use wiremock::MockServer;

/// A meeting and who came.
#[derive(Debug, PartialEq, Deserialize, Extract)]
struct Meeting {
    /// Everyone who attended, each once.
    #[extract(unique)]
    attendees: Vec<String>,
}

const TEXT: &str = "Ann, Bob and Cy met on Monday.";
const REPEATED: &str = r#"{"attendees": ["Ann", "Bob", "Cy", "Ann"]}"#;
const ONCE_EACH: &str = r#"{"attendees": ["Ann", "Bob", "Cy"]}"#;

fn violations(failure: Option<&AttemptFailure>) -> &[Violation] {
    match failure {
        Some(AttemptFailure::Violations(violations)) => violations,
        other => panic!("expected violations, got {other:?}"),
    }
}

fn sent_schema(body: &Value) -> &Value {
    &body["response_format"]["json_schema"]["schema"]
}

#[tokio::test]
async fn a_repeated_attendee_is_reasked_and_the_feedback_names_both_paths() {
    let server = MockServer::start().await;
    respond_in_order(&server, [chat(REPEATED, 20, 10), chat(ONCE_EACH, 20, 10)]).await;
    let out = client(&server, Provider::LlamaCpp)
        .extraction::<Meeting>(TEXT)
        .send()
        .await
        .unwrap();
    assert_eq!(out.value.attendees, ["Ann", "Bob", "Cy"]);
    assert_eq!(out.attempts.len(), 2);
    let found = violations(out.attempts[0].failure.as_ref());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].path, "/attendees/3");
    assert_eq!(
        found[0].message,
        "repeats /attendees/0; each item must appear once"
    );

    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 2);
    let messages = message_texts(&sent[1]);
    let feedback = &messages.last().unwrap().1;
    assert!(
        feedback.contains("/attendees/3") && feedback.contains("repeats /attendees/0"),
        "{feedback}"
    );
    // The system prompt says it before any reply.
    let system = &message_texts(&sent[0])[0].1;
    assert!(system.contains("unique"), "{system}");
}

#[tokio::test]
async fn at_lenient_a_repeat_is_dropped_and_the_drop_is_recorded() {
    let server = MockServer::start().await;
    respond(&server, chat(REPEATED, 20, 10)).await;
    let out = client(&server, Provider::LlamaCpp)
        .extraction::<Meeting>(TEXT)
        .leniency(Leniency::Lenient)
        .send()
        .await
        .unwrap();
    assert_eq!(out.value.attendees, ["Ann", "Bob", "Cy"]);
    assert_eq!(out.attempts.len(), 1, "no re-ask");
    let repairs = &out.attempts[0].repairs;
    assert_eq!(repairs.len(), 1, "{repairs:?}");
    assert_eq!(repairs[0].kind, RepairKind::DroppedRepeat);
    assert_eq!(repairs[0].path, "/attendees/3");
    assert!(
        repairs[0].detail.contains("/attendees/0"),
        "{}",
        repairs[0].detail
    );
}

#[tokio::test]
async fn unique_items_is_sent_where_the_dialect_takes_it_and_said_in_words_elsewhere() {
    let server = MockServer::start().await;
    respond(&server, chat(ONCE_EACH, 20, 10)).await;
    // Without `strict`, the source schema goes as it is.
    client(&server, Provider::OpenAi)
        .extraction::<Meeting>(TEXT)
        .mode(Mode::JsonSchema { strict: false })
        .send()
        .await
        .unwrap();
    // OpenAI strict mode and llama.cpp grammars do not take the keyword: it is dropped
    // and the description says it.
    for provider in [Provider::OpenAi, Provider::LlamaCpp] {
        client(&server, provider)
            .extraction::<Meeting>(TEXT)
            .send()
            .await
            .unwrap();
    }
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 3);
    let source = &sent_schema(&sent[0])["properties"]["attendees"];
    assert_eq!(source["uniqueItems"], true, "{source}");
    assert_eq!(sent[1]["response_format"]["json_schema"]["strict"], true);
    for body in &sent[1..] {
        let attendees = &sent_schema(body)["properties"]["attendees"];
        assert!(attendees.get("uniqueItems").is_none(), "{attendees}");
        let description = attendees["description"].as_str().unwrap();
        assert!(
            description.ends_with("Items must be unique."),
            "{description}"
        );
    }
}

/// Five people, where at most three are asked for.
fn people(names: &[&str]) -> String {
    let list: Vec<Value> = names
        .iter()
        .map(|name| json!({"name": name, "age": 30, "email": null}))
        .collect();
    json!({ "person_list": list }).to_string()
}

#[tokio::test]
async fn max_items_bounds_the_sent_list_and_a_longer_reply_is_reasked() {
    let server = MockServer::start().await;
    let five = people(&["Ann", "Bob", "Cy", "Dee", "Eve"]);
    let three = people(&["Ann", "Bob", "Cy"]);
    respond_in_order(&server, [chat(&five, 20, 10), chat(&three, 20, 10)]).await;
    let out = client(&server, Provider::LlamaCpp)
        .extraction::<Vec<Person>>("Ann, Bob, Cy, Dee and Eve, all 30.")
        .max_items(3)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = out.value.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Ann", "Bob", "Cy"]);
    assert_eq!(out.attempts.len(), 2);
    let found = violations(out.attempts[0].failure.as_ref());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].message.contains("more than 3 items"), "{found:?}");

    let sent = bodies(&server).await;
    for body in &sent {
        assert_eq!(
            sent_schema(body)["properties"]["person_list"]["maxItems"],
            3
        );
    }
    let messages = message_texts(&sent[1]);
    let feedback = &messages.last().unwrap().1;
    assert!(feedback.contains("more than 3 items"), "{feedback}");
    // The type's own schema is not changed by one call's bound.
    assert!(
        factum::schema::<Vec<Person>>()
            .json()
            .get("maxItems")
            .is_none()
    );
}

#[tokio::test]
async fn max_items_at_lenient_keeps_the_first_items_and_records_the_cut() {
    let server = MockServer::start().await;
    respond(
        &server,
        chat(&people(&["Ann", "Bob", "Cy", "Dee", "Eve"]), 20, 10),
    )
    .await;
    let out = client(&server, Provider::LlamaCpp)
        .extraction::<Vec<Person>>("Ann, Bob, Cy, Dee and Eve, all 30.")
        .max_items(2)
        .leniency(Leniency::Lenient)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = out.value.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Ann", "Bob"]);
    assert_eq!(out.attempts.len(), 1);
    let repairs = &out.attempts[0].repairs;
    let cut: Vec<_> = repairs
        .iter()
        .filter(|r| r.kind == RepairKind::DroppedPastMaxItems)
        .collect();
    assert_eq!(cut.len(), 1, "{repairs:?}");
    assert_eq!(cut[0].detail, "dropped 3 items past the first 2");
}

/// Points by round.
#[derive(Debug, Deserialize, Extract)]
struct Scores {
    scores: HashMap<u32, u32>,
}

#[tokio::test]
async fn integer_keys_are_read_from_their_text_and_a_key_that_is_no_number_is_reasked() {
    let server = MockServer::start().await;
    respond_in_order(
        &server,
        [
            chat(r#"{"scores": {"1": 5, "x": 7}}"#, 20, 10),
            chat(r#"{"scores": {"1": 5, "22": 7}}"#, 20, 10),
        ],
    )
    .await;
    let out = client(&server, Provider::LlamaCpp)
        .extraction::<Scores>("Round 1: 5 points, round 22: 7 points.")
        .send()
        .await
        .unwrap();
    assert_eq!(out.value.scores, HashMap::from([(1, 5), (22, 7)]));
    assert_eq!(out.attempts.len(), 2);
    let found = violations(out.attempts[0].failure.as_ref());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].path, "/scores/x");
    let sent = bodies(&server).await;
    let messages = message_texts(&sent[1]);
    let feedback = &messages.last().unwrap().1;
    assert!(feedback.contains("/scores/x"), "{feedback}");
    // llama.cpp grammars take the values' schema; the key pattern is checked here.
    let scores = &sent_schema(&sent[0])["properties"]["scores"];
    assert_eq!(
        scores["additionalProperties"]["type"], "integer",
        "{scores}"
    );
    assert!(scores.get("propertyNames").is_none(), "{scores}");
}

#[test]
fn integer_keys_are_refused_under_openai_strict_like_any_map() {
    let error = factum::schema::<Scores>()
        .for_dialect(factum::Dialect::OpenAiStrict)
        .unwrap_err();
    assert!(error.to_string().contains("/properties/scores"), "{error}");
}
