//! Typed partial values (`factum::Partial<T>`): what the derive generates for each shape of
//! type, read at cut points of a streaming reply (JSON prefixes, through
//! `factum_tests::prefix`), and serialized with the wire names.
#![allow(
    dead_code,
    reason = "the types are only read as partials, so their own fields are never read"
)]

use std::collections::BTreeMap;

use factum::{Extract, Partial};
use factum_tests::prefix;
use serde::Deserialize;
use serde_json::json;

/// The partial of `T` that the reply prefix `text` holds.
fn at<T: Extract>(text: &str) -> Option<Partial<T>> {
    T::partial_from(&prefix::node(text)?)
}

/// Cuts `whole` after each occurrence of `marker`'s end, for growing prefixes.
fn cut(whole: &str, upto: &str) -> String {
    let end = whole.find(upto).expect("marker in text") + upto.len();
    whole[..end].to_owned()
}

/// A person; it derives nothing but what extraction needs.
#[derive(Deserialize, Extract)]
struct Person {
    /// The name.
    name: String,
    age: u8,
    email: Option<String>,
    tags: Vec<String>,
    verified: bool,
}

#[test]
fn a_flat_struct_grows_field_by_field() {
    assert_eq!(at::<Person>(""), None);
    assert_eq!(at::<Person>("[1"), None);
    assert_eq!(at::<Person>("{"), Some(PersonPartial::default()));
    let whole =
        r#"{"name": "John", "age": 36, "email": null, "tags": ["a", "bc"], "verified": true}"#;
    assert_eq!(
        at::<Person>(&cut(whole, r#""name": "Jo"#))
            .unwrap()
            .name
            .as_deref(),
        Some("Jo")
    );
    // `3` could still become `36`: a number shows only once a delimiter follows it.
    let three = at::<Person>(&cut(whole, r#""age": 3"#)).unwrap();
    assert_eq!(three.name.as_deref(), Some("John"));
    assert_eq!(three.age, None);
    assert_eq!(
        at::<Person>(&cut(whole, r#""age": 36,"#)).unwrap().age,
        Some(36)
    );
    let tags = at::<Person>(&cut(whole, r#""tags": ["a", "b"#)).unwrap();
    assert_eq!(
        (tags.email, tags.tags),
        (None, vec!["a".into(), "b".into()])
    );
    assert_eq!(at::<Person>(&cut(whole, "tru")).unwrap().verified, None);
    assert_eq!(
        at::<Person>(whole),
        Some(PersonPartial {
            name: Some("John".into()),
            age: Some(36),
            email: None,
            tags: vec!["a".into(), "bc".into()],
            verified: Some(true),
        })
    );
}

#[derive(Deserialize, Extract)]
struct Address {
    street: String,
    city: String,
}

#[derive(Deserialize, Extract)]
struct Line {
    item: String,
    qty: u32,
}

/// A chain of steps, recursive through a box.
#[derive(Deserialize, Extract)]
struct Step {
    action: String,
    next: Option<Box<Step>>,
}

#[derive(Deserialize, Extract)]
struct Order {
    address: Address,
    billing: Option<Address>,
    lines: Vec<Line>,
    boxed: Box<Line>,
    counts: Option<Vec<u8>>,
    grid: Vec<Vec<u8>>,
    notes: Vec<Option<String>>,
    first: Step,
}

const ORDER: &str = r#"{"address": {"street": "1 Main", "city": "Oslo"}, "billing": null,
        "lines": [{"item": "pen", "qty": 2}, {"item": "ink", "qty": 10}],
        "boxed": {"item": "box", "qty": 1}, "counts": [1, 2], "grid": [[1], [2, 3]],
        "notes": ["x", null, "y"], "first": {"action": "go", "next": {"action": "stop", "next": null}}}"#;

#[test]
fn whole_nested_lists_options_and_boxes() {
    let all = at::<Order>(ORDER).unwrap();
    assert_eq!(all.counts, Some(vec![1, 2]));
    assert_eq!(all.grid, vec![vec![1], vec![2, 3]]);
    // `Vec<Option<F>>` is `Vec<Partial<F>>`: the nulls are left out.
    assert_eq!(all.notes, vec!["x".to_owned(), "y".to_owned()]);
    let next = all.first.unwrap().next.unwrap();
    assert_eq!(next.action.as_deref(), Some("stop"));
    assert_eq!(next.next, None);
}

#[test]
fn nested_option_vec_and_box_fields() {
    let whole = ORDER;
    let address = at::<Order>(&cut(whole, r#""street": "1 M"#)).unwrap();
    assert_eq!(
        address.address,
        Some(AddressPartial {
            street: Some("1 M".into()),
            city: None
        })
    );
    assert!(address.lines.is_empty());
    assert_eq!(address.counts, None);
    let lines = at::<Order>(&cut(whole, r#""ink", "qty": 1"#)).unwrap();
    assert_eq!(lines.billing, None);
    assert_eq!(
        lines.lines,
        vec![
            LinePartial {
                item: Some("pen".into()),
                qty: Some(2)
            },
            LinePartial {
                item: Some("ink".into()),
                qty: None
            },
        ]
    );
    let counts = at::<Order>(&cut(whole, r#""counts": ["#)).unwrap();
    assert_eq!(counts.counts, Some(vec![]));
    assert_eq!(
        counts.boxed.map(|b| b.item),
        Some(Some("box".into())),
        "a box reads as what it holds"
    );
}

/// Wire names differ from the Rust names.
#[derive(Deserialize, Extract)]
#[serde(rename_all = "camelCase")]
struct Invoice {
    invoice_number: String,
    #[serde(rename = "total", alias = "sum")]
    amount_due: f64,
    #[serde(skip_deserializing)]
    internal: u32,
    #[serde(default)]
    due_on: Option<String>,
}

#[test]
fn renamed_fields_and_aliases_read_and_serialize_by_their_wire_names() {
    let partial = at::<Invoice>(r#"{"invoiceNumber": "A-1", "sum": 12.5, "dueOn": "2024"#).unwrap();
    assert_eq!(
        partial,
        InvoicePartial {
            invoice_number: Some("A-1".into()),
            amount_due: Some(12.5),
            due_on: Some("2024".into()),
        }
    );
    assert_eq!(
        serde_json::to_value(&partial).unwrap(),
        json!({"invoiceNumber": "A-1", "total": 12.5, "dueOn": "2024"})
    );
    // The Rust name is no wire name.
    assert_eq!(
        at::<Invoice>(r#"{"invoice_number": "A-1"}"#)
            .unwrap()
            .invoice_number,
        None
    );
}

#[derive(Deserialize, Extract)]
struct Contact {
    name: String,
    #[serde(flatten)]
    address: Address,
}

#[test]
fn a_flattened_field_reads_the_same_object() {
    let partial = at::<Contact>(r#"{"name": "Ann", "street": "2 High", "ci"#).unwrap();
    assert_eq!(
        partial.address,
        Some(AddressPartial {
            street: Some("2 High".into()),
            city: None
        })
    );
    assert_eq!(
        serde_json::to_value(&partial).unwrap(),
        json!({"name": "Ann", "street": "2 High", "city": null})
    );
}

/// How urgent a ticket is.
#[derive(Debug, PartialEq, Deserialize, Extract)]
#[serde(rename_all = "snake_case")]
enum Priority {
    Low,
    VeryHigh,
}

#[derive(Deserialize, Extract)]
struct Ticket {
    priority: Priority,
    fallback: Option<Priority>,
}

#[test]
fn a_unit_enum_shows_once_its_name_is_complete() {
    // `"very` could be a prefix of any choice: nothing until the closing quote.
    assert_eq!(
        at::<Ticket>(r#"{"priority": "very"#).unwrap().priority,
        None
    );
    let ticket = at::<Ticket>(r#"{"priority": "very_high", "fallback": "low"}"#).unwrap();
    assert_eq!(ticket.priority, Some(PriorityPartial::VeryHigh));
    assert_eq!(ticket.fallback, Some(PriorityPartial::Low));
    assert_eq!(
        at::<Ticket>(r#"{"priority": "urgent"}"#).unwrap().priority,
        None
    );
    assert_eq!(at::<Priority>(r#""low""#), Some(PriorityPartial::Low));
    assert_eq!(
        serde_json::to_value(ticket).unwrap(),
        json!({"priority": "very_high", "fallback": "low"})
    );
    assert_eq!(PriorityPartial::default(), PriorityPartial::Low);
    assert_eq!(
        Priority::from(PriorityPartial::VeryHigh),
        Priority::VeryHigh
    );
}

/// Externally tagged, serde's default.
#[derive(Deserialize, Extract)]
enum Shape {
    Circle { radius: f64 },
    Label(String),
    Point,
}

#[test]
fn an_externally_tagged_enum_is_known_by_its_key() {
    assert_eq!(at::<Shape>("{"), None);
    assert_eq!(
        at::<Shape>(r#"{"Circle": {"#),
        Some(ShapePartial::Circle { radius: None })
    );
    assert_eq!(
        at::<Shape>(r#"{"Circle": {"radius": 2.5}"#),
        Some(ShapePartial::Circle { radius: Some(2.5) })
    );
    assert_eq!(
        at::<Shape>(r#"{"Label": "hel"#),
        Some(ShapePartial::Label(Some("hel".into())))
    );
    assert_eq!(at::<Shape>(r#""Poi"#), None);
    assert_eq!(at::<Shape>(r#""Point""#), Some(ShapePartial::Point));
    assert_eq!(at::<Shape>(r#"{"Square": 1}"#), None);
    assert_eq!(
        serde_json::to_value(ShapePartial::Circle { radius: None }).unwrap(),
        json!({"Circle": {"radius": null}})
    );
    assert_eq!(
        ShapePartial::default(),
        ShapePartial::Circle { radius: None }
    );
}

/// Internally tagged.
#[derive(Deserialize, Extract)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event {
    Login {
        user: String,
        #[serde(rename = "ok")]
        success: bool,
    },
    Purchase(Line),
    Logout,
}

#[test]
fn an_internally_tagged_enum_is_known_once_its_tag_is_complete() {
    assert_eq!(at::<Event>(r#"{"type": "log"#), None);
    assert_eq!(
        at::<Event>(r#"{"type": "login", "user": "an"#),
        Some(EventPartial::Login {
            user: Some("an".into()),
            success: None
        })
    );
    // The tag may come after the content.
    assert_eq!(
        at::<Event>(r#"{"item": "pen", "type": "purchase", "qty""#),
        Some(EventPartial::Purchase(Some(LinePartial {
            item: Some("pen".into()),
            qty: None
        })))
    );
    assert_eq!(
        at::<Event>(r#"{"type": "logout"}"#),
        Some(EventPartial::Logout)
    );
    assert_eq!(
        serde_json::to_value(EventPartial::Login {
            user: Some("an".into()),
            success: Some(true)
        })
        .unwrap(),
        json!({"type": "login", "user": "an", "ok": true})
    );
    // Content that has not begun serializes as the tag alone.
    assert_eq!(
        serde_json::to_value(EventPartial::Purchase(None)).unwrap(),
        json!({"type": "purchase"})
    );
}

/// Adjacently tagged.
#[derive(Deserialize, Extract)]
#[serde(tag = "kind", content = "data")]
enum Message {
    Text(String),
    Move { x: i32, y: i32 },
    Ping,
}

#[test]
fn an_adjacently_tagged_enum_reads_its_content_key() {
    assert_eq!(
        at::<Message>(r#"{"kind": "Text""#),
        Some(MessagePartial::Text(None))
    );
    assert_eq!(
        at::<Message>(r#"{"kind": "Text", "data": "hi th"#),
        Some(MessagePartial::Text(Some("hi th".into())))
    );
    assert_eq!(
        at::<Message>(r#"{"kind": "Move", "data": {"x": -1, "y": 4"#),
        Some(MessagePartial::Move {
            x: Some(-1),
            y: None
        })
    );
    assert_eq!(
        at::<Message>(r#"{"kind": "Ping"}"#),
        Some(MessagePartial::Ping)
    );
    assert_eq!(
        serde_json::to_value(MessagePartial::Text(Some("hi".into()))).unwrap(),
        json!({"kind": "Text", "data": "hi"})
    );
}

/// Untagged: serde tries the variants in order.
#[derive(Deserialize, Extract)]
#[serde(untagged)]
enum Amount {
    Exact(f64),
    Range { low: f64, high: f64 },
    Unknown,
}

#[test]
fn an_untagged_enum_is_known_once_complete() {
    assert_eq!(at::<Amount>(r#"{"low": 1, "hi"#), None);
    assert_eq!(
        at::<Amount>(r#"{"low": 1, "high": 2}"#),
        Some(AmountPartial::Range {
            low: Some(1.0),
            high: Some(2.0)
        })
    );
    assert_eq!(at::<Amount>("3.5 "), Some(AmountPartial::Exact(Some(3.5))));
    assert_eq!(at::<Amount>("null"), Some(AmountPartial::Unknown));
    assert_eq!(
        serde_json::to_value(AmountPartial::Range {
            low: Some(1.0),
            high: None
        })
        .unwrap(),
        json!({"low": 1.0, "high": null})
    );
}

/// Tagged variants first, then an untagged fallback, as serde reads them.
#[derive(Deserialize, Extract)]
enum Reply {
    Answer(String),
    #[serde(untagged)]
    Other(BTreeMap<String, u8>),
}

#[test]
fn an_untagged_variant_is_tried_after_the_tagged_ones() {
    assert_eq!(
        at::<Reply>(r#"{"Answer": "ye"#),
        Some(ReplyPartial::Answer(Some("ye".into())))
    );
    assert_eq!(
        at::<Reply>(r#"{"x": 1}"#),
        Some(ReplyPartial::Other(Some(BTreeMap::from([("x".into(), 1)]))))
    );
}

/// A generic page; `T` need not be `Clone`, `Debug` or `Default` for its partial to be.
#[derive(Deserialize, Extract)]
struct Page<T> {
    items: Vec<T>,
    has_more: bool,
}

#[test]
fn a_generic_type_carries_its_parameter() {
    let page: PagePartial<Person> =
        at::<Page<Person>>(r#"{"items": [{"name": "A"}, {"na"#).unwrap();
    assert_eq!(
        page.items,
        vec![
            PersonPartial {
                name: Some("A".into()),
                ..PersonPartial::default()
            },
            PersonPartial::default()
        ]
    );
    assert_eq!(page.clone().has_more, None);
    assert!(format!("{page:?}").starts_with("PagePartial { items: [PersonPartial {"));
}

/// Something with no partial form: not `Extract`, no `PartialField`.
#[derive(Deserialize, schemars::JsonSchema)]
struct Opaque {
    bits: u8,
}

#[derive(Deserialize, Extract)]
struct Signed {
    /// Shown only once whole, as BAML's `@stream.done`.
    #[extract(stream(done))]
    code: String,
    #[extract(stream(done))]
    parts: Vec<u8>,
    title: String,
    #[extract(stream(skip))]
    opaque: Opaque,
}

#[test]
fn stream_done_waits_for_the_whole_value_and_stream_skip_leaves_the_field_out() {
    let open = at::<Signed>(r#"{"code": "AB-1"#).unwrap();
    assert_eq!(open.code, None);
    let partial = at::<Signed>(r#"{"code": "AB-12", "parts": [1, 2], "title": "Ti"#).unwrap();
    assert_eq!(
        partial,
        // No `opaque` field: the literal names every field there is.
        SignedPartial {
            code: Some("AB-12".into()),
            parts: vec![1, 2],
            title: Some("Ti".into()),
        }
    );
    assert!(at::<Signed>(r#"{"parts": [1, 2"#).unwrap().parts.is_empty());
}

/// Foreign field types, free-form JSON and maps.
#[derive(Deserialize, Extract)]
struct Meeting {
    id: uuid::Uuid,
    starts_at: chrono::DateTime<chrono::Utc>,
    link: Option<url::Url>,
    extra: serde_json::Value,
    counts: BTreeMap<String, u32>,
}

#[test]
fn foreign_types_show_once_whole_and_maps_grow() {
    let whole = r#"{"id": "67e55044-10b1-426f-9247-bb680e5fe0c8", "starts_at": "2024-05-01T09:30:00Z",
        "link": "https://meet.example/abc", "extra": {"a": [1, "tw"]}, "counts": {"a": 1, "b": 2}}"#;
    let early = at::<Meeting>(&cut(whole, "10b1")).unwrap();
    assert_eq!(early.id, None);
    let mid = at::<Meeting>(&cut(whole, "meet.ex")).unwrap();
    assert!(mid.id.is_some() && mid.starts_at.is_some());
    assert_eq!(mid.link, None);
    let late = at::<Meeting>(&cut(whole, r#""tw"#)).unwrap();
    assert_eq!(late.link.unwrap().host_str(), Some("meet.example"));
    assert_eq!(late.extra, Some(json!({"a": [1, "tw"]})));
    let counts = at::<Meeting>(&cut(whole, r#""b": 2"#)).unwrap();
    assert_eq!(counts.counts, Some(BTreeMap::from([("a".into(), 1)])));
}

#[test]
fn the_partial_serializes_as_json_for_a_browser() {
    let partial = at::<Person>(r#"{"name": "Jo", "tags": ["x"#).unwrap();
    assert_eq!(
        serde_json::to_value(partial).unwrap(),
        json!({"name": "Jo", "age": null, "email": null, "tags": ["x"], "verified": null})
    );
}
