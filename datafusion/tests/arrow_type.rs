//! `arrow_type` for every construct the derive produces, as snapshots, and the clear
//! errors for the types Arrow has no place for.

use std::collections::{BTreeMap, HashMap};

use factum::{Dynamic, Extract};
use factum_datafusion::{arrow_type, arrow_type_dynamic};
use serde::Deserialize;

/// Display of a type, one field per line, so a snapshot diff points at the field.
fn pretty<T: Extract>() -> String {
    let data_type = arrow_type::<T>().unwrap_or_else(|e| panic!("{e}"));
    format!("{data_type:#?}")
}

/// A postal address.
#[derive(Deserialize, Extract)]
#[allow(dead_code, reason = "only the schema is used")]
struct Address {
    street: String,
    city: String,
    /// Postal code as written.
    postcode: Option<String>,
}

/// Where an invoice stands.
#[derive(Deserialize, Extract)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code, reason = "only the schema is used")]
enum Status {
    Draft,
    Sent,
    Paid,
}

/// A shape, externally tagged.
#[derive(Deserialize, Extract)]
#[allow(dead_code, reason = "only the schema is used")]
enum Shape {
    Circle { radius: f64 },
    Square(f64),
    Point,
}

/// Something that happened, internally tagged.
#[derive(Deserialize, Extract)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(dead_code, reason = "only the schema is used")]
enum Event {
    Login { user: String, success: bool },
    Logout,
}

/// A message, adjacently tagged.
#[derive(Deserialize, Extract)]
#[serde(tag = "kind", content = "data")]
#[allow(dead_code, reason = "only the schema is used")]
enum Message {
    Text(String),
    Ping,
    Move { x: i32, y: i32 },
}

/// Every construct in one record.
#[derive(Deserialize, Extract)]
#[allow(dead_code, reason = "only the schema is used")]
struct Record {
    /// A nested struct.
    address: Address,
    /// An optional nested struct.
    billing: Option<Address>,
    /// A list of structs.
    previous: Vec<Address>,
    /// A list of strings.
    tags: Vec<String>,
    /// Integers of each width.
    small: u8,
    medium: i32,
    large: u64,
    signed: i64,
    ratio: f32,
    amount: f64,
    paid: bool,
    status: Status,
    shape: Shape,
    event: Option<Event>,
    message: Message,
    /// A map.
    counts: HashMap<String, u32>,
    labels: BTreeMap<String, Address>,
    /// Dates and timestamps (the `chrono` feature).
    born: chrono::NaiveDate,
    seen: chrono::DateTime<chrono::Utc>,
    local: chrono::NaiveDateTime,
    /// Free JSON.
    extra: serde_json::Value,
}

#[test]
fn every_derived_construct_has_an_arrow_type() {
    insta::assert_snapshot!("record", pretty::<Record>());
}

#[test]
fn a_string_enum_is_utf8_and_data_carrying_enums_are_tagged_structs() {
    insta::assert_snapshot!("status", pretty::<Status>());
    insta::assert_snapshot!("shape", pretty::<Shape>());
    insta::assert_snapshot!("event", pretty::<Event>());
    insta::assert_snapshot!("message", pretty::<Message>());
}

#[test]
fn a_list_at_the_root_is_a_list() {
    insta::assert_snapshot!("addresses", pretty::<Vec<Address>>());
}

#[test]
fn a_dynamic_target_maps_as_a_derived_one() {
    let person = Dynamic::from_fields("name, age int, email?, tags str[]").unwrap();
    insta::assert_snapshot!(
        "dynamic",
        format!("{:#?}", arrow_type_dynamic(&person).unwrap())
    );
    let people = person.multi();
    let list = arrow_type_dynamic(&people).unwrap();
    assert!(
        matches!(list, datafusion::arrow::datatypes::DataType::List(_)),
        "{list}"
    );
}

#[test]
fn a_tuple_in_a_dynamic_schema_is_a_struct_of_its_positions() {
    let pair = Dynamic::from_json_schema(serde_json::json!({
        "type": "object",
        "properties": {"pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]}},
        "required": ["pair"]
    }))
    .unwrap();
    insta::assert_snapshot!(
        "tuple",
        format!("{:#?}", arrow_type_dynamic(&pair).unwrap())
    );
}

#[test]
fn a_recursive_type_is_an_error_that_names_the_place() {
    /// An expression tree.
    #[derive(Deserialize, Extract)]
    #[allow(dead_code, reason = "only the schema is used")]
    enum Expr {
        Num { value: f64 },
        Sum { terms: Vec<Expr> },
    }
    let error = arrow_type::<Expr>().unwrap_err();
    assert!(error.reason.contains("recursive"), "{error}");
    assert_eq!(error.path, "/Sum/terms/0");
}

#[test]
fn an_untagged_enum_of_different_shapes_is_an_error() {
    /// A value of one of several shapes.
    #[derive(Deserialize, Extract)]
    #[serde(untagged)]
    #[allow(dead_code, reason = "only the schema is used")]
    enum Amount {
        Exact(f64),
        Range { low: f64, high: f64 },
    }
    let error = arrow_type::<Amount>().unwrap_err();
    assert!(error.to_string().contains("untagged"), "{error}");
}

#[test]
fn a_dynamic_schema_of_several_types_is_an_error() {
    let mixed = Dynamic::from_json_schema(serde_json::json!({
        "type": "object",
        "properties": {"id": {"type": ["string", "integer"]}},
        "required": ["id"]
    }))
    .unwrap();
    let error = arrow_type_dynamic(&mixed).unwrap_err();
    assert_eq!(error.path, "/id");
    assert!(error.reason.contains("several JSON types"), "{error}");
}
