use factum::Extract;
use serde::Deserialize;

#[derive(Deserialize, Extract)]
struct Person {
    #[extract(length(min = 1))]
    age: u32,
    #[extract(pattern = "^a$", format = "email")]
    score: f64,
}

fn main() {}
