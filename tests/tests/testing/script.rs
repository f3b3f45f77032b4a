//! The scripted client: every stage of the pipeline on a script, with no HTTP.

use std::time::Duration;

use factum::testing::Script;
use factum::{Chunking, Client, ErrorKind, Extract, StreamEvent, Usage};
use factum_tests::http::{JOHN_JSON, Person, john};
use futures_util::StreamExt as _;
use serde::Deserialize;
use serde_json::Value;

/// What [`JOHN_JSON`] is read from.
const TEXT: &str = "John Doe, john@example.com, 30";

/// The text of the request's last user message: the document, for a first attempt.
fn document(request: &Value) -> String {
    request["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["role"] == "user")
        .find_map(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_bad_reply_is_reasked_with_the_violation_in_the_second_requests_feedback() {
    let script = Script::new()
        .reply(r#"{"name": "John Doe", "age": 300, "email": null}"#)
        .reply(r#"{"name": "John Doe", "age": 30, "email": null}"#);
    let client = Client::builder()
        .scripted(script.clone())
        .reask_temperature(0.4)
        .build()
        .unwrap();
    let out = client
        .extraction::<Person>("John Doe, 30")
        .send()
        .await
        .unwrap();
    assert_eq!(out.value.age, 30);
    assert_eq!(out.attempts.len(), 2);
    assert!(out.attempts[0].failure.is_some());
    let requests = script.requests();
    assert_eq!(requests.len(), 2);
    // The re-ask carries the failed reply and the path-level error.
    let turns: Vec<&Value> = requests[1]["messages"].as_array().unwrap().iter().collect();
    let first_turns = requests[0]["messages"].as_array().unwrap().len();
    assert_eq!(turns.len(), first_turns + 2, "{turns:#?}");
    assert_eq!(turns[first_turns]["role"], "assistant");
    assert!(
        turns[first_turns]["content"]
            .as_str()
            .unwrap()
            .contains("300")
    );
    let feedback = turns[first_turns + 1]["content"].as_str().unwrap();
    assert!(feedback.contains("/age"), "{feedback}");
    assert!(feedback.contains("150"), "{feedback}");
    // Re-asked at the re-ask temperature; the first at the call's own.
    assert_eq!(requests[0]["temperature"], 0.0);
    assert_eq!(requests[1]["temperature"], 0.4);
    script.assert_done();
}

#[tokio::test(start_paused = true)]
async fn a_429_with_retry_after_is_waited_for_then_the_reply_is_used() {
    let script = Script::new()
        .status_with_retry_after(429, r#"{"error": {"message": "slow down"}}"#, 2)
        .reply(JOHN_JSON);
    let client = Client::scripted(script.clone());
    let start = tokio::time::Instant::now();
    let out = client.extraction::<Person>(TEXT).send().await.unwrap();
    assert_eq!(out.value, john());
    // A transport retry is not an attempt; the wait is the server's, not the backoff's.
    assert_eq!(out.attempts.len(), 1);
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    assert_eq!(script.requests().len(), 2);
    assert_eq!(script.requests()[0], script.requests()[1]);
}

#[tokio::test]
async fn a_fatal_status_is_classified_as_over_http_and_not_retried() {
    let script = Script::new()
        .status(401, r#"{"error": {"message": "bad key"}}"#)
        .reply(JOHN_JSON);
    let client = Client::scripted(script.clone());
    let error = client.extract::<Person>(TEXT).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Http);
    assert_eq!(error.status(), Some(401));
    assert_eq!(error.server_message(), Some("bad key"));
    assert_eq!(script.remaining(), 1);
}

#[tokio::test]
async fn a_reply_truncated_on_every_attempt_is_a_truncation_with_every_raw_text() {
    let script = Script::new()
        .truncated(r#"{"name": "John"#)
        .truncated(r#"{"name": "John D"#)
        .truncated(r#"{"name": "John Do"#);
    let client = Client::scripted(script.clone());
    let error = client.extract::<Person>(TEXT).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Truncated);
    let raws: Vec<&str> = error.attempts().iter().map(|a| a.raw.as_str()).collect();
    assert_eq!(
        raws,
        [
            r#"{"name": "John"#,
            r#"{"name": "John D"#,
            r#"{"name": "John Do"#
        ]
    );
    // A truncated reply is asked again with more room.
    let requests = script.requests();
    assert!(requests[1]["max_tokens"].as_u64() > requests[0]["max_tokens"].as_u64());
    script.assert_done();
}

#[tokio::test(start_paused = true)]
async fn a_request_that_never_answers_ends_at_the_deadline() {
    let script = Script::new().timeout();
    let client = Client::builder()
        .scripted(script.clone())
        .deadline(Duration::from_secs(5))
        .build()
        .unwrap();
    let start = tokio::time::Instant::now();
    let error = client.extract::<Person>(TEXT).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Deadline, "{error}");
    assert!(start.elapsed() >= Duration::from_secs(5));
    assert!(start.elapsed() < Duration::from_secs(6));
}

#[tokio::test(start_paused = true)]
async fn a_request_that_never_answers_times_out_per_attempt_then_is_retried() {
    let script = Script::new().timeout().reply(JOHN_JSON);
    let client = Client::builder()
        .scripted(script.clone())
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let person: Person = client.extract(TEXT).await.unwrap();
    assert_eq!(person, john());
    assert_eq!(script.requests().len(), 2);
}

#[tokio::test]
async fn a_streamed_reply_shows_typed_partials_then_the_validated_value() {
    let script = Script::new().stream([
        r#"{"name": "Jo"#,
        r#"hn Doe", "ag"#,
        r#"e": 30, "email": "john@example.com"}"#,
    ]);
    let client = Client::scripted(script.clone());
    let events: Vec<_> = client.extraction::<Person>(TEXT).stream().collect().await;
    let partials: Vec<&factum::Partial<Person>> = events
        .iter()
        .filter_map(|e| match e {
            Ok(StreamEvent::Partial(p)) => Some(p),
            _ => None,
        })
        .collect();
    assert!(partials.len() >= 2, "{events:?}");
    let first = serde_json::to_value(partials[0]).unwrap();
    assert_eq!(first["name"], "Jo", "{first}");
    let Some(Ok(StreamEvent::Done(out))) = events.last() else {
        panic!("the stream ends with its value: {events:?}");
    };
    assert_eq!(out.value, john());
    assert_eq!(script.requests()[0]["stream"], true);
}

#[tokio::test]
async fn a_batch_of_twenty_runs_on_one_script_and_its_failing_item_fails_alone() {
    // The items run at once, in no fixed order: each reply is made from its request.
    let mut script = Script::new();
    for _ in 0..19 + 3 {
        script = script.respond(|request| {
            let text = document(request);
            if text.contains("Item 7.") {
                return "not json at all".to_owned();
            }
            let n: u8 = text
                .split("Item ")
                .nth(1)
                .and_then(|rest| rest.split('.').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            format!(r#"{{"name": "Person {n}", "age": {n}, "email": null}}"#)
        });
    }
    let client = Client::scripted(script.clone());
    let texts: Vec<String> = (0..20)
        .map(|i| format!("Item {i}. Person {i}, aged {i}."))
        .collect();
    let results: Vec<_> = client
        .extract_batch::<Person>(texts)
        .concurrency(4)
        .stream()
        .collect()
        .await;
    assert_eq!(results.len(), 20);
    for (index, result) in &results {
        if *index == 7 {
            let error = result.as_ref().unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Exhausted);
            assert_eq!(error.attempts().len(), 3);
        } else {
            let out = result.as_ref().unwrap();
            assert_eq!(out.value.age as usize, *index);
            assert_eq!(out.value.name, format!("Person {index}"));
        }
    }
    assert_eq!(script.requests().len(), 22);
    script.assert_done();
}

/// A person named in a long text.
#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
struct Named {
    /// The name, as written.
    name: String,
}

#[tokio::test]
async fn a_chunked_run_sends_each_chunk_and_merges_the_lists_with_spans_into_the_whole_text() {
    let names = ["Ann", "Bob", "Cyd", "Dee", "Eve", "Fay"];
    let text = names
        .map(|n| format!("{n} arrived at the station early in the morning. "))
        .concat();
    let key = factum::schema::<Vec<Named>>()
        .envelope_key()
        .expect("a list is asked under a key")
        .to_owned();
    let mut script = Script::new();
    for _ in 0..8 {
        let key = key.clone();
        script = script.respond(move |request| {
            let chunk = document(request);
            let found: Vec<String> = names
                .iter()
                .filter(|n| chunk.contains(&format!("{n} arrived")))
                .map(|n| format!(r#"{{"name": "{n}"}}"#))
                .collect();
            format!(r#"{{"{key}": [{}]}}"#, found.join(", "))
        });
    }
    let client = Client::scripted(script.clone());
    let out = client
        .extraction::<Vec<Named>>(text.clone())
        .chunked(Chunking::chars(120))
        .send()
        .await
        .unwrap();
    let got: Vec<&str> = out.value.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(got, names);
    let chunks = script.requests().len();
    assert!(chunks >= 3, "{chunks} chunk requests");
    assert_eq!(out.attempts.len(), chunks);
    // Spans point into the whole text, not the chunk.
    for span in &out.spans {
        let range = span.range.clone().expect("every name is in the text");
        assert_eq!(&text[range], span.value.as_str());
    }
    assert_eq!(out.spans.len(), names.len());
}

#[tokio::test]
async fn a_script_that_runs_out_is_a_transport_error_saying_after_how_many_requests() {
    let script = Script::new().reply("{}");
    let client = Client::builder()
        .scripted(script.clone())
        .max_retries(2)
        .build()
        .unwrap();
    let error = client.extract::<Person>(TEXT).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport);
    let message = error.to_string();
    assert!(message.contains("ran out after 1 request"), "{message}");
    // The one reply it had is kept.
    assert_eq!(error.attempts().len(), 1);
    assert_eq!(error.attempts()[0].raw, "{}");
}

#[tokio::test]
async fn usage_is_estimated_from_the_text_or_taken_as_given() {
    let script = Script::new().reply_with_usage(JOHN_JSON, Usage::new(11, 7));
    let out = Client::scripted(script)
        .extraction::<Person>(TEXT)
        .send()
        .await
        .unwrap();
    assert_eq!(out.usage, Usage::new(11, 7));
    let script = Script::new().reply(JOHN_JSON);
    let out = Client::scripted(script)
        .extraction::<Person>(TEXT)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.usage.completion_tokens,
        JOHN_JSON.len().div_ceil(4) as u64
    );
    assert!(out.usage.prompt_tokens > 20, "{:?}", out.usage);
}

#[test]
#[should_panic(expected = "1 step(s) left unused after 0 request(s)")]
fn assert_done_names_the_steps_left() {
    Script::new().reply("{}").assert_done();
}
