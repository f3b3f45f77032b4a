//! Extracts a team roster from an email and writes a review page: the email with every
//! extracted value highlighted where it was found, and the list of values with how
//! closely the text matches each (`factum::review::html`).
//!
//! With `FACTUM_API_KEY` (or `DRIA_API_KEY`) set, it runs on the Dria inference API, or on
//! `FACTUM_BASE_URL` when that is set. With neither, it runs SmolLM2-135M-Instruct in this
//! process (the examples' default `local` feature), fetched once by `scripts/fetch-model.sh`.
//!
//! ```text
//! cargo run -p factum-examples --example review [-- path/to/review.html]
//! ```

use factum::{Extract, Match};
use serde::Deserialize;

mod common;

/// The team the email is about.
#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code, reason = "the page shows the fields")]
struct Roster {
    /// The team's name, as written.
    team: String,
    /// The city of the team's office.
    city: String,
    /// Everyone on the team.
    #[extract(length(min = 1))]
    members: Vec<Member>,
}

/// One member of the team.
#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code, reason = "the page shows the fields")]
struct Member {
    /// Full name, as written.
    name: String,
    /// Their role on the team.
    role: String,
    /// Email address, if the text gives one.
    #[extract(format = "email")]
    email: Option<String>,
}

const TEXT: &str = "From: Priya Raman <priya.raman@northwind.example>
Subject: Platform team, Lisbon office

Hi all, a quick roster for the Lisbon platform team before Monday's offsite.

Priya Raman leads the team (priya.raman@northwind.example).
João Ferreira is our site reliability engineer; reach him at joao@northwind.example.
Małgorzata Nowak joined last month as a backend developer.
Kenji Sato, data engineer, splits his week between Lisbon and Porto.

See you Monday, Priya";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    common::report(run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "review.html".into());
    let client = common::client()?;
    let out = client
        .extraction::<Roster>(TEXT)
        .max_tokens(1024)
        .send()
        .await?;
    std::fs::write(&path, factum::review::html(TEXT, &out))?;
    let count = |wanted: fn(Match) -> bool| out.spans.iter().filter(|s| wanted(s.quality)).count();
    println!("{path}");
    println!(
        "{} members, {} values: {} exact, {} normalized, {} fuzzy, {} not found; {} attempt(s), model {}",
        out.value.members.len(),
        out.spans.len(),
        count(|q| q == Match::Exact),
        count(|q| q == Match::Normalized),
        count(|q| matches!(q, Match::Fuzzy(_))),
        count(|q| q == Match::NotFound),
        out.attempts.len(),
        out.model,
    );
    Ok(())
}
