use factum::Extract;
use serde::Deserialize;

#[derive(Deserialize, Extract)]
#[extract(description = 5, strict = true)]
struct Person {
    #[extract(range(min = "zero"))]
    age: u8,
    #[extract(length(max = 2.5))]
    name: String,
    #[extract(pattern = 42)]
    code: String,
    #[extract(validate = 7)]
    city: String,
}

fn main() {}
