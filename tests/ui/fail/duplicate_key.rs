use factum::Extract;
use serde::Deserialize;

#[derive(Deserialize, Extract)]
#[extract(instructions = "one", instructions = "two")]
struct Person {
    #[extract(format = "email")]
    #[extract(format = "uri")]
    email: String,
}

fn main() {}
