//! The streaming driver's cost per byte as a reply grows: a one-line list reply (no
//! newline, the usual case) of 64 KiB to 4 MiB, sent by a loopback SSE server in 64-byte
//! deltas and read with `stream_items()`, the runaway guard on. Each size is timed against
//! one `serde_json` parse of the same text in the same run, and the cost per byte is
//! printed as that ratio; a driver that copied the reply, or rescanned it, on every network
//! read would grow with the size (about 64× from 64 KiB to 4 MiB), a linear one stays flat.
//!
//! ```text
//! cargo bench -p factum-tests --bench stream_driver [-- ROUNDS]
//! ```

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use factum::{Client, Extract, Provider};
use factum_tests::http::{chat, http_ok, raw_server};
use factum_tests::sse::{Script, SseServer, delta, reply};
use futures_util::StreamExt as _;
use serde::Deserialize;

/// One item of the list.
#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code, reason = "only timed")]
struct Entry {
    /// Its number.
    n: u32,
    /// A word.
    word: String,
}

/// The list's JSON, one line, about `size` bytes, every item distinct.
fn list(size: usize) -> String {
    let mut text = String::from("{\"entry_list\":[");
    let mut n = 0u32;
    while text.len() < size {
        if n > 0 {
            text.push(',');
        }
        let _ = write!(text, "{{\"n\":{n},\"word\":\"w{n:08}\"}}");
        n += 1;
    }
    text.push_str("]}");
    text
}

/// The reply as SSE events of 64-byte deltas.
fn events(text: &str) -> String {
    let pieces: Vec<&str> = text
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("ASCII"))
        .collect();
    let mut body = String::new();
    for piece in &pieces[..pieces.len() - 1] {
        body.push_str(&delta(piece));
    }
    body.push_str(&reply(&[pieces[pieces.len() - 1]], 10, pieces.len() as u64));
    body
}

/// A client of the loopback server at `url`, with room for the largest reply.
fn loopback(url: &str) -> Client {
    Client::builder()
        .base_url(url)
        .provider(Provider::LlamaCpp)
        .model("m")
        .body_limit(64 << 20)
        .timeout(Duration::from_secs(600))
        .deadline(None)
        .build()
        .expect("client builds")
}

/// The best of `rounds` runs of `f`.
fn best(rounds: usize, mut f: impl FnMut() -> Duration) -> Duration {
    (0..rounds).map(|_| f()).min().unwrap_or_default()
}

/// The driver's time for one size, the items it yielded, `send()`'s time for the same
/// reply, and serde_json's time.
fn measure(
    runtime: &tokio::runtime::Runtime,
    size: usize,
    rounds: usize,
) -> (usize, usize, Duration, Duration, Duration) {
    let text = list(size);
    let server = SseServer::start(vec![Script::whole(events(&text).as_bytes())]);
    let client = loopback(&server.url);
    let mut items = 0;
    let driver = best(rounds, || {
        runtime.block_on(async {
            let start = Instant::now();
            let mut stream = client.extraction::<Vec<Entry>>("the list").stream_items();
            items = 0;
            while let Some(item) = stream.next().await {
                item.expect("a valid item");
                items += 1;
            }
            start.elapsed()
        })
    });
    // The same reply whole, from a server that answers JSON.
    let (url, _) = raw_server(vec![http_ok(&chat(&text, 10, 10))]);
    let whole = loopback(&url);
    let send = best(rounds, || {
        runtime.block_on(async {
            let start = Instant::now();
            let out = whole.extraction::<Vec<Entry>>("the list").send().await;
            assert_eq!(out.expect("a valid list").value.len(), items);
            start.elapsed()
        })
    });
    let serde = best(rounds.max(5), || {
        let start = Instant::now();
        let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        std::hint::black_box(value);
        start.elapsed()
    });
    (text.len(), items, driver, send, serde)
}

fn main() {
    let rounds = std::env::args().find_map(|a| a.parse().ok()).unwrap_or(3);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    println!(
        "size       items    stream     send()   serde_json   stream/serde_json   send()/serde_json"
    );
    let mut ratios = Vec::new();
    for size in [64 << 10, 256 << 10, 1 << 20, 4 << 20] {
        let (bytes, items, driver, send, serde) = measure(&runtime, size, rounds);
        let ratio = driver.as_secs_f64() / serde.as_secs_f64();
        let buffered = send.as_secs_f64() / serde.as_secs_f64();
        ratios.push(ratio);
        println!(
            "{:>5} KiB {items:>8} {driver:>9.1?} {send:>9.1?} {serde:>11.2?}   {ratio:>10.1}×   {buffered:>10.1}×",
            bytes >> 10
        );
    }
    let growth = ratios[ratios.len() - 1] / ratios[0];
    println!(
        "cost per byte at 4 MiB against 64 KiB, each against serde_json: {growth:.2}× (flat is 1; quadratic would be about 64)"
    );
}
