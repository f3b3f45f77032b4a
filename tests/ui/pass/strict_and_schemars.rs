//! `strict` accepts strict-safe fields; `schemars` reuses an existing `JsonSchema` impl.
use factum::Extract;
use serde::Deserialize;

#[derive(Deserialize, Extract)]
#[extract(strict)]
struct Inner {
    text: String,
}

#[derive(Deserialize, Extract)]
#[extract(strict)]
struct Outer {
    title: String,
    count: Option<u32>,
    inner: Vec<Inner>,
    boxed: Box<Inner>,
}

#[derive(Deserialize, schemars::JsonSchema, Extract)]
#[extract(schemars, instructions = "Use the schemars schema.")]
struct Legacy {
    #[schemars(length(min = 2))]
    code: String,
}

fn main() {
    let strict = factum::schema::<Outer>().for_dialect(factum::Dialect::OpenAiStrict).unwrap();
    assert_eq!(strict["additionalProperties"], false);
    let legacy = factum::schema::<Legacy>();
    assert_eq!(legacy.json()["properties"]["code"]["minLength"], 2);
    assert!(legacy.prompt().contains("Use the schemars schema."));
}
