//! Grounding over HTTP: spans on every extraction, a grounded field re-asked when the
//! model invents its value, and long documents chunked and merged.

use factum::{AttemptFailure, ErrorKind, Extract, Match, Provider};
use factum_tests::http::{bodies, chat, client, message_texts, respond, respond_in_order};
use std::fmt::Write as _;

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

/// A loopback server that answers every chat request with `content`.
async fn replying(content: &str) -> MockServer {
    let server = MockServer::start().await;
    respond(&server, chat(content, 10, 5)).await;
    server
}

#[tokio::test]
async fn every_leaf_of_a_reply_is_located_in_the_text() {
    let server = replying(r#"{"speaker":"ada lovelace","topic":"music"}"#).await;
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
    prompt_and_feedback_say_copy_it(&server).await;
}

/// The first prompt says the field is quoted, the schema sent has no `x-grounded`, and the
/// re-ask says to copy the value.
async fn prompt_and_feedback_say_copy_it(server: &MockServer) {
    let sent = bodies(server).await;
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
    let server = replying(r#"{"speaker":"Charles Babbage","topic":"music"}"#).await;
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

/// One person of the roster.
#[derive(Debug, Deserialize, Extract, PartialEq, Clone)]
pub(crate) struct Member {
    /// Full name.
    pub(crate) name: String,
    /// Age in years.
    pub(crate) age: u32,
}

/// Everyone in the roster, in order: (name, age).
pub(crate) const ROSTER: [(&str, u32); 8] = [
    ("Ada King", 36),
    ("Bob Stone", 41),
    ("Cy Young", 29),
    ("Di Prince", 50),
    ("Ed Norton", 36),
    ("Flo Rida", 33),
    ("Gus Grant", 61),
    ("Hal Jordan", 44),
];

/// A roster of eight sentences, a paragraph break in the middle.
pub(crate) fn roster() -> String {
    let mut text = String::new();
    for (i, (name, age)) in ROSTER.iter().enumerate() {
        let _ = write!(text, "{name} is {age} years old. ");
        if i == 3 {
            text.push_str("\n\n");
        }
    }
    text
}

/// A model stand-in behind the loopback server: it lists every roster person whose whole
/// sentence is in the chunk it is sent, and fails (prose, no JSON) on chunks naming
/// `fail_on`.
struct Reader {
    fail_on: Option<&'static str>,
}

impl wiremock::Respond for Reader {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        let user = message_texts(&body)
            .into_iter()
            .find(|(role, _)| role == "user")
            .map(|(_, text)| text)
            .unwrap_or_default();
        if self.fail_on.is_some_and(|name| user.contains(name)) {
            return wiremock::ResponseTemplate::new(200).set_body_json(chat(
                "I could not read this part.",
                10,
                5,
            ));
        }
        let people: Vec<serde_json::Value> = ROSTER
            .iter()
            .filter(|(name, age)| user.contains(&format!("{name} is {age} years old.")))
            .map(|(name, age)| serde_json::json!({"name": name, "age": age}))
            .collect();
        // The list goes in the envelope the schema asks for.
        let envelope = body["response_format"]["json_schema"]["schema"]["properties"]
            .as_object()
            .and_then(|p| p.keys().next().cloned())
            .expect("a list is asked for in an envelope");
        let content = serde_json::json!({ envelope: people }).to_string();
        wiremock::ResponseTemplate::new(200).set_body_json(chat(&content, 10, 5))
    }
}

pub(crate) async fn roster_server(fail_on: Option<&'static str>) -> MockServer {
    let server = MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(Reader { fail_on })
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_long_document_is_chunked_and_merged_with_items_on_borders_found_once() {
    let server = roster_server(None).await;
    let text = roster();
    let chunking = factum::Chunking::chars(80).overlap(30);
    let chunks = chunking.split(&text);
    assert!(chunks.len() >= 4, "{chunks:?}");
    let out = client(&server, Provider::LlamaCpp)
        .extraction::<Vec<Member>>(text.clone())
        .chunked(chunking)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = out.value.iter().map(|m| m.name.as_str()).collect();
    let expected: Vec<&str> = ROSTER.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, expected, "each person once, in document order");
    // Some people were in two chunks: the overlap repeated them.
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), chunks.len());
    assert_eq!(out.attempts.len(), chunks.len());
    assert_eq!(out.usage.prompt_tokens, 10 * chunks.len() as u64);
    let seen: usize = sent
        .iter()
        .map(|b| {
            let user = &message_texts(b)[1].1;
            ROSTER.iter().filter(|(n, _)| user.contains(n)).count()
        })
        .sum();
    assert!(
        seen > ROSTER.len(),
        "the overlap repeats some people: {seen}"
    );
    roster_spans_point_into_the_whole_text(&out, &text);
}

/// Every span points into the whole text, at the value.
fn roster_spans_point_into_the_whole_text(out: &factum::Extracted<Vec<Member>>, text: &str) {
    assert_eq!(out.spans.len(), 2 * ROSTER.len());
    for (i, (name, age)) in ROSTER.iter().enumerate() {
        let name_span = &out.spans[2 * i];
        let age_span = &out.spans[2 * i + 1];
        assert_eq!(name_span.path, format!("/{i}/name"));
        assert_eq!(name_span.text(text), Some(*name), "{name_span:?}");
        assert_eq!(age_span.text(text), Some(age.to_string().as_str()));
        // The age is the one in the person's own sentence (36 occurs twice).
        let sentence = text.find(&format!("{name} is {age}")).unwrap();
        assert_eq!(
            age_span.range.clone().unwrap().start,
            sentence + name.len() + 4
        );
    }
}

#[tokio::test]
async fn a_failed_chunk_fails_the_extraction_with_every_attempt_kept() {
    let server = roster_server(Some("Gus Grant")).await;
    let text = roster();
    let chunking = factum::Chunking::chars(80).overlap(30);
    let error = client(&server, Provider::LlamaCpp)
        .extraction::<Vec<Member>>(text.clone())
        .chunked(chunking)
        .max_retries(1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Exhausted, "{error:?}");
    let calls = bodies(&server).await.len();
    assert_eq!(
        error.attempts().len(),
        calls,
        "every attempt of every chunk is kept"
    );
    assert!(
        error
            .attempts()
            .iter()
            .any(|a| a.raw.contains("could not read"))
    );
    assert!(error.attempts().iter().any(|a| a.raw.contains("Ada King")));
}

#[tokio::test]
async fn partial_results_keep_the_chunks_that_worked_and_report_the_others() {
    let server = roster_server(Some("Gus Grant")).await;
    let text = roster();
    let chunking = factum::Chunking::chars(80).overlap(30);
    let out = client(&server, Provider::LlamaCpp)
        .extraction::<Vec<Member>>(text.clone())
        .chunked(chunking)
        .max_retries(0)
        .partial_ok()
        .send()
        .await
        .unwrap();
    assert!(!out.failed_chunks.is_empty());
    for failure in &out.failed_chunks {
        assert!(text[failure.range.clone()].contains("Gus Grant"));
        assert_eq!(failure.error.kind(), ErrorKind::Exhausted);
    }
    let names: Vec<&str> = out.value.iter().map(|m| m.name.as_str()).collect();
    assert!(
        names.contains(&"Ada King") && !names.contains(&"Gus Grant"),
        "{names:?}"
    );
}

#[tokio::test]
async fn passes_are_merged_for_recall_without_repeating_items() {
    let server = roster_server(None).await;
    let text = roster();
    let out = client(&server, Provider::LlamaCpp)
        .extraction::<Vec<Member>>(text.clone())
        .passes(3)
        .send()
        .await
        .unwrap();
    assert_eq!(bodies(&server).await.len(), 3);
    assert_eq!(out.attempts.len(), 3);
    assert_eq!(out.value.len(), ROSTER.len());
    assert_eq!(out.usage.completion_tokens, 15);
}

#[tokio::test]
async fn a_chunked_extraction_refuses_to_stream_instead_of_dropping_the_chunks() {
    use futures_util::StreamExt as _;
    let server = roster_server(None).await;
    let client = client(&server, Provider::LlamaCpp);
    let chunked = || {
        client
            .extraction::<Vec<Member>>(roster())
            .chunked(factum::Chunking::chars(80))
    };
    let events: Vec<_> = chunked().stream().collect().await;
    assert_eq!(events.len(), 1);
    let error = events.into_iter().next().unwrap().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    assert!(error.to_string().contains("send()"), "{error}");
    let items: Vec<_> = chunked().stream_items().collect().await;
    assert!(matches!(&items[..], [Err(e)] if e.kind() == ErrorKind::Config));
    assert!(bodies(&server).await.is_empty(), "nothing was sent");
}
