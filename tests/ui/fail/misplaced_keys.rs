use factum::Extract;
use serde::Deserialize;

#[derive(Deserialize, Extract)]
#[extract(range(min = 0), pattern = "x")]
struct Person {
    #[extract(instructions = "be careful", strict)]
    name: String,
}

#[derive(Deserialize, Extract)]
enum Size {
    #[extract(range(min = 1))]
    Small,
    #[extract(validate = check)]
    Large,
}

fn check(_: &Size) -> Result<(), String> {
    Ok(())
}

fn main() {}
