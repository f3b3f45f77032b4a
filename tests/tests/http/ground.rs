//! Grounding over HTTP: spans on every extraction, a grounded field re-asked when the
//! model invents its value, and long documents chunked and merged.

use factum::{AttemptFailure, ErrorKind, Extract, Match, Provider};
use factum_tests::http::{bodies, chat, client, message_texts, respond, respond_in_order};
use serde::Deserialize;
use wiremock::MockServer;

/// A quotation, its speaker copied from the text.
#[derive(Debug, Deserialize, Extract, PartialEq)]
struct Quote {
    /// Who said it, as the text names them.
    #[extract(grounded)]
    speaker: String,
    /// The topic, in the model's own words.
    topic: String,
}

const SPEECH: &str =
    "At the dinner, Mrs. Ada Lovelace rose and said that the engine might compose music.";

#[tokio::test]
async fn every_leaf_of_a_reply_is_located_in_the_text() {
    let server = MockServer::start().await;
    respond(
        &server,
        chat(r#"{"speaker":"ada lovelace","topic":"music"}"#, 10, 5),
    )
    .await;
    let out = client(&server, Provider::LlamaCpp)
        .extraction::<Quote>(SPEECH)
        .send()
        .await
        .unwrap();
    assert_eq!(out.spans.len(), 2, "{:?}", out.spans);
    assert_eq!(out.spans[0].path, "/speaker");
    assert_eq!(out.spans[0].quality, Match::Normalized);
    assert_eq!(out.spans[0].text(SPEECH), Some("Ada Lovelace"));
    assert_eq!(out.spans[1].path, "/topic");
    assert_eq!(out.spans[1].text(SPEECH), Some("music"));
    // Grounding only describes: the value is what the model said.
    assert_eq!(out.value.speaker, "ada lovelace");
}

#[tokio::test]
async fn an_invented_grounded_value_is_reasked_and_the_prompt_says_so() {
    let server = MockServer::start().await;
    respond_in_order(
        &server,
        [
            chat(r#"{"speaker":"Charles Babbage","topic":"music"}"#, 10, 5),
            chat(r#"{"speaker":"Mrs. Ada Lovelace","topic":"music"}"#, 10, 5),
        ],
    )
    .await;
    let out = client(&server, Provider::LlamaCpp)
        .extraction::<Quote>(SPEECH)
        .send()
        .await
        .unwrap();
    assert_eq!(out.value.speaker, "Mrs. Ada Lovelace");
    assert_eq!(out.attempts.len(), 2);
    let Some(AttemptFailure::Violations(violations)) = &out.attempts[0].failure else {
        panic!("{:?}", out.attempts[0].failure)
    };
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].path, "/speaker");
    assert!(
        violations[0]
            .message
            .contains("\"Charles Babbage\" is not in the text")
    );
    assert_eq!(out.spans[0].quality, Match::Exact);

    let sent = bodies(&server).await;
    let first = message_texts(&sent[0]);
    assert!(
        first[0].1.contains("copied exactly as written in the text"),
        "the prompt says it: {}",
        first[0].1
    );
    let schema = sent[0]["response_format"]["json_schema"]["schema"].to_string();
    assert!(
        !schema.contains("x-grounded"),
        "servers never see our keyword: {schema}"
    );
    let second = message_texts(&sent[1]);
    let feedback = &second.last().unwrap().1;
    assert!(feedback.contains("/speaker"), "{feedback}");
    assert!(
        feedback.contains("copy the value exactly as it is written in the text"),
        "{feedback}"
    );
}

#[tokio::test]
async fn a_grounded_value_never_found_ends_the_extraction_with_every_attempt() {
    let server = MockServer::start().await;
    respond(
        &server,
        chat(r#"{"speaker":"Charles Babbage","topic":"music"}"#, 10, 5),
    )
    .await;
    let error = client(&server, Provider::LlamaCpp)
        .extraction::<Quote>(SPEECH)
        .max_retries(1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Exhausted, "{error:?}");
    assert_eq!(error.attempts().len(), 2);
    assert!(
        error
            .attempts()
            .iter()
            .all(|a| a.raw.contains("Charles Babbage"))
    );
}
