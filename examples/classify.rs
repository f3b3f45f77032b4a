//! Classifies a support ticket into an enum.
//!
//! Runs on Dria with `FACTUM_API_KEY`/`DRIA_API_KEY`, or on `FACTUM_BASE_URL` (set
//! `FACTUM_PROVIDER`/`FACTUM_MODEL` as needed; see the quickstart for the local server).
//!
//! ```text
//! cargo run -p factum-examples --example classify
//! ```

use factum::{Client, Extract};
use serde::Deserialize;

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
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::from_env()?;
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
