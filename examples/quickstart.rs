//! Extracts a typed `Person` from one line of text.
//!
//! With `FACTUM_API_KEY` (or `DRIA_API_KEY`) set, it runs on the Dria inference API, or on
//! `FACTUM_BASE_URL` when that is set. With neither, it runs SmolLM2-135M-Instruct in this
//! process (the examples' default `local` feature: llama.cpp through `llama-cpp-2`, as a
//! Dria node runs it), fetched once by `scripts/fetch-model.sh`. The first build compiles
//! llama.cpp, which takes about 9 minutes on 2 cores.
//!
//! ```text
//! cargo run --example quickstart
//! ```

use factum::Extract;
use serde::Deserialize;

mod common;

/// A person mentioned in the text.
#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code, reason = "the fields are shown through Debug")]
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

#[tokio::main]
async fn main() -> std::process::ExitCode {
    common::report(run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let client = common::client()?;
    eprintln!(
        "asking {} at {} ({})",
        client.model(),
        client.base_url(),
        client.provider()
    );
    let out = client
        .extraction::<Person>("John Doe, john@example.com, 30")
        .send()
        .await?;
    println!("{:#?}", out.value);
    eprintln!(
        "{} attempt(s), {} tokens, node {:?}",
        out.attempts.len(),
        out.usage.total_tokens,
        out.node_id
    );
    Ok(())
}
