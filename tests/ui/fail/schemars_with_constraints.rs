use factum::Extract;
use serde::Deserialize;

#[derive(Deserialize, schemars::JsonSchema, Extract)]
#[extract(schemars)]
struct Person {
    #[extract(range(min = 0))]
    age: u8,
}

fn main() {}
