//! Extracts a nested invoice with a list of lines.
//!
//! Runs on Dria with `FACTUM_API_KEY`/`DRIA_API_KEY`, on `FACTUM_BASE_URL`, or else on
//! the local llama-server that `scripts/llama-server.sh` builds and starts.
//!
//! ```text
//! cargo run -p factum-examples --example invoice
//! ```

use factum::Extract;
use serde::Deserialize;

mod common;

/// An invoice found in the text.
#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code, reason = "the fields are shown through Debug")]
#[extract(instructions = "Amounts are in the invoice's own currency, as numbers without symbols.")]
struct Invoice {
    /// The invoice number exactly as printed.
    number: String,
    /// Who sent the invoice.
    seller: Party,
    /// Who pays it.
    buyer: Party,
    /// One entry per billed item.
    #[extract(length(min = 1))]
    lines: Vec<Line>,
    /// The total to pay.
    total: f64,
}

/// A company or person on the invoice.
#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code, reason = "the fields are shown through Debug")]
struct Party {
    /// Name as printed.
    name: String,
    /// Postal address, if given.
    address: Option<String>,
}

/// One billed item.
#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code, reason = "the fields are shown through Debug")]
struct Line {
    /// What was billed.
    description: String,
    /// How many.
    #[extract(range(min = 1))]
    quantity: u32,
    /// Price of one.
    unit_price: f64,
}

const TEXT: &str = "INVOICE INV-2024-0042\n\
From: Acme Tools Ltd, 1 Forge Lane, Sheffield\n\
Bill to: Jane Smith\n\
3 x Claw hammer @ 12.50\n\
1 x Tape measure (5 m) @ 7.99\n\
Total due: 45.49";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    common::report(run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let client = common::client()?;
    let out = client
        .extraction::<Invoice>(TEXT)
        .max_tokens(1024)
        .send()
        .await?;
    println!("{:#?}", out.value);
    let sum: f64 = out
        .value
        .lines
        .iter()
        .map(|l| f64::from(l.quantity) * l.unit_price)
        .sum();
    println!("lines sum to {sum:.2}; stated total {:.2}", out.value.total);
    eprintln!("{} attempt(s), {:?}", out.attempts.len(), out.usage);
    Ok(())
}
