use factum::Extract;
use serde::Deserialize;

/// Deserializes and has a schema, but no partial form.
#[derive(Deserialize, schemars::JsonSchema)]
struct Opaque {
    bits: u8,
}

#[derive(Deserialize, Extract)]
struct Record {
    name: String,
    opaque: Vec<Opaque>,
}

fn main() {}
