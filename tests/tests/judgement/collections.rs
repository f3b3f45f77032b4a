//! Lists, maps, optional values and plain values extract too: `extract::<Vec<Person>>` for
//! "every person in the text", `HashMap<String, V>` for "each value by name", `Option<T>`
//! for "maybe none", `bool` for a yes/no answer.

use std::collections::{BTreeMap, HashMap};

use factum::testing::Script;
use factum::{AttemptFailure, Dialect, Extract, Provider};
use factum_tests::http::{Person, john};
use factum_tests::scripted::{client, replies};
use serde::Deserialize;
use serde_json::json;

#[test]
fn list_schemas_are_arrays_wrapped_under_a_name() {
    let schema = factum::schema::<Vec<Person>>();
    assert_eq!(schema.json()["type"], "array");
    let key = schema.envelope_key().expect("an array root is wrapped");
    assert_eq!(key, "person_list");
    let strict = schema.for_dialect(Dialect::OpenAiStrict).unwrap();
    assert_eq!(strict["required"], json!([key]));
    assert_eq!(strict["properties"][key]["type"], "array");
    assert!(schema.prompt().contains("Person"), "{}", schema.prompt());
    assert_eq!(
        factum::schema::<Option<Person>>().envelope_key(),
        Some("person")
    );
    assert_eq!(factum::schema::<bool>().envelope_key(), Some("answer"));
    assert_eq!(
        factum::schema::<Vec<String>>().envelope_key(),
        Some("answer_list")
    );
}

#[tokio::test]
async fn a_list_is_extracted_wrapped_or_bare() {
    let key = factum::schema::<Vec<Person>>()
        .envelope_key()
        .unwrap()
        .to_owned();
    let people = r#"[{"name": "John Doe", "age": 30, "email": "john@example.com"}, {"name": "Mary Jones", "age": 45, "email": null}]"#;
    let wrapped = format!(r#"{{"{key}": {people}}}"#);
    let script = replies([(wrapped.as_str(), 5, 5)]);
    let out: Vec<Person> = client(&script, Provider::LlamaCpp)
        .extract("John Doe (30, john@example.com) and Mary Jones, 45")
        .await
        .unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(out[0], john());
    assert_eq!(out[1].name, "Mary Jones");
    let body = &script.requests()[0];
    assert_eq!(
        body["response_format"]["json_schema"]["schema"]["properties"][&key]["type"],
        "array"
    );
    script.assert_done();

    // A model that answers with the bare array is read as well.
    let script = replies([(people, 5, 5)]);
    let out: Vec<Person> = client(&script, Provider::LlamaCpp)
        .extract("…")
        .await
        .unwrap();
    assert_eq!(out.len(), 2);
    script.assert_done();
}

#[tokio::test]
async fn list_elements_are_validated_with_their_index() {
    let script = replies([
        (
            r#"[{"name": "A", "age": 30, "email": null}, {"name": "B", "age": 200, "email": null}]"#,
            5,
            5,
        ),
        (
            r#"[{"name": "A", "age": 30, "email": null}, {"name": "B", "age": 20, "email": null}]"#,
            5,
            5,
        ),
    ]);
    let out = client(&script, Provider::LlamaCpp)
        .extraction::<Vec<Person>>("A is 30, B is 20")
        .send()
        .await
        .unwrap();
    assert_eq!(out.value[1].age, 20);
    let Some(AttemptFailure::Violations(violations)) = &out.attempts[0].failure else {
        panic!("{:?}", out.attempts[0].failure)
    };
    assert_eq!(violations[0].path, "/1/age");
    script.assert_done();
}

/// A ticket mentioned in the text.
#[derive(Debug, PartialEq, Deserialize, Extract)]
struct Ticket {
    #[extract(validate = not_blank)]
    title: String,
}

fn not_blank(title: &str) -> Result<(), String> {
    if title.trim().is_empty() {
        Err("must not be blank".into())
    } else {
        Ok(())
    }
}

#[test]
fn user_validators_run_inside_lists_and_options() {
    let tickets = vec![Ticket { title: "ok".into() }, Ticket { title: " ".into() }];
    assert_eq!(tickets.validate().unwrap_err()[0].path, "/1/title");
    let maybe = Some(Ticket {
        title: String::new(),
    });
    assert_eq!(maybe.validate().unwrap_err()[0].path, "/title");
    assert!(None::<Ticket>.validate().is_ok());
}

#[tokio::test]
async fn plain_values_and_absent_values() {
    let key = factum::schema::<bool>().envelope_key().unwrap().to_owned();
    let answer = format!(r#"{{"{key}": "yes"}}"#);
    let script = replies([(answer.as_str(), 5, 5)]);
    let spam: bool = client(&script, Provider::LlamaCpp)
        .extract("WIN A PRIZE NOW")
        .await
        .unwrap();
    assert!(spam);
    script.assert_done();

    let script = replies([("null", 5, 5)]);
    let nobody: Option<Person> = client(&script, Provider::LlamaCpp)
        .extract("The weather is nice.")
        .await
        .unwrap();
    assert_eq!(nobody, None);
    script.assert_done();
}

/// Scores by subject, as a report gives them.
#[derive(Debug, PartialEq, Deserialize, Extract)]
struct Report {
    /// The pupil's name.
    pupil: String,
    /// Each subject's score, out of 100.
    scores: HashMap<String, u32>,
}

#[test]
fn maps_are_open_objects_and_refused_by_strict_mode() {
    let schema = factum::schema::<Report>();
    let scores = &schema.json()["properties"]["scores"];
    assert_eq!(scores["type"], "object");
    assert_eq!(scores["additionalProperties"]["type"], "integer");
    let llama = schema.for_dialect(Dialect::LlamaCpp).unwrap();
    assert_eq!(
        llama["properties"]["scores"]["additionalProperties"]["type"],
        "integer"
    );
    let error = schema.for_dialect(Dialect::OpenAiStrict).unwrap_err();
    assert_eq!(error.path(), "/properties/scores");
    // A map root is an object already: no envelope.
    assert_eq!(
        factum::schema::<BTreeMap<String, Person>>().envelope_key(),
        None
    );
}

#[tokio::test]
async fn a_map_is_extracted_as_a_field_and_as_the_root() {
    let script = replies([(
        r#"{"pupil": "Ann", "scores": {"maths": 90, "art": "75"}}"#,
        5,
        5,
    )]);
    let report: Report = client(&script, Provider::LlamaCpp)
        .extract("Ann: maths 90, art 75")
        .await
        .unwrap();
    assert_eq!(report.scores["maths"], 90);
    assert_eq!(report.scores["art"], 75);
    script.assert_done();

    let script = replies([(r#"{"red": "stop", "green": "go"}"#, 5, 5)]);
    let lights: HashMap<String, String> = client(&script, Provider::LlamaCpp)
        .extract("red means stop, green means go")
        .await
        .unwrap();
    assert_eq!(lights.len(), 2);
    assert_eq!(lights["green"], "go");
    let body = &script.requests()[0];
    let sent = &body["response_format"]["json_schema"]["schema"];
    assert_eq!(sent["type"], "object");
    assert_eq!(sent["additionalProperties"]["type"], "string");
    script.assert_done();
}

#[tokio::test]
async fn map_values_are_validated_under_their_key() {
    let script = replies([
        (
            r#"{"john": {"name": "John Doe", "age": 300, "email": null}}"#,
            5,
            5,
        ),
        (
            r#"{"john": {"name": "John Doe", "age": 30, "email": null}}"#,
            5,
            5,
        ),
    ]);
    let out = client(&script, Provider::LlamaCpp)
        .extraction::<BTreeMap<String, Person>>("John Doe, 30")
        .send()
        .await
        .unwrap();
    assert_eq!(out.value["john"].age, 30);
    let Some(AttemptFailure::Violations(violations)) = &out.attempts[0].failure else {
        panic!("{:?}", out.attempts[0].failure)
    };
    assert_eq!(violations[0].path, "/john/age");
    script.assert_done();
}

#[tokio::test]
async fn a_map_under_openai_strict_mode_is_refused_before_sending() {
    // The reply a server would give, if asked: it must stay unused.
    let script = Script::new().reply(r#"{"pupil": "Ann", "scores": {}}"#);
    let error = client(&script, Provider::OpenAi)
        .extract::<Report>("Ann: maths 90")
        .await
        .unwrap_err();
    assert_eq!(error.kind(), factum::ErrorKind::Schema, "{error:?}");
    assert!(script.requests().is_empty());
    assert_eq!(script.remaining(), 1);
    let source = std::error::Error::source(&error).unwrap();
    let schema_error = source.downcast_ref::<factum::SchemaError>().unwrap();
    assert_eq!(schema_error.path(), "/properties/scores");
    // The error names where it would have gone: a scripted client's endpoint is `scripted:`.
    assert_eq!(
        error.to_string(),
        "the schema of `Report` cannot be sent (scripted:, model qwen3.5:9b)"
    );
}
