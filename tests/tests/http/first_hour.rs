//! What a new user meets in the first hour (issue 11): a reply that outgrows the context
//! window is a truncation that keeps every attempt, and `max_tokens` never grows past what
//! the window holds; errors say what failed and where; a local server works from
//! `FACTUM_BASE_URL` alone; validators point at fields.

use factum::{AttemptFailure, ErrorKind, Extract, Provider, Violation};
use factum_tests::http::{
    JOHN_JSON, Person, Reply as _, bodies, builder, chat, client, respond, respond_in_order,
    run_child_test,
};
use serde::Deserialize;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A reply cut off at `completion` tokens after a prompt of `prompt` tokens.
fn truncated(prompt: u64, completion: u64) -> Value {
    let mut body = chat(
        r#"{"name": "John Doe", "tags": ["a", "a", "a""#,
        prompt,
        completion,
    );
    body["choices"][0]["finish_reason"] = "length".into();
    body
}

/// llama-server's answer to a request that does not fit its context.
fn context_exceeded() -> ResponseTemplate {
    ResponseTemplate::new(500).set_body_json(json!({
        "error": {"code": 500, "message": "Context size has been exceeded.", "type": "server_error"}
    }))
}

/// Serves llama-server's `GET /props` with a context window of `n_ctx` tokens.
async fn props(server: &MockServer, n_ctx: u32) {
    Mock::given(method("GET"))
        .and(path("/props"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "default_generation_settings": {"n_ctx": n_ctx, "params": {}},
            "total_slots": 1
        })))
        .mount(server)
        .await;
}

/// How many `GET`s of `url_path` the server received.
async fn gets(server: &MockServer, url_path: &str) -> usize {
    let requests = server.received_requests().await.unwrap_or_default();
    requests
        .iter()
        .filter(|r| r.method.as_str() == "GET" && r.url.path() == url_path)
        .count()
}

fn max_tokens(bodies: &[Value]) -> Vec<u64> {
    bodies
        .iter()
        .map(|b| b["max_tokens"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_context_overflow_after_a_truncation_ends_as_a_truncation_with_every_attempt() {
    let server = MockServer::start().await;
    respond_in_order(
        &server,
        [truncated(1000, 2048).into_response(), context_exceeded()],
    )
    .await;
    let error = client(&server, Provider::LlamaCpp)
        .extract::<Person>("a product listing")
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Truncated, "{error:?}");
    // The 500 is not a transport fault: it was not retried, and nothing more was sent.
    assert_eq!(max_tokens(&bodies(&server).await), [2048, 4096]);
    assert_eq!(error.attempts().len(), 1);
    assert_eq!(error.attempts()[0].failure, Some(AttemptFailure::Truncated));
    assert!(error.attempts()[0].raw.contains(r#""tags": ["a", "a""#));
    assert_eq!(error.usage().total_tokens, 3048);
    let cause = std::error::Error::source(&error).expect("the server error is the source");
    assert!(
        cause.to_string().contains("Context size has been exceeded"),
        "{cause}"
    );
}

#[tokio::test]
async fn max_tokens_is_capped_at_what_the_window_from_props_leaves() {
    let server = MockServer::start().await;
    props(&server, 4096).await;
    respond_in_order(&server, [truncated(1000, 2048), chat(JOHN_JSON, 1000, 20)]).await;
    let client = client(&server, Provider::LlamaCpp);
    let out = client
        .extraction::<Person>("John Doe, 30")
        .send()
        .await
        .unwrap();
    assert_eq!(out.attempts.len(), 2);
    // Doubled would be 4096; the window leaves 4096 - 1000.
    assert_eq!(max_tokens(&bodies(&server).await), [2048, 3096]);
    assert_eq!(out.attempts[1].max_tokens, 3096);

    // The window is remembered for the model: a second truncation asks /props no more.
    server.reset().await;
    props(&server, 4096).await;
    respond_in_order(&server, [truncated(1000, 2048), chat(JOHN_JSON, 1000, 20)]).await;
    client.extract::<Person>("John Doe, 30").await.unwrap();
    assert_eq!(gets(&server, "/props").await, 0);
    assert_eq!(max_tokens(&bodies(&server).await), [2048, 3096]);
}

#[tokio::test]
async fn no_second_request_when_the_window_leaves_no_more_room() {
    let server = MockServer::start().await;
    props(&server, 3000).await;
    respond_in_order(&server, [truncated(1000, 2048), chat(JOHN_JSON, 1000, 20)]).await;
    let error = client(&server, Provider::LlamaCpp)
        .extract::<Person>("a product listing")
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Truncated, "{error:?}");
    assert_eq!(error.max_tokens(), Some(2048));
    assert_eq!(bodies(&server).await.len(), 1);
    assert_eq!(error.attempts().len(), 1);
    assert!(!error.attempts()[0].raw.is_empty());
}

#[tokio::test]
async fn a_window_named_in_the_error_is_learned_and_used_once() {
    let server = MockServer::start().await;
    let sized = ResponseTemplate::new(400).set_body_json(json!({"error": {
        "code": 400,
        "message": "the request exceeds the available context size",
        "type": "exceed_context_size_error",
        "n_prompt_tokens": 1000,
        "n_ctx": 4096
    }}));
    respond_in_order(
        &server,
        [
            truncated(1000, 2048).into_response(),
            sized,
            chat(JOHN_JSON, 1000, 20).into_response(),
        ],
    )
    .await;
    let out = client(&server, Provider::LlamaCpp)
        .extraction::<Person>("John Doe, 30")
        .send()
        .await
        .unwrap();
    assert_eq!(max_tokens(&bodies(&server).await), [2048, 4096, 3096]);
    // The refused request is no attempt: the model never answered it.
    assert_eq!(out.attempts.len(), 2);
}

#[tokio::test]
async fn an_http_error_on_a_later_attempt_keeps_the_earlier_attempts() {
    let server = MockServer::start().await;
    respond_in_order(
        &server,
        [
            chat(r#"{"name": "John Doe", "age": 300}"#, 10, 10).into_response(),
            ResponseTemplate::new(503).set_body_string("No nodes available"),
        ],
    )
    .await;
    let error = builder(&server, Provider::Dria)
        .transport_retries(1)
        .build()
        .unwrap()
        .extract::<Person>("John Doe, 30")
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert_eq!(error.attempts().len(), 1);
    assert!(error.attempts()[0].raw.contains("300"));
    assert_eq!(error.usage().total_tokens, 20);
    assert_eq!(bodies(&server).await.len(), 3);
}

#[tokio::test]
async fn from_env_with_only_a_local_base_url_asks_the_one_model_the_server_lists() {
    if std::env::var_os("FACTUM_TEST_CHILD").is_some() {
        return;
    }
    let server = MockServer::start().await;
    // llama-server's shape: an Ollama-style `models` list beside OpenAI's `data`.
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "models": [{"name": "smollm2.gguf", "model": "smollm2.gguf"}],
            "object": "list",
            "data": [{"id": "smollm2.gguf", "object": "model", "owned_by": "llamacpp"}]
        })))
        .mount(&server)
        .await;
    respond_in_order(&server, [chat(JOHN_JSON, 1, 1)]).await;
    let url = format!("{}/v1", server.uri());
    // The child runs on its own runtime; the mock server keeps serving from this one.
    let handle = std::thread::spawn(move || {
        run_child_test(
            "first_hour::child_from_env_with_only_a_base_url",
            &[("FACTUM_BASE_URL", url.as_str())],
        );
    });
    while !handle.is_finished() {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    handle.join().unwrap();
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["model"], "smollm2.gguf");
    assert_eq!(gets(&server, "/v1/models").await, 1);
}

#[test]
fn child_from_env_with_only_a_base_url() {
    if std::env::var_os("FACTUM_TEST_CHILD").is_none() {
        return;
    }
    let client = factum::Client::from_env().expect("a local URL is enough");
    assert_eq!(client.provider(), Provider::LlamaCpp);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let person: Person = runtime
        .block_on(client.extract("John Doe, john@example.com, 30"))
        .unwrap();
    assert_eq!(person.name, "John Doe");
    assert_eq!(client.model(), "smollm2.gguf");
}

#[tokio::test]
async fn a_refused_connection_says_so_first_names_the_url_without_credentials_and_keeps_the_cause()
{
    let client = factum::Client::builder()
        // The mocked replies are not drawn from the text: default grounding has its own tests.
        .grounding(factum::Grounding::Off)
        .base_url("http://user:secret@127.0.0.1:1/v1")
        .model("m")
        .transport_retries(0)
        .build()
        .unwrap();
    let error = client.extract::<Person>("John").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport);
    assert_eq!(
        error.to_string(),
        "connection refused (http://127.0.0.1:1/v1/chat/completions, model m, before the first reply)"
    );
    assert_eq!(error.url(), Some("http://127.0.0.1:1/v1/chat/completions"));
    assert_eq!((error.model(), error.attempt()), (Some("m"), Some(1)));
    let cause = std::error::Error::source(&error).expect("reqwest's error is the source");
    assert!(!cause.to_string().contains("secret"), "{cause}");
    let debug = format!("{error:?}");
    assert!(!debug.contains("secret"), "{debug}");
    assert!(
        debug.contains("Transport") && debug.contains("causes"),
        "{debug}"
    );
}

/// `Debug` of an error is a short struct, however many attempts it holds: their raw text
/// stays in `error.attempts()`, not in the printout of `main() -> factum::Result<()>`.
#[tokio::test]
async fn debug_of_an_error_stays_under_a_kilobyte_and_the_attempts_stay_available() {
    let server = MockServer::start().await;
    let long = format!(r#"{{"name": "{}", "age": 300}}"#, "John ".repeat(800));
    respond(&server, chat(&long, 10, 10)).await;
    let error = client(&server, Provider::LlamaCpp)
        .extraction::<Person>("John")
        .max_retries(2)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Exhausted);
    assert_eq!(error.attempts().len(), 3);
    assert!(
        error.attempts().iter().all(|a| a.raw == long),
        "every raw reply is kept"
    );
    let debug = format!("{error:?}");
    assert!(debug.len() < 1024, "{} bytes: {debug}", debug.len());
    assert!(
        debug.contains("Exhausted") && debug.contains("attempts: 3"),
        "{debug}"
    );
}

#[tokio::test]
async fn an_error_on_a_later_attempt_names_that_attempt() {
    let server = MockServer::start().await;
    respond_in_order(
        &server,
        [
            chat(r#"{"name": "John Doe", "age": 300}"#, 10, 10).into_response(),
            ResponseTemplate::new(401).set_body_string("bad key"),
        ],
    )
    .await;
    let error = client(&server, Provider::Dria)
        .extract::<Person>("John Doe, 30")
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "server returned 401 ({}/v1/chat/completions, model qwen3.5:9b, attempt 2): bad key",
            server.uri()
        )
    );
    assert_eq!(error.attempts().len(), 1);
}

/// An item in a product listing.
#[derive(Debug, Deserialize, Extract)]
#[extract(validate = sku_prefix)]
struct Item {
    /// The stock-keeping unit, as printed.
    sku: String,
    /// The product's name.
    name: String,
}

/// A container validator about one field.
fn sku_prefix(item: &Item) -> Result<(), Violation> {
    if item.sku.starts_with("SKU-") {
        Ok(())
    } else {
        Err(Violation::at("/sku", "must start with SKU-"))
    }
}

#[test]
fn a_validator_violation_lands_at_its_field_below_the_value_s_path() {
    let items = vec![
        Item {
            sku: "SKU-1".into(),
            name: "lamp".into(),
        },
        Item {
            sku: "2".into(),
            name: "desk".into(),
        },
    ];
    let violations = items.validate().unwrap_err();
    assert_eq!(
        violations,
        [Violation::new("/1/sku", "must start with SKU-")]
    );
    assert_eq!(violations[0].to_string(), "at /1/sku: must start with SKU-");
}

#[tokio::test]
async fn a_validator_violation_at_a_field_is_fed_back_in_the_re_ask() {
    let server = MockServer::start().await;
    respond_in_order(
        &server,
        [
            chat(r#"{"sku": "1234", "name": "Desk lamp"}"#, 10, 10),
            chat(r#"{"sku": "SKU-1234", "name": "Desk lamp"}"#, 10, 10),
        ],
    )
    .await;
    let out = client(&server, Provider::LlamaCpp)
        .extraction::<Item>("Desk lamp, SKU-1234")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (out.value.sku.as_str(), out.value.name.as_str()),
        ("SKU-1234", "Desk lamp")
    );
    assert_eq!(
        out.attempts[0].failure,
        Some(AttemptFailure::Violations(vec![Violation::new(
            "/sku",
            "must start with SKU-"
        )]))
    );
    let sent = bodies(&server).await;
    let feedback = factum_tests::http::message_texts(&sent[1]).pop().unwrap().1;
    assert!(
        feedback.contains("- at /sku: must start with SKU-"),
        "{feedback}"
    );
}

#[tokio::test]
async fn a_validator_violation_at_a_field_is_named_in_the_error() {
    let server = MockServer::start().await;
    respond_in_order(
        &server,
        [chat(r#"{"sku": "1234", "name": "Desk lamp"}"#, 10, 10)],
    )
    .await;
    let error = client(&server, Provider::LlamaCpp)
        .extraction::<Item>("Desk lamp, SKU-1234")
        .max_retries(0)
        .send()
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("; last: at /sku: must start with SKU-"),
        "{error}"
    );
}

#[tokio::test]
async fn an_empty_required_string_is_re_asked() {
    let server = MockServer::start().await;
    respond_in_order(
        &server,
        [
            chat(r#"{"name": "", "age": 30, "email": null}"#, 10, 10),
            chat(JOHN_JSON, 10, 10),
        ],
    )
    .await;
    let out = client(&server, Provider::LlamaCpp)
        .extraction::<Person>("John Doe, john@example.com, 30")
        .send()
        .await
        .unwrap();
    assert_eq!(out.value.name, "John Doe");
    let Some(AttemptFailure::Violations(violations)) = &out.attempts[0].failure else {
        panic!("{:?}", out.attempts[0].failure)
    };
    assert_eq!(violations[0].path, "/name");
    // The grammar forbids it too.
    let sent = bodies(&server).await;
    let schema = &sent[0]["response_format"]["json_schema"]["schema"];
    assert_eq!(schema["properties"]["name"]["minLength"], 1);
}

#[tokio::test]
async fn an_empty_optional_string_is_none_with_a_repair() {
    let server = MockServer::start().await;
    respond_in_order(
        &server,
        [chat(
            r#"{"name": "John Doe", "age": 30, "email": " "}"#,
            10,
            10,
        )],
    )
    .await;
    let out = client(&server, Provider::LlamaCpp)
        .extraction::<Person>("John Doe, 30")
        .send()
        .await
        .unwrap();
    assert_eq!(out.value.email, None);
    assert_eq!(out.attempts.len(), 1);
    let repair = &out.attempts[0].repairs[0];
    assert_eq!(repair.kind, factum::parse::RepairKind::EmptyAsNull);
    assert_eq!(repair.path, "/email");
}

/// A note whose text may be empty.
#[derive(Debug, Deserialize, Extract)]
struct Note {
    /// What the note says, if anything.
    #[extract(allow_empty)]
    text: String,
}

#[tokio::test]
async fn allow_empty_keeps_an_empty_string_an_answer() {
    assert!(
        factum::schema::<Note>().json()["properties"]["text"]
            .get("minLength")
            .is_none()
    );
    let server = MockServer::start().await;
    respond_in_order(&server, [chat(r#"{"text": ""}"#, 10, 10)]).await;
    let note: Note = client(&server, Provider::LlamaCpp)
        .extract("(blank)")
        .await
        .unwrap();
    assert_eq!(note.text, "");
}

/// Blank text is refused before anything is sent: no model list, no chat request, and no
/// attempt claimed.
#[tokio::test]
async fn blank_text_is_an_empty_input_error_and_nothing_is_sent() {
    let server = MockServer::start().await;
    respond(&server, chat(JOHN_JSON, 10, 10)).await;
    let client = client(&server, Provider::LlamaCpp);
    for text in ["", "  \n\t "] {
        let error = client.extract::<Person>(text).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::EmptyInput, "{error}");
        assert!(error.attempts().is_empty());
        assert_eq!(error.attempt(), None, "no attempt is claimed: {error}");
        assert!(
            error
                .to_string()
                .starts_with("the input is empty; nothing was sent ("),
            "{error}"
        );
    }
    let received = server.received_requests().await.unwrap_or_default();
    assert!(received.is_empty(), "{} requests", received.len());
}

/// A prompt that cannot fit llama-server's window (from `/props`) is refused before the
/// chat request, with its estimated size, the window and the advice; chunked, the same text
/// goes through.
#[tokio::test]
async fn a_prompt_over_the_known_window_is_input_too_long_and_chunking_sends_it() {
    let server = MockServer::start().await;
    props(&server, 4096).await;
    respond(&server, chat(r#"{"person_list": []}"#, 10, 5)).await;
    let client = client(&server, Provider::LlamaCpp);
    let long = "Nobody is named in this sentence at all. ".repeat(1000);
    let error = client
        .extract::<Vec<Person>>(long.clone())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InputTooLong, "{error}");
    assert_eq!(error.context_limit(), Some(4096));
    let tokens = error.input_tokens().expect("the estimate");
    assert!(tokens > 10_000 && tokens < 12_000, "{tokens}");
    assert!(error.attempts().is_empty());
    let text = error.to_string();
    assert!(
        text.contains("(estimated)") && text.contains(".chunked("),
        "{text}"
    );
    assert!(bodies(&server).await.is_empty(), "no chat request went out");
    let out = client
        .extraction::<Vec<Person>>(long)
        .chunked(factum::Chunking::chars(8000))
        .send()
        .await
        .unwrap();
    assert!(out.value.is_empty());
    assert_eq!(
        bodies(&server).await.len(),
        6,
        "one request per chunk of at most 8000 chars"
    );
}
