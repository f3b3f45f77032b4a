use factum::Extract;
use serde::Deserialize;

#[derive(Deserialize, Extract)]
struct Loose {
    text: String,
}

#[derive(Deserialize, Extract)]
#[extract(strict)]
struct Report {
    items: Vec<Loose>,
}

fn main() {}
