//! Safety: the key never leaks, bodies are capped, garbage never panics.

use std::time::Duration;

use factum::{Client, ErrorKind, Provider};
use factum_tests::http::{
    KEY, Person, builder, capture_logs, chat, client, raw_server, respond, respond_in_order,
};
use serde_json::json;
use wiremock::{MockServer, ResponseTemplate};

/// A server that echoes the key back in its error body, first retryable then fatal.
async fn key_echoing_server() -> MockServer {
    let server = MockServer::start().await;
    respond_in_order(
        &server,
        [
            ResponseTemplate::new(500).set_body_string(format!("upstream failed for key {KEY}")),
            ResponseTemplate::new(401).set_body_string(format!("invalid api key: {KEY}")),
        ],
    )
    .await;
    server
}

#[tokio::test]
async fn the_key_never_appears_in_debug_display_errors_or_logs() {
    let (logs, guard) = capture_logs(tracing::Level::TRACE);

    let server = key_echoing_server().await;
    let builder = builder(&server, Provider::Dria);
    let client = builder.clone().build().unwrap();
    let error = client.extract::<Person>("John").await.unwrap_err();
    assert_eq!(error.status(), Some(401));

    let mut seen = vec![
        ("builder debug", format!("{builder:?}")),
        ("client debug", format!("{client:?}")),
        ("error display", error.to_string()),
        ("error debug", format!("{error:?}")),
        (
            "error body",
            error.raw_body().unwrap_or_default().to_owned(),
        ),
    ];
    drop(guard);
    seen.push(("logs", logs.text()));
    for (what, text) in &seen {
        assert!(!text.contains(KEY), "{what} leaks the key: {text}");
        assert!(
            !text.contains("SECRET"),
            "{what} leaks part of the key: {text}"
        );
    }
    // The checks above looked at real text, not at empty strings.
    assert!(seen[0].1.contains("[redacted]"));
    assert!(seen[1].1.contains("[redacted]"));
    let expected = format!(
        "server returned 401 ({}/v1/chat/completions, model qwen3.5:9b, attempt 1): \
         invalid api key: [redacted]",
        server.uri()
    );
    assert_eq!(error.to_string(), expected);
    assert!(seen[5].1.contains("factum.extract"), "logs: {}", seen[5].1);
    assert!(
        seen[5].1.contains("retrying"),
        "the 500 retry is logged: {}",
        seen[5].1
    );
}

#[tokio::test]
async fn garbage_bodies_are_typed_errors() {
    let cases = [
        ("not json at all", "not json"),
        (r#"{"choices": "nope"}"#, "wrong shape"),
        (
            r#"{"choices": [{"message": {"content": 42}}]}"#,
            "content not a string",
        ),
        (
            r#"{"choices": [{"message": {"content": "{}"}}], "usage": {"prompt_tokens": -1}}"#,
            "negative usage",
        ),
        ("[1, 2, 3]", "array body"),
        ("", "empty body"),
    ];
    for (body, what) in cases {
        let server = MockServer::start().await;
        respond(&server, ResponseTemplate::new(200).set_body_string(body)).await;
        let error = client(&server, Provider::Dria)
            .extract::<Person>("John")
            .await
            .unwrap_err();
        assert!(
            error.kind() == ErrorKind::InvalidResponse,
            "{what}: {error:?}"
        );
        assert_eq!(error.raw_body(), Some(body), "{what}");
    }
}

#[tokio::test]
async fn odd_but_valid_shapes_become_attempt_failures() {
    for body in [
        json!({"choices": []}),
        json!({"choices": null, "usage": null}),
        json!({"choices": [{}]}),
        json!({"choices": [{"message": null, "finish_reason": null}]}),
        json!({}),
    ] {
        let server = MockServer::start().await;
        respond(&server, ResponseTemplate::new(200).set_body_json(&body)).await;
        let error = client(&server, Provider::Dria)
            .extract::<Person>("John")
            .await
            .unwrap_err();
        assert!(
            error.kind() == ErrorKind::Empty && error.attempts().len() == 3,
            "{body}: {error:?}"
        );
    }
}

#[tokio::test]
async fn hostile_model_text_never_panics() {
    let deep = "[".repeat(50_000);
    let nested = format!("{}{}", "{\"a\":".repeat(5_000), "1");
    let contents = [
        deep.as_str(),
        nested.as_str(),
        "<think>",
        "</think></think><think>",
        "```",
        "```json\n",
        "{\"name\": \"\\ud800\"}",
        "\u{0}\u{1}\u{ffff}",
        "{\"name\":\"x\",\"age\":1e400}",
        "null",
        "{\"value\": {\"value\": 1}}",
    ];
    for content in contents {
        let server = MockServer::start().await;
        respond(&server, chat(content, 1, 1)).await;
        let result = client(&server, Provider::OpenAi)
            .extraction::<Person>("John")
            .max_retries(0)
            .send()
            .await;
        let error = result.unwrap_err();
        assert_eq!(error.attempts().len(), 1, "{error:?}");
    }
}

#[tokio::test]
async fn body_over_the_cap_is_a_typed_error() {
    let server = MockServer::start().await;
    let huge = "x".repeat(64 * 1024);
    respond(&server, chat(&huge, 1, 1)).await;
    let client = builder(&server, Provider::Dria)
        .body_limit(16 * 1024)
        .build()
        .unwrap();
    let error = client.extract::<Person>("John").await.unwrap_err();
    assert!(
        error.kind() == ErrorKind::BodyTooLarge && error.body_limit() == Some(16384),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "response body is larger than the limit of 16384 bytes \
             ({}/v1/chat/completions, model qwen3.5:9b, attempt 1)",
            server.uri()
        )
    );
}

#[tokio::test]
async fn chunked_body_over_the_cap_is_cut_while_streaming() {
    // No Content-Length: the cap is enforced chunk by chunk, not after reading it all.
    let chunk = "a".repeat(4096);
    let mut response =
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
            .to_vec();
    for _ in 0..64 {
        response.extend_from_slice(format!("{:x}\r\n{chunk}\r\n", chunk.len()).as_bytes());
    }
    response.extend_from_slice(b"0\r\n\r\n");
    let (url, _) = raw_server(vec![response]);
    let client = Client::builder()
        // The mocked replies are not drawn from the text: default grounding has its own tests.
        .grounding(factum::Grounding::Off)
        .base_url(url)
        .provider(Provider::LlamaCpp)
        .body_limit(10_000)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let error = client.extract::<Person>("John").await.unwrap_err();
    assert!(
        error.kind() == ErrorKind::BodyTooLarge && error.body_limit() == Some(10_000),
        "{error:?}"
    );
}

#[test]
fn credentials_in_the_base_url_never_appear_in_debug_output() {
    let builder = Client::builder()
        // The mocked replies are not drawn from the text: default grounding has its own tests.
        .grounding(factum::Grounding::Off)
        .provider(Provider::LlamaCpp)
        .base_url("http://ada:hunter2@127.0.0.1:1/v1")
        .model("m");
    let client = builder.clone().build().unwrap();
    for text in [format!("{builder:?}"), format!("{client:?}")] {
        assert!(!text.contains("hunter2"), "{text}");
        assert!(
            text.contains("127.0.0.1:1/v1"),
            "the URL is still shown: {text}"
        );
    }
}
