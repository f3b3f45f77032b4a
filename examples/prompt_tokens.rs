//! Prompt tokens against accuracy, for each [`PromptStyle`], on the same texts in one run:
//! the 30 people of `tests/data/people.jsonl`, three rounds, on the README's llama-server (or the server
//! at `FACTUM_BASE_URL`), the styles alternating text by text so both see the same load.
//!
//! ```text
//! scripts/llama-server.sh start
//! cargo run --release --example prompt_tokens
//! ```
//!
//! For each style it prints the prompt tokens of a first attempt (the model's own count),
//! the share of texts that gave a value, and per-field accuracy against the expected
//! values (name, age, email), first attempts and re-asks alike as a user gets them.
//! With `FACTUM_SHOW_MISSES=1` it also prints, on stderr, each text read wrong and what
//! was read.

use std::time::Duration;

use factum::{Client, Extract, PromptStyle, Provider};
use serde::Deserialize;

/// A person mentioned in the text.
#[derive(Debug, Deserialize, Extract)]
struct Person {
    /// Full name, as written.
    name: String,
    /// Age in whole years.
    #[extract(range(min = 0, max = 150))]
    age: u8,
    /// Email address, if the text gives one.
    #[extract(format = "email")]
    email: Option<String>,
}

#[derive(Deserialize)]
struct Case {
    text: String,
    expected: Expected,
}

#[derive(Deserialize)]
struct Expected {
    name: String,
    age: u8,
    email: Option<String>,
}

/// One style's tally.
#[derive(Default)]
struct Tally {
    calls: usize,
    prompt_tokens: u64,
    ok: usize,
    name: usize,
    age: usize,
    email: usize,
    texts: usize,
}

impl Tally {
    fn add(
        &mut self,
        style: PromptStyle,
        case: &Case,
        result: &factum::Result<factum::Extracted<Person>>,
    ) {
        self.texts += 1;
        let attempts = match result {
            Ok(out) => &out.attempts,
            Err(e) => e.attempts(),
        };
        // A stream the runaway guard cut carries no usage; only counted replies count.
        if let Some(first) = attempts.first().filter(|a| a.usage.prompt_tokens > 0) {
            self.calls += 1;
            self.prompt_tokens += first.usage.prompt_tokens;
        }
        if std::env::var_os("FACTUM_SHOW_MISSES").is_some() {
            match result {
                Ok(out)
                    if out.value.name != case.expected.name
                        || out.value.age != case.expected.age
                        || out.value.email != case.expected.email =>
                {
                    eprintln!("{style:?} miss: {:?} -> {:?}", case.text, out.value);
                }
                Err(e) => eprintln!("{style:?} fail: {:?} -> {e}", case.text),
                Ok(_) => {}
            }
        }
        if let Ok(out) = result {
            self.ok += 1;
            self.name += usize::from(out.value.name == case.expected.name);
            self.age += usize::from(out.value.age == case.expected.age);
            self.email += usize::from(out.value.email == case.expected.email);
        }
    }

    fn print(&self, style: PromptStyle) {
        let n = self.texts.max(1) as f64;
        println!(
            "{style:?}: {:.1} prompt tokens per call, success {:.3}, name {:.3}, age {:.3}, email {:.3} ({} texts)",
            self.prompt_tokens as f64 / self.calls.max(1) as f64,
            self.ok as f64 / n,
            self.name as f64 / n,
            self.age as f64 / n,
            self.email as f64 / n,
            self.texts
        );
    }
}

fn client(url: &str, style: PromptStyle) -> factum::Result<Client> {
    Client::builder()
        .provider(Provider::LlamaCpp)
        .base_url(url)
        .timeout(Duration::from_secs(120))
        .max_tokens(256)
        .prompt_style(style)
        .build()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url =
        std::env::var("FACTUM_BASE_URL").unwrap_or_else(|_| "http://127.0.0.1:8089/v1".to_owned());
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/people.jsonl");
    let cases: Vec<Case> = std::fs::read_to_string(path)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let styles = [PromptStyle::Verbose, PromptStyle::Compact];
    let clients = [client(&url, styles[0])?, client(&url, styles[1])?];
    let mut tallies = [Tally::default(), Tally::default()];
    // Rounds over the same texts (`FACTUM_ROUNDS`, default 3): a llama-server at
    // temperature 0 is not bit-for-bit repeatable (batch shapes change with its prompt
    // cache), and a 135M model turns on near-ties, so one round moves by a text or two.
    let rounds: usize = std::env::var("FACTUM_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let runs = (0..rounds).flat_map(|_| cases.iter()).enumerate();
    for (i, case) in runs {
        // Alternate which style goes first, so neither always meets a warm cache.
        for k in [i % 2, 1 - i % 2] {
            let result = clients[k]
                .extraction::<Person>(case.text.clone())
                .send()
                .await;
            tallies[k].add(styles[k], case, &result);
        }
    }
    for (style, tally) in styles.iter().zip(&tallies) {
        tally.print(*style);
    }
    Ok(())
}
