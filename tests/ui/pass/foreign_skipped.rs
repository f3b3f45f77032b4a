//! A field type from another crate with no partial form works once it is left out of the
//! streamed partial, as the diagnostic advises.
use std::rc::Rc;

use factum::Extract;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize, Extract)]
struct Note {
    #[extract(stream(skip))]
    title: Rc<String>,
    body: String,
}

fn main() {
    let schema = factum::schema::<Note>();
    assert_eq!(schema.json()["properties"]["title"]["type"], "string");
    let note: Note = serde_json::from_value(json!({"title": "t", "body": "b"})).unwrap();
    assert_eq!(note.title.as_str(), "t");
}
