use factum::Extract;
use serde::Deserialize;

#[derive(Deserialize, Extract)]
struct Ticket {
    #[extract(grounded, inferred)]
    category: String,
}

fn main() {}
