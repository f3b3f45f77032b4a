//! Lists, optional values and plain values extract too: `extract::<Vec<Person>>` for
//! "every person in the text", `Option<T>` for "maybe none", `bool` for a yes/no answer.

use factum::{AttemptFailure, Dialect, Extract, Provider};
use factum_tests::http::{Person, bodies, chat, client, john, respond, respond_in_order};
use serde::Deserialize;
use serde_json::json;
use wiremock::MockServer;

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
    let server = MockServer::start().await;
    let key = factum::schema::<Vec<Person>>()
        .envelope_key()
        .unwrap()
        .to_owned();
    let people = r#"[{"name": "John Doe", "age": 30, "email": "john@example.com"}, {"name": "Mary Jones", "age": 45, "email": null}]"#;
    respond(&server, chat(&format!(r#"{{"{key}": {people}}}"#), 5, 5)).await;
    let out: Vec<Person> = client(&server, Provider::LlamaCpp)
        .extract("John Doe (30, john@example.com) and Mary Jones, 45")
        .await
        .unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(out[0], john());
    assert_eq!(out[1].name, "Mary Jones");
    let body = &bodies(&server).await[0];
    assert_eq!(
        body["response_format"]["json_schema"]["schema"]["properties"][&key]["type"],
        "array"
    );

    // A model that answers with the bare array is read as well.
    let server = MockServer::start().await;
    respond(&server, chat(people, 5, 5)).await;
    let out: Vec<Person> = client(&server, Provider::LlamaCpp)
        .extract("…")
        .await
        .unwrap();
    assert_eq!(out.len(), 2);
}

#[tokio::test]
async fn list_elements_are_validated_with_their_index() {
    let server = MockServer::start().await;
    respond_in_order(
        &server,
        [
            chat(
                r#"[{"name": "A", "age": 30, "email": null}, {"name": "B", "age": 200, "email": null}]"#,
                5,
                5,
            ),
            chat(
                r#"[{"name": "A", "age": 30, "email": null}, {"name": "B", "age": 20, "email": null}]"#,
                5,
                5,
            ),
        ],
    )
    .await;
    let out = client(&server, Provider::LlamaCpp)
        .extraction::<Vec<Person>>("A is 30, B is 20")
        .send()
        .await
        .unwrap();
    assert_eq!(out.value[1].age, 20);
    let Some(AttemptFailure::Violations(violations)) = &out.attempts[0].failure else {
        panic!("{:?}", out.attempts[0].failure)
    };
    assert_eq!(violations[0].path, "/1/age");
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
    let server = MockServer::start().await;
    let key = factum::schema::<bool>().envelope_key().unwrap().to_owned();
    respond(&server, chat(&format!(r#"{{"{key}": "yes"}}"#), 5, 5)).await;
    let spam: bool = client(&server, Provider::LlamaCpp)
        .extract("WIN A PRIZE NOW")
        .await
        .unwrap();
    assert!(spam);

    let server = MockServer::start().await;
    respond(&server, chat("null", 5, 5)).await;
    let nobody: Option<Person> = client(&server, Provider::LlamaCpp)
        .extract("The weather is nice.")
        .await
        .unwrap();
    assert_eq!(nobody, None);
}
