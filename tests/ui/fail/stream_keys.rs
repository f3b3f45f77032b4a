use factum::Extract;
use serde::Deserialize;

#[derive(Deserialize, Extract)]
struct Record {
    #[extract(stream(later))]
    a: String,
    #[extract(stream)]
    b: String,
    #[extract(stream(done, skip))]
    c: String,
    #[extract(stream(done = true))]
    d: String,
}

#[derive(Deserialize, Extract)]
enum Choice {
    #[extract(stream(done))]
    A,
}

fn main() {}
