//! Streaming end to end against the real llama-server (SmolLM2-135M-Instruct on
//! 127.0.0.1, started by `scripts/llama-server.sh`; URL from `FACTUM_LLAMA_URL`): partials
//! grow as the model writes, the final value is right, usage is reported, list items
//! arrive one by one, and the runaway guard cuts a looping reply early.

use std::time::Instant;

use factum::{Extract, StreamEvent};
use factum_tests::llama::{Person, client};
use futures_util::StreamExt as _;
use serde::Deserialize;

#[tokio::test]
async fn partials_grow_and_the_final_value_is_right_with_usage() {
    let client = client().await;
    let mut stream = client
        .extraction::<Person>("John Doe, john@example.com, 30")
        .stream();
    let mut names = Vec::new();
    let mut done = None;
    while let Some(event) = stream.next().await {
        match event.unwrap() {
            StreamEvent::Partial(p) => names.extend(p.name),
            StreamEvent::Done(out) => done = Some(out),
            _ => {}
        }
    }
    let out = done.expect("the stream ends with Done");
    assert_eq!(
        out.value,
        Person {
            name: "John Doe".into(),
            age: 30,
            email: Some("john@example.com".into()),
        }
    );
    assert!(
        names.len() >= 2,
        "the name grew over several partials: {names:?}"
    );
    assert!(
        names.windows(2).all(|w| w[1].starts_with(w[0].as_str())),
        "{names:?}"
    );
    assert_eq!(names.last().map(String::as_str), Some("John Doe"));
    assert!(
        out.usage.prompt_tokens > 0 && out.usage.completion_tokens > 0,
        "{:?}",
        out.usage
    );
}

#[tokio::test]
async fn list_items_arrive_one_by_one() {
    let client = client().await;
    let people: Vec<Person> = client
        .extraction::<Vec<Person>>("John Doe is 30. Mary Jones is 45.")
        .stream_items()
        .filter_map(|item| async move { item.ok() })
        .collect()
        .await;
    let names: Vec<&str> = people.iter().map(|p| p.name.as_str()).collect();
    assert!(names.contains(&"John Doe"), "{people:?}");
    assert!(names.contains(&"Mary Jones"), "{people:?}");
}

/// A product listing, with tags the model tends to repeat.
#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code, reason = "only the attempts are inspected")]
struct Listing {
    /// The product's name.
    name: String,
    /// Every tag the listing gives.
    tags: Vec<String>,
}

#[tokio::test]
async fn a_looping_reply_is_cut_long_before_max_tokens() {
    let client = client().await;
    let text = "Lamp, lamp, lamp. Tags: lamp lamp lamp lamp lamp lamp lamp lamp lamp lamp lamp \
                lamp lamp lamp lamp lamp lamp lamp lamp lamp lamp lamp lamp lamp lamp.";
    let started = Instant::now();
    let result = client
        .extraction::<Listing>(text)
        .max_tokens(2048)
        .max_retries(0)
        .stream()
        .finish()
        .await;
    let attempts = match &result {
        Ok(out) => out.attempts.clone(),
        Err(e) => e.attempts().to_vec(),
    };
    let first = attempts.first().expect("one attempt was made");
    eprintln!(
        "listing: {:?} after {:?}, finish {:?}, {} completion tokens",
        first.failure,
        started.elapsed(),
        first.finish_reason,
        first.usage.completion_tokens
    );
    // Whether the model loops here depends on the model; what must hold is that no reply
    // runs to max_tokens: it ends by itself, or the guard cuts it.
    if first.finish_reason.as_deref() == Some("factum:runaway") {
        assert!(first.raw.len() < 2048 * 4, "cut early");
    } else {
        assert_ne!(first.finish_reason.as_deref(), Some("length"), "{first:?}");
    }
}
