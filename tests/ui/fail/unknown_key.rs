use factum::Extract;
use serde::Deserialize;

#[derive(Deserialize, Extract)]
#[extract(instruction = "typo")]
struct Person {
    #[extract(descripton = "typo")]
    name: String,
}

fn main() {}
