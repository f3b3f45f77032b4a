//! Shared by the end-to-end tests against the real llama-server (SmolLM2-135M-Instruct on
//! 127.0.0.1, started by `scripts/llama-server.sh`): its URL, a client that fails loudly
//! with the fix when no server answers, and the DESIGN.md `Person`.

use std::time::Duration;

use factum::{Client, Extract, Extracted, Provider};
use serde::Deserialize;

/// The server's base URL: `FACTUM_LLAMA_URL`, else `http://127.0.0.1:8089/v1`.
pub fn url() -> String {
    std::env::var("FACTUM_LLAMA_URL").unwrap_or_else(|_| "http://127.0.0.1:8089/v1".to_owned())
}

/// A client for the local server.
///
/// # Panics
///
/// When no llama-server answers at [`url`], with the command that starts one.
pub async fn client() -> Client {
    let base = url();
    let health = format!(
        "{}/health",
        base.trim_end_matches('/').trim_end_matches("/v1")
    );
    let up = reqwest::get(&health)
        .await
        .is_ok_and(|r| r.status().is_success());
    assert!(
        up,
        "no llama-server answers at {base}: run `scripts/llama-server.sh start` (or `scripts/test.sh`)"
    );
    Client::builder()
        .provider(Provider::LlamaCpp)
        .base_url(base)
        .timeout(Duration::from_secs(120))
        .build()
        .expect("a client for the local server")
}

/// A person mentioned in the text.
#[derive(Debug, PartialEq, Deserialize, Extract)]
pub struct Person {
    /// Full name, as written.
    pub name: String,
    /// Age in whole years.
    #[extract(range(min = 0, max = 150))]
    pub age: u8,
    /// Email address, if the text gives one.
    #[extract(format = "email")]
    pub email: Option<String>,
}

/// The README's quickstart on `client`, whatever runs the model: John Doe's record from
/// one line, exactly as the text gives it.
///
/// # Panics
///
/// When the extraction fails or its value is not John Doe's.
pub async fn quickstart(client: &Client) -> Extracted<Person> {
    let out = client
        .extraction::<Person>("John Doe, john@example.com, 30")
        .send()
        .await
        .expect("the quickstart extraction");
    assert_eq!(
        out.value,
        Person {
            name: "John Doe".into(),
            age: 30,
            email: Some("john@example.com".into())
        }
    );
    out
}
