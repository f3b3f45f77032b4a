//! Transport retries: statuses, Retry-After, resets, timeouts and the deadline.

use std::time::Duration;

use factum::{ClientBuilder, ErrorKind, Provider};
use factum_tests::http::{
    JOHN_JSON, Person, bodies, builder, chat, client, http_ok, john, raw_server, respond,
    respond_in_order,
};
use tokio::time::Instant;
use wiremock::{MockServer, ResponseTemplate};

/// The valid reply that ends a sequence of failures.
fn success() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(chat(JOHN_JSON, 10, 10))
}

/// A client builder for `server` with no per-attempt timeout and no deadline: under
/// paused time an idle runtime jumps to the next timer, and these would be it.
fn untimed(server: &MockServer, provider: Provider) -> ClientBuilder {
    builder(server, provider).timeout(None).deadline(None)
}

#[tokio::test(start_paused = true)]
async fn retry_after_seconds_is_honoured() {
    let server = MockServer::start().await;
    respond_in_order(
        &server,
        [
            ResponseTemplate::new(429)
                .insert_header("retry-after", "7")
                .set_body_string("rate limited"),
            success(),
        ],
    )
    .await;
    let client = untimed(&server, Provider::Dria).build().unwrap();
    let start = Instant::now();
    let out = client.extraction::<Person>("John").send().await.unwrap();
    let waited = start.elapsed();
    assert!(waited >= Duration::from_secs(7), "waited only {waited:?}");
    assert!(waited < Duration::from_secs(60), "waited {waited:?}");
    assert_eq!(out.value, john());
    assert_eq!(
        out.attempts.len(),
        1,
        "a transport retry is not a model attempt"
    );
    assert_eq!(bodies(&server).await.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn retry_after_ms_and_http_dates_are_honoured() {
    let server = MockServer::start().await;
    respond_in_order(
        &server,
        [
            ResponseTemplate::new(503).insert_header("retry-after-ms", "2500"),
            success(),
        ],
    )
    .await;
    let client = untimed(&server, Provider::Dria).build().unwrap();
    let start = Instant::now();
    client.extract::<Person>("John").await.unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(2500),
        "{:?}",
        start.elapsed()
    );

    let server = MockServer::start().await;
    let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(30));
    respond_in_order(
        &server,
        [
            ResponseTemplate::new(429).insert_header("retry-after", date.as_str()),
            success(),
        ],
    )
    .await;
    let client = untimed(&server, Provider::OpenRouter).build().unwrap();
    let start = Instant::now();
    client.extract::<Person>("John").await.unwrap();
    // The date has whole-second precision.
    assert!(
        start.elapsed() >= Duration::from_secs(28),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn backoff_grows_exponentially_without_retry_after() {
    let server = MockServer::start().await;
    let error = ResponseTemplate::new(500);
    respond_in_order(&server, [error.clone(), error.clone(), error, success()]).await;
    let client = untimed(&server, Provider::Custom)
        .backoff(Duration::from_millis(400), Duration::from_secs(10))
        .build()
        .unwrap();
    let start = Instant::now();
    client.extract::<Person>("John").await.unwrap();
    // 400 + 800 + 1600 ms, less at most 25% jitter each.
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(2100), "{waited:?}");
    assert_eq!(bodies(&server).await.len(), 4);
}

#[tokio::test]
async fn dria_503_then_success() {
    let server = MockServer::start().await;
    respond_in_order(
        &server,
        [
            ResponseTemplate::new(503)
                .set_body_string("No nodes available for the requested model"),
            success(),
        ],
    )
    .await;
    let out = client(&server, Provider::Dria)
        .extraction::<Person>("John")
        .send()
        .await
        .unwrap();
    assert_eq!(out.value, john());
    assert_eq!(bodies(&server).await.len(), 2);
}

#[tokio::test]
async fn retryable_status_gives_up_after_transport_retries_with_the_plain_text_message() {
    let server = MockServer::start().await;
    respond(
        &server,
        ResponseTemplate::new(503).set_body_string("No nodes available for the requested model\n"),
    )
    .await;
    let error = builder(&server, Provider::Dria)
        .transport_retries(2)
        .build()
        .unwrap()
        .extract::<Person>("x")
        .await;
    let error = error.unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert!(error.is_retryable());
    assert_eq!(
        error.to_string(),
        format!(
            "server returned 503 ({}/v1/chat/completions, model qwen3.5:9b, attempt 1): \
             No nodes available for the requested model",
            server.uri()
        )
    );
    assert_eq!(
        error.raw_body(),
        Some("No nodes available for the requested model\n")
    );
    assert_eq!(bodies(&server).await.len(), 3);
}

/// Statuses that are never retried, even with `x-should-retry: true`: each with its body,
/// the provider that sends it, and the message read from it.
const FATAL: [(u16, &str, Provider, &str); 6] = [
    (
        400,
        "bad params: max_tokens",
        Provider::Dria,
        "bad params: max_tokens",
    ),
    (401, "invalid api key", Provider::Dria, "invalid api key"),
    (
        402,
        "Payment required: top up your credits",
        Provider::Dria,
        "Payment required: top up your credits",
    ),
    (
        403,
        r#"{"error":{"message":"forbidden","type":"permission_error","code":null}}"#,
        Provider::OpenAi,
        "forbidden",
    ),
    (
        404,
        r#"{"error":{"code":404,"message":"model not found","type":"not_found_error"}}"#,
        Provider::LlamaCpp,
        "model not found",
    ),
    (
        422,
        r#"{"detail":"unprocessable"}"#,
        Provider::Custom,
        "unprocessable",
    ),
];

#[tokio::test]
async fn fatal_statuses_are_not_retried() {
    for (status, body, provider, message) in FATAL {
        let server = MockServer::start().await;
        respond(
            &server,
            ResponseTemplate::new(status)
                .set_body_string(body)
                .insert_header("x-should-retry", "true"),
        )
        .await;
        let error = client(&server, provider)
            .extract::<Person>("x")
            .await
            .unwrap_err();
        assert_eq!(error.status(), Some(status));
        assert!(!error.is_retryable());
        assert!(
            error.kind() == ErrorKind::Http && error.server_message() == Some(message),
            "{status}: {error}"
        );
        assert_eq!(bodies(&server).await.len(), 1, "{status} was retried");
    }
}

#[tokio::test]
async fn x_should_retry_overrides_the_status() {
    let server = MockServer::start().await;
    respond(
        &server,
        ResponseTemplate::new(500).insert_header("x-should-retry", "false"),
    )
    .await;
    let error = client(&server, Provider::OpenAi)
        .extract::<Person>("x")
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(500));
    assert_eq!(bodies(&server).await.len(), 1);

    let server = MockServer::start().await;
    respond_in_order(
        &server,
        [
            ResponseTemplate::new(418).insert_header("x-should-retry", "true"),
            success(),
        ],
    )
    .await;
    client(&server, Provider::OpenAi)
        .extract::<Person>("x")
        .await
        .unwrap();
    assert_eq!(bodies(&server).await.len(), 2);
}

fn cut_response() -> Vec<u8> {
    // Promises 1000 bytes, sends 20, then the socket closes.
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"id\":\"gen-1\",\"choi".to_vec()
}

#[tokio::test]
async fn connection_reset_mid_body_is_retried() {
    let (url, served) = raw_server(vec![cut_response(), http_ok(&chat(JOHN_JSON, 1, 1))]);
    let client = factum::Client::builder()
        // The mocked replies are not drawn from the text: default grounding has its own tests.
        .grounding(factum::Grounding::Off)
        .base_url(url)
        .provider(Provider::LlamaCpp)
        .backoff(Duration::from_millis(1), Duration::from_millis(2))
        .build()
        .unwrap();
    let person: Person = client.extract("John").await.unwrap();
    assert_eq!(person, john());
    assert_eq!(served.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn connection_reset_mid_body_surfaces_as_transport_error() {
    let (url, served) = raw_server(vec![cut_response()]);
    let client = factum::Client::builder()
        // The mocked replies are not drawn from the text: default grounding has its own tests.
        .grounding(factum::Grounding::Off)
        .base_url(&url)
        .provider(Provider::LlamaCpp)
        .transport_retries(1)
        .backoff(Duration::from_millis(1), Duration::from_millis(2))
        .build()
        .unwrap();
    let error = client.extract::<Person>("John").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport, "{error:?}");
    assert!(error.is_retryable());
    assert_eq!(served.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(
        error.to_string(),
        format!(
            "error reading the response: end of file before message length reached \
             ({url}/chat/completions, model default, before the first reply)"
        )
    );
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    drop(listener);
    let client = factum::Client::builder()
        // The mocked replies are not drawn from the text: default grounding has its own tests.
        .grounding(factum::Grounding::Off)
        .base_url(&url)
        .model("m")
        .transport_retries(0)
        .build()
        .unwrap();
    let error = client.extract::<Person>("John").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport, "{error:?}");
    assert_eq!(
        error.to_string(),
        format!("connection refused ({url}/chat/completions, model m, before the first reply)")
    );
}

/// A server that takes 5 s to answer, and a Dria client builder for it.
async fn slow_server() -> (MockServer, ClientBuilder) {
    let server = MockServer::start().await;
    respond(
        &server,
        ResponseTemplate::new(200)
            .set_body_json(chat(JOHN_JSON, 1, 1))
            .set_delay(Duration::from_secs(5)),
    )
    .await;
    let builder = builder(&server, Provider::Dria);
    (server, builder)
}

#[tokio::test]
async fn slow_server_times_out_per_attempt() {
    let (server, builder) = slow_server().await;
    let client = builder
        .timeout(Duration::from_millis(200))
        .transport_retries(1)
        .build()
        .unwrap();
    let start = std::time::Instant::now();
    let error = client.extract::<Person>("John").await.unwrap_err();
    assert!(
        error.kind() == ErrorKind::Timeout
            && error.elapsed_limit() == Some(Duration::from_millis(200)),
        "{error:?}"
    );
    assert!(error.is_timeout());
    assert!(start.elapsed() < Duration::from_secs(3));
    assert_eq!(bodies(&server).await.len(), 2, "a timeout is retried once");
}

#[tokio::test]
async fn overall_deadline_ends_the_call() {
    let (_server, builder) = slow_server().await;
    let client = builder
        .timeout(Duration::from_secs(60))
        .deadline(Duration::from_millis(300))
        .build()
        .unwrap();
    let start = std::time::Instant::now();
    let error = client.extract::<Person>("John").await.unwrap_err();
    assert!(error.is_deadline(), "{error:?}");
    assert!(start.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn retry_after_beyond_the_deadline_fails_fast_with_the_server_error() {
    let server = MockServer::start().await;
    respond_in_order(
        &server,
        [
            ResponseTemplate::new(429).insert_header("retry-after", "3600"),
            success(),
        ],
    )
    .await;
    let client = builder(&server, Provider::Dria)
        .deadline(Duration::from_secs(30))
        .build()
        .unwrap();
    let start = std::time::Instant::now();
    let error = client.extract::<Person>("John").await.unwrap_err();
    assert_eq!(error.status(), Some(429));
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn dropping_the_future_cancels_the_request() {
    let server = MockServer::start().await;
    respond(
        &server,
        ResponseTemplate::new(503).insert_header("retry-after", "1"),
    )
    .await;
    let client = client(&server, Provider::Dria);
    let call = client.extract::<Person>("John");
    assert!(
        tokio::time::timeout(Duration::from_millis(300), call)
            .await
            .is_err()
    );
    // Dropped during the Retry-After wait: no further request may follow.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(bodies(&server).await.len(), 1);
}
