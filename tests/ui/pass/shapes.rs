//! Every supported shape derives, and its schema says what serde accepts.
use std::collections::BTreeMap;

use factum::Extract;
use serde::Deserialize;

#[derive(Deserialize, Extract)]
struct Named {
    a: String,
    b: Option<u8>,
}

#[derive(Deserialize, Extract)]
struct Newtype(#[extract(range(min = 1))] u32);

#[derive(Deserialize, Extract)]
enum Unit {
    A,
    B,
}

#[derive(Deserialize, Extract)]
enum External {
    S { x: i32 },
    N(String),
    U,
}

#[derive(Deserialize, Extract)]
#[serde(tag = "t")]
enum Internal {
    S { x: i32 },
    N(Named),
    U,
}

#[derive(Deserialize, Extract)]
#[serde(tag = "t", content = "c")]
enum Adjacent {
    S { x: i32 },
    N(String),
    U,
}

#[derive(Deserialize, Extract)]
#[serde(untagged)]
enum Untagged {
    S { x: i32 },
    N(String),
}

#[derive(Deserialize, Extract)]
struct Generic<T> {
    items: Vec<T>,
}

#[derive(Deserialize, Extract)]
struct Recursive {
    children: Vec<Recursive>,
    next: Option<Box<Recursive>>,
    by_name: BTreeMap<String, Recursive>,
}

#[derive(Deserialize, Extract)]
struct Name(String);

#[derive(Deserialize, Extract)]
struct Quoted {
    #[extract(grounded)]
    a: String,
    #[extract(grounded)]
    b: Option<String>,
    #[extract(grounded)]
    c: Vec<String>,
    #[extract(grounded)]
    d: Option<Vec<String>>,
    #[extract(grounded)]
    e: Name,
    f: String,
}

fn main() {
    assert_eq!(factum::schema::<Named>().json()["required"], serde_json::json!(["a"]));
    assert_eq!(factum::schema::<Newtype>().json()["minimum"], 1);
    assert_eq!(factum::schema::<Unit>().json()["enum"], serde_json::json!(["A", "B"]));
    assert_eq!(factum::schema::<External>().json()["oneOf"].as_array().unwrap().len(), 3);
    assert_eq!(factum::schema::<Internal>().json()["oneOf"][1]["properties"]["t"]["const"], "N");
    assert_eq!(factum::schema::<Adjacent>().json()["oneOf"][1]["required"], serde_json::json!(["t", "c"]));
    assert_eq!(factum::schema::<Untagged>().json()["anyOf"].as_array().unwrap().len(), 2);
    assert_eq!(factum::schema::<Generic<Named>>().name(), "Generic_for_Named");
    assert!(factum::schema::<Recursive>().json()["$defs"].get("Recursive").is_some());
    let quoted = &factum::schema::<Quoted>().json()["properties"];
    for field in ["a", "b", "c", "d", "e"] {
        assert_eq!(quoted[field]["x-grounded"], true, "{field}");
    }
    assert!(quoted["f"].get("x-grounded").is_none());
}
