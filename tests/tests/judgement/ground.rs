//! Grounding on every extraction: spans on every leaf, a grounded field re-asked when the
//! model invents its value, and long documents chunked and merged.

use factum::testing::Script;
use factum::{AttemptFailure, ErrorKind, Extract, Match, Provider, Usage};
use factum_tests::http::message_texts;
use factum_tests::scripted::{
    Member, ROSTER, client, estimated_usage, replies, roster, roster_reply, roster_script,
};
use serde::Deserialize;
use serde_json::Value;

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
    let script = replies([(r#"{"speaker":"ada lovelace","topic":"music"}"#, 10, 5)]);
    let out = client(&script, Provider::LlamaCpp)
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
    script.assert_done();
}

#[tokio::test]
async fn an_invented_grounded_value_is_reasked_and_the_prompt_says_so() {
    let script = replies([
        (r#"{"speaker":"Charles Babbage","topic":"music"}"#, 10, 5),
        (r#"{"speaker":"Mrs. Ada Lovelace","topic":"music"}"#, 10, 5),
    ]);
    let out = client(&script, Provider::LlamaCpp)
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
    prompt_and_feedback_say_copy_it(&script.requests());
    script.assert_done();
}

/// The first prompt says the field is quoted, the schema sent has no `x-grounded`, and the
/// re-ask says to copy the value.
fn prompt_and_feedback_say_copy_it(sent: &[Value]) {
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
    let script = replies([(r#"{"speaker":"Charles Babbage","topic":"music"}"#, 10, 5); 2]);
    let error = client(&script, Provider::LlamaCpp)
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
    script.assert_done();
}

/// The usage the script reported over all of `sent`, each answered as the roster reader
/// answers (no failing chunk).
fn roster_usage(sent: &[Value]) -> Usage {
    sent.iter()
        .map(|body| estimated_usage(body, &roster_reply(body, None)))
        .fold(Usage::default(), |total, usage| total + usage)
}

#[tokio::test]
async fn a_long_document_is_chunked_and_merged_with_items_on_borders_found_once() {
    let text = roster();
    let chunking = factum::Chunking::chars(80).overlap(30);
    let chunks = chunking.split(&text);
    assert!(chunks.len() >= 4, "{chunks:?}");
    let script = roster_script(chunks.len(), None);
    let out = client(&script, Provider::LlamaCpp)
        .extraction::<Vec<Member>>(text.clone())
        .chunked(chunking)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = out.value.iter().map(|m| m.name.as_str()).collect();
    let expected: Vec<&str> = ROSTER.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, expected, "each person once, in document order");
    // Some people were in two chunks: the overlap repeated them.
    let sent = script.requests();
    assert_eq!(sent.len(), chunks.len());
    assert_eq!(out.attempts.len(), chunks.len());
    // Every chunk's call counted once.
    assert_eq!(out.usage.prompt_tokens, roster_usage(&sent).prompt_tokens);
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
    let text = roster();
    let chunking = factum::Chunking::chars(80).overlap(30);
    // Enough for every attempt of every chunk; the failure may stop the others sooner.
    let script = roster_script(2 * chunking.split(&text).len(), Some("Gus Grant"));
    let error = client(&script, Provider::LlamaCpp)
        .extraction::<Vec<Member>>(text.clone())
        .chunked(chunking)
        .max_retries(1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Exhausted, "{error:?}");
    let calls = script.requests().len();
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
    let text = roster();
    let chunking = factum::Chunking::chars(80).overlap(30);
    // One attempt per chunk: no re-asks.
    let script = roster_script(chunking.split(&text).len(), Some("Gus Grant"));
    let out = client(&script, Provider::LlamaCpp)
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
    script.assert_done();
}

#[tokio::test]
async fn passes_are_merged_for_recall_without_repeating_items() {
    let text = roster();
    let script = roster_script(3, None);
    let out = client(&script, Provider::LlamaCpp)
        .extraction::<Vec<Member>>(text.clone())
        .passes(3)
        .send()
        .await
        .unwrap();
    let sent = script.requests();
    assert_eq!(sent.len(), 3);
    assert_eq!(out.attempts.len(), 3);
    assert_eq!(out.value.len(), ROSTER.len());
    // Every pass's reply counted once.
    assert_eq!(
        out.usage.completion_tokens,
        roster_usage(&sent).completion_tokens
    );
}

/// A dynamic list's chunked run streams as a derived list's does (the `http` binary's
/// `chunk_stream` tests): the merged array as it grows, then what `send()` gives.
#[tokio::test]
async fn a_chunked_dynamic_extraction_streams_the_merged_array() {
    use futures_util::StreamExt as _;
    let target = factum::Dynamic::from_fields("name, age int")
        .unwrap()
        .name("Member")
        .multi();
    let run = |script: &Script| {
        client(script, Provider::LlamaCpp)
            .extraction_dynamic(&target, roster())
            .chunked(factum::Chunking::chars(80).concurrency(1))
    };
    let script = roster_script(16, None);
    let events: Vec<_> = run(&script).stream().collect().await;
    let sizes: Vec<usize> = events
        .iter()
        .filter_map(|e| match e {
            Ok(factum::StreamEvent::Partial(Value::Array(items))) => Some(items.len()),
            _ => None,
        })
        .collect();
    assert!(
        sizes.len() >= 2 && sizes.windows(2).all(|w| w[0] < w[1]),
        "{sizes:?}"
    );
    let Some(Ok(factum::StreamEvent::Done(streamed))) = events.last() else {
        panic!("{events:?}");
    };
    let sent = run(&roster_script(16, None)).send().await.unwrap();
    assert_eq!(streamed.value, sent.value);
    assert_eq!(streamed.value.as_array().map(Vec::len), Some(ROSTER.len()));
}

/// A dynamic target that is not a list cannot be merged: its chunked stream is refused
/// before anything is sent.
#[tokio::test]
async fn a_chunked_dynamic_stream_of_a_target_that_is_no_list_is_refused() {
    use futures_util::StreamExt as _;
    let one = factum::Dynamic::from_fields("name").unwrap();
    let refused = Script::new();
    let events: Vec<_> = client(&refused, Provider::LlamaCpp)
        .extraction_dynamic(&one, roster())
        .chunked(factum::Chunking::chars(80))
        .stream()
        .collect()
        .await;
    assert!(
        matches!(&events[..], [Err(e)] if e.kind() == ErrorKind::Config),
        "{events:?}"
    );
    assert!(refused.requests().is_empty());
}
