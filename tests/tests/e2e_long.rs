//! A long document on the README's own llama-server (`scripts/llama-server.sh`: `-c 4096`,
//! so 4 slots share one 4,096-token cache) and SmolLM2-135M, nothing mocked: a document of
//! at least 10 chunks extracted 4 chunks at a time finishes with every chunk done. Where
//! the shared cache overflowed, the attempts show it and their tokens are counted.
//!
//! Prints the time, the chunks, the requests and the overflows.

use std::time::{Duration, Instant};

use factum::parse::RepairKind;
use factum::{Attempt, AttemptFailure, Chunking, Extracted, Leniency, Usage};
use factum_tests::llama::client;
use serde::Deserialize;

/// One line of the data set.
#[derive(Deserialize)]
struct Case {
    text: String,
}

/// A person named in the document.
#[derive(Debug, Deserialize, factum::Extract)]
struct Named {
    /// The person's full name, as written.
    name: String,
}

/// Sentences between the people, so that chunks are long: four chunks at once then fill
/// most of the server's shared 4,096-token cache before the model writes a word.
const FILLER: [&str; 4] = [
    "The minutes of the weekly meeting list the agenda, the budget review and the next steps.",
    "Nothing else of note happened that day, apart from a long discussion about the printer.",
    "The office will be closed on the public holiday, and the heating is being repaired.",
    "Several letters arrived about the new parking rules, most of them asking for exceptions.",
];

/// The 30 people texts of `tests/data/people.jsonl`, three times over, each followed by
/// two sentences of filler, three people to a paragraph: about 27,000 characters.
fn document() -> String {
    let texts: Vec<String> = include_str!("../data/people.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Case>(l).expect("a case").text)
        .collect();
    let people: Vec<String> = (0..3 * texts.len())
        .map(|i| {
            let (a, b) = (FILLER[i % 4], FILLER[(i + 1) % 4]);
            format!("{} {a} {b}", texts[i % texts.len()])
        })
        .collect();
    people
        .chunks(3)
        .map(|three| three.join(" "))
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn overflowed(attempt: &Attempt) -> bool {
    matches!(&attempt.failure, Some(AttemptFailure::Interrupted(m)) if m.contains("Context size"))
}

/// A reply broken off after it began: by an overflow, a stall or a cut connection (a reply
/// that was looping when it broke off is recorded as a truncation).
fn broken_off(attempt: &Attempt) -> bool {
    attempt.finish_reason.as_deref() == Some("factum:interrupted")
}

/// A raw reply's length, head and tail, escaped: a reply that ran to `max_tokens` is long
/// and spans many lines.
fn excerpt(raw: &str) -> String {
    let head: String = raw.chars().take(160).collect();
    let tail: Vec<char> = raw.chars().rev().take(120).collect();
    let tail: String = tail.into_iter().rev().collect();
    format!("({} bytes) {head:?} … {tail:?}", raw.len())
}

/// Prints what the run did, and each failed chunk's attempts.
fn report(out: &Extracted<Vec<Named>>, chunks: usize, elapsed: Duration, text: &str) {
    let overflows = out.attempts.iter().filter(|a| overflowed(a)).count();
    let broken = out.attempts.iter().filter(|a| broken_off(a)).count();
    let runaways = out
        .attempts
        .iter()
        .filter(|a| a.finish_reason.as_deref() == Some("factum:runaway"))
        .count();
    let located = out.value.iter().filter(|p| text.contains(&p.name)).count();
    let cut_lists = out
        .attempts
        .iter()
        .filter(|a| a.failure.is_none() && a.repairs.iter().any(|r| r.kind == RepairKind::CutList))
        .count();
    eprintln!(
        "e2e_long: {chunks} chunks in {:.1} s, {} requests, {broken} broken off ({overflows} by an overflow), {runaways} cut as runaways, {cut_lists} chunks read as far as their list was whole, {} chunks failed, {} names ({located} in the text), {} completion tokens",
        elapsed.as_secs_f64(),
        out.attempts.len(),
        out.failed_chunks.len(),
        out.value.len(),
        out.usage.completion_tokens,
    );
    for failed in &out.failed_chunks {
        eprintln!("e2e_long: chunk {} failed: {}", failed.chunk, failed.error);
        for attempt in failed.error.attempts() {
            eprintln!("  {:?}: {}", attempt.failure, excerpt(&attempt.raw));
        }
    }
}

#[tokio::test]
async fn a_ten_chunk_document_finishes_on_shared_slots_with_every_chunk_done() {
    let client = client().await;
    let text = document();
    let chunking = Chunking::chars(2500).overlap(0).concurrency(4);
    let chunks = chunking.split(&text).len();
    assert!(chunks >= 10, "{chunks} chunks");
    let started = Instant::now();
    let out = client
        .extraction::<Vec<Named>>(text.clone())
        .chunked(chunking)
        .leniency(Leniency::Lenient)
        .partial_ok()
        .send()
        .await
        .expect("the chunked run finishes");
    report(&out, chunks, started.elapsed(), &text);
    // No chunk is lost to the shared cache: a chunk that failed failed on the model's
    // replies (every one kept), never on an overflow or a transport fault.
    for failed in &out.failed_chunks {
        let attempts = failed.error.attempts();
        assert!(
            !attempts.is_empty() && attempts.iter().all(|a| !overflowed(a)),
            "chunk {} was lost: {}",
            failed.chunk,
            failed.error
        );
    }
    // Every chunk done: where every attempt looped, the last one's whole items are kept
    // (with a `CutList` repair) rather than failing the chunk.
    assert!(
        out.failed_chunks.is_empty(),
        "{} of {chunks} chunks failed",
        out.failed_chunks.len()
    );
    let summed = out
        .attempts
        .iter()
        .fold(Usage::default(), |u, a| u + a.usage);
    assert_eq!(out.usage, summed, "usage counts every attempt");
    for attempt in out.attempts.iter().filter(|a| broken_off(a)) {
        assert!(
            attempt.usage.completion_tokens > 0 && !attempt.raw.is_empty(),
            "a broken-off attempt keeps what the server generated: {attempt:?}"
        );
    }
}
