use factum::Extract;
use serde::Deserialize;

#[derive(Deserialize, Extract)]
struct Point(f64, f64);

#[derive(Deserialize, Extract)]
enum Shape {
    Line(f64, f64),
    Dot,
}

fn main() {}
