//! End-to-end extraction in this process (feature `local`): SmolLM2-135M-Instruct run by
//! llama.cpp through `llama-cpp-2`, as a Dria node runs a model. The model file comes from
//! `FACTUM_LOCAL_MODEL`, or from `scripts/fetch-model.sh` (cached after the first run).
//!
//! Nothing is mocked. Sampling is greedy (temperature 0), so results repeat for a given
//! build and model. One client, loaded once, serves every test of this binary; its calls
//! queue on its one generation thread.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use factum::{Client, ErrorKind, Mode, Provider};
use factum_tests::llama::{Person, quickstart};

fn model_path() -> PathBuf {
    if let Some(path) = std::env::var_os("FACTUM_LOCAL_MODEL") {
        return path.into();
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/fetch-model.sh");
    let output = std::process::Command::new("bash")
        .arg(&script)
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().into()
}

/// The one client of this binary: the model loads once.
fn client() -> &'static Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT.get_or_init(|| Client::local(model_path()).expect("the model loads"))
}

#[tokio::test]
async fn quickstart_person_in_process() {
    let client = client();
    assert_eq!(client.provider(), Provider::LlamaCpp);
    assert!(
        client.base_url().starts_with("local:"),
        "{}",
        client.base_url()
    );
    assert_eq!(
        client.mode(client.model()),
        Mode::JsonSchema { strict: false }
    );
    let out = quickstart(client).await;
    let usage = out.usage;
    assert!(
        usage.prompt_tokens > 50 && usage.completion_tokens > 5,
        "{usage:?}"
    );
    assert_eq!(
        usage.total_tokens,
        usage.prompt_tokens + usage.completion_tokens
    );
    // The reply ends on the brace that closes the value: no trailing space was generated.
    let raw = &out.attempts.last().unwrap().raw;
    assert!(raw.ends_with('}'), "{raw:?}");
}

#[tokio::test]
async fn concurrent_extractions_on_clones_queue_and_all_finish() {
    let texts = [
        "John Doe, john@example.com, 30",
        "Bo Chan is 52 (bo@chan.example)",
        "John Doe, john@example.com, 30",
    ];
    let calls = texts.map(|text| {
        let client = client().clone();
        tokio::spawn(async move {
            let call = client.extraction::<Person>(text).max_tokens(100);
            call.max_retries(0).send().await
        })
    });
    let mut people = Vec::new();
    for call in calls {
        people.push(call.await.unwrap().unwrap().value);
    }
    assert_eq!(people[1].name, "Bo Chan");
    assert_eq!(people[0].name, "John Doe");
    assert_eq!(people[2].name, "John Doe");
}

/// A long reply: many people, each a full object.
fn crowd() -> String {
    (1..=40)
        .map(|i| format!("Person{i} Surname{i} is {} years old.", 20 + i))
        .collect::<Vec<_>>()
        .join(" ")
}

/// How long the quickstart extraction takes now, on this (shared, noisy) machine.
async fn quickstart_time(client: &Client) -> Duration {
    let start = Instant::now();
    let person: Person = client
        .extract("John Doe, john@example.com, 30")
        .await
        .unwrap();
    assert_eq!(person.name, "John Doe");
    start.elapsed()
}

#[tokio::test]
async fn dropping_the_future_stops_generation_at_the_next_token() {
    let client = client();
    let baseline = quickstart_time(client).await;
    // Up to 2000 tokens: many times the quickstart's 30, had it kept going.
    let long = client
        .extraction::<Vec<Person>>(crowd())
        .max_tokens(2000)
        .max_retries(0)
        .send();
    let dropped = tokio::time::timeout(baseline, long).await;
    assert!(dropped.is_err(), "the long extraction finished too soon");
    // Had generation kept going, this call would queue behind it.
    let after = quickstart_time(client).await;
    assert!(
        after < baseline * 4,
        "{after:?} after a drop, {baseline:?} before"
    );
}

#[tokio::test]
async fn max_tokens_holds() {
    let error = client()
        .extraction::<Vec<Person>>(crowd())
        .max_tokens(12)
        .max_retries(0)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Truncated, "{error:?}");
    let attempt = &error.attempts()[0];
    assert_eq!(attempt.usage.completion_tokens, 12, "{attempt:?}");
}

#[tokio::test]
async fn the_deadline_holds() {
    let client = Client::builder()
        .local(model_path())
        .deadline(Duration::from_millis(800))
        .build()
        .unwrap();
    let start = Instant::now();
    let error = client
        .extraction::<Vec<Person>>(crowd())
        .max_tokens(2000)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Deadline, "{error:?}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn prompt_only_mode_runs_without_a_grammar() {
    let out = client()
        .extraction::<Person>("John Doe, john@example.com, 30")
        .mode(Mode::PromptOnly)
        .send()
        .await;
    // A 135M model may or may not write JSON unprompted by a grammar; the call must end
    // either way, with every attempt recorded.
    match out {
        Ok(out) => assert_eq!(out.value.name, "John Doe"),
        Err(error) => assert!(!error.attempts().is_empty(), "{error:?}"),
    }
}

#[tokio::test]
async fn a_local_stream_shows_partials_while_the_model_writes() {
    use futures_util::StreamExt as _;
    let client = client();
    let start = Instant::now();
    let mut stream = client
        .extraction::<Person>("John Doe, john@example.com, 30")
        .stream();
    let mut partials = Vec::new();
    let mut done = None;
    while let Some(event) = stream.next().await {
        match event.unwrap() {
            factum::StreamEvent::Partial(p) => partials.push((start.elapsed(), p)),
            factum::StreamEvent::Done(out) => done = Some((start.elapsed(), out)),
            _ => {}
        }
    }
    let (done_at, out) = done.expect("the stream ends with its value");
    assert_eq!(out.value.name, "John Doe");
    // Token by token, not the whole reply at the end: several snapshots, the name growing.
    assert!(partials.len() >= 3, "{partials:?}");
    let names: Vec<&str> = partials
        .iter()
        .filter_map(|(_, p)| p.name.as_deref())
        .collect();
    assert!(
        names.iter().any(|n| !n.is_empty() && *n != "John Doe"),
        "no name prefix was shown: {names:?}"
    );
    assert!(partials[0].0 < done_at);
}

/// When each of a streamed extraction's events came, from `start`.
async fn event_times(client: &Client, text: &str, start: Instant) -> (Duration, Duration, Person) {
    use futures_util::StreamExt as _;
    let mut stream = client.extraction::<Person>(text).stream();
    let mut first = None;
    while let Some(event) = stream.next().await {
        match event.unwrap() {
            factum::StreamEvent::Partial(_) => {
                first.get_or_insert_with(|| start.elapsed());
            }
            factum::StreamEvent::Done(out) => {
                return (first.unwrap_or_default(), start.elapsed(), out.value);
            }
            _ => {}
        }
    }
    panic!("the stream ended without its value");
}

#[tokio::test]
async fn two_extractions_on_a_parallel_client_decode_together() {
    let client = Client::builder()
        .local(model_path())
        .local_parallel(2)
        .build()
        .expect("the model loads");
    let start = Instant::now();
    let (a, b) = tokio::join!(
        event_times(&client, "John Doe, john@example.com, 30", start),
        event_times(&client, "Mary Major, 41", start),
    );
    assert_eq!(a.2.name, "John Doe");
    assert_eq!(b.2.age, 41);
    // Each showed its first partial before the other was done: they overlapped in time,
    // where a client serving one call at a time finishes one before it starts the other.
    assert!(
        a.0 < b.1 && b.0 < a.1,
        "first partials {:?}, {:?}; done {:?}, {:?}",
        a.0,
        b.0,
        a.1,
        b.1
    );
}

/// A code the text never gives: the model would not write either value on its own.
#[derive(Debug, PartialEq, serde::Deserialize, factum::Extract)]
enum Code {
    Xq7,
    Zv9,
}

/// A person and a code for them.
#[derive(Debug, serde::Deserialize, factum::Extract)]
struct Coded {
    /// Full name, as written.
    name: String,
    /// Their code.
    code: Code,
}

/// The model draws first and the grammar is asked about that one token; where it refuses
/// (no model writes `Xq7` unprompted), the whole vocabulary goes through the grammar. With
/// no re-ask allowed, the first reply must already be the schema's.
#[tokio::test]
async fn the_grammar_holds_a_reply_the_model_would_not_write() {
    let out = client()
        .extraction::<Coded>("John Doe, john@example.com, 30")
        .max_retries(0)
        .max_tokens(64)
        .send()
        .await
        .expect("the grammar keeps the first reply in the schema");
    assert!(matches!(out.value.code, Code::Xq7 | Code::Zv9));
    assert!(!out.value.name.is_empty());
    let raw: serde_json::Value = serde_json::from_str(&out.attempts[0].raw).unwrap();
    assert!(raw["code"] == "Xq7" || raw["code"] == "Zv9", "{raw}");
}

/// Above temperature 0 the draw is top-p and a seeded random pick, made by llama.cpp from
/// the model's logits; the grammar still holds every reply, whichever token was drawn.
#[tokio::test]
async fn a_sampled_reply_still_holds_to_the_grammar() {
    for text in ["John Doe, john@example.com, 30", "Jane Roe is 41"] {
        let out = client()
            .extraction::<Coded>(text)
            .temperature(1.0)
            .max_retries(0)
            .max_tokens(64)
            .send()
            .await
            .expect("the grammar keeps a sampled reply in the schema");
        let raw: serde_json::Value = serde_json::from_str(&out.attempts[0].raw).unwrap();
        assert!(raw["code"] == "Xq7" || raw["code"] == "Zv9", "{raw}");
        assert!(
            (out.attempts[0].temperature - 1.0).abs() < f32::EPSILON,
            "{:?}",
            out.attempts[0]
        );
    }
}
