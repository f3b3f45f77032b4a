//! Chunked extractions as jobs: a journal written chunk by chunk, a run dropped half way
//! and resumed without sending a finished chunk again, progress counted in chunk jobs, and
//! the journal read back with `factum::Journal`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use factum::{Chunking, Client, Extracted, Journal, Progress, Provider};
use factum_tests::http::{bodies, client, message_texts};
use futures_util::StreamExt as _;
use serde_json::Value;
use wiremock::MockServer;

use super::ground::{Member, ROSTER, roster, roster_server};

/// One sentence a chunk: eight chunks of the roster.
fn chunking() -> Chunking {
    Chunking::chars(40).overlap(0).concurrency(2)
}

/// A fresh journal path under the system's temporary directory.
fn journal_path(name: &str) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("factum-chunks-{name}-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// Which chunk of `text` each request the server received since the `from`th carried.
async fn chunks_sent(server: &MockServer, from: usize, text: &str) -> Vec<usize> {
    let chunks = chunking().split(text);
    bodies(server).await[from..]
        .iter()
        .map(|body| {
            let user = &message_texts(body)[1].1;
            let found: Vec<usize> = (0..chunks.len())
                .filter(|&i| user.contains(&text[chunks[i].clone()]))
                .collect();
            assert_eq!(found.len(), 1, "one chunk a request: {user}");
            found[0]
        })
        .collect()
}

/// The chunks whose value the journal holds, read back with `factum::Journal`.
fn chunks_done(journal: &Path) -> BTreeSet<usize> {
    Journal::open(journal)
        .unwrap()
        .entries::<Vec<Member>>()
        .unwrap()
        .into_iter()
        .filter(|e| e.value.is_some())
        .map(|e| e.key.trim_start_matches("chunk ").parse().unwrap())
        .collect()
}

/// The journal's whole lines.
fn line_count(journal: &Path) -> usize {
    std::fs::read_to_string(journal).map_or(0, |t| t.lines().count())
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

/// Runs the chunked roster extraction with `journal` and drops it once `stop_at` chunks
/// are done; returns the journal's line count at each report.
async fn dropped_at(client: &Client, journal: &Path, stop_at: usize) -> Vec<(usize, usize)> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let path = journal.to_owned();
    let send = client
        .extraction::<Vec<Member>>(roster())
        .chunked(chunking())
        .journal(journal)
        .on_progress(move |p: &Progress| {
            // The line of a chunk is on disk when its chunk is reported done.
            let _ = tx.send((p.done, line_count(&path)));
        })
        .send();
    let mut seen = Vec::new();
    tokio::select! {
        out = send => panic!("the run ended before it was dropped: {out:?}"),
        () = async {
            while let Some((done, lines)) = rx.recv().await {
                seen.push((done, lines));
                if done >= stop_at {
                    break;
                }
            }
        } => {}
    }
    seen
}

/// The chunked roster extraction, with `journal` when given.
async fn extract(client: &Client, journal: Option<&Path>) -> Extracted<Vec<Member>> {
    let extraction = client
        .extraction::<Vec<Member>>(roster())
        .chunked(chunking());
    let extraction = match journal {
        Some(path) => extraction.journal(path),
        None => extraction,
    };
    extraction.send().await.unwrap()
}

/// Waits until the server has received every request the dropped run had written: a
/// request in flight when its future was dropped may still be arriving.
async fn settle(server: &MockServer) {
    let mut count = bodies(server).await.len();
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let now = bodies(server).await.len();
        if now == count {
            return;
        }
        count = now;
    }
}

/// The first run, dropped once 3 chunks are done: the chunks it sent and those it finished.
async fn first_run(server: &MockServer, journal: &Path) -> (Vec<usize>, BTreeSet<usize>) {
    let chunks = chunking().split(&roster()).len();
    let reports = dropped_at(&client(server, Provider::LlamaCpp), journal, 3).await;
    assert!(
        reports.iter().all(|(done, lines)| done == lines),
        "each chunk's line is written as it finishes: {reports:?}"
    );
    settle(server).await;
    let sent = chunks_sent(server, 0, &roster()).await;
    let done = chunks_done(journal);
    // The run is dropped once it reports 3 done; more may have finished in that poll.
    assert!(done.len() >= 3 && done.len() < chunks, "{done:?}");
    assert_eq!(
        line_count(journal),
        done.len(),
        "no line for a chunk not done"
    );
    assert!(done.iter().all(|c| sent.contains(c)), "{sent:?}");
    (sent, done)
}

/// The resumed run's result holds every chunk: its items in document order, one attempt
/// and one usage per chunk; the progress counts the chunks read back as skipped.
fn holds_every_chunk(out: &Extracted<Vec<Member>>, last: &Progress, skipped: usize) {
    let chunks = chunking().split(&roster()).len();
    let names: Vec<(&str, u32)> = out.value.iter().map(|m| (m.name.as_str(), m.age)).collect();
    assert_eq!(names, ROSTER, "every chunk's items, in document order");
    assert_eq!(
        out.attempts.len(),
        chunks,
        "one attempt per chunk, read back or sent"
    );
    assert_eq!(out.usage.prompt_tokens, 10 * chunks as u64);
    assert_eq!(out.usage.completion_tokens, 5 * chunks as u64);
    assert_eq!(
        (last.done, last.skipped, last.total),
        (chunks, skipped, Some(chunks))
    );
}

/// The rerun with the same journal: its result, its last progress report, and the chunks
/// it sent (the requests after the first `sent_before`).
async fn rerun(
    server: &MockServer,
    journal: &Path,
    sent_before: usize,
) -> (Extracted<Vec<Member>>, Progress, Vec<usize>) {
    let (seen, record) = recorder();
    let out = client(server, Provider::LlamaCpp)
        .extraction::<Vec<Member>>(roster())
        .chunked(chunking())
        .journal(journal)
        .on_progress(record)
        .send()
        .await
        .unwrap();
    let last = *seen.lock().unwrap().last().unwrap();
    (out, last, chunks_sent(server, sent_before, &roster()).await)
}

#[tokio::test]
async fn a_chunk_run_dropped_half_way_resumes_and_sends_only_the_chunks_not_done() {
    let server = roster_server(None).await;
    let client = client(&server, Provider::LlamaCpp);
    let chunks = chunking().split(&roster()).len();
    assert!(chunks >= 6, "{chunks}");
    let journal = journal_path("resume");
    let (sent_first, done_first) = first_run(&server, &journal).await;

    let (out, last, sent_second) = rerun(&server, &journal, sent_first.len()).await;
    let not_done: BTreeSet<usize> = (0..chunks).filter(|i| !done_first.contains(i)).collect();
    assert_eq!(
        sent_second.iter().copied().collect::<BTreeSet<_>>(),
        not_done,
        "the rerun sends the chunks not done, and only those"
    );
    assert_eq!(
        sent_second.len(),
        not_done.len(),
        "each once: {sent_second:?}"
    );
    println!(
        "chunks {chunks}, sent in the first run {}, done in it {}, sent in the rerun {}",
        sent_first.len(),
        done_first.len(),
        sent_second.len()
    );
    holds_every_chunk(&out, &last, done_first.len());
    assert_eq!(chunks_done(&journal).len(), chunks);
    // Read back, the chunks give what a fresh run gives, spans included.
    let fresh = extract(&client, None).await;
    assert_eq!((&out.value, &out.spans), (&fresh.value, &fresh.spans));
    assert!(
        out.spans.iter().all(|s| s.range.is_some()),
        "{:?}",
        out.spans
    );
    // A third run has nothing left to send.
    let before = bodies(&server).await.len();
    assert_eq!(extract(&client, Some(&journal)).await.value, out.value);
    assert_eq!(bodies(&server).await.len(), before);
    let _ = std::fs::remove_file(&journal);
}

/// Every chunk job's entry: keyed by chunk and pass, in that order, each with the one
/// person of its chunk, its one attempt and its usage.
fn check_entries(journal: &Path, chunks: usize) {
    let entries = Journal::open(journal)
        .unwrap()
        .entries::<Vec<Member>>()
        .unwrap();
    let keys: Vec<&str> = entries.iter().map(|e| e.key.as_str()).collect();
    let expected: Vec<String> = (0..2)
        .flat_map(|pass| (0..chunks).map(move |chunk| format!("chunk {chunk}, pass {pass}")))
        .collect();
    assert_eq!(keys, expected);
    for (i, entry) in entries.iter().enumerate() {
        let (name, age) = ROSTER[i % chunks];
        let members = entry.value.as_ref().unwrap();
        assert_eq!(
            members,
            &[Member {
                name: name.to_owned(),
                age
            }],
            "{}",
            entry.key
        );
        assert_eq!(entry.attempts.len(), 1);
        assert!(
            entry.attempts[0].raw.contains(name),
            "{}",
            entry.attempts[0].raw
        );
        assert_eq!(
            (entry.usage.prompt_tokens, entry.usage.completion_tokens),
            (10, 5)
        );
        assert_eq!(entry.failure, None);
    }
}

#[tokio::test]
async fn progress_counts_chunk_jobs_and_the_journal_names_each_chunk_and_pass() {
    let server = roster_server(None).await;
    let chunks = chunking().split(&roster()).len();
    let journal = journal_path("passes");
    let (seen, record) = recorder();
    client(&server, Provider::LlamaCpp)
        .extraction::<Vec<Member>>(roster())
        .chunked(chunking())
        .passes(2)
        .journal(&journal)
        .on_progress(record)
        .send()
        .await
        .unwrap();
    let seen = seen.lock().unwrap();
    let done: Vec<usize> = seen.iter().map(|p| p.done).collect();
    assert_eq!(
        done,
        (1..=2 * chunks).collect::<Vec<_>>(),
        "one report per chunk job"
    );
    assert!(seen.iter().all(|p| p.total == Some(2 * chunks)));
    assert_eq!(seen.last().unwrap().in_flight, 0);
    check_entries(&journal, chunks);
    let _ = std::fs::remove_file(&journal);
}

/// The roster cut in two at its paragraph break, each half chunked with an overlap, run
/// as a batch with `journal`: the results in input order.
async fn halves(client: &Client, journal: &Path) -> Vec<Extracted<Vec<Member>>> {
    let text = roster();
    let half = text.find("\n\n").unwrap();
    let extractions = [text[..half].to_owned(), text[half..].to_owned()].map(|t| {
        client
            .extraction::<Vec<Member>>(t)
            .chunked(Chunking::chars(60).overlap(30))
    });
    let mut results: Vec<_> = client
        .batch(extractions)
        .journal(journal)
        .stream()
        .collect()
        .await;
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r.unwrap()).collect()
}

#[tokio::test]
async fn a_batch_of_chunked_extractions_journals_each_merged_list() {
    let server = roster_server(None).await;
    let journal = journal_path("batch-of-chunked");
    let results = halves(&client(&server, Provider::LlamaCpp), &journal).await;
    let lines: Vec<Value> = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.iter().all(|l| l["value"].is_array()), "{lines:?}");
    let entries = Journal::open(&journal)
        .unwrap()
        .entries::<Vec<Member>>()
        .unwrap();
    assert_eq!(entries.len(), 2);
    for (i, (out, entry)) in results.iter().zip(&entries).enumerate() {
        assert_eq!(entry.key, i.to_string());
        assert_eq!(entry.value.as_ref(), Some(&out.value));
        assert_eq!(entry.attempts, out.attempts);
        assert_eq!(entry.usage, out.usage);
    }
    let people: usize = results.iter().map(|out| out.value.len()).sum();
    assert_eq!(
        people,
        ROSTER.len(),
        "each person once, the overlap merged away"
    );
    let found: usize = results
        .iter()
        .flat_map(|out| &out.attempts)
        .map(|a| ROSTER.iter().filter(|(n, _)| a.raw.contains(n)).count())
        .sum();
    assert!(
        found > ROSTER.len(),
        "the overlap repeats some people: {found}"
    );
    let _ = std::fs::remove_file(&journal);
}
