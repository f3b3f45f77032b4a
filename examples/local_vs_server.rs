//! Measures the in-process backend against llama-server, both with the same model file
//! (SmolLM2-135M-Instruct Q4_1), on the fixed people set `tests/data/people_local.jsonl`,
//! in one run: success rate, per-field accuracy, tokens per second and wall time per route.
//! The routes alternate text by text, so a busy machine slows both alike. Both ask with
//! temperature 0, `max_tokens` 192 and one re-ask.
//!
//! ```text
//! scripts/llama-server.sh start
//! cargo run --example local_vs_server
//! ```
//!
//! An example rather than a `cargo bench`: a bench builds in the release profile, which
//! compiles llama.cpp a second time. llama.cpp itself is always built optimised.
//! `FACTUM_LLAMA_URL` names the server (default `http://127.0.0.1:8089/v1`).

use std::path::Path;
use std::time::{Duration, Instant};

use factum::{Client, Extract, Provider, Usage};
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

/// One text of the set and what it says.
#[derive(Debug, Deserialize)]
struct Case {
    text: String,
    name: String,
    age: u8,
    email: Option<String>,
}

/// One route's figures over the set.
#[derive(Debug, Default)]
struct Tally {
    ok: usize,
    name: usize,
    age: usize,
    email: usize,
    usage: Usage,
    wall: Duration,
}

impl Tally {
    fn add(
        &mut self,
        case: &Case,
        result: factum::Result<factum::Extracted<Person>>,
        took: Duration,
    ) {
        self.wall += took;
        match result {
            Ok(out) => {
                self.ok += 1;
                self.usage += out.usage;
                self.name += usize::from(out.value.name.trim() == case.name);
                self.age += usize::from(out.value.age == case.age);
                self.email += usize::from(out.value.email == case.email);
            }
            Err(error) => {
                eprintln!("  failed on {:?}: {error}", case.text);
                self.usage += error.usage();
            }
        }
    }

    fn print(&self, route: &str, n: usize) {
        let pct = |k: usize| 100.0 * k as f64 / n as f64;
        let secs = self.wall.as_secs_f64();
        println!(
            "{route:<13} success {:5.1}%  name {:5.1}%  age {:5.1}%  email {:5.1}%  \
             {:6.1} completion tok/s  {:6.1} total tok/s  wall {secs:6.2} s  \
             tokens {} prompt + {} completion",
            pct(self.ok),
            pct(self.name),
            pct(self.age),
            pct(self.email),
            self.usage.completion_tokens as f64 / secs,
            self.usage.total_tokens as f64 / secs,
            self.usage.prompt_tokens,
            self.usage.completion_tokens,
        );
    }
}

fn cases() -> Result<Vec<Case>, Box<dyn std::error::Error>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/people_local.jsonl");
    let text = std::fs::read_to_string(path)?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Ok(serde_json::from_str(l)?))
        .collect()
}

async fn timed(
    client: &Client,
    text: &str,
) -> (factum::Result<factum::Extracted<Person>>, Duration) {
    let start = Instant::now();
    // The same bounds on both routes: a runaway string costs at most 192 + 384 tokens.
    let call = client.extraction::<Person>(text).max_tokens(192);
    let result = call.max_retries(1).send().await;
    (result, start.elapsed())
}

/// The model file: `FACTUM_LOCAL_MODEL`, or the one `scripts/fetch-model.sh` caches.
fn model_path() -> Result<std::path::PathBuf, Box<dyn std::error::Error>> {
    if let Some(path) = std::env::var_os("FACTUM_LOCAL_MODEL") {
        return Ok(path.into());
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/fetch-model.sh");
    let output = std::process::Command::new("bash")
        .arg(&script)
        .stderr(std::process::Stdio::inherit())
        .output()?;
    if !output.status.success() {
        return Err(format!("`{}` failed", script.display()).into());
    }
    Ok(String::from_utf8(output.stdout)?.trim().into())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    run().await
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let cases = cases()?;
    let url =
        std::env::var("FACTUM_LLAMA_URL").unwrap_or_else(|_| "http://127.0.0.1:8089/v1".to_owned());
    let server = Client::builder()
        .provider(Provider::LlamaCpp)
        .base_url(url)
        .build()?;
    let load = Instant::now();
    let local = Client::local(model_path()?)?;
    println!(
        "local model loaded in {:.2} s",
        load.elapsed().as_secs_f64()
    );
    let (mut on_local, mut on_server) = (Tally::default(), Tally::default());
    for case in &cases {
        let (result, took) = timed(&local, &case.text).await;
        on_local.add(case, result, took);
        let (result, took) = timed(&server, &case.text).await;
        on_server.add(case, result, took);
    }
    println!(
        "{} texts, SmolLM2-135M-Instruct Q4_1, temperature 0",
        cases.len()
    );
    on_local.print("in-process", cases.len());
    on_server.print("llama-server", cases.len());
    Ok(())
}
