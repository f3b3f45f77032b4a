//! Default grounding: an optional value the text does not hold is re-asked once, then
//! dropped as a recorded repair; `inferred` fields and `Grounding::Off` are never checked.

use factum::parse::RepairKind;
use factum::testing::Script;
use factum::{Client, ClientBuilder, Extract, Grounding, Provider};
use factum_tests::http::{JOHN_JSON, Person};
use factum_tests::scripted::replies;
use serde::Deserialize;

/// A builder with every default, grounding included, on `script`. The loopback server
/// these tests once ran against got the llama.cpp profile from its URL; a script is
/// `Custom` unless told, so the provider is set.
fn with_defaults(script: &Script) -> ClientBuilder {
    Client::builder()
        .scripted(script.clone())
        .provider(Provider::LlamaCpp)
        .model("m")
}

/// [`with_defaults`], built.
fn defaults(script: &Script) -> Client {
    with_defaults(script).build().unwrap()
}

#[tokio::test]
async fn an_invented_optional_email_is_re_asked_then_dropped_as_a_repair() {
    // The model repeats itself: the same reply to the re-ask.
    let script = replies([(JOHN_JSON, 10, 10); 2]);
    let out = defaults(&script)
        .extraction::<Person>("John Doe, 30")
        .send()
        .await
        .expect("never an error");
    assert_eq!(out.value.email, None);
    assert_eq!((out.value.name.as_str(), out.value.age), ("John Doe", 30));
    let sent = script.requests();
    assert_eq!(sent.len(), 2, "re-asked once");
    let feedback = sent[1]["messages"].to_string();
    assert!(
        feedback.contains("/email")
            && feedback.contains("not in the text")
            && feedback.contains("null"),
        "{feedback}"
    );
    assert!(out.attempts[0].failure.is_some());
    let repair = out.attempts[1]
        .repairs
        .iter()
        .find(|r| r.kind == RepairKind::NotInText)
        .expect("the drop is recorded");
    assert_eq!(repair.path, "/email");
    assert!(
        repair.detail.contains("john@example.com"),
        "{}",
        repair.detail
    );
}

#[tokio::test]
async fn an_email_in_the_text_is_kept_without_a_re_ask() {
    let script = replies([(JOHN_JSON, 10, 10); 2]);
    let out = defaults(&script)
        .extraction::<Person>("John Doe, 30, john@example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(out.value.email.as_deref(), Some("john@example.com"));
    assert_eq!(script.requests().len(), 1);
    assert!(
        out.attempts[0]
            .repairs
            .iter()
            .all(|r| r.kind != RepairKind::NotInText)
    );
}

/// A ticket whose category is derived, not quoted.
#[derive(Debug, Deserialize, Extract)]
struct Ticket {
    /// Who wrote.
    name: String,
    /// The team it goes to.
    #[extract(inferred)]
    category: Option<String>,
}

#[tokio::test]
async fn an_inferred_field_is_never_checked() {
    let script = replies([(r#"{"name": "Ann", "category": "billing"}"#, 10, 10); 2]);
    let out = defaults(&script)
        .extraction::<Ticket>("Ann: my invoice is wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(out.value.name, "Ann");
    assert_eq!(out.value.category.as_deref(), Some("billing"));
    let sent = script.requests();
    assert_eq!(sent.len(), 1);
    assert!(
        !sent[0].to_string().contains("x-inferred"),
        "no server sees the mark"
    );
}

#[tokio::test]
async fn grounding_off_sends_one_request_and_keeps_the_value() {
    let script = replies([(JOHN_JSON, 10, 10); 2]);
    let out = defaults(&script)
        .extraction::<Person>("John Doe, 30")
        .grounding(Grounding::Off)
        .send()
        .await
        .unwrap();
    assert_eq!(out.value.email.as_deref(), Some("john@example.com"));
    assert_eq!(script.requests().len(), 1);
}

#[tokio::test]
async fn grounding_all_re_asks_a_required_value_the_text_does_not_hold() {
    let jane = r#"{"name": "Jane Roe", "age": 30, "email": null}"#;
    let script = replies([(jane, 10, 10); 2]);
    let error = with_defaults(&script)
        .grounding(Grounding::All)
        .max_retries(1)
        .build()
        .unwrap()
        .extract::<Person>("John Doe, 30")
        .await
        .unwrap_err();
    assert_eq!(error.kind(), factum::ErrorKind::Exhausted, "{error}");
    assert_eq!(error.attempts().len(), 2);
    let failure = error.attempts()[0].failure.as_ref().unwrap().to_string();
    assert!(failure.contains("/name"), "{failure}");
    script.assert_done();
}

/// An order, its items behind a `$ref`.
#[derive(Debug, Deserialize, Extract)]
struct Order {
    /// Who ordered.
    customer: String,
    /// What was ordered.
    items: Vec<Line>,
    /// A note, if the text gives one.
    note: Option<String>,
}

/// One line of an order.
#[derive(Debug, Deserialize, Extract)]
struct Line {
    /// The product.
    product: String,
    /// How many.
    quantity: u32,
}

#[tokio::test]
async fn required_values_behind_a_ref_are_not_checked_by_default_but_optional_ones_are() {
    let reply = r#"{"customer": "Alice", "items": [{"product": "Apple", "quantity": 2}], "note": "urgent"}"#;
    let script = replies([(reply, 10, 10); 2]);
    let out = defaults(&script)
        .extraction::<Order>("Order from Alice: 3 apples.")
        .send()
        .await
        .unwrap();
    assert_eq!(out.value.items[0].quantity, 2, "required: not checked");
    assert_eq!(out.value.items[0].product, "Apple");
    assert_eq!(out.value.customer, "Alice");
    assert_eq!(
        out.value.note, None,
        "optional and invented: dropped after a re-ask"
    );
    let sent = script.requests();
    assert_eq!(sent.len(), 2);
    let feedback = sent[1]["messages"].to_string();
    assert!(
        feedback.contains("/note") && !feedback.contains("/items"),
        "{feedback}"
    );
}
