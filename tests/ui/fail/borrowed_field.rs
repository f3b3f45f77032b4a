use factum::Extract;
use serde::Deserialize;

#[derive(Deserialize, Extract)]
struct Note {
    title: &'static str,
    tag: Option<&'static str>,
}

fn main() {}
