use factum::Extract;
use serde::Deserialize;

#[derive(Deserialize, Extract)]
struct Person {
    #[extract(range(min = 10, max = 1))]
    age: u8,
    #[extract(length(min = 5, max = 2))]
    name: String,
    #[extract(range())]
    score: f64,
    #[extract(range(low = 1))]
    height: f64,
}

fn main() {}
