//! Run-time targets ([`factum::Dynamic`]) through the same pipeline as derived types:
//! specs and their errors, schema errors, the equivalence with a derived type, streaming,
//! batches and chunked runs.

use factum::testing::Script;
use factum::{Chunking, Dynamic, ErrorKind, Extract, Provider, SchemaError, StreamEvent};
use factum_tests::http::{JOHN_JSON, Person, john};
use factum_tests::scripted::{ROSTER, client, roster, roster_script};
use futures_util::StreamExt as _;
use serde_json::{Value, json};

const TEXT: &str = "John Doe, john@example.com, 30";

#[test]
fn a_spec_gives_the_schema_a_derived_type_would() {
    let d = Dynamic::from_fields("name: Full name, as written.\nage int: Age in whole years.\nemail?: Email address, if the text gives one.")
        .unwrap();
    let json = d.schema().json();
    assert_eq!(
        json["properties"]["name"],
        json!({"type": "string", "minLength": 1, "description": "Full name, as written."})
    );
    assert_eq!(
        json["properties"]["email"]["type"],
        json!(["string", "null"])
    );
    assert_eq!(json["required"], json!(["name", "age"]));
    assert!(
        d.schema().prompt().contains("email: string | null"),
        "{}",
        d.schema().prompt()
    );
}

#[test]
fn a_spec_error_names_its_column() {
    let Err(SchemaError::Spec {
        line,
        column,
        message,
    }) = Dynamic::from_fields("name, age innt, email?")
    else {
        panic!("a spec error");
    };
    assert_eq!((line, column), (1, 11));
    assert!(message.contains("innt"), "{message}");
}

#[test]
fn a_schema_error_names_the_path_and_the_keyword() {
    let schema = json!({
        "type": "object",
        "properties": {"tags": {"type": "array", "items": {"$ref": "other.json#/Tag"}}},
    });
    let error = Dynamic::from_json_schema(schema).unwrap_err();
    assert_eq!(error.path(), "/properties/tags/items/$ref");
    assert!(error.to_string().contains("keyword `$ref`"), "{error}");
    let error =
        Dynamic::from_json_schema(json!({"properties": {"age": {"minimum": "ten"}}})).unwrap_err();
    assert_eq!(error.path(), "/properties/age/minimum");
    assert!(error.to_string().contains("keyword `minimum`"), "{error}");
}

#[tokio::test]
async fn a_dynamic_from_a_derived_types_schema_sends_the_same_request_and_reads_the_same_value() {
    let derived = factum::schema::<Person>();
    let dynamic = Dynamic::from_json_schema(derived.json().clone())
        .unwrap()
        .name(derived.name());

    let typed_script = Script::new().reply(JOHN_JSON);
    let typed = client(&typed_script, Provider::LlamaCpp)
        .extraction::<Person>(TEXT)
        .send()
        .await
        .unwrap();
    let dynamic_script = Script::new().reply(JOHN_JSON);
    let value = client(&dynamic_script, Provider::LlamaCpp)
        .extraction_dynamic(&dynamic, TEXT)
        .send()
        .await
        .unwrap();
    assert_eq!(typed_script.requests(), dynamic_script.requests());
    assert_eq!(typed.value, john());
    let back: Person = serde_json::from_value(value.value.clone()).unwrap();
    assert_eq!(back, typed.value);
    assert_eq!(value.spans, typed.spans);
}

#[tokio::test]
async fn a_dynamic_reply_is_validated_and_reasked_like_a_derived_one() {
    let d = Dynamic::from_fields("name, age int")
        .unwrap()
        .name("Person");
    let script = Script::new()
        .reply(r#"{"name": "", "age": "thirty"}"#)
        .reply(r#"{"name": "John Doe", "age": "30"}"#);
    let out = client(&script, Provider::Dria)
        .extraction_dynamic(&d, TEXT)
        .send()
        .await
        .unwrap();
    // The string "30" was coerced to the integer the schema asks for, and recorded.
    assert_eq!(out.value, json!({"name": "John Doe", "age": 30}));
    assert_eq!(out.attempts.len(), 2);
    assert!(!out.attempts[1].repairs.is_empty());
    let feedback = script.requests()[1]["messages"].to_string();
    assert!(feedback.contains("/name"), "{feedback}");
    assert!(feedback.contains("/age"), "{feedback}");
}

#[tokio::test]
async fn a_dynamic_streams_partial_values() {
    let d = Dynamic::from_fields("name, age int")
        .unwrap()
        .name("Person");
    let script = Script::new().stream([r#"{"name": "Jo"#, r#"hn Doe", "age": 30}"#]);
    let events: Vec<_> = client(&script, Provider::LlamaCpp)
        .extraction_dynamic(&d, TEXT)
        .stream()
        .collect()
        .await;
    let partials: Vec<&Value> = events
        .iter()
        .filter_map(|e| match e {
            Ok(StreamEvent::Partial(p)) => Some(p),
            _ => None,
        })
        .collect();
    assert!(partials.iter().any(|p| p["name"] == "Jo"), "{partials:?}");
    let Some(Ok(StreamEvent::Done(out))) = events.last() else {
        panic!("{events:?}");
    };
    assert_eq!(out.value, json!({"name": "John Doe", "age": 30}));
}

#[tokio::test]
async fn a_dynamic_batch_runs_every_item_and_fails_one_alone() {
    let d = Dynamic::from_fields("n int").unwrap().name("Number");
    let mut script = Script::new();
    for _ in 0..4 + 3 {
        script = script.respond(|request| {
            let text = request["messages"].to_string();
            let n = (0..5)
                .find(|n| text.contains(&format!("Number {n}.")))
                .unwrap_or(9);
            if n == 2 {
                "no".to_owned()
            } else {
                format!(r#"{{"n": {n}}}"#)
            }
        });
    }
    let texts: Vec<String> = (0..5).map(|n| format!("Number {n}.")).collect();
    let results: Vec<_> = client(&script, Provider::Dria)
        .batch_dynamic(&d, texts)
        .concurrency(2)
        .stream()
        .collect()
        .await;
    assert_eq!(results.len(), 5);
    for (index, result) in results {
        match result {
            Ok(out) => assert_eq!(out.value, json!({"n": index})),
            Err(error) => {
                assert_eq!(index, 2);
                assert_eq!(error.kind(), ErrorKind::Exhausted);
            }
        }
    }
    script.assert_done();
}

#[tokio::test]
async fn a_dynamic_list_runs_chunked_and_merges_into_one_array() {
    let d = Dynamic::from_fields("name, age int")
        .unwrap()
        .name("Member")
        .multi();
    let text = roster();
    let script = roster_script(8, None);
    let out = client(&script, Provider::LlamaCpp)
        .extraction_dynamic(&d, text.clone())
        .chunked(Chunking::chars(80))
        .send()
        .await
        .unwrap();
    let expected: Vec<Value> = ROSTER
        .iter()
        .map(|(name, age)| json!({"name": name, "age": age}))
        .collect();
    assert_eq!(out.value, Value::Array(expected));
    let chunks = script.requests().len();
    assert!(chunks > 2, "{chunks} chunks");
    for span in &out.spans {
        let range = span.range.clone().expect("each value is in the text");
        assert_eq!(&text[range], span.value.as_str());
    }
    // A target that is not a list cannot be merged.
    let one = Dynamic::from_fields("name").unwrap();
    let error = client(&Script::new(), Provider::LlamaCpp)
        .extraction_dynamic(&one, text)
        .chunked(Chunking::chars(80))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    assert!(error.to_string().contains(".multi()"), "{error}");
}

/// The derive's own request for a list is what a `multi` target of the same fields sends.
#[tokio::test]
async fn a_multi_target_asks_as_a_derived_list_does() {
    #[derive(Debug, serde::Deserialize, Extract)]
    #[allow(dead_code, reason = "only its schema is compared")]
    struct Member {
        name: String,
    }
    let d = Dynamic::from_json_schema(factum::schema::<Member>().json().clone())
        .unwrap()
        .name("Member")
        .multi();
    let derived = factum::schema::<Vec<Member>>();
    assert_eq!(d.schema().envelope_key(), derived.envelope_key());
    assert_eq!(d.schema().json(), derived.json());
    assert_eq!(d.schema().name(), derived.name());
    assert_eq!(d.schema().prompt(), derived.prompt());
}

#[tokio::test]
async fn an_x_grounded_field_of_a_dynamic_must_be_quoted_from_the_text() {
    let schema = json!({
        "type": "object",
        "properties": {"city": {"type": "string", "x-grounded": true}},
        "required": ["city"],
    });
    let d = Dynamic::from_json_schema(schema).unwrap().name("Place");
    assert!(
        d.schema().prompt().contains("city"),
        "{}",
        d.schema().prompt()
    );
    let script = Script::new()
        .reply(r#"{"city": "Paris, France"}"#)
        .reply(r#"{"city": "Lyon"}"#);
    let out = client(&script, Provider::Dria)
        .extraction_dynamic(&d, "She moved to Lyon last spring.")
        .send()
        .await
        .unwrap();
    assert_eq!(out.value, json!({"city": "Lyon"}));
    assert_eq!(out.attempts.len(), 2);
    let feedback = script.requests()[1]["messages"].to_string();
    assert!(feedback.contains("/city"), "{feedback}");
    let span = out.spans.iter().find(|s| s.path == "/city").unwrap();
    assert_eq!(span.range, Some(13..17));
}
