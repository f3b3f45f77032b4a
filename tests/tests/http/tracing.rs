//! Tracing: one `factum.extract` span per extraction and one `factum.attempt` span per
//! model call inside it, with the fields an operator needs and no secrets.

use factum::Provider;
use factum_tests::http::{KEY, Person, capture_logs, chat, client, respond_in_order};
use wiremock::MockServer;

#[tokio::test]
async fn spans_per_extraction_and_per_attempt() {
    let (logs, guard) = capture_logs(tracing::Level::DEBUG);

    let server = MockServer::start().await;
    respond_in_order(
        &server,
        [
            chat(r#"{"name": "John Doe", "age": 200, "email": null}"#, 5, 5),
            chat(r#"{"name": "John Doe", "age": 30, "email": null}"#, 5, 5),
        ],
    )
    .await;
    let out = client(&server, Provider::Dria)
        .extraction::<Person>("John Doe, 30")
        .send()
        .await
        .unwrap();
    drop(guard);
    assert_eq!(out.attempts.len(), 2);

    let text = logs.text();
    let failed = lines_with(&text, "attempt failed");
    let succeeded = lines_with(&text, "attempt succeeded");
    assert_eq!(failed.len(), 1, "{text}");
    assert_eq!(succeeded.len(), 1, "{text}");
    // Each event sits in the extraction span and in its own attempt span.
    assert!(
        failed[0].contains("factum.extract{") && failed[0].contains("factum.attempt{attempt=1"),
        "{}",
        failed[0]
    );
    assert!(
        succeeded[0].contains("factum.attempt{attempt=2"),
        "{}",
        succeeded[0]
    );
    assert!(
        failed[0].contains("type=\"Person\"") && failed[0].contains("provider=dria"),
        "{}",
        failed[0]
    );
    assert!(!text.contains(KEY), "the key leaked into the logs");
}

/// The lines of `text` that contain `needle`.
fn lines_with<'a>(text: &'a str, needle: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.contains(needle)).collect()
}
