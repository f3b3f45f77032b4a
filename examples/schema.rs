//! Prints what factum derives for a domain type, offline: the source schema, the schema
//! lowered for OpenAI strict mode and for llama.cpp grammars, and the prompt rendering.
//!
//! ```text
//! cargo run --example schema
//! ```

use factum::{Dialect, Extract};
use serde::Deserialize;

/// An invoice found in the text.
#[derive(Debug, Deserialize, Extract)]
#[serde(rename_all = "camelCase")]
#[extract(instructions = "Amounts are in the invoice's own currency.")]
#[allow(dead_code)]
struct Invoice {
    /// The invoice number exactly as printed.
    #[extract(pattern = r"^[A-Z]{2}-\d{4,}$")]
    invoice_number: String,
    /// Issue date.
    #[extract(format = "date")]
    issued_on: String,
    /// Every billed line, in order.
    #[extract(length(min = 1))]
    lines: Vec<Line>,
    status: Status,
    #[serde(default)]
    notes: Option<String>,
}

/// One billed line.
#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code)]
struct Line {
    /// What was sold.
    description: String,
    /// Units sold.
    #[extract(range(min = 1))]
    quantity: u32,
    /// Price of one unit.
    #[extract(range(min = 0))]
    unit_price: f64,
}

/// Where the invoice stands.
#[derive(Debug, Deserialize, Extract)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum Status {
    /// Sent and awaiting payment.
    Open,
    /// Paid in full.
    Paid,
    /// Cancelled; nothing is owed.
    Void,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let schema = factum::schema::<Invoice>();
    println!(
        "== source schema ({})\n{}\n",
        schema.name(),
        serde_json::to_string_pretty(schema.json())?
    );
    for dialect in Dialect::ALL {
        match schema.for_dialect(dialect) {
            Ok(lowered) => println!("== {dialect}\n{}\n", serde_json::to_string_pretty(lowered)?),
            Err(error) => println!("== {dialect}\nnot expressible: {error}\n"),
        }
    }
    println!("== prompt\n{}", schema.prompt());
    let source = serde_json::to_string(schema.json())?.len();
    println!(
        "\n(prompt {} bytes, schema {source} bytes, ratio {:.2})",
        schema.prompt().len(),
        schema.prompt().len() as f64 / source as f64
    );
    Ok(())
}
