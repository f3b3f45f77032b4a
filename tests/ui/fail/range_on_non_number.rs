use factum::Extract;
use serde::Deserialize;

#[derive(Deserialize, Extract)]
struct Person {
    #[extract(range(min = 0, max = 10))]
    name: String,
    #[extract(range(max = 3))]
    tags: Vec<String>,
    #[extract(range(min = 1))]
    active: Option<bool>,
}

fn main() {}
