//! The response cache, against a loopback server that counts the requests it gets.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use factum::testing::Script;
use factum::{Cache, Client, Extract, Progress, Provider, StreamEvent, Usage};
use factum_tests::http::{
    JOHN_JSON, Person, bodies, builder, capture_logs, chat, john, respond, respond_in_order,
};
use futures_util::StreamExt as _;
use serde::Deserialize;
use wiremock::MockServer;

const TEXT: &str = "John Doe, john@example.com, 30";

/// A fresh directory for one test's disk cache.
fn cache_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("factum-cache-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

async fn posts(server: &MockServer) -> usize {
    bodies(server).await.len()
}

/// A server that answers [`JOHN_JSON`] to everything (40 prompt and 12 completion
/// tokens).
async fn john_server() -> MockServer {
    let server = MockServer::start().await;
    respond(&server, chat(JOHN_JSON, 40, 12)).await;
    server
}

/// [`john_server`], and a client of it with a memory cache.
async fn memory_cached() -> (MockServer, Client) {
    let server = john_server().await;
    let client = builder(&server, Provider::Dria)
        .cache(Cache::memory(16))
        .build()
        .unwrap();
    (server, client)
}

#[tokio::test]
async fn a_memory_cache_answers_the_same_request_without_sending_it() {
    let (server, client) = memory_cached().await;
    let first = client.extraction::<Person>(TEXT).send().await.unwrap();
    assert!(!first.cached);
    let second = client.extraction::<Person>(TEXT).send().await.unwrap();
    assert_eq!(posts(&server).await, 1, "the second call was sent");
    assert!(second.cached);
    assert!(second.attempts[0].cached);
    assert_eq!(second.value, john());
    // The stored usage, so a cost report stays true.
    assert_eq!(second.usage, Usage::new(40, 12));
    assert_eq!(second.attempts[0].raw, JOHN_JSON);
    // Another text is another request.
    let other = client
        .extraction::<Person>("John Doe, 30, john@example.com")
        .send()
        .await
        .unwrap();
    assert!(!other.cached);
    assert_eq!(posts(&server).await, 2);
}

#[tokio::test]
async fn a_disk_cache_survives_a_new_client() {
    let server = john_server().await;
    let dir = cache_dir("survives");
    let make = || {
        builder(&server, Provider::Dria)
            .cache(Cache::disk(&dir))
            .build()
            .unwrap()
    };
    let first = make().extraction::<Person>(TEXT).send().await.unwrap();
    assert!(!first.cached);
    let again = make().extraction::<Person>(TEXT).send().await.unwrap();
    assert!(again.cached);
    assert_eq!(again.value, john());
    assert_eq!(again.usage, Usage::new(40, 12));
    assert_eq!(posts(&server).await, 1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// [`Person`] with one more field: another schema.
#[derive(Debug, Deserialize, Extract)]
struct PersonWithPhone {
    name: String,
    age: u8,
    email: Option<String>,
    phone: Option<String>,
}

#[tokio::test]
async fn a_changed_schema_or_model_misses() {
    let (server, client) = memory_cached().await;
    client.extraction::<Person>(TEXT).send().await.unwrap();
    let phone = client
        .extraction::<PersonWithPhone>(TEXT)
        .send()
        .await
        .unwrap();
    assert!(!phone.cached);
    assert_eq!(phone.value.name, "John Doe");
    assert_eq!(phone.value.age, 30);
    assert_eq!(phone.value.email.as_deref(), Some("john@example.com"));
    assert_eq!(phone.value.phone, None);
    assert_eq!(posts(&server).await, 2);
    let other_model = client
        .extraction::<Person>(TEXT)
        .model("another-model")
        .send()
        .await
        .unwrap();
    assert!(!other_model.cached);
    assert_eq!(posts(&server).await, 3);
}

#[tokio::test]
async fn a_call_above_temperature_zero_or_with_no_cache_bypasses_the_cache() {
    let (server, client) = memory_cached().await;
    client.extraction::<Person>(TEXT).send().await.unwrap();
    // Above temperature 0 the cache is bypassed both ways.
    for _ in 0..2 {
        let warm = client
            .extraction::<Person>(TEXT)
            .temperature(0.7)
            .send()
            .await
            .unwrap();
        assert!(!warm.cached);
    }
    assert_eq!(posts(&server).await, 3);
    // And no_cache bypasses it for one call.
    let fresh = client
        .extraction::<Person>(TEXT)
        .no_cache()
        .send()
        .await
        .unwrap();
    assert!(!fresh.cached);
    assert_eq!(posts(&server).await, 4);
    let cached = client.extraction::<Person>(TEXT).send().await.unwrap();
    assert!(cached.cached);
    assert_eq!(posts(&server).await, 4);
}

#[tokio::test]
async fn cache_nondeterministic_caches_calls_above_temperature_zero() {
    let server = john_server().await;
    let client = builder(&server, Provider::Dria)
        .cache(Cache::memory(16))
        .cache_nondeterministic(true)
        .temperature(0.7)
        .build()
        .unwrap();
    client.extraction::<Person>(TEXT).send().await.unwrap();
    let second = client.extraction::<Person>(TEXT).send().await.unwrap();
    assert!(second.cached);
    assert_eq!(posts(&server).await, 1);
}

#[tokio::test]
async fn only_the_reply_that_validated_is_stored_and_it_answers_the_first_request_next_time() {
    let server = MockServer::start().await;
    respond_in_order(
        &server,
        [
            chat(r#"{"name": "John Doe", "age": 300, "email": null}"#, 40, 12),
            chat(JOHN_JSON, 60, 12),
        ],
    )
    .await;
    let client = builder(&server, Provider::Dria)
        .cache(Cache::memory(16))
        .build()
        .unwrap();
    let first = client.extraction::<Person>(TEXT).send().await.unwrap();
    assert_eq!(first.attempts.len(), 2);
    let second = client.extraction::<Person>(TEXT).send().await.unwrap();
    assert!(second.cached);
    assert_eq!(second.attempts.len(), 1);
    assert_eq!(second.attempts[0].raw, JOHN_JSON);
    assert_eq!(second.usage, Usage::new(60, 12));
    assert_eq!(posts(&server).await, 2);
}

#[tokio::test]
async fn a_failed_extraction_stores_nothing() {
    let server = MockServer::start().await;
    respond(&server, chat("not json", 40, 12)).await;
    let client = builder(&server, Provider::Dria)
        .cache(Cache::memory(16))
        .max_retries(0)
        .build()
        .unwrap();
    client.extraction::<Person>(TEXT).send().await.unwrap_err();
    client.extraction::<Person>(TEXT).send().await.unwrap_err();
    assert_eq!(posts(&server).await, 2);
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[tokio::test]
async fn a_corrupt_disk_entry_is_a_miss_with_a_warning_never_an_error() {
    let server = john_server().await;
    let dir = cache_dir("corrupt");
    let client = builder(&server, Provider::Dria)
        .cache(Cache::disk(&dir))
        .build()
        .unwrap();
    client.extraction::<Person>(TEXT).send().await.unwrap();
    // Overwrite the stored content with a value that parses but is not what was stored.
    let content: Vec<PathBuf> = files(&dir.join("content-v2"));
    assert!(
        !content.is_empty(),
        "nothing stored under {}",
        dir.display()
    );
    for file in &content {
        std::fs::write(file, JOHN_JSON.replace("John", "Jane")).unwrap();
    }
    let (logs, _guard) = capture_logs(tracing::Level::WARN);
    let again = client.extraction::<Person>(TEXT).send().await.unwrap();
    assert!(!again.cached);
    assert_eq!(again.value, john());
    assert_eq!(posts(&server).await, 2);
    let logs = logs.text();
    assert!(logs.contains("response cache entry"), "{logs}");
    // The entry was written anew, and reads.
    let third = client.extraction::<Person>(TEXT).send().await.unwrap();
    assert!(third.cached);
    assert_eq!(posts(&server).await, 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_batch_counts_its_hits_in_progress_and_not_in_the_tokens_spent() {
    let (server, client) = memory_cached().await;
    let texts: Vec<String> = (0..3).map(|i| format!("{TEXT} ({i})")).collect();
    let run = |texts: Vec<String>| {
        let client = client.clone();
        async move {
            let last: Arc<Mutex<Option<Progress>>> = Arc::default();
            let seen = Arc::clone(&last);
            let results: Vec<_> = client
                .extract_batch::<Person>(texts)
                .on_progress(move |p| *seen.lock().unwrap() = Some(*p))
                .stream()
                .collect()
                .await;
            assert!(results.iter().all(|(_, r)| r.is_ok()));
            let progress = last.lock().unwrap().unwrap();
            (results, progress)
        }
    };
    let (_, cold) = run(texts.clone()).await;
    assert_eq!(cold.cached, 0);
    assert_eq!(cold.usage, Usage::new(120, 36));
    let (results, warm) = run(texts).await;
    assert_eq!(warm.done, 3);
    assert_eq!(warm.cached, 3);
    assert_eq!(warm.usage, Usage::default());
    assert!(results.iter().all(|(_, r)| r.as_ref().unwrap().cached));
    assert_eq!(posts(&server).await, 3);
}

#[tokio::test]
async fn a_streamed_extraction_is_answered_from_the_cache_too() {
    let script = Script::new().stream([
        r#"{"name": "John Doe", "#,
        r#""age": 30, "email": "john@example.com"}"#,
    ]);
    let client = Client::builder()
        .scripted(script.clone())
        .cache(Cache::memory(4))
        .build()
        .unwrap();
    for expect_cached in [false, true] {
        let events: Vec<_> = client.extraction::<Person>(TEXT).stream().collect().await;
        let Some(Ok(StreamEvent::Done(out))) = events.last() else {
            panic!("{events:?}");
        };
        assert_eq!(out.cached, expect_cached);
        assert_eq!(out.value, john());
    }
    assert_eq!(script.requests().len(), 1);
    script.assert_done();
}
