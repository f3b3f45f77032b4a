//! The pipeline's judgement, on a scripted transport: no HTTP, no model. What is asked, what
//! is fed back, and what comes out, for replies that fit, fail, need repair, are cut off
//! or invent what the text does not say.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema as JsonSchemaDoc, SchemaGenerator, json_schema};

use std::sync::Arc;

use serde_json::{Value, json};

use crate::parse::RepairKind;
use crate::transport::scripted::{Scripted, completion};
use crate::transport::{Completion, Transport};
use crate::{AttemptFailure, Client, ErrorKind, Extract, Leniency, Provider};

/// A type whose schema is not a JSON Schema at all (`"type": 12`).
#[derive(Debug, serde::Deserialize)]
struct Broken {}

impl JsonSchema for Broken {
    fn schema_name() -> Cow<'static, str> {
        "Broken".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> JsonSchemaDoc {
        json_schema!({"type": "object", "properties": {"a": {"type": 12}}})
    }
}

impl Extract for Broken {
    type Partial = ();

    fn partial_from(_: &crate::stream::Node) -> Option<()> {
        None
    }
}

#[tokio::test]
async fn a_schema_that_does_not_compile_fails_before_any_request() {
    // Port 1 refuses connections: had a request gone out, this would be a transport
    // error instead.
    let client = Client::builder()
        .provider(Provider::LlamaCpp)
        .base_url("http://127.0.0.1:1/v1")
        .model("m")
        .transport_retries(0)
        .build()
        .unwrap();
    let error = client.extract::<Broken>("text").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Schema, "{error:?}");
    assert!(error.attempts().is_empty());
    let source = std::error::Error::source(&error).expect("the schema error is the source");
    assert!(
        source.to_string().contains("not a valid JSON Schema"),
        "{source}"
    );
}

/// A person mentioned in the text.
#[derive(Debug, PartialEq, serde::Deserialize, crate::Extract)]
#[extract(crate = "crate")]
struct Person {
    /// Full name, as written.
    #[extract(grounded)]
    name: String,
    /// Age in whole years.
    #[extract(range(min = 0, max = 150))]
    age: u8,
}

const TEXT: &str = "Ada Lovelace is 36.";

fn ada() -> Person {
    Person {
        name: "Ada Lovelace".into(),
        age: 36,
    }
}

/// A client whose calls the script answers, in order.
fn scripted(answers: impl IntoIterator<Item = Completion>) -> (Client, Arc<Scripted>) {
    let script = Arc::new(Scripted::new(answers.into_iter().map(Ok)));
    let client = Client::builder()
        .provider(Provider::LlamaCpp)
        .model("m")
        .build_on(Arc::clone(&script) as Arc<dyn Transport>);
    (client, script)
}

/// The text of every message of a request, in order.
fn texts(request: &Value) -> Vec<String> {
    let messages = request["messages"].as_array().cloned().unwrap_or_default();
    messages
        .iter()
        .map(|m| m["content"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_violation_is_reasked_with_its_path_and_the_failed_reply_then_fixed() {
    let too_old = r#"{"name": "Ada Lovelace", "age": 360}"#;
    let fixed = r#"{"name": "Ada Lovelace", "age": 36}"#;
    let (client, script) = scripted([completion(too_old, 50, 10), completion(fixed, 80, 10)]);
    let out = client.extraction::<Person>(TEXT).send().await.unwrap();
    assert_eq!(out.value, ada());
    assert_eq!(out.attempts.len(), 2);
    let Some(AttemptFailure::Violations(violations)) = &out.attempts[0].failure else {
        panic!("{:?}", out.attempts[0].failure)
    };
    assert_eq!(violations[0].path, "/age");
    assert_eq!(out.usage, crate::Usage::new(130, 20));
    let sent = script.sent();
    let reask = texts(&sent[1]);
    assert_eq!(
        reask.len(),
        4,
        "system, text, the failed reply, the feedback"
    );
    assert_eq!(reask[2], too_old);
    assert!(
        reask[3].contains("/age") && reask[3].contains("150"),
        "{}",
        reask[3]
    );
}

#[tokio::test]
async fn a_repaired_reply_is_kept_with_its_repairs_and_refused_when_exact() {
    let sloppy = "Sure! {'name': 'Ada Lovelace', 'age': '36',}";
    let (client, _) = scripted([completion(sloppy, 1, 1)]);
    let out = client.extraction::<Person>(TEXT).send().await.unwrap();
    assert_eq!(out.value, ada());
    let kinds: Vec<RepairKind> = out.attempts[0].repairs.iter().map(|r| r.kind).collect();
    assert!(kinds.contains(&RepairKind::NumberFromString), "{kinds:?}");
    let (client, script) = scripted([completion(sloppy, 1, 1)]);
    let error = client
        .extraction::<Person>(TEXT)
        .leniency(Leniency::Exact)
        .max_retries(0)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Exhausted);
    assert_eq!(error.attempts()[0].raw, sloppy, "the raw reply is kept");
    assert_eq!(script.sent().len(), 1);
}

#[tokio::test]
async fn an_invented_grounded_value_is_reasked_and_a_copied_one_returns() {
    let invented = r#"{"name": "Augusta King", "age": 36}"#;
    let copied = r#"{"name": "Ada Lovelace", "age": 36}"#;
    let (client, script) = scripted([completion(invented, 1, 1), completion(copied, 1, 1)]);
    let out = client.extraction::<Person>(TEXT).send().await.unwrap();
    assert_eq!(out.value, ada());
    let Some(AttemptFailure::Violations(violations)) = &out.attempts[0].failure else {
        panic!("{:?}", out.attempts[0].failure)
    };
    assert_eq!(violations[0].path, "/name");
    let feedback = texts(&script.sent()[1]).pop().unwrap_or_default();
    assert!(
        feedback.contains("Augusta King") && feedback.contains("exactly"),
        "{feedback}"
    );
    assert_eq!(out.spans[0].text(TEXT), Some("Ada Lovelace"));
}

#[tokio::test]
async fn a_reply_cut_at_max_tokens_is_asked_again_with_twice_the_room() {
    let cut = Completion {
        finish_reason: Some("length".into()),
        ..completion(r#"{"name": "Ada Lovelace", "ag"#, 10, 16)
    };
    let (client, script) = scripted([
        cut,
        completion(r#"{"name": "Ada Lovelace", "age": 36}"#, 10, 12),
    ]);
    let out = client
        .extraction::<Person>(TEXT)
        .max_tokens(16)
        .send()
        .await
        .unwrap();
    assert_eq!(out.value, ada());
    assert_eq!(out.attempts[0].failure, Some(AttemptFailure::Truncated));
    let sent = script.sent();
    assert_eq!(
        (sent[0]["max_tokens"].clone(), sent[1]["max_tokens"].clone()),
        (json!(16), json!(32))
    );
}
