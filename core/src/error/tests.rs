use super::*;

#[test]
fn an_error_is_one_word() {
    assert_eq!(size_of::<Error>(), size_of::<usize>());
    assert_eq!(size_of::<Result<()>>(), size_of::<usize>());
}

#[test]
fn context_overflows_are_recognised_with_their_window() {
    let llama = Error::http(
        500,
        "Context size has been exceeded.".into(),
        r#"{"error":{"code":500,"message":"Context size has been exceeded.","type":"server_error"}}"#.into(),
    );
    assert!(llama.is_context_overflow());
    assert_eq!(llama.context_window(), None);
    let sized = Error::http(
        400,
        "the request exceeds the available context size".into(),
        r#"{"error":{"type":"exceed_context_size_error","n_prompt_tokens":5000,"n_ctx":4096}}"#
            .into(),
    );
    assert!(sized.is_context_overflow());
    assert_eq!(sized.context_window(), Some(4096));
    let openai = Error::http(
        400,
        "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens."
            .into(),
        "{}".into(),
    );
    assert!(openai.is_context_overflow());
    assert_eq!(openai.context_window(), Some(8192));
}

#[test]
fn every_server_s_context_overflow_is_recognised() {
    // vLLM before 0.10.1 (flat), OpenAI by its code alone, OpenRouter wrapping upstream.
    for (status, body) in [
        (
            400,
            r#"{"object":"error","message":"This model's maximum context length is 2048 tokens. However, you requested 3000 tokens","code":400}"#,
        ),
        (
            400,
            r#"{"error":{"message":"Too long.","type":"invalid_request_error","code":"context_length_exceeded"}}"#,
        ),
        (
            400,
            r#"{"error":{"code":400,"message":"Provider returned error","metadata":{"raw":"prompt is too long: 9000 tokens"}}}"#,
        ),
    ] {
        let error = Error::http(status, String::new(), body.into());
        assert!(error.is_context_overflow(), "{body}");
    }
}

#[test]
fn other_errors_are_no_context_overflow() {
    let other = Error::http(500, "internal error".into(), "{}".into());
    assert!(!other.is_context_overflow());
    let rate = Error::http(429, "maximum context length".into(), "{}".into());
    assert!(
        !rate.is_context_overflow(),
        "only error statuses that mean the request"
    );
}

/// A failed attempt, as the run records it.
fn attempt(failure: AttemptFailure) -> Attempt {
    Attempt {
        raw: "{}".into(),
        failure: Some(failure),
        usage: Usage::default(),
        node_id: None,
        mode: crate::Mode::PromptOnly,
        repairs: Vec::new(),
        finish_reason: None,
        max_tokens: 64,
        temperature: 0.0,
        seed: None,
        cached: false,
    }
}

/// `error` as the run ends it, after `done` failed attempts, for model `m` at a server
/// whose URL carries credentials.
fn ended(error: Error, done: usize) -> String {
    let failure = AttemptFailure::Violations(vec![crate::Violation::new("/age", "too old")]);
    let attempts = vec![attempt(failure); done];
    error
        .with_record(attempts, Usage::default())
        .in_call(
            "http://user:pw@127.0.0.1:8080/v1",
            "m",
            Some(Duration::from_secs(60)),
        )
        .to_string()
}

#[test]
fn every_call_error_says_what_was_done_and_where() {
    const AT: &str = "http://127.0.0.1:8080/v1/chat/completions";
    let sent = |error: Error| ended(error.with_url(&format!("{AT}?x=1")), 1);
    let cases = [
        (
            Error::http(503, "busy".into(), "busy".into()),
            format!("server returned 503 ({AT}?x=1, model m, attempt 2): busy"),
        ),
        (
            Error::timeout(Duration::from_secs(5)),
            format!("request timed out after 5s ({AT}?x=1, model m, attempt 2)"),
        ),
        (
            Error::deadline_reached(),
            format!("deadline of 60s exceeded ({AT}?x=1, model m, attempt 2)"),
        ),
        (
            Error::body_too_large(1024),
            format!(
                "response body is larger than the limit of 1024 bytes ({AT}?x=1, model m, attempt 2)"
            ),
        ),
        (
            Error::invalid_response("expected `choices`".into(), "{}".into()),
            format!("invalid response body ({AT}?x=1, model m, attempt 2): expected `choices`"),
        ),
    ];
    for (error, expected) in cases {
        assert_eq!(sent(error), expected);
    }
}

#[test]
fn every_error_before_sending_says_what_was_done_and_where() {
    const AT: &str = "http://127.0.0.1:8080/v1/chat/completions";
    let schema = SchemaError::InvalidName { name: "a b".into() };
    let image = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
    assert_eq!(
        Error::config("no model").to_string(),
        "invalid configuration: no model"
    );
    assert_eq!(
        ended(Error::image(Path::new("a.png"), image), 1),
        "cannot read image `a.png` (http://127.0.0.1:8080/v1, model m, attempt 2)"
    );
    assert_eq!(
        ended(Error::schema("Person", schema), 0),
        "the schema of `Person` cannot be sent (http://127.0.0.1:8080/v1, model m)"
    );
    let encode = serde_json::from_str::<u8>("x").unwrap_err();
    assert_eq!(
        ended(Error::encode(encode).with_url(AT), 0),
        format!("cannot encode the request ({AT}, model m, attempt 1)")
    );
}

#[test]
fn every_outcome_error_says_how_the_model_answered_and_where() {
    const AT: &str = "(http://127.0.0.1:8080/v1, model m";
    let cases = [
        (
            Error::refused("no".into()),
            format!("the model refused {AT}, attempt 1): no"),
        ),
        (
            Error::truncated(64),
            format!("the reply was cut off at 64 tokens after 1 attempt {AT})"),
        ),
        (
            Error::truncated(64).with_cause(Error::http(500, "full".into(), String::new())),
            format!(
                "the reply was cut off at 64 tokens after 1 attempt {AT}); the request does \
                 not fit the model's context window"
            ),
        ),
        (
            Error::empty(),
            format!("the model returned no content after 1 attempt {AT})"),
        ),
        (
            Error::exhausted(),
            format!("no valid reply after 1 attempt {AT}); last: at /age: too old"),
        ),
        (
            Error::budget_spent(10),
            format!("token budget of 10 exhausted after 0 tokens {AT})"),
        ),
    ];
    for (error, expected) in cases {
        assert_eq!(ended(error, 1), expected);
    }
}

#[test]
fn each_kind_gives_back_its_own_facts_and_no_others() {
    let error = Error::http(429, "slow down".into(), "{}".into());
    assert_eq!(error.kind(), ErrorKind::Http);
    assert_eq!(error.status(), Some(429));
    assert!(error.is_retryable());
    assert_eq!(error.server_message(), Some("slow down"));
    assert_eq!(error.raw_body(), Some("{}"));
    assert_eq!(error.to_string(), "server returned 429: slow down");
    let error = Error::truncated(64);
    assert_eq!(error.max_tokens(), Some(64));
    assert_eq!(
        error.to_string(),
        "the reply was cut off at 64 tokens after 0 attempts"
    );
    assert!(Error::deadline_reached().is_timeout());
    assert!(!Error::empty().is_retryable());
}
