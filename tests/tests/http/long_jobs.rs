//! Long and many-document jobs against loopback servers: llama-server's shared slots that
//! overflow while several requests generate together, replies that loop in `send()`, and
//! replies that stall half way.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use factum::{Attempt, AttemptFailure, Chunking, Client, Extracted, Progress, Provider};
use factum_tests::http::{JOHN_JSON, Person, john};
use factum_tests::slots::{Answer, OVERFLOW, SlotServer};
use factum_tests::sse::{Script, SseServer, delta, event, reply};
use futures_util::StreamExt as _;
use serde_json::Value;

fn slot_server(content: &str) -> SlotServer {
    SlotServer::start(Answer {
        content: content.to_owned(),
        pieces: 6,
        gap: Duration::from_millis(15),
        slots: 2,
        n_ctx: 4096,
    })
}

fn client_of(url: &str, provider: Provider) -> Client {
    Client::builder()
        // The mocked replies are not drawn from the text: default grounding has its own tests.
        .grounding(factum::Grounding::Off)
        .base_url(url)
        .provider(provider)
        .model("m")
        .temperature(0.0)
        .transport_retries(0)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client builds")
}

/// The attempts of every result that broke off on the overflow.
fn broken(attempts: &[Attempt]) -> Vec<&Attempt> {
    attempts
        .iter()
        .filter(
            |a| matches!(&a.failure, Some(AttemptFailure::Interrupted(m)) if m.contains(OVERFLOW)),
        )
        .collect()
}

/// Every reply broken off after it began is kept: its text (a start of `content`), and
/// its pieces counted as tokens, as many as the server sent before the overflow.
fn assert_broken_replies_kept(server: &SlotServer, attempts: &[Attempt], content: &str) {
    let broken = broken(attempts);
    let counted: u64 = broken.iter().map(|a| a.usage.completion_tokens).sum();
    let sent = server.counts.broken_pieces.load(Ordering::SeqCst);
    assert_eq!(counted, sent as u64, "every generated piece is counted");
    for attempt in &broken {
        assert!(
            !attempt.raw.is_empty() && content.starts_with(&attempt.raw),
            "{:?}",
            attempt.raw
        );
    }
}

/// The usage of a result is its attempts' usage, broken ones too.
fn assert_usage_sums(out: &Extracted<impl Sized>) {
    let summed = out
        .attempts
        .iter()
        .fold(factum::Usage::default(), |u, a| u + a.usage);
    assert_eq!(out.usage, summed);
}

#[tokio::test]
async fn a_shared_slot_overflow_is_sent_again_after_the_drain_and_every_item_finishes() {
    let server = slot_server(JOHN_JSON);
    let client = client_of(&server.url, Provider::LlamaCpp);
    let (logs, _guard) = factum_tests::http::capture_logs(tracing::Level::WARN);
    let seen = Arc::new(Mutex::new(Vec::<Progress>::new()));
    let log = Arc::clone(&seen);
    let results: Vec<(usize, factum::Result<Extracted<Person>>)> = client
        .extract_batch::<Person>((0..6).map(|i| format!("John Doe, 30, john@example.com (#{i})")))
        .concurrency(4)
        .on_progress(move |p| log.lock().unwrap().push(*p))
        .stream()
        .collect()
        .await;
    let (requests, overflows) = server.requests();
    assert!(overflows > 0, "four at once overflow the shared context");
    assert_eq!(requests, 6 + overflows, "each overflow sent once more");
    let mut attempts = Vec::new();
    for (i, result) in results {
        let out = result.unwrap_or_else(|e| panic!("item {i}: {e}"));
        assert_eq!(out.value, john());
        assert_usage_sums(&out);
        attempts.extend(out.attempts);
    }
    assert_broken_replies_kept(&server, &attempts, JOHN_JSON);
    let last = *seen.lock().unwrap().last().expect("progress was reported");
    assert!(
        last.concurrency < 4,
        "the concurrency in effect went down: {last:?}"
    );
    let logs = logs.text();
    let warned = logs.matches("exceeds the server's slots").count();
    assert_eq!(warned, 1, "said once: {logs}");
}

#[tokio::test]
async fn a_whole_reply_that_overflows_with_company_is_sent_again() {
    let server = slot_server(JOHN_JSON);
    // A server asked for whole replies answers the overflow as a 500 before any text.
    let client = client_of(&server.url, Provider::Custom);
    let results: Vec<_> = client
        .extract_batch::<Person>((0..5).map(|i| format!("John Doe, 30 (#{i})")))
        .concurrency(5)
        .stream()
        .collect()
        .await;
    let (requests, overflows) = server.requests();
    assert!(overflows > 0);
    assert_eq!(requests, 5 + overflows);
    for (i, result) in results {
        let out = result.unwrap_or_else(|e| panic!("item {i}: {e}"));
        assert_eq!(out.value, john());
    }
}

#[tokio::test]
async fn a_request_that_overflows_alone_is_its_own_truncation_not_backpressure() {
    let server = slot_server(JOHN_JSON);
    let client = client_of(&server.url, Provider::Custom);
    // One request at a time never overflows on this server: nothing is held back.
    let out = client
        .extraction::<Person>("John Doe, 30")
        .send()
        .await
        .unwrap();
    assert_eq!(out.value, john());
    assert_eq!(server.requests(), (1, 0));
}

#[tokio::test]
async fn a_chunked_document_on_shared_slots_finishes_every_chunk() {
    let line = "John Doe, 30, john@example.com, wrote to the office again today.";
    let text = (0..12).fold(String::new(), |text, i| text + &format!("{line} ({i})\n\n"));
    let chunking = Chunking::chars(80).overlap(0).concurrency(4);
    let chunks = chunking.split(&text).len();
    assert!(chunks >= 10, "{chunks} chunks");
    let content = format!("[{JOHN_JSON}]");
    let server = slot_server(&content);
    let client = client_of(&server.url, Provider::LlamaCpp);
    let out = client
        .extraction::<Vec<Person>>(text)
        .chunked(chunking)
        .send()
        .await
        .expect("every chunk finishes");
    assert!(out.failed_chunks.is_empty());
    assert_eq!(
        out.value.len(),
        chunks,
        "one John a chunk, each at its own place"
    );
    let (requests, overflows) = server.requests();
    assert!(overflows > 0, "four chunks at once overflow");
    assert_eq!(requests, chunks + overflows);
    assert_usage_sums(&out);
    assert_broken_replies_kept(&server, &out.attempts, &content);
}

/// The same list item again and again, each its own piece: a model that loops.
fn looping_list(items: usize) -> String {
    let mut body = delta(r#"{"person_list": ["#);
    for _ in 0..items {
        body.push_str(&delta(r#"{"name": "Ann", "age": 1, "email": null}, "#));
    }
    body
}

/// The chat requests the server received (a `GET /props` for the context window carries
/// no body).
fn chat_requests(server: &SseServer) -> Vec<Value> {
    let requests = server.requests.lock().unwrap();
    requests.iter().filter(|r| !r.is_null()).cloned().collect()
}

#[tokio::test]
async fn send_hangs_up_on_a_looping_stream_and_re_asks_with_new_sampling() {
    // 2,000 pieces 2 ms apart: ten seconds of loop if nobody hangs up.
    let looping = Script::paced(&looping_list(2000), Duration::from_millis(2));
    let good = reply(&[&format!(r#"{{"person_list": [{JOHN_JSON}]}}"#)], 10, 5);
    let server = SseServer::start(vec![looping, Script::whole(good.as_bytes())]);
    let client = client_of(&server.url, Provider::LlamaCpp);
    let started = Instant::now();
    let out = client
        .extraction::<Vec<Person>>("John Doe, 30, john@example.com")
        .send()
        .await
        .expect("the re-ask succeeds");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(out.value, vec![john()]);
    assert_eq!(out.attempts.len(), 2);
    let cut = &out.attempts[0];
    assert_eq!(cut.finish_reason.as_deref(), Some("factum:runaway"));
    assert_eq!(cut.failure, Some(AttemptFailure::Truncated));
    assert!(
        cut.raw.matches("Ann").count() >= 16,
        "the loop's text is kept"
    );
    let requests = chat_requests(&server);
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0]["stream"], true, "send() streamed internally");
    assert_eq!(requests[0]["temperature"], 0.0);
    assert_eq!(
        requests[1]["temperature"], 0.4,
        "the re-ask is sampled anew"
    );
    assert!(requests[1]["seed"].is_u64(), "with a seed: {}", requests[1]);
}

#[tokio::test]
async fn a_whole_reply_that_loops_is_re_asked_without_its_loop() {
    // Asked for a whole reply (an unknown server), the model loops to max_tokens.
    let server = wiremock::MockServer::start().await;
    let looped = format!(
        r#"{{"person_list": [{}"#,
        r#"{"name": "Ann", "age": 1, "email": null}, "#.repeat(40)
    );
    let cut = factum_tests::http::chat_finish(&looped, "length", 400);
    let good = factum_tests::http::chat(&format!(r#"{{"person_list": [{JOHN_JSON}]}}"#), 10, 5);
    factum_tests::http::respond_in_order(&server, [cut, good]).await;
    let client = factum_tests::http::builder(&server, Provider::Custom)
        .temperature(0.0)
        .build()
        .unwrap();
    let out = client
        .extraction::<Vec<Person>>("John Doe, 30, john@example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(out.value, vec![john()]);
    let bodies = factum_tests::http::bodies(&server).await;
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[1]["temperature"], 0.4);
    let reask = bodies[1]["messages"].to_string();
    assert!(
        !reask.contains(r#"\"Ann\", \"age\": 1, \"email\": null}, {\"name\": \"Ann"#),
        "the loop is not echoed back"
    );
}

/// A server whose first reply sends `text` and then nothing until the client gives up
/// (its per-attempt timeout is 500 ms), and whose next reply is John's; and its client.
fn stalls_after(text: &str, transport_retries: u32) -> (SseServer, Client) {
    let mut stalled = Script::paced(&delta(text), Duration::from_millis(1));
    stalled.hold = true;
    let good = reply(&[JOHN_JSON], 10, 5);
    let server = SseServer::start(vec![stalled, Script::whole(good.as_bytes())]);
    let client = Client::builder()
        // The mocked replies are not drawn from the text: default grounding has its own tests.
        .grounding(factum::Grounding::Off)
        .base_url(&server.url)
        .model("m")
        .transport_retries(transport_retries)
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    (server, client)
}

#[tokio::test]
async fn a_reply_that_stalls_half_way_keeps_its_text_and_is_re_asked() {
    let (_server, client) = stalls_after(r#"{"name": "John Do"#, 0);
    let out = client
        .extraction::<Person>("John Doe, 30")
        .send()
        .await
        .unwrap();
    assert_eq!(out.value, john());
    assert_eq!(out.attempts.len(), 2);
    let stalled = &out.attempts[0];
    assert_eq!(
        stalled.raw, r#"{"name": "John Do"#,
        "the text received is kept"
    );
    assert!(
        matches!(&stalled.failure, Some(AttemptFailure::Interrupted(m)) if m.contains("timed out")),
        "{:?}",
        stalled.failure
    );
    assert_eq!(stalled.usage.completion_tokens, 1, "one piece, counted");
}

/// `count` different people, each its own piece, in the list's envelope; the list never
/// closes unless `close`.
fn people(count: usize, close: bool) -> String {
    let mut body = delta(r#"{"person_list": ["#);
    for i in 0..count {
        body.push_str(&delta(&format!(
            r#"{{"name": "Person {i}", "age": {i}, "email": null}}, "#
        )));
    }
    if close {
        body.push_str(&reply(
            &[r#"{"name": "Last", "age": 99, "email": null}]}"#],
            10,
            5,
        ));
    }
    body
}

#[tokio::test]
async fn max_items_is_the_guard_s_too_a_list_past_it_is_cut_then_re_asked() {
    let endless = Script::paced(&people(2000, false), Duration::from_millis(2));
    let two = reply(
        &[&format!(r#"{{"person_list": [{JOHN_JSON}, {JOHN_JSON}]}}"#)],
        10,
        5,
    );
    let server = SseServer::start(vec![endless, Script::whole(two.as_bytes())]);
    let client = client_of(&server.url, Provider::LlamaCpp);
    let started = Instant::now();
    let out = client
        .extraction::<Vec<Person>>("John Doe, 30, john@example.com")
        .max_items(3)
        .send()
        .await
        .expect("the re-ask fits the bound");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(out.value, vec![john(), john()]);
    let cut = &out.attempts[0];
    assert_eq!(cut.finish_reason.as_deref(), Some("factum:max-items"));
    assert!(
        cut.raw.contains("Person 3") && !cut.raw.contains("Person 5"),
        "{}",
        cut.raw
    );
    let Some(AttemptFailure::Violations(violations)) = &cut.failure else {
        panic!("{:?}", cut.failure)
    };
    assert!(
        violations.iter().any(|v| v.to_string().contains('3')),
        "{violations:?}"
    );
}

#[tokio::test]
async fn at_lenient_a_list_cut_at_max_items_keeps_the_first_items_as_a_repair() {
    let endless = Script::paced(&people(2000, false), Duration::from_millis(2));
    let server = SseServer::start(vec![endless]);
    let client = client_of(&server.url, Provider::LlamaCpp);
    let out = client
        .extraction::<Vec<Person>>("Person 0 to Person 2")
        .max_items(3)
        .leniency(factum::Leniency::Lenient)
        .send()
        .await
        .expect("trimmed to the bound");
    let names: Vec<&str> = out.value.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Person 0", "Person 1", "Person 2"]);
    assert_eq!(out.attempts.len(), 1);
    assert!(
        out.attempts[0]
            .repairs
            .iter()
            .any(|r| r.kind == factum::parse::RepairKind::DroppedPastMaxItems),
        "{:?}",
        out.attempts[0].repairs
    );
}

#[tokio::test]
async fn stream_items_never_hands_out_an_item_past_max_items() {
    let endless = Script::paced(&people(2000, false), Duration::from_millis(2));
    let server = SseServer::start(vec![endless]);
    let client = client_of(&server.url, Provider::LlamaCpp);
    let items: Vec<factum::Result<Person>> = client
        .extraction::<Vec<Person>>("Person 0 to Person 2")
        .max_items(3)
        .leniency(factum::Leniency::Lenient)
        .stream_items()
        .collect()
        .await;
    let names: Vec<String> = items
        .into_iter()
        .map(|item| item.expect("each item fits").name)
        .collect();
    assert_eq!(names, ["Person 0", "Person 1", "Person 2"]);
}

#[tokio::test]
async fn a_reply_that_loops_then_stalls_is_a_runaway_re_asked_with_the_loop_named() {
    // A name that repeats one unit, then nothing until the per-attempt timeout.
    let looping = format!(r#"{{"name": "{}"#, "johan_".repeat(60));
    let (server, client) = stalls_after(&looping, 3);
    // The guard off: the loop is seen only when the stall breaks the reply off.
    let out = client
        .extraction::<Person>("John Doe, 30")
        .runaway(factum::Runaway::off())
        .send()
        .await
        .unwrap();
    assert_eq!(out.value, john());
    assert_eq!(out.attempts[0].failure, Some(AttemptFailure::Truncated));
    assert_eq!(out.attempts[0].raw, looping);
    // Not a transport fault sent again as it was: the re-ask names the loop.
    let requests = chat_requests(&server);
    assert_eq!(requests.len(), 2, "no transport retry of the loop");
    assert!(
        requests[1]["messages"]
            .to_string()
            .contains("kept repeating"),
        "{}",
        requests[1]["messages"]
    );
}

/// A list extraction at `leniency`, one re-ask allowed, from a server whose every reply
/// repeats one item: the server, and what `send()` gave.
async fn always_looping_list(
    leniency: factum::Leniency,
) -> (SseServer, factum::Result<Extracted<Vec<Person>>>) {
    let looping = Script::paced(&looping_list(2000), Duration::from_millis(1));
    let server = SseServer::start(vec![looping]);
    let sent = client_of(&server.url, Provider::LlamaCpp)
        .extraction::<Vec<Person>>("Ann, 1")
        .max_retries(1)
        .leniency(leniency)
        .send()
        .await;
    (server, sent)
}

#[tokio::test]
async fn a_model_that_always_loops_ends_as_a_truncation_that_says_so() {
    // At `Exact` a cut list is never read as far as it is whole.
    let (_, sent) = always_looping_list(factum::Leniency::Exact).await;
    let error = sent.unwrap_err();
    assert_eq!(error.kind(), factum::ErrorKind::Truncated);
    assert!(
        error
            .to_string()
            .starts_with("the reply kept repeating itself"),
        "{error}"
    );
    assert_eq!(error.attempts().len(), 2, "each loop kept");
}

#[tokio::test]
async fn a_list_that_loops_on_every_attempt_keeps_the_last_attempts_whole_items_as_a_repair() {
    let (server, sent) = always_looping_list(factum::Leniency::default()).await;
    let out = sent.expect("the last attempt's whole items");
    let ann: Person = serde_json::from_str(r#"{"name": "Ann", "age": 1, "email": null}"#).unwrap();
    assert_eq!(out.value, [ann], "each run of repeats kept once");
    assert_eq!(
        chat_requests(&server).len(),
        2,
        "re-asked once before the cut list was read"
    );
    assert_eq!(out.attempts[0].failure, Some(AttemptFailure::Truncated));
    let last = &out.attempts[1];
    assert_eq!(last.finish_reason.as_deref(), Some("factum:runaway"));
    let cut: Vec<_> = last
        .repairs
        .iter()
        .filter(|r| r.kind == factum::parse::RepairKind::CutList)
        .collect();
    assert_eq!(cut.len(), 1, "{:?}", last.repairs);
    assert_eq!(cut[0].path, "", "the root list, not its envelope");
    assert!(
        cut[0].detail.contains("kept its 1 whole items"),
        "{}",
        cut[0].detail
    );
}

/// A model that counts (`Ann 1, Ann 2, …`) until the token limit, on every attempt: no
/// two items are the same, so the live guard lets it run, but once cut at the limit it is
/// a loop all the same, and the last attempt's whole items are kept as a repair rather
/// than failing the extraction (seen on SmolLM2 in `e2e_long`).
#[tokio::test]
async fn a_list_that_counts_to_the_token_limit_keeps_the_last_attempts_whole_items() {
    let mut body = delta(r#"{"person_list": ["#);
    for n in 1..=150 {
        body.push_str(&delta(&format!(
            r#"{{"name": "Ann number {n}", "age": {}, "email": null}}, "#,
            n % 100
        )));
    }
    body.push_str(&delta(r#"{"name": "Ann num"#));
    body.push_str(&event(&serde_json::json!({
        "choices": [{"index": 0, "delta": {}, "finish_reason": "length"}],
        "usage": {"prompt_tokens": 40, "completion_tokens": 2048, "total_tokens": 2088}
    })));
    body.push_str("data: [DONE]\n\n");
    let script = || Script::paced(&body, Duration::from_micros(50));
    let server = SseServer::start(vec![script(), script()]);
    let out = client_of(&server.url, Provider::LlamaCpp)
        .extraction::<Vec<Person>>("Ann, 1")
        .max_retries(1)
        .send()
        .await
        .expect("the last attempt's whole items");
    assert_eq!(out.value.len(), 150, "every whole item, none being written");
    assert_eq!(out.value[149].name, "Ann number 150");
    assert_eq!(out.attempts[0].failure, Some(AttemptFailure::Truncated));
    let last = &out.attempts[1];
    assert_eq!(last.finish_reason.as_deref(), Some("length"));
    assert!(
        last.repairs
            .iter()
            .any(|r| r.kind == factum::parse::RepairKind::CutList),
        "{:?}",
        last.repairs
    );
}

#[tokio::test]
async fn a_string_that_loops_on_every_attempt_outside_a_list_is_still_a_truncation() {
    let mut body = delta(r#"{"name": ""#);
    for _ in 0..400 {
        body.push_str(&delta("Ann Ann "));
    }
    let server = SseServer::start(vec![Script::paced(&body, Duration::from_millis(1))]);
    let error = client_of(&server.url, Provider::LlamaCpp)
        .extraction::<Person>("Ann, 1")
        .max_retries(1)
        .leniency(factum::Leniency::Lenient)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), factum::ErrorKind::Truncated);
    assert_eq!(error.attempts().len(), 2);
}

#[tokio::test]
async fn a_list_cut_at_max_tokens_without_a_loop_is_still_a_truncation() {
    // Distinct items, then the token limit: the model was still writing, so the list may
    // go on, and its whole items are not passed off as the answer.
    let mut body = delta(r#"{"person_list": [{"name": "Ann", "age": 1, "email": null}, "#);
    body.push_str(&delta(
        r#"{"name": "Bo", "age": 2, "email": null}, {"name": "C"#,
    ));
    body.push_str(&event(&serde_json::json!({
        "choices": [{"index": 0, "delta": {}, "finish_reason": "length"}],
    })));
    body.push_str("data: [DONE]\n\n");
    let server = SseServer::start(vec![Script::whole(body.as_bytes())]);
    let error = client_of(&server.url, Provider::LlamaCpp)
        .extraction::<Vec<Person>>("Ann, 1. Bo, 2. Cy, 3.")
        .max_retries(0)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), factum::ErrorKind::Truncated, "{error}");
    assert_eq!(error.attempts().len(), 1);
}
