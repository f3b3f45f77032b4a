use factum::Extract;
use serde::Deserialize;

#[derive(Deserialize, Extract)]
struct Invoice {
    #[extract(pattern = "^[A-Z{2}-\\d+$")]
    number: String,
    #[extract(pattern = "(unclosed")]
    code: String,
}

fn main() {}
