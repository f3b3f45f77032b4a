//! Batches: the concurrency bound and its use, ordering, the shared 429 pause, requests per
//! minute, per-item failures, progress, and a journal resumed after the stream is dropped.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use factum::{Client, ErrorKind, Progress, Provider};
use factum_tests::http::{
    JOHN_JSON, Person, bodies, builder, chat, client, john, message_texts, respond, slow_server,
};
use futures_util::StreamExt as _;
use serde_json::Value;
use tokio::time::Instant;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// `n` distinct texts, `<0>`, `<1>`, …, none a substring of another.
fn texts(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("<{i}>")).collect()
}

/// Which of `texts` a request body carries.
fn text_of(body: &Value, n: usize) -> Option<usize> {
    let all: String = message_texts(body).into_iter().map(|(_, t)| t).collect();
    (0..n).find(|i| all.contains(&format!("<{i}>")))
}

/// A fresh journal path under the system's temporary directory.
fn journal_path(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("factum-{name}-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// Every progress report, in order.
fn recorder() -> (
    Arc<Mutex<Vec<Progress>>>,
    impl FnMut(&Progress) + Send + 'static,
) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    (seen, move |p: &Progress| sink.lock().unwrap().push(*p))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_concurrency_requests_are_in_flight_and_that_many_are_used() {
    let (url, load) = slow_server(Duration::from_millis(60), &chat(JOHN_JSON, 10, 10));
    let client = Client::builder()
        // The mocked replies are not drawn from the text: default grounding has its own tests.
        .grounding(factum::Grounding::Off)
        .provider(Provider::LlamaCpp)
        .base_url(url)
        .model("m")
        .build()
        .unwrap();
    let results: Vec<_> = client
        .extract_batch::<Person>(texts(40))
        .concurrency(8)
        .stream()
        .collect()
        .await;
    assert_eq!(results.len(), 40);
    assert!(
        results
            .iter()
            .all(|(_, r)| r.as_ref().is_ok_and(|o| o.value == john()))
    );
    assert_eq!(load.served.load(Ordering::SeqCst), 40);
    assert_eq!(
        load.peak.load(Ordering::SeqCst),
        8,
        "the bound is 8, and all 8 are used"
    );
}

/// A server that answers the text `<0>` 300 ms late and every other one at once.
async fn first_is_slow() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_string_contains("<0>"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(chat(JOHN_JSON, 10, 10))
                .set_delay(Duration::from_millis(300)),
        )
        .mount(&server)
        .await;
    respond(&server, chat(JOHN_JSON, 10, 10)).await;
    server
}

#[tokio::test]
async fn ordered_yields_input_order_and_the_default_yields_as_completed() {
    let server = first_is_slow().await;
    let client = client(&server, Provider::Dria);
    let ordered: Vec<usize> = client
        .extract_batch::<Person>(texts(6))
        .concurrency(3)
        .ordered()
        .stream()
        .map(|(i, r)| {
            assert!(r.is_ok(), "{r:?}");
            i
        })
        .collect()
        .await;
    assert_eq!(ordered, [0, 1, 2, 3, 4, 5]);
    let completed: Vec<usize> = client
        .extract_batch::<Person>(texts(6))
        .concurrency(3)
        .stream()
        .map(|(i, _)| i)
        .collect()
        .await;
    assert_eq!(completed.len(), 6);
    assert_eq!(
        completed.last(),
        Some(&0),
        "the slow first item comes out last: {completed:?}"
    );
}

/// A server that answers the first request for `<0>` with a 429 and `Retry-After: 1`
/// after 50 ms, and everything else after 150 ms.
async fn throttled() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_string_contains("<0>"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_delay(Duration::from_millis(50)),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(chat(JOHN_JSON, 10, 10))
                .set_delay(Duration::from_millis(150)),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_with_retry_after_pauses_the_start_of_every_request() {
    let server = throttled().await;
    let client = client(&server, Provider::Dria);
    let start = Instant::now();
    let finished: Vec<(usize, Duration)> = client
        .extract_batch::<Person>(texts(8))
        .concurrency(4)
        .stream()
        .map(|(i, r)| {
            assert!(r.is_ok(), "{r:?}");
            (i, start.elapsed())
        })
        .collect()
        .await;
    let early: BTreeSet<usize> = finished
        .iter()
        .filter(|(_, at)| *at < Duration::from_millis(900))
        .map(|(i, _)| *i)
        .collect();
    // Items 1 to 3 were in flight when the 429 came back at 50 ms: they finish at 150 ms.
    // Nothing new starts for a second after it, neither item 0's retry nor items 4 to 7.
    assert_eq!(early, BTreeSet::from([1, 2, 3]), "{finished:?}");
    assert_eq!(bodies(&server).await.len(), 9, "8 items and one retry");
}

#[tokio::test(start_paused = true)]
async fn requests_per_minute_spread_the_calls_with_a_one_second_burst() {
    let server = MockServer::start().await;
    respond(&server, chat(JOHN_JSON, 10, 10)).await;
    let client = builder(&server, Provider::Dria)
        .timeout(None)
        .deadline(None)
        .build()
        .unwrap();
    let (seen, record) = recorder();
    let start = Instant::now();
    let results: Vec<_> = client
        .extract_batch::<Person>(texts(30))
        .concurrency(30)
        .requests_per_minute(600)
        .on_progress(record)
        .stream()
        .collect()
        .await;
    let elapsed = start.elapsed();
    assert_eq!(results.len(), 30);
    // 600 a minute: 10 at once, then one every 100 ms.
    assert!(elapsed >= Duration::from_secs(2), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    let seen = seen.lock().unwrap();
    let at_once = seen
        .iter()
        .filter(|p| p.elapsed < Duration::from_millis(100))
        .count();
    assert!(at_once <= 10, "{at_once} finished in the first 100 ms");
}

/// A client-wide `requests_per_minute` spreads single calls, as a batch's spreads its items.
#[tokio::test(start_paused = true)]
async fn a_clients_requests_per_minute_spreads_its_single_calls() {
    let server = MockServer::start().await;
    respond(&server, chat(JOHN_JSON, 10, 10)).await;
    let client = builder(&server, Provider::Dria)
        .timeout(None)
        .deadline(None)
        .requests_per_minute(120)
        .build()
        .unwrap();
    let start = Instant::now();
    for _ in 0..5 {
        client.extract::<Person>("John").await.unwrap();
    }
    // 120 a minute: two at once, then one every 500 ms.
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_millis(1500), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(2500), "{elapsed:?}");
}

/// `RateLimits` given to extractions that run concurrently, outside any batch, hold
/// them all to one budget; extractions without them are not held.
#[tokio::test(start_paused = true)]
async fn shared_rate_limits_spread_concurrent_single_calls() {
    let server = MockServer::start().await;
    respond(&server, chat(JOHN_JSON, 10, 10)).await;
    let client = builder(&server, Provider::Dria)
        .timeout(None)
        .deadline(None)
        .build()
        .unwrap();
    let limits = factum::RateLimits::new(120, None);
    let start = Instant::now();
    let calls = (0..5).map(|_| {
        client
            .extraction::<Person>("John")
            .rate_limits(&limits)
            .send()
    });
    for out in futures_util::future::join_all(calls).await {
        out.unwrap();
    }
    // 120 a minute over all five: two at once, then one every 500 ms.
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_millis(1500), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(2500), "{elapsed:?}");

    let start = Instant::now();
    let free = (0..5).map(|_| client.extraction::<Person>("John").send());
    for out in futures_util::future::join_all(free).await {
        out.unwrap();
    }
    assert!(
        start.elapsed() < Duration::from_millis(100),
        "{:?}",
        start.elapsed()
    );
}

/// A server that answers texts holding `bad` with an age out of range, every other one
/// with John.
async fn some_bad() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_string_contains("bad"))
        .respond_with(ResponseTemplate::new(200).set_body_json(chat(
            r#"{"name":"X","age":999,"email":null}"#,
            10,
            5,
        )))
        .mount(&server)
        .await;
    respond(&server, chat(JOHN_JSON, 10, 10)).await;
    server
}

fn mixed() -> Vec<String> {
    (0..10)
        .map(|i| {
            if i % 3 == 0 {
                format!("<{i}> bad")
            } else {
                format!("<{i}>")
            }
        })
        .collect()
}

#[tokio::test]
async fn failing_items_keep_their_attempts_and_progress_reaches_the_total() {
    let server = some_bad().await;
    let (seen, record) = recorder();
    let results: Vec<_> = client(&server, Provider::Dria)
        .extract_batch::<Person>(mixed())
        .concurrency(4)
        .max_retries(1)
        .ordered()
        .on_progress(record)
        .stream()
        .collect()
        .await;
    assert_eq!(results.len(), 10, "a failing item never stops the batch");
    for (i, result) in &results {
        if i % 3 == 0 {
            let error = result.as_ref().unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Exhausted);
            assert_eq!(
                error.attempts().len(),
                2,
                "max_retries(1): two calls, both kept"
            );
            assert!(error.attempts().iter().all(|a| a.raw.contains("999")));
        } else {
            assert_eq!(result.as_ref().unwrap().value, john());
        }
    }
    assert_eq!(bodies(&server).await.len(), 4 * 2 + 6);
    let seen = seen.lock().unwrap();
    let last = seen.last().unwrap();
    assert_eq!((last.done, last.total, last.failed), (10, Some(10), 4));
    assert_eq!(last.in_flight, 0);
    assert_eq!(last.usage.total_tokens, 4 * 2 * 15 + 6 * 20);
    assert!(
        seen.windows(2).all(|w| w[0].done + 1 == w[1].done),
        "one report per item"
    );
}

/// The journal's lines as JSON.
fn lines(path: &PathBuf) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("every journal line is JSON"))
        .collect()
}

/// Runs `texts` with `journal`, at most `take` items, and returns the indices yielded,
/// checking that each is a success.
async fn journaled(
    client: &Client,
    texts: Vec<String>,
    journal: &PathBuf,
    take: usize,
) -> BTreeSet<usize> {
    client
        .extract_batch::<Person>(texts)
        .concurrency(3)
        .journal(journal)
        .stream()
        .take(take)
        .map(|(i, r)| {
            assert!(r.is_ok(), "{r:?}");
            i
        })
        .collect()
        .await
}

#[tokio::test]
async fn a_journal_resumes_after_the_stream_is_dropped_halfway_and_no_item_is_done_twice() {
    let server = MockServer::start().await;
    respond(&server, chat(JOHN_JSON, 10, 10)).await;
    let client = client(&server, Provider::Dria);
    let journal = journal_path("resume");
    let first = journaled(&client, texts(12), &journal, 5).await;
    assert_eq!(first.len(), 5);
    let sent_first = bodies(&server).await.len();
    let second = journaled(&client, texts(12), &journal, usize::MAX).await;
    assert!(first.is_disjoint(&second), "{first:?} {second:?}");
    assert_eq!(first.union(&second).count(), 12);
    let resent: Vec<usize> = bodies(&server).await[sent_first..]
        .iter()
        .filter_map(|b| text_of(b, 12))
        .filter(|i| first.contains(i))
        .collect();
    assert!(
        resent.is_empty(),
        "items done in the first run were sent again: {resent:?}"
    );
    let lines = lines(&journal);
    let indices: BTreeSet<u64> = lines.iter().map(|l| l["index"].as_u64().unwrap()).collect();
    assert_eq!(
        (lines.len(), indices.len()),
        (12, 12),
        "one line per item: {lines:?}"
    );
    assert_eq!(lines[0]["value"]["name"], "John Doe");
    assert_eq!(lines[0]["input_hash"].as_str().unwrap().len(), 16);
    assert_eq!(lines[0]["attempts"][0]["raw"], JOHN_JSON);
    // A third run has nothing left to do.
    let sent = bodies(&server).await.len();
    let third = journaled(&client, texts(12), &journal, usize::MAX).await;
    assert!(third.is_empty());
    assert_eq!(bodies(&server).await.len(), sent);
    let _ = std::fs::remove_file(&journal);
}

/// Appends the start of a line, as a program stopped while writing it leaves.
fn tear(journal: &PathBuf) {
    let mut text = std::fs::read_to_string(journal).unwrap();
    text.push_str(r#"{"index":1,"input_hash":"00"#);
    std::fs::write(journal, text).unwrap();
}

/// Runs [`mixed`] on a server that fails the bad ones, with `journal`; returns how many
/// items failed.
async fn mixed_failing(journal: &PathBuf) -> usize {
    client(&some_bad().await, Provider::Dria)
        .extract_batch::<Person>(mixed())
        .max_retries(0)
        .journal(journal)
        .stream()
        .filter(|(_, r)| std::future::ready(r.is_err()))
        .count()
        .await
}

#[tokio::test]
async fn failed_items_are_tried_again_and_a_torn_last_line_is_ignored() {
    let journal = journal_path("retry");
    assert_eq!(mixed_failing(&journal).await, 4);
    let error_line = lines(&journal)
        .into_iter()
        .find(|l| l.get("error").is_some())
        .unwrap();
    assert!(
        error_line["error"]
            .as_str()
            .unwrap()
            .contains("no valid reply"),
        "{error_line}"
    );
    assert_eq!(
        error_line["attempts"][0]["raw"],
        r#"{"name":"X","age":999,"email":null}"#
    );
    tear(&journal);
    // The same inputs again, where the server now answers everything well: only the four
    // failed items are sent.
    let server = MockServer::start().await;
    respond(&server, chat(JOHN_JSON, 10, 10)).await;
    let (logs, _guard) = factum_tests::http::capture_logs(tracing::Level::WARN);
    let again = journaled(
        &client(&server, Provider::Dria),
        mixed(),
        &journal,
        usize::MAX,
    )
    .await;
    assert_eq!(again, BTreeSet::from([0, 3, 6, 9]));
    assert_eq!(bodies(&server).await.len(), 4);
    assert!(logs.text().contains("torn"), "{}", logs.text());
    assert_eq!(
        lines(&journal).len(),
        14,
        "the torn line is cut off, the new ones whole"
    );
    let _ = std::fs::remove_file(&journal);
}

#[tokio::test]
async fn a_batch_journal_reads_back_with_values_failures_attempts_and_usage() {
    let journal = journal_path("read");
    assert_eq!(mixed_failing(&journal).await, 4);
    tear(&journal);
    let entries = factum::Journal::open(&journal)
        .unwrap()
        .entries::<Person>()
        .unwrap();
    let keys: Vec<String> = entries.iter().map(|e| e.key.clone()).collect();
    let expected: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    assert_eq!(
        keys, expected,
        "one entry per item, in input order; the torn line left out"
    );
    for (i, entry) in entries.iter().enumerate() {
        assert_eq!(entry.attempts.len(), 1, "max_retries(0)");
        if i % 3 == 0 {
            assert_eq!(entry.value, None);
            let failure = entry.failure.as_deref().unwrap();
            assert!(failure.contains("no valid reply"), "{failure}");
            assert_eq!(
                entry.attempts[0].raw,
                r#"{"name":"X","age":999,"email":null}"#
            );
            assert!(entry.attempts[0].failure.is_some());
            assert_eq!(entry.usage.total_tokens, 15);
        } else {
            assert_eq!(entry.value, Some(john()));
            assert_eq!(entry.failure, None);
            assert_eq!(entry.attempts[0].raw, JOHN_JSON);
            assert_eq!(entry.attempts[0].failure, None);
            assert_eq!(entry.usage.total_tokens, 20);
        }
    }
    let _ = std::fs::remove_file(&journal);
}

#[tokio::test]
async fn a_journal_line_that_does_not_fit_is_an_error_naming_its_line() {
    let journal = journal_path("malformed");
    assert_eq!(mixed_failing(&journal).await, 4);
    let text = std::fs::read_to_string(&journal).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let at = lines
        .iter()
        .position(|l| l.contains(r#""age":30"#))
        .unwrap();
    lines[at] = lines[at].replacen(r#""age":30"#, r#""age":"thirty""#, 1);
    std::fs::write(&journal, lines.join("\n") + "\n").unwrap();
    let error = factum::Journal::open(&journal)
        .unwrap()
        .entries::<Person>()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Journal);
    assert_eq!(error.line(), Some(at + 1));
    let message = error.to_string();
    assert!(message.contains(&format!("line {}", at + 1)), "{message}");
    assert!(message.contains("/age"), "{message}");
    // The same lines read as JSON values are fine: only the type refuses the value.
    let loose = factum::Journal::open(&journal)
        .unwrap()
        .entries::<Value>()
        .unwrap();
    assert_eq!(loose.len(), 10);
    let missing = factum::Journal::open(journal.with_extension("absent")).unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::Journal);
    assert_eq!(missing.line(), None);
    let _ = std::fs::remove_file(&journal);
}
