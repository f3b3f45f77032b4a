//! Extracts a `Person` from every document of a JSONL file (`{"id", "text"}` per line) as
//! one batch, with a journal and a progress bar, and writes `out.jsonl`. Run it again and
//! it resumes: documents the journal already holds a value for are neither sent nor paid
//! for again; failed ones are retried.
//!
//! With `FACTUM_API_KEY` (or `DRIA_API_KEY`) set, it runs on the Dria inference API, or on
//! `FACTUM_BASE_URL` when that is set; with neither, on the project's local llama-server
//! (see the quickstart).
//!
//! ```text
//! cargo run -p factum-examples --example batch -- [input.jsonl] [out.jsonl]
//! ```
//!
//! The defaults are `tests/data/people.jsonl` and `out.jsonl`; the journal is kept beside
//! the output as `out.jsonl.journal`. `out.jsonl` is rebuilt from the journal at the end of
//! every run, one line per document: `{"id", "value"}` or `{"id", "error"}`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use factum::Extract;
use futures_util::StreamExt as _;
use serde::Deserialize;
use serde_json::{Value, json};

mod common;

/// A person mentioned in the text.
#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code, reason = "the values are written from the journal")]
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

/// One input document.
#[derive(Deserialize)]
struct Document {
    id: Value,
    text: String,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    common::report(run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let default_input = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/people.jsonl");
    let input = args.next().map_or(default_input, PathBuf::from);
    let output = PathBuf::from(args.next().unwrap_or_else(|| "out.jsonl".to_owned()));
    let journal = PathBuf::from(format!("{}.journal", output.display()));
    let documents = read_documents(&input)?;
    let client = common::client()?;
    eprintln!(
        "{} documents from {}, asking {} at {}; journal {}",
        documents.len(),
        input.display(),
        client.model(),
        client.base_url(),
        journal.display()
    );
    let texts: Vec<String> = documents.iter().map(|d| d.text.clone()).collect();
    let mut failed = 0;
    let mut stream = client
        .extract_batch::<Person>(texts)
        .concurrency(4)
        .max_retries(2)
        .journal(&journal)
        .progress_bar()
        .stream();
    while let Some((index, result)) = stream.next().await {
        if let Err(error) = result {
            failed += 1;
            eprintln!("document {}: {error}", documents[index].id);
        }
    }
    let written = write_output(&journal, &documents, &output)?;
    eprintln!(
        "{failed} failed in this run; {written} of {} documents in {}",
        documents.len(),
        output.display()
    );
    Ok(())
}

fn read_documents(path: &Path) -> Result<Vec<Document>, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut documents = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let document = serde_json::from_str(line)
            .map_err(|e| format!("{}:{}: {e}", path.display(), number + 1))?;
        documents.push(document);
    }
    Ok(documents)
}

/// Writes one line per document from the journal's last line for it; returns how many
/// documents have one.
fn write_output(
    journal: &Path,
    documents: &[Document],
    output: &Path,
) -> Result<usize, Box<dyn std::error::Error>> {
    let mut last: BTreeMap<usize, Value> = BTreeMap::new();
    for line in std::fs::read_to_string(journal)?.lines() {
        // A torn last line is the batch's to warn about; here it is simply not a record.
        let Ok(record) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(index) = record["index"].as_u64().map(|i| i as usize) else {
            continue;
        };
        // A value, once there, is kept: a later run skips the document.
        if last
            .get(&index)
            .is_none_or(|old| old.get("value").is_none())
        {
            last.insert(index, record);
        }
    }
    let mut out = String::new();
    for (index, record) in &last {
        let Some(document) = documents.get(*index) else {
            continue;
        };
        let line = match record.get("value") {
            Some(value) => json!({"id": document.id, "value": value}),
            None => json!({"id": document.id, "error": record["error"]}),
        };
        out.push_str(&line.to_string());
        out.push('\n');
    }
    std::fs::write(output, out)?;
    Ok(last.len())
}
