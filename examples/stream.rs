//! Streams an extraction: prints each partial `Person` as the model writes it, then the
//! validated result; then streams a list item by item.
//!
//! With `FACTUM_API_KEY` (or `DRIA_API_KEY`) set, it runs on the Dria inference API, or on
//! `FACTUM_BASE_URL` when that is set. With neither, it runs on the project's local
//! llama-server (`scripts/llama-server.sh start`), which streams token by token.
//!
//! ```text
//! cargo run -p factum-examples --example stream
//! ```

use factum::{Extract, StreamEvent};
use futures_util::StreamExt as _;
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
    let client = common::streaming_client()?;
    let mut stream = client
        .extraction::<Person>("Ada Lovelace, ada@analytical.engine, 36")
        .stream();
    while let Some(event) = stream.next().await {
        match event? {
            StreamEvent::Partial(partial) => println!("partial: {partial:?}"),
            StreamEvent::Reask(failed) => {
                eprintln!(
                    "re-asking: {}",
                    failed.failure.map(|f| f.to_string()).unwrap_or_default()
                );
            }
            StreamEvent::Done(out) => {
                println!("done: {:?} ({} tokens)", out.value, out.usage.total_tokens);
            }
            _ => {}
        }
    }
    let mut people = client
        .extraction::<Vec<Person>>("John Doe is 30. Mary Jones is 45, mary@jones.example.")
        .stream_items();
    while let Some(person) = people.next().await {
        match person {
            Ok(person) => println!("item: {person:?}"),
            Err(e) => eprintln!("item rejected: {e}"),
        }
    }
    Ok(())
}
