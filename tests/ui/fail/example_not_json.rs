use factum::Extract;
use serde::Deserialize;

#[derive(Deserialize, Extract)]
#[extract(example = "{name: John}")]
struct Person {
    #[extract(example = [1, 2])]
    name: String,
}

fn main() {}
