//! Schemas of the zoo: snapshots, meta-validation, the strict subset, samples, limits.

use factum::{Dialect, Extract, Schema, SchemaError};
#[allow(clippy::wildcard_imports)] // the zoo macro names every type
use factum_tests::zoo::*;
use serde_json::{Value, json};

fn lowered(schema: &Schema, dialect: Dialect) -> Value {
    match schema.for_dialect(dialect) {
        Ok(value) => value.clone(),
        Err(error) => json!({ "error": error.to_string(), "path": error.path() }),
    }
}

#[test]
fn snapshots_of_every_zoo_type() {
    macro_rules! snap {
        ($t:ty) => {{
            let schema = factum::schema::<$t>();
            let name = schema.name().to_owned();
            insta::assert_json_snapshot!(format!("{name}.source"), schema.json());
            insta::assert_json_snapshot!(
                format!("{name}.openai_strict"),
                lowered(schema, Dialect::OpenAiStrict)
            );
            insta::assert_json_snapshot!(
                format!("{name}.llama_cpp"),
                lowered(schema, Dialect::LlamaCpp)
            );
            insta::assert_snapshot!(format!("{name}.prompt"), schema.prompt());
        }};
    }
    factum_tests::for_each_zoo_type!(snap);
}

#[test]
fn every_schema_passes_meta_validation() {
    macro_rules! meta {
        ($t:ty) => {{
            let schema = factum::schema::<$t>();
            if let Err(e) = jsonschema::meta::validate(schema.json()) {
                panic!(
                    "source schema of {} is not valid JSON Schema: {e}",
                    stringify!($t)
                );
            }
            for dialect in Dialect::ALL {
                if let Ok(lowered) = schema.for_dialect(dialect) {
                    if let Err(e) = jsonschema::meta::validate(lowered) {
                        panic!(
                            "{dialect} schema of {} is not valid JSON Schema: {e}",
                            stringify!($t)
                        );
                    }
                }
            }
        }};
    }
    factum_tests::for_each_zoo_type!(meta);
}

#[test]
fn every_openai_strict_schema_fits_the_documented_subset() {
    let mut lowered_count = 0;
    macro_rules! strict {
        ($t:ty) => {{
            let schema = factum::schema::<$t>();
            if let Ok(lowered) = schema.for_dialect(Dialect::OpenAiStrict) {
                lowered_count += 1;
                let breaches = factum_tests::strict::check(lowered);
                assert!(breaches.is_empty(), "{}: {breaches:#?}", stringify!($t));
            }
        }};
    }
    factum_tests::for_each_zoo_type!(strict);
    // Only the three types that cannot fit (open maps, free-form JSON, six levels) fail.
    assert_eq!(lowered_count, 27);
}

#[test]
fn the_strict_checker_rejects_plain_schemars_output() {
    // What a Rust user gets from schemars alone: objects open, `Option` fields not required.
    let plain = serde_json::to_value(schemars::schema_for!(Person)).unwrap();
    let breaches = factum_tests::strict::check(&plain);
    assert!(
        breaches.iter().any(|b| b.contains("additionalProperties")),
        "{breaches:?}"
    );
    assert!(
        breaches
            .iter()
            .any(|b| b.contains("/properties/email: every property must be required")),
        "{breaches:?}"
    );
}

#[test]
fn strict_lowering_closes_objects_requires_everything_and_keeps_defaults_non_null() {
    let strict = factum::schema::<Settings>()
        .for_dialect(Dialect::OpenAiStrict)
        .unwrap();
    assert_eq!(strict["required"], json!(["retries", "verbose"]));
    // serde rejects null for a defaulted non-Option field, so it must stay non-null.
    assert_eq!(strict["properties"]["retries"]["type"], "integer");
    assert_eq!(strict["properties"]["verbose"]["type"], "boolean");
    let person = factum::schema::<Person>()
        .for_dialect(Dialect::OpenAiStrict)
        .unwrap();
    assert_eq!(person["required"], json!(["name", "age", "email"]));
    assert_eq!(
        person["properties"]["email"]["type"],
        json!(["string", "null"])
    );
    assert_eq!(person["additionalProperties"], false);
}

#[test]
fn strict_lowering_moves_what_it_cannot_carry_into_descriptions() {
    let schema = factum::schema::<Line>()
        .for_dialect(Dialect::OpenAiStrict)
        .unwrap();
    let description = schema["properties"]["description"].as_object().unwrap();
    assert!(description.get("minLength").is_none());
    assert!(
        description["description"]
            .as_str()
            .unwrap()
            .contains("At most 200 characters")
    );
    let price = &schema["properties"]["unit_price"];
    assert!(price.get("examples").is_none());
    assert!(
        price["description"]
            .as_str()
            .unwrap()
            .contains("Example: 12.5")
    );
}

#[test]
fn strict_lowering_wraps_non_object_roots_and_has_no_one_of() {
    let schema = factum::schema::<Shape>();
    assert!(schema.envelope_key().is_some());
    assert_eq!(schema.envelope_key(), Some("shape"));
    let strict = schema.for_dialect(Dialect::OpenAiStrict).unwrap();
    assert_eq!(strict["required"], json!(["shape"]));
    let llama = schema.for_dialect(Dialect::LlamaCpp).unwrap();
    assert_eq!(llama["required"], json!(["shape"]));
    assert_eq!(factum::schema::<Page<Person>>().envelope_key(), None);
    assert_eq!(
        Schema::new("TicketRoute", json!({"type": "string"}), None).envelope_key(),
        Some("ticket_route")
    );
    let text = strict.to_string();
    assert!(!text.contains("oneOf") && !text.contains("allOf") && !text.contains("\"default\""));
    assert!(factum::schema::<Person>().envelope_key().is_none());
}

#[test]
fn llama_dialect_anchors_patterns_drops_unknown_formats_and_inlines_refs() {
    let source = json!({
        "type": "object",
        "properties": {
            "code": {"type": "string", "pattern": "[0-9]+"},
            "mail": {"type": "string", "format": "email"},
            "day": {"type": "string", "format": "date"}
        },
        "required": ["code"]
    });
    let schema = Schema::new("Probe", source, None);
    let llama = schema.for_dialect(Dialect::LlamaCpp).unwrap();
    // Unanchored: any characters (newlines too) may come before and after.
    assert_eq!(
        llama["properties"]["code"]["pattern"],
        r"^[\x00-\U0010FFFF]*[0-9]+[\x00-\U0010FFFF]*$"
    );
    assert!(llama["properties"]["mail"].get("format").is_none());
    assert!(
        llama["properties"]["mail"]["description"]
            .as_str()
            .unwrap()
            .contains("email")
    );
    assert_eq!(llama["properties"]["day"]["format"], "date");

    // Non-recursive references are inlined; recursive ones keep their `$defs` entry.
    let invoice = factum::schema::<Invoice>()
        .for_dialect(Dialect::LlamaCpp)
        .unwrap();
    assert!(!invoice.to_string().contains("$ref"));
    let topic = factum::schema::<Topic>()
        .for_dialect(Dialect::LlamaCpp)
        .unwrap();
    assert_eq!(
        topic["properties"]["children"]["items"]["$ref"],
        "#/$defs/Topic"
    );
    assert!(topic["$defs"].get("Topic").is_some());
}

#[test]
fn llama_dialect_never_mixes_properties_with_a_union() {
    let source = json!({
        "type": "object",
        "properties": {"id": {"type": "string"}},
        "required": ["id"],
        "oneOf": [
            {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
            {"type": "object", "properties": {"b": {"type": "integer"}}, "required": ["b"]}
        ]
    });
    let schema = Schema::new("Mixed", source, None);
    // A root with a union is not a plain object, so it is asked for wrapped.
    assert_eq!(schema.envelope_key(), Some("mixed"));
    let llama = schema.for_dialect(Dialect::LlamaCpp).unwrap()["properties"]["mixed"].clone();
    assert!(llama.get("properties").is_none(), "{llama}");
    assert_eq!(llama["oneOf"][0]["required"], json!(["id", "a"]));
    assert_eq!(llama["oneOf"][1]["properties"]["id"]["type"], "string");
}

#[test]
fn dialect_errors_name_the_json_path() {
    let deep = factum::schema::<Deep1>()
        .for_dialect(Dialect::OpenAiStrict)
        .unwrap_err();
    assert!(
        matches!(
            deep,
            SchemaError::TooDeep {
                depth: 6,
                limit: 5,
                ..
            }
        ),
        "{deep}"
    );
    assert_eq!(
        deep.path(),
        "/properties/d2/properties/d3/properties/d4/properties/d5/properties/d6"
    );
    assert!(deep.to_string().contains(deep.path()));

    let map = factum::schema::<Labels>()
        .for_dialect(Dialect::OpenAiStrict)
        .unwrap_err();
    assert_eq!(map.path(), "/properties/labels");
    let value = factum::schema::<Freeform>()
        .for_dialect(Dialect::OpenAiStrict)
        .unwrap_err();
    assert_eq!(value.path(), "/properties/payload");
    // The llama.cpp dialect has no such limits.
    assert!(
        factum::schema::<Deep1>()
            .for_dialect(Dialect::LlamaCpp)
            .is_ok()
    );
}

#[test]
fn dialect_limits_on_width_enum_size_and_name_name_the_json_path() {
    let many: serde_json::Map<String, Value> = (0..101)
        .map(|i| (format!("f{i}"), json!({"type": "integer"})))
        .collect();
    let wide = Schema::new("Wide", json!({"type": "object", "properties": many}), None);
    let error = wide.for_dialect(Dialect::OpenAiStrict).unwrap_err();
    assert!(
        matches!(
            error,
            SchemaError::TooManyProperties {
                count: 101,
                limit: 100,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(error.path(), "/properties/f100");

    let values: Vec<String> = (0..501).map(|i| format!("v{i}")).collect();
    let big = Schema::new(
        "Big",
        json!({"type": "object", "properties": {"e": {"type": "string", "enum": values}}}),
        None,
    );
    let error = big.for_dialect(Dialect::OpenAiStrict).unwrap_err();
    assert!(
        matches!(error, SchemaError::TooManyEnumValues { count: 501, .. }),
        "{error}"
    );
    assert_eq!(error.path(), "/properties/e/enum");

    let named = Schema::new("has space", json!({"type": "object"}), None);
    assert!(matches!(
        named.for_dialect(Dialect::OpenAiStrict),
        Err(SchemaError::InvalidName { .. })
    ));
    let long = Schema::new("x".repeat(65), json!({"type": "object"}), None);
    assert!(long.for_dialect(Dialect::OpenAiStrict).is_err());
}

#[test]
fn schemas_are_cached_per_type_and_dialect() {
    assert!(std::ptr::eq(
        factum::schema::<Invoice>(),
        factum::schema::<Invoice>()
    ));
    assert!(std::ptr::eq(factum::schema::<Invoice>(), Invoice::schema()));
    assert!(std::ptr::eq(
        factum::schema::<Page<Person>>(),
        factum::schema::<Page<Person>>()
    ));
    assert!(!std::ptr::eq(
        std::ptr::from_ref::<Schema>(factum::schema::<Page<Person>>()),
        std::ptr::from_ref::<Schema>(factum::schema::<Page<Address>>())
    ));
    let a = factum::schema::<Invoice>()
        .for_dialect(Dialect::OpenAiStrict)
        .unwrap();
    let b = factum::schema::<Invoice>()
        .for_dialect(Dialect::OpenAiStrict)
        .unwrap();
    assert!(std::ptr::eq(a, b));
}

#[test]
fn prompts_are_much_smaller_than_schemas() {
    let (mut prompt, mut schema) = (0usize, 0usize);
    macro_rules! size {
        ($t:ty) => {{
            let s = factum::schema::<$t>();
            let json = serde_json::to_string(s.json()).unwrap();
            assert!(
                s.prompt().len() < json.len(),
                "{}: prompt is not smaller",
                stringify!($t)
            );
            prompt += s.prompt().len();
            schema += json.len();
        }};
    }
    factum_tests::for_each_zoo_type!(size);
    let ratio = prompt as f64 / schema as f64;
    assert!(ratio < 0.5, "prompt/schema byte ratio {ratio:.2}");
}

#[test]
fn prompts_carry_docs_constraints_choices_and_instructions() {
    let prompt = factum::schema::<Invoice>().prompt();
    for needle in [
        "An invoice found in the text.",
        "invoiceNumber: string",
        "pattern ^[A-Z]{2}-\\d{4,}$",
        "format date",
        "lines: Line[], // at least 1 item",
        "notes: string | null, // optional",
        "\"paid\" // Paid in full.",
        "Instructions: Amounts are in the invoice's own currency.",
        "quantity: integer, // >= 1; How many units.",
    ] {
        assert!(prompt.contains(needle), "missing {needle:?} in\n{prompt}");
    }
    // Deterministic: rebuilding gives the same text.
    assert_eq!(Schema::of::<Invoice>().prompt(), prompt);
}

#[allow(
    clippy::too_many_lines,
    reason = "one sample per zoo shape, read as a table; split, it would no longer be one list"
)]
fn samples() -> Vec<(&'static str, Value, &'static Schema)> {
    let line = Line {
        description: "Widget".into(),
        quantity: 2,
        unit_price: 12.5,
    };
    let person = Person {
        name: "John Doe".into(),
        age: 30,
        email: Some("john@example.com".into()),
    };
    let address = Address {
        street: "1 Main St".into(),
        city: "Springfield".into(),
        postcode: None,
    };
    macro_rules! sample {
        ($t:ty, $v:expr) => {{
            let value: $t = $v;
            let json = serde_json::to_value(&value).unwrap();
            // The sample also round-trips through serde, so the schema describes what serde reads.
            let back: $t = serde_json::from_value(json.clone()).unwrap();
            assert_eq!(back, value);
            (stringify!($t), json, factum::schema::<$t>())
        }};
    }
    vec![
        sample!(Person, person.clone()),
        sample!(
            Invoice,
            Invoice {
                invoice_number: "AB-1234".into(),
                issued_on: "2024-05-01".into(),
                lines: vec![line.clone()],
                status: Status::Sent,
                notes: None,
            }
        ),
        sample!(Line, line.clone()),
        sample!(Status, Status::Overdue),
        sample!(Shape, Shape::Circle { radius: 2.0 }),
        sample!(Shape, Shape::Square(3.0)),
        sample!(Shape, Shape::Point),
        sample!(
            Event,
            Event::Login {
                user: "ann".into(),
                success: true
            }
        ),
        sample!(Event, Event::Purchase(line.clone())),
        sample!(Event, Event::Logout),
        sample!(Message, Message::Text("hi".into())),
        sample!(Message, Message::Ping),
        sample!(Message, Message::Move { x: 1, y: -2 }),
        sample!(Amount, Amount::Exact(3.5)),
        sample!(
            Amount,
            Amount::Range {
                low: 1.0,
                high: 2.0
            }
        ),
        sample!(
            Page<Person>,
            Page {
                items: vec![person.clone()],
                has_more: false
            }
        ),
        sample!(Pair<Status, Address>, Pair { first: Status::Paid, second: address.clone() }),
        sample!(
            Topic,
            Topic {
                title: "a".into(),
                children: vec![Topic {
                    title: "b".into(),
                    children: vec![]
                }]
            }
        ),
        sample!(
            Step,
            Step {
                action: "go".into(),
                next: Some(Box::new(Step {
                    action: "stop".into(),
                    next: None
                }))
            }
        ),
        sample!(Email, Email("a@b.c".into())),
        sample!(Score, Score { value: 7 }),
        sample!(
            Contact,
            Contact {
                name: "Ann".into(),
                address: address.clone()
            }
        ),
        sample!(
            Closed,
            Closed {
                id: 1,
                tags: vec!["x".into()]
            }
        ),
        sample!(
            Command,
            Command::Create {
                item_name: "pen".into(),
                item_count: 2
            }
        ),
        sample!(
            Product,
            Product {
                sku: "AB-1".into(),
                price: 9.99
            }
        ),
        sample!(
            Expr,
            Expr::Sum {
                terms: vec![
                    Expr::Num { value: 1.0 },
                    Expr::Neg {
                        inner: Box::new(Expr::Num { value: 2.0 })
                    }
                ]
            }
        ),
        sample!(
            Order,
            Order {
                id: "o1".into(),
                shipping: Some(address),
                notes: vec![None, Some("fragile".into())],
                temperature_c: Some(-5)
            }
        ),
    ]
}

#[test]
fn serialized_samples_validate_against_their_source_schema() {
    for (name, value, schema) in samples() {
        if let Err(violations) = schema.validate(&value) {
            panic!("{name} sample {value} does not validate: {violations:?}");
        }
    }
}

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "a table of broken samples and their paths, checked by one loop"
)]
fn samples_that_break_a_constraint_are_rejected_at_the_right_path() {
    let cases: Vec<(&Schema, Value, &str)> = vec![
        (Person::schema(), json!({"name": "A", "age": 151}), "/age"),
        (
            Person::schema(),
            json!({"name": "A", "age": 30, "email": "not an email"}),
            "/email",
        ),
        (Person::schema(), json!({"age": 30}), ""),
        (
            Invoice::schema(),
            json!({"invoiceNumber": "X1", "issuedOn": "2024-01-01", "lines": [{"description": "a", "quantity": 1, "unit_price": 1.0}], "status": "paid"}),
            "/invoiceNumber",
        ),
        (
            Invoice::schema(),
            json!({"invoiceNumber": "AB-1234", "issuedOn": "2024-01-01", "lines": [], "status": "paid"}),
            "/lines",
        ),
        (
            Invoice::schema(),
            json!({"invoiceNumber": "AB-1234", "issuedOn": "01/02/2024", "lines": [{"description": "a", "quantity": 1, "unit_price": 1.0}], "status": "paid"}),
            "/issuedOn",
        ),
        (
            Invoice::schema(),
            json!({"invoiceNumber": "AB-1234", "issuedOn": "2024-01-01", "lines": [{"description": "a", "quantity": 0, "unit_price": 1.0}], "status": "paid"}),
            "/lines/0/quantity",
        ),
        (
            Invoice::schema(),
            json!({"invoiceNumber": "AB-1234", "issuedOn": "2024-01-01", "lines": [{"description": "a", "quantity": 1, "unit_price": 1.0}], "status": "lost"}),
            "/status",
        ),
        (
            Line::schema(),
            json!({"description": "", "quantity": 1, "unit_price": 1.0}),
            "/description",
        ),
        (Email::schema(), json!("no-at-sign"), ""),
        (Score::schema(), json!(11), ""),
        (
            Closed::schema(),
            json!({"id": 1, "tags": [], "extra": true}),
            "",
        ),
        (Shape::schema(), json!({"Circle": {"radius": -1.0}}), ""),
        (
            Order::schema(),
            json!({"id": "o", "shipping": null, "notes": [], "temperature_c": 100}),
            "/temperature_c",
        ),
        (
            Product::schema(),
            json!({"sku": "A", "price": -1}),
            "/price",
        ),
        (Event::schema(), json!({"type": "login", "user": "a"}), ""),
        (
            Message::schema(),
            json!({"kind": "Move", "data": {"x": "left", "y": 0}}),
            "",
        ),
    ];
    for (schema, value, path) in cases {
        let violations = schema
            .validate(&value)
            .expect_err(&format!("{} accepted {value}", schema.name()));
        assert!(
            violations.iter().any(|v| v.path == path),
            "{}: expected a violation at {path:?} for {value}, got {violations:?}",
            schema.name()
        );
    }
}

#[test]
fn user_validators_run_with_paths_including_nested_types() {
    let booking = Booking {
        guest: "  ".into(),
        nights: 2,
        check_in: "2024-05-03".into(),
        check_out: "2024-05-01".into(),
        companions: vec![],
    };
    let violations = booking.validate().unwrap_err();
    let paths: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
    assert_eq!(paths, ["/guest", ""]);
    assert_eq!(violations[0].message, "must not be blank");
    assert!(violations[1].message.contains("is not before"));

    let fine = Booking {
        guest: "Ann".into(),
        check_out: "2024-05-05".into(),
        ..booking
    };
    assert!(fine.validate().is_ok());
}

mod nested_validation {
    use factum::Extract;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, Extract)]
    pub(crate) struct Item {
        #[extract(validate = positive)]
        pub(crate) qty: i32,
    }

    #[derive(Debug, Deserialize, Extract)]
    pub(crate) struct Cart {
        pub(crate) first: Item,
        pub(crate) items: Vec<Item>,
        pub(crate) maybe: Option<Box<Item>>,
        pub(crate) by_name: std::collections::BTreeMap<String, Item>,
    }

    #[derive(Debug, Deserialize, Extract)]
    #[serde(tag = "kind")]
    pub(crate) enum Entry {
        One { item: Item },
    }

    #[allow(
        clippy::trivially_copy_pass_by_ref,
        reason = "a field validator takes `&FieldType`"
    )]
    fn positive(qty: &i32) -> Result<(), String> {
        if *qty > 0 {
            Ok(())
        } else {
            Err(format!("{qty} is not positive"))
        }
    }
}

#[test]
fn nested_extract_fields_are_validated_through_options_vecs_boxes_and_maps() {
    use nested_validation::*;
    let cart: Cart = serde_json::from_value(json!({
        "first": {"qty": 0},
        "items": [{"qty": 1}, {"qty": -2}],
        "maybe": {"qty": -3},
        "by_name": {"a/b": {"qty": -4}}
    }))
    .unwrap();
    let violations = cart.validate().unwrap_err();
    let paths: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/first/qty",
            "/items/1/qty",
            "/maybe/qty",
            "/by_name/a~1b/qty"
        ]
    );
    assert_eq!(violations[1].message, "-2 is not positive");

    let entry: Entry = serde_json::from_value(json!({"kind": "One", "item": {"qty": 0}})).unwrap();
    assert_eq!(entry.validate().unwrap_err()[0].path, "/item/qty");
}

#[test]
#[allow(dead_code, reason = "only the types' schemas are looked at")]
fn const_generic_arguments_name_their_own_schemas() {
    use serde::Deserialize;

    #[derive(Deserialize, Extract)]
    struct Fixed<const N: usize> {
        values: Vec<u8>,
    }

    #[derive(Deserialize, Extract)]
    struct TwoSizes {
        small: Fixed<1>,
        large: Fixed<2>,
    }

    assert_eq!(factum::schema::<Fixed<1>>().name(), "Fixed_for_1");
    assert_eq!(factum::schema::<Fixed<2>>().name(), "Fixed_for_2");
    let two = factum::schema::<TwoSizes>().json();
    let mut defs: Vec<&str> = two["$defs"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    defs.sort_unstable();
    assert_eq!(defs, ["Fixed_for_1", "Fixed_for_2"]);
    assert_eq!(two["properties"]["small"]["$ref"], "#/$defs/Fixed_for_1");
    assert_eq!(two["properties"]["large"]["$ref"], "#/$defs/Fixed_for_2");
}

#[test]
#[allow(dead_code, reason = "only the types' schemas are looked at")]
fn the_envelope_key_is_the_serde_name_in_snake_case_written_at_compile_time() {
    use std::borrow::Cow;

    use serde::Deserialize;

    #[derive(Deserialize, Extract)]
    enum Sentiment {
        Positive,
        Negative,
    }

    /// The Rust name and the name the model is shown differ: the key follows the latter.
    #[derive(Deserialize, Extract)]
    #[serde(rename = "HTTPVerdict")]
    enum Mood {
        Good,
        Bad,
    }

    assert_eq!(
        factum::schema::<Sentiment>().envelope_key(),
        Some("sentiment")
    );
    assert!(matches!(
        Sentiment::envelope_key(),
        Cow::Borrowed("sentiment")
    ));
    assert_eq!(factum::schema::<Mood>().name(), "HTTPVerdict");
    assert_eq!(
        factum::schema::<Mood>().envelope_key(),
        Some("http_verdict")
    );
    assert!(matches!(
        Mood::envelope_key(),
        Cow::Borrowed("http_verdict")
    ));
    assert_eq!(
        factum::schema::<Vec<Mood>>().envelope_key(),
        Some("http_verdict_list")
    );
}

#[test]
#[allow(dead_code, reason = "only the types' schemas are looked at")]
fn repeated_examples_all_reach_the_schema_and_empty_struct_variants_derive() {
    use serde::Deserialize;

    #[derive(Deserialize, Extract)]
    #[extract(example = r#"{"size": 1}"#, example = r#"{"size": 2}"#)]
    struct Sized {
        #[extract(example = 1, example = -2)]
        size: i32,
    }

    #[derive(Deserialize, Extract)]
    #[serde(tag = "kind")]
    enum Signal {
        Empty {},
        Full { level: u8 },
    }

    let sized = factum::schema::<Sized>().json();
    assert_eq!(sized["examples"], json!([{"size": 1}, {"size": 2}]));
    assert_eq!(sized["properties"]["size"]["examples"], json!([1, -2]));
    let signal = factum::schema::<Signal>().json();
    assert_eq!(signal["oneOf"][0]["properties"]["kind"]["const"], "Empty");
    assert_eq!(signal["oneOf"][1]["required"], json!(["kind", "level"]));
}
