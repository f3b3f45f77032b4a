//! Classifies a support ticket into an enum.
//!
//! Runs on Dria with `FACTUM_API_KEY`/`DRIA_API_KEY`, on `FACTUM_BASE_URL` (set
//! `FACTUM_PROVIDER`/`FACTUM_MODEL` as needed), or else on the local llama-server that
//! `scripts/llama-server.sh` builds and starts, as the quickstart does.
//!
//! ```text
//! cargo run -p factum-examples --example classify
//! ```

use factum::Extract;
use serde::Deserialize;

mod common;

/// Where a support ticket should be routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Extract)]
#[serde(rename_all = "snake_case")]
enum Route {
    /// Charges, refunds, invoices and payment methods.
    Billing,
    /// Bugs, crashes, errors and how-to questions about the product.
    Technical,
    /// Anything else.
    Other,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    common::report(run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let client = common::client()?;
    for ticket in [
        "I was charged twice for my March subscription, please refund one.",
        "The app crashes every time I open the settings page on Android 14.",
        "Do you have an office in Lisbon?",
    ] {
        let route: Route = client.extract(ticket).await?;
        println!("{route:?}\t{ticket}");
    }
    Ok(())
}
