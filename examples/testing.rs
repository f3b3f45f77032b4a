//! Tests of extraction code with no model and no server: a scripted re-ask whose
//! feedback is checked, the response cache answering a repeated call, and a cassette
//! recorded once and replayed with nothing behind it.
//!
//! ```text
//! cargo run --example testing
//! ```

use factum::testing::{Cassette, Record, Script};
use factum::{Cache, Client, Extract};
use serde::Deserialize;

/// An invoice's total and its lines' amounts.
#[derive(Debug, Deserialize, Extract)]
#[extract(validate = lines_add_up)]
struct Invoice {
    /// The invoice's total, as printed.
    total: f64,
    /// Every line's amount, in order.
    lines: Vec<f64>,
}

/// The lines must add up to the total.
fn lines_add_up(invoice: &Invoice) -> Result<(), String> {
    let sum: f64 = invoice.lines.iter().sum();
    if (sum - invoice.total).abs() < 0.005 {
        Ok(())
    } else {
        Err(format!(
            "the lines add up to {sum}, not the total {}",
            invoice.total
        ))
    }
}

const TEXT: &str = "Invoice: coffee 12.50, cake 4.00. Total 16.50.";

#[tokio::main(flavor = "current_thread")]
async fn main() -> factum::Result<()> {
    reask().await?;
    cache().await?;
    cassette().await
}

/// A total that does not add up is re-asked, with the validator's message.
async fn reask() -> factum::Result<()> {
    let script = Script::new()
        .reply(r#"{"total": 16.5, "lines": [12.5, 5.0]}"#)
        .reply(r#"{"total": 16.5, "lines": [12.5, 4.0]}"#);
    let client = Client::scripted(script.clone());
    let out = client.extraction::<Invoice>(TEXT).send().await?;
    let feedback = script.requests()[1]["messages"].to_string();
    assert!(feedback.contains("add up to 17.5"), "{feedback}");
    script.assert_done();
    println!(
        "re-asked once: {:?} after {} attempts; the feedback named the sum",
        out.value,
        out.attempts.len()
    );
    Ok(())
}

/// The cache answers the same request without sending it.
async fn cache() -> factum::Result<()> {
    let script = Script::new().reply(r#"{"total": 16.5, "lines": [12.5, 4.0]}"#);
    let client = Client::builder()
        .scripted(script.clone())
        .cache(Cache::memory(64))
        .build()?;
    let cold = client.extraction::<Invoice>(TEXT).send().await?;
    let warm = client.extraction::<Invoice>(TEXT).send().await?;
    assert!(!cold.cached && warm.cached);
    println!(
        "cached: {} request(s) sent for two calls; the hit's usage is the stored {:?}",
        script.requests().len(),
        warm.usage
    );
    Ok(())
}

/// A cassette: recorded once (here from a script; in a real suite against a server, with
/// FACTUM_RECORD=missing), replayed with nothing behind it.
async fn cassette() -> factum::Result<()> {
    let path = std::env::temp_dir().join(format!("factum-example-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let recording = Cassette::open(&path)?.mode(Record::All);
    let script = Script::new().reply(r#"{"total": 16.5, "lines": [12.5, 4.0]}"#);
    let client = Client::builder()
        .scripted(script)
        .cassette(recording)
        .build()?;
    client.extract::<Invoice>(TEXT).await?;
    let replay = Cassette::open(&path)?.mode(Record::None);
    let client = Client::builder()
        .scripted(Script::new())
        .cassette(replay.clone())
        .build()?;
    let invoice: Invoice = client.extract(TEXT).await?;
    replay.assert_all_used();
    println!("replayed from {}: {invoice:?}", path.display());
    let _ = std::fs::remove_file(&path);
    Ok(())
}
