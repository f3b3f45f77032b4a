//! Provider profiles: the request shape each server gets, and the mode step-down.

use factum::{Mode, Provider};
use factum_tests::http::{
    JOHN_JSON, Person, Route, bodies, builder, chat, client, john, message_texts, respond,
};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn sent_for(provider: Provider) -> Value {
    let server = MockServer::start().await;
    respond(&server, chat(JOHN_JSON, 1, 1)).await;
    let person: Person = client(&server, provider).extract("John").await.unwrap();
    assert_eq!(person, john());
    bodies(&server).await.remove(0)
}

#[tokio::test]
async fn each_provider_gets_its_own_response_format() {
    for provider in Provider::ALL {
        let body = sent_for(provider).await;
        let format = &body["response_format"];
        let timeout = body.get("timeout_secs");
        assert_eq!(
            timeout.is_some(),
            provider == Provider::Dria,
            "{provider}: timeout_secs"
        );
        for field in ["seed", "top_p"] {
            assert!(body.get(field).is_none(), "{provider}: {field}");
        }
        assert_streams_where_usage_comes_at_the_end(provider, &body);
        match provider {
            Provider::OpenAi | Provider::OpenRouter | Provider::Groq => {
                assert_strict_json_schema(provider, format);
            }
            Provider::Dria
            | Provider::LlamaCpp
            | Provider::Ollama
            | Provider::Vllm
            | Provider::Custom => assert_json_schema(provider, format),
            Provider::LlamaCppPython => assert_json_object_with_schema(format),
            Provider::DeepSeek => assert_json_object_and_schema_in_prompt(format, &body),
            _ => unreachable!("a provider without a test: {provider}"),
        }
    }
}

/// send() receives as a stream (through the runaway guard) from the servers that report
/// usage at a stream's end; Dria and unknown servers answer whole.
fn assert_streams_where_usage_comes_at_the_end(provider: Provider, body: &Value) {
    let streams = !matches!(
        provider,
        Provider::Dria | Provider::Custom | Provider::LlamaCppPython
    );
    if streams {
        assert_eq!(body["stream"], true, "{provider}");
        assert_eq!(
            body["stream_options"],
            json!({"include_usage": true}),
            "{provider}"
        );
    } else {
        assert!(body.get("stream_options").is_none(), "{provider}");
        assert_ne!(body.get("stream"), Some(&json!(true)), "{provider}");
    }
}

/// `json_schema` with `strict`: the objects closed and every property required.
fn assert_strict_json_schema(provider: Provider, format: &Value) {
    assert_eq!(format["type"], "json_schema", "{provider}");
    assert_eq!(format["json_schema"]["strict"], true, "{provider}");
    let schema = &format["json_schema"]["schema"];
    assert_eq!(
        schema["additionalProperties"], false,
        "{provider}: strict closes objects"
    );
    assert_eq!(
        schema["required"],
        json!(["name", "age", "email"]),
        "{provider}"
    );
}

/// `json_schema` without `strict`, in the llama.cpp dialect.
fn assert_json_schema(provider: Provider, format: &Value) {
    assert_eq!(format["type"], "json_schema", "{provider}");
    assert_eq!(format["json_schema"]["name"], "Person");
    assert!(
        format["json_schema"].get("strict").is_none(),
        "{provider}: no strict"
    );
    let expected = factum::schema::<Person>()
        .for_dialect(factum::Dialect::LlamaCpp)
        .unwrap();
    assert_eq!(&format["json_schema"]["schema"], expected, "{provider}");
}

/// llama-cpp-python's `json_object` with a `schema` beside it.
fn assert_json_object_with_schema(format: &Value) {
    assert_eq!(format["type"], "json_object");
    assert!(format["schema"].is_object());
    assert!(format.get("json_schema").is_none());
}

/// DeepSeek's bare `json_object`, with the schema described in the system prompt.
fn assert_json_object_and_schema_in_prompt(format: &Value, body: &Value) {
    assert_eq!(format, &json!({"type": "json_object"}));
    let system = &message_texts(body)[0].1;
    assert!(
        system.contains("json"),
        "DeepSeek needs the word json in the prompt: {system}"
    );
    assert!(
        system.contains("age"),
        "the schema is described in the prompt"
    );
}

#[tokio::test]
async fn schema_400_steps_down_and_is_remembered_per_base_url_and_model() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"response_format": {"type": "json_schema"}})))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": {"code": 400, "message": "response_format type json_schema is not supported", "type": "invalid_request_error"}
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_partial_json(
            json!({"response_format": {"type": "json_object"}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(chat(JOHN_JSON, 5, 5)))
        .mount(&server)
        .await;
    let client = client(&server, Provider::LlamaCpp);
    assert_eq!(
        client.mode("qwen3.5:9b"),
        Mode::JsonSchema { strict: false }
    );
    let out = client.extraction::<Person>("John").send().await.unwrap();
    assert_eq!(out.value, john());
    assert_eq!(
        out.attempts.len(),
        1,
        "the rejected request is not a model attempt"
    );
    assert_eq!(out.attempts[0].mode, Mode::JsonObjectWithSchema);
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1]["response_format"]["type"], "json_object");
    assert!(sent[1]["response_format"]["schema"].is_object());

    // Remembered: the next call, from a clone, starts in the lower mode.
    assert_eq!(client.mode("qwen3.5:9b"), Mode::JsonObjectWithSchema);
    client.clone().extract::<Person>("John").await.unwrap();
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[2]["response_format"]["type"], "json_object");
    // Another model on the same server has its own memory.
    assert_eq!(client.mode("other"), Mode::JsonSchema { strict: false });
}

#[tokio::test]
async fn deepseek_style_rejection_steps_down_to_prompt_only() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"response_format": {}})))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": {"message": "This response_format type is unavailable now", "type": "invalid_request_error"}
        })))
        .mount(&server)
        .await;
    respond(&server, chat(JOHN_JSON, 5, 5)).await;
    let client = client(&server, Provider::OpenAi);
    let out = client.extraction::<Person>("John").send().await.unwrap();
    assert_eq!(out.attempts[0].mode, Mode::PromptOnly);
    let sent = bodies(&server).await;
    let formats: Vec<Value> = sent
        .iter()
        .map(|b| b.get("response_format").cloned().unwrap_or(Value::Null))
        .collect();
    assert_eq!(
        formats.len(),
        5,
        "strict → json_schema → json_object+schema → json_object → prompt only"
    );
    assert_eq!(formats[0]["json_schema"]["strict"], true);
    assert!(formats[1]["json_schema"].get("strict").is_none());
    assert!(formats[2]["schema"].is_object());
    assert_eq!(formats[3], json!({"type": "json_object"}));
    assert_eq!(formats[4], Value::Null);
}

#[tokio::test]
async fn non_schema_400_is_not_a_step_down() {
    let server = MockServer::start().await;
    respond(
        &server,
        ResponseTemplate::new(400).set_body_string("bad params: max_tokens must be positive"),
    )
    .await;
    let client = client(&server, Provider::Dria);
    let error = client.extract::<Person>("John").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "server returned 400 ({}/v1/chat/completions, model qwen3.5:9b, attempt 1): \
             bad params: max_tokens must be positive",
            server.uri()
        )
    );
    assert_eq!(bodies(&server).await.len(), 1);
    assert_eq!(
        client.mode("qwen3.5:9b"),
        Mode::JsonSchema { strict: false }
    );
}

#[tokio::test]
async fn openrouter_wrapped_errors_show_the_upstream_text() {
    let server = MockServer::start().await;
    respond(
        &server,
        ResponseTemplate::new(403).set_body_json(json!({
            "error": {"code": 403, "message": "Provider returned error", "metadata": {"raw": "key limit reached", "provider_name": "OpenAI"}}
        })),
    )
    .await;
    let error = client(&server, Provider::OpenRouter)
        .extract::<Person>("John")
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "server returned 403 ({}/v1/chat/completions, model qwen3.5:9b, attempt 1): \
             Provider returned error: key limit reached",
            server.uri()
        )
    );
}

#[tokio::test]
async fn non_object_roots_are_asked_for_wrapped_and_unwrapped() {
    let server = MockServer::start().await;
    respond(&server, chat(r#"{"route":"billing"}"#, 1, 1)).await;
    let route: Route = client(&server, Provider::OpenAi)
        .extract("I was charged twice")
        .await
        .unwrap();
    assert_eq!(route, Route::Billing);
    let body = &bodies(&server).await[0];
    assert_eq!(
        body["response_format"]["json_schema"]["schema"]["type"],
        "object"
    );
    assert!(
        message_texts(body)[0]
            .1
            .contains(r#"{"route": <the value>}"#)
    );
    assert_eq!(
        body["response_format"]["json_schema"]["schema"]["required"],
        serde_json::json!(["route"])
    );

    // A grammar server gets the wrapped schema too; a model that skips the wrapper and
    // answers with the bare value is still read.
    let server = MockServer::start().await;
    respond(&server, chat(r#""technical""#, 1, 1)).await;
    let route: Route = builder(&server, Provider::LlamaCpp)
        .build()
        .unwrap()
        .extract("It crashes")
        .await
        .unwrap();
    assert_eq!(route, Route::Technical);
    let body = &bodies(&server).await[0];
    assert_eq!(
        body["response_format"]["json_schema"]["schema"]["properties"]["route"]["enum"][1],
        "technical"
    );
}
