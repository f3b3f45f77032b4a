use factum::Extract;
use serde::Deserialize;

#[derive(Deserialize, Extract)]
struct Person<'a> {
    name: &'a str,
}

fn main() {}
