use std::collections::HashMap;

use factum::Extract;
use serde::Deserialize;

#[derive(Deserialize, Extract)]
#[extract(strict)]
struct Report {
    title: String,
    scores: HashMap<String, u32>,
    extra: serde_json::Value,
}

fn main() {}
