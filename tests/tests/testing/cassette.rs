//! Cassettes: a real llama-server's replies recorded once and committed, replayed here
//! with no server; and recording, redaction and matching, recorded from a script or a
//! loopback server.

use std::path::PathBuf;

use factum::testing::{Cassette, Record, Script};
use factum::{Client, ErrorKind, Provider, StreamEvent};
use factum_tests::http::{JOHN_JSON, KEY, builder, chat, respond};
use futures_util::StreamExt as _;
use wiremock::MockServer;

/// The cassette recorded against the README's llama-server (SmolLM2-135M-Instruct).
fn recorded() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("cassettes/llama_person.jsonl")
}

/// The model name the cassette was recorded with.
const MODEL: &str = "SmolLM2-135M-Instruct";

/// A client on the recorded cassette. Replaying (the default, `Record::None`), it points
/// at a port nothing listens on, so a request that was not replayed could not be answered
/// by anything; with `FACTUM_RECORD=missing` or `all`, at the real server, to record.
fn llama_client(cassette: &Cassette) -> Client {
    let url = if cassette.record_mode() == Record::None {
        "http://127.0.0.1:9/v1".to_owned()
    } else {
        factum_tests::llama::url()
    };
    Client::builder()
        .provider(Provider::LlamaCpp)
        .base_url(url)
        .model(MODEL)
        .cassette(cassette.clone())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_cassette_recorded_against_llama_server_replays_with_no_server() {
    let cassette = Cassette::open(recorded()).unwrap();
    let client = llama_client(&cassette);
    // The quickstart, as llama-server answered it (send() streams on llama.cpp).
    let out = factum_tests::llama::quickstart(&client).await;
    assert!(!out.attempts.is_empty());
    assert!(
        out.usage.total_tokens > 0,
        "the recorded usage: {:?}",
        out.usage
    );
    // Recorded with the default compact prompt: the server counted at most 120 tokens.
    let prompt = out.attempts[0].usage.prompt_tokens;
    assert!(prompt > 0 && prompt <= 120, "{prompt} prompt tokens");
    // A streamed extraction, with the partials the recorded events give.
    let events: Vec<_> = client
        .extraction::<factum_tests::llama::Person>("Mary Major, 41")
        .stream()
        .collect()
        .await;
    let partials = events
        .iter()
        .filter(|e| matches!(e, Ok(StreamEvent::Partial(_))))
        .count();
    assert!(partials >= 2, "{events:?}");
    let Some(Ok(StreamEvent::Done(mary))) = events.last() else {
        panic!("{events:?}");
    };
    assert_eq!(mary.value.age, 41);
    // As recorded: the small model looped on the email once, and the runaway guard hung
    // up on that reply at the same place it did live; the re-ask's reply was whole.
    let failures: Vec<_> = mary.attempts.iter().map(|a| a.failure.clone()).collect();
    assert_eq!(
        failures,
        [Some(factum::AttemptFailure::Truncated), None],
        "{:#?}",
        mary.attempts
    );
    cassette.assert_all_used();
}

#[tokio::test]
async fn a_changed_prompt_has_no_recording_and_the_error_names_the_difference() {
    let cassette = Cassette::open(recorded()).unwrap().mode(Record::None);
    let client = llama_client(&cassette);
    let error = client
        .extraction::<factum_tests::llama::Person>("John Doe, john@example.com, 30")
        .instructions("Read the whole line before answering.")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport);
    let message = error.to_string();
    assert!(
        message.contains("no recording of this request"),
        "{message}"
    );
    assert!(message.contains("/messages/0/content"), "{message}");
    assert!(message.contains("FACTUM_RECORD=missing"), "{message}");
    // So is another model.
    let other = Client::builder()
        .provider(Provider::LlamaCpp)
        .base_url("http://127.0.0.1:9/v1")
        .model("another-model")
        .cassette(cassette.clone())
        .build()
        .unwrap();
    let error = other
        .extract::<factum_tests::llama::Person>("John Doe, john@example.com, 30")
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("/model: \"another-model\" here"),
        "{error}"
    );
}

/// A fresh cassette path for one test.
fn scratch(test: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "factum-cassette-{test}-{}.jsonl",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    path
}

const TEXT: &str = "John Doe, john@example.com, 30";

type Person = factum_tests::http::Person;

/// A client on `script` behind `cassette`, reading the mocked values as they are.
fn taped(script: &Script, cassette: &Cassette) -> Client {
    Client::builder()
        .scripted(script.clone())
        .grounding(factum::Grounding::Off)
        .cassette(cassette.clone())
        .build()
        .unwrap()
}

/// Two identical requests answered differently, then a streamed one: their ages, and
/// the partials the stream showed.
async fn three_calls(client: &Client) -> (u8, u8, usize) {
    let first = client.extraction::<Person>(TEXT).send().await.unwrap();
    let second = client.extraction::<Person>(TEXT).send().await.unwrap();
    let streamed: Vec<_> = client.extraction::<Person>(TEXT).stream().collect().await;
    assert!(
        matches!(streamed.last(), Some(Ok(StreamEvent::Done(_)))),
        "{streamed:?}"
    );
    let partials = streamed
        .iter()
        .filter(|e| matches!(e, Ok(StreamEvent::Partial(_))))
        .count();
    (first.value.age, second.value.age, partials)
}

#[tokio::test]
async fn what_is_recorded_replays_in_order_with_no_transport_called() {
    let path = scratch("order");
    let script = Script::new()
        .reply(JOHN_JSON)
        .reply(JOHN_JSON.replace("30", "31"))
        .stream([r#"{"name": "John Doe", "age": 3"#, r#"0, "email": null}"#]);
    let recording = Cassette::open(&path).unwrap().mode(Record::Missing);
    let (first, second, _) = three_calls(&taped(&script, &recording)).await;
    assert_eq!((first, second), (30, 31));
    script.assert_done();
    assert_eq!(recording.len(), 3);

    // Replayed on a script with no steps: nothing reaches it.
    let empty = Script::new();
    let replay = Cassette::open(&path).unwrap().mode(Record::None);
    let client = taped(&empty, &replay);
    let (first, second, partials) = three_calls(&client).await;
    assert_eq!((first, second), (30, 31));
    assert!(partials >= 1);
    replay.assert_all_used();
    assert!(empty.requests().is_empty());
    // A third identical request has no recording left.
    let error = client.extraction::<Person>(TEXT).send().await.unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("every recording of this request was used already"),
        "{message}"
    );
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn a_recorded_429_replays_as_a_429_and_is_retried() {
    let path = scratch("retry");
    let script = Script::new()
        .status_with_retry_after(429, r#"{"error": {"message": "slow down"}}"#, 0.01)
        .reply(JOHN_JSON);
    let cassette = Cassette::open(&path).unwrap().mode(Record::All);
    let client = Client::builder()
        .scripted(script)
        .cassette(cassette)
        .build()
        .unwrap();
    client.extract::<Person>(TEXT).await.unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.lines().next().unwrap().contains("factum_cassette"));
    assert!(text.contains("\"status\":429"), "{text}");

    let replay = Cassette::open(&path).unwrap().mode(Record::None);
    let client = Client::builder()
        .scripted(Script::new())
        .cassette(replay.clone())
        .build()
        .unwrap();
    let out = client.extraction::<Person>(TEXT).send().await.unwrap();
    assert_eq!(out.attempts.len(), 1);
    replay.assert_all_used();
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn the_key_and_redacted_headers_are_never_written() {
    let server = MockServer::start().await;
    respond(&server, chat(JOHN_JSON, 40, 12)).await;
    let path = scratch("redact");
    let cassette = Cassette::open(&path)
        .unwrap()
        .mode(Record::All)
        .redact(["Accept"]);
    let client = builder(&server, Provider::Dria)
        .cassette(cassette)
        .build()
        .unwrap();
    client.extract::<Person>(TEXT).await.unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains(KEY), "{text}");
    assert!(
        !text.to_ascii_lowercase().contains("authorization"),
        "{text}"
    );
    assert!(!text.contains("\"accept\""), "{text}");
    assert!(text.contains("\"content-type\""), "{text}");
    // Replayed with no server and no key: a hosted provider needs none to replay.
    drop(server);
    let replay = Cassette::open(&path).unwrap().mode(Record::None);
    let client = Client::builder()
        .provider(Provider::Dria)
        .model("qwen3.5:9b")
        .grounding(factum::Grounding::Off)
        .cassette(replay.clone())
        .build()
        .unwrap();
    let person = client.extract::<Person>(TEXT).await.unwrap();
    assert_eq!(person.name, "John Doe");
    replay.assert_all_used();
    let _ = std::fs::remove_file(&path);
}

#[test]
#[should_panic(expected = "were not asked for")]
fn assert_all_used_reports_recordings_no_test_asked_for() {
    Cassette::open(recorded()).unwrap().assert_all_used();
}

#[test]
fn a_file_that_is_not_a_cassette_is_refused_with_its_line() {
    let path = scratch("bad");
    std::fs::write(&path, "{\"factum_cassette\":1}\n{\"request\": 3}\n").unwrap();
    let error = Cassette::open(&path).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    assert!(error.to_string().contains("line 2"), "{error}");
    std::fs::write(&path, "{\"factum_cassette\":99}\n").unwrap();
    assert!(
        Cassette::open(&path)
            .unwrap_err()
            .to_string()
            .contains("format 99")
    );
    let _ = std::fs::remove_file(&path);
}
