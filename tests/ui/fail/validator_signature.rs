use factum::Extract;
use serde::Deserialize;

#[derive(Deserialize, Extract)]
struct Person {
    #[extract(validate = wants_number)]
    name: String,
}

fn wants_number(_: &u32) -> Result<(), String> {
    Ok(())
}

fn main() {}
