//! `#[extract(crate = "…")]` finds factum under another name.
extern crate factum as renamed;

use serde::Deserialize;

#[derive(Deserialize, renamed::Extract)]
#[extract(crate = "renamed")]
struct Person {
    name: String,
}

fn main() {
    assert_eq!(renamed::schema::<Person>().json()["required"][0], "name");
}
