//! The factum side of the peer benchmark (`scripts/peer-bench.sh` runs it beside Python
//! `instructor`): extracts the DESIGN.md `Person` from every text of
//! `tests/data/people.jsonl` on the real llama-server and prints one JSON line with the
//! success rate, model calls per success, prompt tokens per call (as the server counts
//! them), exact-match accuracy per field, and wall time.
//!
//! ```text
//! FACTUM_LLAMA_URL=http://127.0.0.1:8089/v1 cargo bench -p factum-tests --bench peer
//! ```
//!
//! `PEER_TRACE=1` prints every attempt's raw text and failure on stderr.
//!
//! Items run one at a time (`PEER_CONCURRENCY` changes it), as the Python side does, so
//! the wall times compare. Without a server it says so and exits successfully: it is a
//! benchmark, not a test.

#![allow(
    clippy::missing_panics_doc,
    reason = "a benchmark: a failure is a panic with its message"
)]

use std::time::{Duration, Instant};

use factum::{Client, Provider};
use factum_tests::llama::Person;
use futures_util::StreamExt as _;
use serde::Deserialize;
use serde_json::{Value, json};

/// `max_tokens` on both sides (the first attempt's: factum doubles it after a reply cut
/// while still going somewhere): a `Person` is a few dozen tokens, and a wandering reply
/// from the tiny model should not run on for thousands. Both sides also sample at
/// temperature 0 and re-ask at most twice.
const MAX_TOKENS: u32 = 256;

#[derive(Deserialize)]
struct Case {
    id: String,
    text: String,
    expected: Expected,
}

#[derive(Debug, Deserialize)]
struct Expected {
    name: String,
    age: u8,
    email: Option<String>,
}

/// What the run added up to.
#[derive(Default)]
struct Tally {
    successes: usize,
    calls: usize,
    prompt_tokens: u64,
    /// Exact matches of name, age and email.
    right: [usize; 3],
}

impl Tally {
    fn add(&mut self, expected: &Expected, result: &factum::Result<factum::Extracted<Person>>) {
        let attempts = match result {
            Ok(out) => &out.attempts,
            Err(e) => e.attempts(),
        };
        self.calls += attempts.len();
        self.prompt_tokens += attempts.iter().map(|a| a.usage.prompt_tokens).sum::<u64>();
        if let Ok(out) = result {
            self.successes += 1;
            let p = &out.value;
            self.right[0] += usize::from(p.name == expected.name);
            self.right[1] += usize::from(p.age == expected.age);
            self.right[2] += usize::from(p.email == expected.email);
        }
    }

    fn report(&self, cases: usize, wall: Duration) -> Value {
        let per = |n: usize, d: usize| if d == 0 { 0.0 } else { n as f64 / d as f64 };
        json!({
            "system": "factum",
            "mode": "json_schema",
            "items": cases,
            "success_rate": per(self.successes, cases),
            "calls_per_success": per(self.calls, self.successes),
            "prompt_tokens_per_call": per(self.prompt_tokens as usize, self.calls),
            "accuracy": {
                "name": per(self.right[0], cases),
                "age": per(self.right[1], cases),
                "email": per(self.right[2], cases),
            },
            "wall_secs": wall.as_secs_f64(),
        })
    }
}

/// With `PEER_TRACE` set, one case's every attempt on stderr: its raw text and why it
/// failed, then the value beside the expected one.
fn trace(case: &Case, result: &factum::Result<factum::Extracted<Person>>) {
    if std::env::var_os("PEER_TRACE").is_none() {
        return;
    }
    let attempts = match result {
        Ok(out) => &out.attempts,
        Err(e) => e.attempts(),
    };
    eprintln!("peer: factum: {}: {:?}", case.id, case.text);
    for (n, attempt) in attempts.iter().enumerate() {
        let failure = attempt
            .failure
            .as_ref()
            .map_or_else(|| "ok".to_owned(), ToString::to_string);
        eprintln!(
            "  attempt {}: {} prompt tokens: {:?} -> {failure}",
            n + 1,
            attempt.usage.prompt_tokens,
            attempt.raw
        );
    }
    match result {
        Ok(out) => eprintln!("  value {:?}\n  expected {:?}", out.value, case.expected),
        Err(e) => eprintln!("  error {e}"),
    }
}

fn cases() -> Vec<Case> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/people.jsonl");
    std::fs::read_to_string(path)
        .expect("tests/data/people.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("a case"))
        .collect()
}

/// The llama-server's base URL, when it answers its health check.
async fn server() -> Option<String> {
    let url =
        std::env::var("FACTUM_LLAMA_URL").unwrap_or_else(|_| "http://127.0.0.1:8089/v1".to_owned());
    let health = format!(
        "{}/health",
        url.trim_end_matches('/').trim_end_matches("/v1")
    );
    let up = reqwest::get(&health)
        .await
        .is_ok_and(|r| r.status().is_success());
    if !up {
        eprintln!("peer: no llama-server at {url}; skipped (see scripts/peer-bench.sh)");
    }
    up.then_some(url)
}

#[tokio::main]
async fn main() {
    let Some(url) = server().await else {
        return;
    };
    let concurrency = std::env::var("PEER_CONCURRENCY")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(1);
    let client = Client::builder()
        .provider(Provider::LlamaCpp)
        .base_url(url)
        .timeout(Duration::from_secs(120))
        .max_tokens(MAX_TOKENS)
        .temperature(0.0)
        .build()
        .expect("client");
    let cases = cases();
    let texts: Vec<String> = cases.iter().map(|c| c.text.clone()).collect();
    let start = Instant::now();
    let results: Vec<_> = client
        .extract_batch::<Person>(texts)
        .concurrency(concurrency)
        .max_retries(2)
        .stream()
        .collect()
        .await;
    let wall = start.elapsed();
    let mut tally = Tally::default();
    for (index, result) in &results {
        let case = &cases[*index];
        if let Err(error) = result {
            eprintln!("peer: factum: {}: {error}", case.id);
        }
        trace(case, result);
        tally.add(&case.expected, result);
    }
    println!("{}", tally.report(cases.len(), wall));
}
