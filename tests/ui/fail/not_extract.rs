use serde::Deserialize;

#[derive(Deserialize, schemars::JsonSchema)]
struct Person {
    name: String,
}

fn main() {
    let _ = factum::schema::<Person>();
}
