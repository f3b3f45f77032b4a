//! Extracts a typed `Person` from one line of text.
//!
//! With `FACTUM_API_KEY` (or `DRIA_API_KEY`) set, it runs on the Dria inference API, or on
//! `FACTUM_BASE_URL` when that is set. With neither, it starts the project's local
//! llama-server (`scripts/llama-server.sh start`; the first run builds llama.cpp, which
//! takes minutes) and runs on SmolLM2-135M there.
//!
//! ```text
//! cargo run -p factum-examples --example quickstart
//! ```

use std::path::Path;
use std::process::Command;

use factum::{Client, Extract, Provider};
use serde::Deserialize;

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
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = client()?;
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

/// Dria or `FACTUM_BASE_URL` when configured, else the local llama-server.
fn client() -> Result<Client, Box<dyn std::error::Error>> {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    if set("FACTUM_API_KEY") || set("DRIA_API_KEY") || set("FACTUM_BASE_URL") {
        return Ok(Client::from_env()?);
    }
    let url = local_llama_server()?;
    Ok(Client::builder()
        .provider(Provider::LlamaCpp)
        .base_url(url)
        .model("smollm2")
        .build()?)
}

/// Starts the project's llama-server and returns its base URL.
fn local_llama_server() -> Result<String, Box<dyn std::error::Error>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/llama-server.sh");
    eprintln!("no FACTUM_API_KEY, DRIA_API_KEY or FACTUM_BASE_URL: using a local llama-server");
    eprintln!(
        "the first run downloads and builds llama.cpp and fetches SmolLM2-135M (several minutes \
         on 2 cores); progress follows"
    );
    // The script reports progress on stderr, which is inherited and shown as it happens.
    let status = Command::new("bash").arg(&script).arg("start").status()?;
    if !status.success() {
        return Err(format!("`{} start` failed ({status})", script.display()).into());
    }
    let output = Command::new("bash").arg(&script).arg("url").output()?;
    let url = String::from_utf8(output.stdout)?.trim().to_owned();
    if !output.status.success() || url.is_empty() {
        return Err(format!("`{} url` printed no URL", script.display()).into());
    }
    Ok(url)
}
