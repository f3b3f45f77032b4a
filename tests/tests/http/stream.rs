//! Streamed extractions against a scripted SSE server on 127.0.0.1: replies cut at every
//! byte, keep-alives and comments, error events, streams cut short, re-asks, item
//! streams, the runaway guard, and dropping the stream.

use std::time::Duration;

use factum::{AttemptFailure, Client, ErrorKind, Extracted, Partial, Provider, StreamEvent};
use factum_tests::http::{Person, john};
use factum_tests::sse::{Script, SseServer, delta, event, reply};
use futures_util::StreamExt as _;
use serde_json::{Value, json};

fn client(server: &SseServer, provider: Provider) -> Client {
    Client::builder()
        // The mocked replies are not drawn from the text: default grounding has its own tests.
        .grounding(factum::Grounding::Off)
        .base_url(&server.url)
        .provider(provider)
        .model("m")
        .transport_retries(0)
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client builds")
}

/// John's reply, in the pieces a model might write it, with a keep-alive comment and a
/// `data:` event spread over two lines among them.
fn johns_reply() -> String {
    let mut body = String::from(": keep-alive\n\n");
    body.push_str(&delta("{\"name\": \"Jo"));
    body.push_str(&delta("hn Doe\", \"age\": 3"));
    body.push_str("data: {\"choices\": [{\"index\": 0,\ndata: \"delta\": {\"content\": \"0, \\\"email\\\": \"}}]}\n\n");
    body.push_str(": still here\n\n");
    body.push_str(&reply(&["\"john@example.com\"}"], 20, 15));
    body
}

/// Every event of a streamed extraction, errors included.
async fn events(client: &Client, text: &str) -> Vec<factum::Result<StreamEvent<Person>>> {
    client.extraction::<Person>(text).stream().collect().await
}

fn last_partial(events: &[factum::Result<StreamEvent<Person>>]) -> Option<Value> {
    events.iter().rev().find_map(|e| match e {
        Ok(StreamEvent::Partial(p)) => Some(serde_json::to_value(p).expect("a partial serializes")),
        _ => None,
    })
}

fn done(events: &[factum::Result<StreamEvent<Person>>]) -> Option<&Extracted<Person>> {
    events.iter().find_map(|e| match e {
        Ok(StreamEvent::Done(out)) => Some(out),
        _ => None,
    })
}

#[tokio::test]
async fn a_reply_cut_at_any_byte_gives_the_same_value_and_last_partial() {
    let body = johns_reply();
    let whole = SseServer::start(vec![Script::whole(body.as_bytes())]);
    let reference = events(&client(&whole, Provider::LlamaCpp), "John").await;
    let expected = last_partial(&reference).expect("partials were shown");
    assert_eq!(
        expected,
        json!({"name": "John Doe", "age": 30, "email": "john@example.com"})
    );
    let scripts = (1..body.len())
        .map(|at| Script::split_at(body.as_bytes(), at))
        .collect();
    let split = SseServer::start(scripts);
    let client = client(&split, Provider::LlamaCpp);
    for at in 1..body.len() {
        let events = events(&client, "John").await;
        let out = done(&events).unwrap_or_else(|| panic!("cut at {at}: {events:?}"));
        assert_eq!(out.value, john(), "cut at {at}");
        assert_eq!(out.usage.total_tokens, 35, "cut at {at}");
        assert_eq!(
            last_partial(&events).as_ref(),
            Some(&expected),
            "cut at {at}"
        );
    }
}

#[tokio::test]
async fn partials_grow_and_numbers_show_only_once_complete() {
    let paced = Script::paced(&johns_reply(), Duration::from_millis(30));
    let server = SseServer::start(vec![paced]);
    let events = events(&client(&server, Provider::LlamaCpp), "John").await;
    let partials: Vec<Partial<Person>> = events
        .iter()
        .filter_map(|e| match e {
            Ok(StreamEvent::Partial(p)) => Some(p.clone()),
            _ => None,
        })
        .collect();
    // Pieces 30 ms apart are not all coalesced into one snapshot.
    assert!(partials.len() >= 2, "{partials:?}");
    // No age of 3 while "30" was being written.
    assert!(
        partials
            .iter()
            .all(|p| p.age.is_none() || p.age == Some(30)),
        "{partials:?}"
    );
    let names: Vec<&str> = partials.iter().filter_map(|p| p.name.as_deref()).collect();
    assert!(
        names.windows(2).all(|w| w[1].starts_with(w[0])),
        "{names:?}"
    );
    assert!(matches!(events.last(), Some(Ok(StreamEvent::Done(_)))));
    let sent = &server.requests.lock().unwrap()[0];
    assert_eq!(sent["stream"], json!(true));
    assert_eq!(sent["stream_options"], json!({"include_usage": true}));
}

#[tokio::test]
async fn dria_gets_no_stream_options() {
    let server = SseServer::start(vec![Script::whole(johns_reply().as_bytes())]);
    let client = Client::builder()
        // The mocked replies are not drawn from the text: default grounding has its own tests.
        .grounding(factum::Grounding::Off)
        .base_url(&server.url)
        .provider(Provider::Dria)
        .api_key("k")
        .transport_retries(0)
        .build()
        .unwrap();
    let out = client
        .extraction::<Person>("John")
        .stream()
        .finish()
        .await
        .unwrap();
    assert_eq!(out.value, john());
    let sent = &server.requests.lock().unwrap()[0];
    assert_eq!(sent["stream"], json!(true));
    assert!(sent.get("stream_options").is_none(), "{sent}");
}

#[tokio::test]
async fn an_error_event_mid_stream_is_a_typed_error_with_the_server_message() {
    let mut body = delta("{\"name\": \"Jo");
    body.push_str(&event(
        &json!({"error": {"message": "the node went away", "code": 502}}),
    ));
    let server = SseServer::start(vec![Script::whole(body.as_bytes())]);
    let error = client(&server, Provider::LlamaCpp)
        .extraction::<Person>("John")
        .stream()
        .finish()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Stream, "{error:?}");
    assert_eq!(error.server_message(), Some("the node went away"));
    assert!(
        error
            .raw_body()
            .is_some_and(|b| b.contains("the node went away"))
    );
}

#[tokio::test]
async fn a_stream_that_ends_before_the_server_finished_is_a_fault_not_a_value() {
    // The whole value arrived, but neither a finish reason nor [DONE] did.
    let body = delta(r#"{"name": "John Doe", "age": 30, "email": "john@example.com"}"#);
    let server = SseServer::start(vec![Script::whole(body.as_bytes())]);
    let error = client(&server, Provider::LlamaCpp)
        .extraction::<Person>("John")
        .stream()
        .finish()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Stream, "{error:?}");
    // Each broken reply is kept with its text, never judged as a value, and re-asked.
    let attempts = error.attempts();
    assert_eq!(attempts.len(), server.request_count(), "{attempts:?}");
    assert!(attempts.len() > 1, "a broken reply is re-asked");
    for attempt in attempts {
        assert!(attempt.raw.contains("John Doe"), "{:?}", attempt.raw);
        assert!(
            matches!(&attempt.failure, Some(AttemptFailure::Interrupted(m)) if m.contains("before the server")),
            "{:?}",
            attempt.failure
        );
    }
}

#[tokio::test]
async fn a_failed_attempt_is_announced_then_re_asked() {
    let bad = reply(
        &[r#"{"name": "John Doe", "age": 200, "email": null}"#],
        10,
        10,
    );
    let good = reply(
        &[r#"{"name": "John Doe", "age": 30, "email": "john@example.com"}"#],
        30,
        10,
    );
    let server = SseServer::start(vec![
        Script::whole(bad.as_bytes()),
        Script::whole(good.as_bytes()),
    ]);
    let events = events(&client(&server, Provider::LlamaCpp), "John").await;
    let reask = events
        .iter()
        .position(|e| matches!(e, Ok(StreamEvent::Reask(_))))
        .expect("a re-ask was announced");
    let Ok(StreamEvent::Reask(failed)) = &events[reask] else {
        unreachable!()
    };
    assert!(failed.raw.contains("\"age\": 200"));
    assert!(matches!(&failed.failure, Some(AttemptFailure::Violations(v)) if v[0].path == "/age"));
    let out = done(&events).expect("the second attempt succeeds");
    assert_eq!(out.value, john());
    assert_eq!(out.attempts.len(), 2);
    assert_eq!(out.usage.total_tokens, 60);
    assert_eq!(server.request_count(), 2);
    let second = &server.requests.lock().unwrap()[1];
    let turns = second["messages"].as_array().unwrap();
    assert!(
        turns.iter().any(|m| m["role"] == "assistant"
            && m["content"].as_str().is_some_and(|c| c.contains("200")))
    );
}

#[tokio::test]
async fn items_are_yielded_as_they_close_and_a_bad_one_does_not_stop_the_stream() {
    let body = reply(
        &[
            "{\"person_list\": [{\"name\": \"A {x} [y]\", \"age\": 1, \"email\": null},",
            " {\"name\": \"B\", \"age\": 200, \"email\": null},",
            " {\"name\": \"C\", \"age\": 3, \"email\": null}]}",
        ],
        10,
        10,
    );
    let server = SseServer::start(vec![Script::whole(body.as_bytes())]);
    let items: Vec<factum::Result<Person>> = client(&server, Provider::LlamaCpp)
        .extraction::<Vec<Person>>("people")
        .stream_items()
        .collect()
        .await;
    assert_eq!(items.len(), 3, "{items:?}");
    assert_eq!(items[0].as_ref().unwrap().name, "A {x} [y]");
    let bad = items[1].as_ref().unwrap_err();
    assert_eq!(bad.kind(), ErrorKind::InvalidItem);
    assert_eq!(
        bad.attempts()[0].raw,
        r#"{"name": "B", "age": 200, "email": null}"#
    );
    assert!(
        matches!(&bad.attempts()[0].failure, Some(AttemptFailure::Violations(v)) if v[0].path == "/age"),
        "{bad:?}"
    );
    assert_eq!(items[2].as_ref().unwrap().name, "C");
    assert_eq!(
        server.request_count(),
        1,
        "no re-ask after items were shown"
    );
}

#[tokio::test]
async fn an_item_stream_reads_a_list_the_model_did_not_envelope() {
    let body = reply(&["[{\"name\": \"A\", \"age\": 1, \"email\": null}]"], 1, 1);
    let server = SseServer::start(vec![Script::whole(body.as_bytes())]);
    let items: Vec<Person> = client(&server, Provider::LlamaCpp)
        .extraction::<Vec<Person>>("people")
        .stream_items()
        .map(|item| item.expect("a valid item"))
        .collect()
        .await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].name, "A");
}

#[tokio::test]
async fn a_looping_reply_is_cut_early_and_re_asked_as_a_truncation() {
    let looping: Vec<String> = std::iter::once("{\"person_list\": [".to_owned())
        .chain((0..200).map(|_| "{\"name\": \"A\", \"age\": 1, \"email\": null}, ".to_owned()))
        .collect();
    let mut first: String = looping.iter().map(|d| delta(d)).collect();
    first.push_str(&reply(&["]}"], 1, 1));
    let second = reply(&["{\"person_list\": []}"], 1, 1);
    let server = SseServer::start(vec![
        Script::whole(first.as_bytes()),
        Script::whole(second.as_bytes()),
    ]);
    let out = client(&server, Provider::LlamaCpp)
        .extraction::<Vec<Person>>("people")
        .stream()
        .finish()
        .await
        .unwrap();
    let cut = &out.attempts[0];
    assert_eq!(cut.failure, Some(AttemptFailure::Truncated));
    assert_eq!(cut.finish_reason.as_deref(), Some("factum:runaway"));
    assert!(
        cut.raw.matches("\"A\"").count() < 40,
        "cut after a few repeats, not 200"
    );
    assert!(out.value.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_stream_closes_the_connection() {
    // Multi-threaded: the server is waited on with a blocking call, and the client's
    // connection task must still run to close the socket.
    let body = delta("{\"name\": \"Jo");
    let server = SseServer::start(vec![Script {
        pieces: vec![body.into_bytes()],
        hold: true,
        ..Script::default()
    }]);
    let mut stream = client(&server, Provider::LlamaCpp)
        .extraction::<Person>("John")
        .stream();
    let first = stream.next().await.expect("an event").expect("a partial");
    assert!(matches!(first, StreamEvent::Partial(_)));
    drop(stream);
    assert!(
        server.gone_within(Duration::from_secs(2)),
        "the server still had a reader 2 s after the drop"
    );
}

#[tokio::test]
async fn a_server_that_answers_whole_still_streams() {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_json(factum_tests::http::chat(
                factum_tests::http::JOHN_JSON,
                5,
                5,
            )),
        )
        .mount(&server)
        .await;
    let out = factum_tests::http::client(&server, Provider::LlamaCpp)
        .extraction::<Person>("John")
        .stream()
        .finish()
        .await
        .unwrap();
    assert_eq!(out.value, john());
}

#[test]
fn streams_are_unpin_and_send() {
    fn assert_unpin_send<S: Unpin + Send + 'static>() {}
    assert_unpin_send::<factum::ExtractionStream<Person>>();
    assert_unpin_send::<factum::ItemStream<Person>>();
}

#[tokio::test]
async fn a_streamed_extraction_is_grounded_like_a_sent_one() {
    let text = "Contact: John Doe (30), JOHN@example.com.";
    let server = SseServer::start(vec![Script::whole(johns_reply().as_bytes())]);
    let out = client(&server, Provider::LlamaCpp)
        .extraction::<Person>(text)
        .stream()
        .finish()
        .await
        .unwrap();
    let located: Vec<(&str, Option<&str>, factum::Match)> = out
        .spans
        .iter()
        .map(|s| (s.path.as_str(), s.text(text), s.quality))
        .collect();
    assert_eq!(
        located,
        vec![
            ("/name", Some("John Doe"), factum::Match::Exact),
            ("/age", Some("30"), factum::Match::Exact),
            (
                "/email",
                Some("JOHN@example.com"),
                factum::Match::Normalized
            ),
        ]
    );
}

/// A client's `requests_per_minute` holds back streamed calls as it holds back `send()`
/// (`batch::a_clients_requests_per_minute_spreads_its_single_calls`): at 60 a minute (a
/// burst of one, then one a second), four streams take at least three seconds; without
/// the limit the same streams take well under one.
#[tokio::test]
async fn streams_wait_for_the_clients_rate_limit_as_send_does() {
    let scripts = || {
        (0..4)
            .map(|_| Script::whole(johns_reply().as_bytes()))
            .collect()
    };
    let calls = |client: Client| async move {
        let start = std::time::Instant::now();
        for _ in 0..4 {
            let out = client.extraction::<Person>("John").stream().finish().await;
            assert_eq!(out.expect("a streamed extraction").value, john());
        }
        start.elapsed()
    };
    let free = SseServer::start(scripts());
    let unlimited = calls(client(&free, Provider::LlamaCpp)).await;
    assert!(
        unlimited < Duration::from_secs(1),
        "{unlimited:?} without a limit"
    );
    let limited = SseServer::start(scripts());
    let client = Client::builder()
        // The mocked replies are not drawn from the text: default grounding has its own tests.
        .grounding(factum::Grounding::Off)
        .base_url(&limited.url)
        .provider(Provider::LlamaCpp)
        .model("m")
        .transport_retries(0)
        .requests_per_minute(60)
        .build()
        .expect("client builds");
    let elapsed = calls(client).await;
    assert!(
        elapsed >= Duration::from_millis(2900),
        "{elapsed:?} at 60 a minute"
    );
    assert_eq!(limited.request_count(), 4);
}

#[tokio::test]
async fn streamed_items_arrive_with_their_spans_in_the_text() {
    let text = "Ann Lee, 41, ann@example.com. John Doe, 30, john@example.com.";
    let ann = r#"{"name": "Ann Lee", "age": 41, "email": "ann@example.com"}"#;
    let body = reply(
        &[r#"{"person_list": ["#, ann, ", ", JOHN_JSON_SPACED, "]}"],
        10,
        20,
    );
    let server = SseServer::start(vec![Script::paced(&body, Duration::from_millis(5))]);
    let items: Vec<_> = client(&server, Provider::LlamaCpp)
        .extraction::<Vec<Person>>(text)
        .stream_spanned_items()
        .collect()
        .await;
    assert_eq!(items.len(), 2, "{items:?}");
    for (i, item) in items.into_iter().enumerate() {
        let item = item.expect("each item fits");
        assert_eq!(item.index, i);
        let name = item
            .spans
            .iter()
            .find(|s| s.path == "/name")
            .expect("a name span");
        let range = name.range.clone().expect("located");
        assert_eq!(&text[range], item.value.name, "item {i}");
        let email = item
            .spans
            .iter()
            .find(|s| s.path == "/email")
            .expect("an email span");
        assert_eq!(email.quality, factum::Match::Exact);
    }
}

const JOHN_JSON_SPACED: &str = r#"{"name": "John Doe", "age": 30, "email": "john@example.com"}"#;
