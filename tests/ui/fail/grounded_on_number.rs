use factum::Extract;
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Deserialize, Extract)]
struct Quote {
    #[extract(grounded)]
    speaker: String,
    #[extract(grounded)]
    aliases: Option<Vec<String>>,
    #[extract(grounded)]
    year: u32,
    #[extract(grounded)]
    scores: Vec<f64>,
    #[extract(grounded)]
    approved: bool,
    #[extract(grounded)]
    notes: HashMap<String, String>,
}

fn main() {}
