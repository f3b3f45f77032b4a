//! Streaming against buffered calls on the real llama-server (start it first:
//! `scripts/llama-server.sh start`; URL from `FACTUM_LLAMA_URL`):
//!
//! 1. what `send()` would cost on top of the stream: the same extractions, alternating
//!    `send()` and `stream().finish()`, as a ratio of their total wall times;
//! 2. the runaway guard: a reply SmolLM2 loops on, buffered until `max_tokens` against
//!    streamed and cut by the guard.
//!
//! ```text
//! cargo bench -p factum-tests --bench stream_send
//! ```

use std::time::{Duration, Instant};

use factum::{Client, Extract};
use factum_tests::llama::{Person, client};
use serde::Deserialize;

const TEXTS: [&str; 6] = [
    "John Doe, john@example.com, 30",
    "Mary Jones is 45; write to mary@jones.example",
    "Bob Stone, 52 years old",
    "Alice Smith (alice@smith.example), aged 28",
    "Carlos Ruiz, 61, carlos@ruiz.example",
    "Dana White is 19",
];

/// A product listing, with tags the model tends to repeat.
#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code, reason = "only timed")]
struct Listing {
    /// The product's name.
    name: String,
    /// Every tag the listing gives.
    tags: Vec<String>,
}

const LOOPING: &str = "Lamp, lamp, lamp. Tags: lamp lamp lamp lamp lamp lamp lamp lamp lamp lamp \
                       lamp lamp lamp lamp lamp lamp lamp lamp lamp lamp lamp lamp lamp lamp.";

async fn buffered_against_streamed(client: &Client) {
    let (mut buffered, mut streamed) = (Duration::ZERO, Duration::ZERO);
    let (mut same, mut right) = (0, 0);
    for text in TEXTS {
        let start = Instant::now();
        let sent = client
            .extraction::<Person>(text)
            .send()
            .await
            .map(|o| o.value);
        buffered += start.elapsed();
        let start = Instant::now();
        let finished = client
            .extraction::<Person>(text)
            .stream()
            .finish()
            .await
            .map(|o| o.value);
        streamed += start.elapsed();
        same += usize::from(sent.as_ref().ok() == finished.as_ref().ok());
        right += usize::from(finished.is_ok());
    }
    println!(
        "1. {} extractions: send() {:.2} s, stream().finish() {:.2} s, ratio {:.2}× (same value {same}/{}, streamed ok {right}/{})",
        TEXTS.len(),
        buffered.as_secs_f64(),
        streamed.as_secs_f64(),
        streamed.as_secs_f64() / buffered.as_secs_f64(),
        TEXTS.len(),
        TEXTS.len(),
    );
}

async fn the_runaway_guard(client: &Client) {
    let start = Instant::now();
    let sent = client
        .extraction::<Listing>(LOOPING)
        .max_tokens(1024)
        .max_retries(0)
        .send()
        .await;
    let buffered = start.elapsed();
    let start = Instant::now();
    let streamed = client
        .extraction::<Listing>(LOOPING)
        .max_tokens(1024)
        .max_retries(0)
        .stream()
        .finish()
        .await;
    let guarded = start.elapsed();
    let finish = |r: &factum::Result<factum::Extracted<Listing>>| match r {
        Ok(out) => out.attempts.last().and_then(|a| a.finish_reason.clone()),
        Err(e) => e.attempts().last().and_then(|a| a.finish_reason.clone()),
    };
    println!(
        "2. a looping reply at max_tokens 1024: buffered {:.2} s (finish {:?}), streamed with the guard {:.2} s (finish {:?}), ratio {:.2}×",
        buffered.as_secs_f64(),
        finish(&sent),
        guarded.as_secs_f64(),
        finish(&streamed),
        guarded.as_secs_f64() / buffered.as_secs_f64(),
    );
}

#[tokio::main]
async fn main() {
    let client = client().await;
    buffered_against_streamed(&client).await;
    the_runaway_guard(&client).await;
}
