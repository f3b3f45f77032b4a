//! Batch overhead benchmark: extractions through `Client::extract_batch` at concurrency 64
//! against a local HTTP server that answers at once, side by side with a raw `reqwest` +
//! `serde_json` baseline doing the same exchange and parse.
//!
//! ```text
//! cargo bench -p factum-tests --bench batch            # 4,000 items, 45 rounds
//! cargo bench -p factum-tests --bench batch -- 2000 7  # items, rounds
//! ```
//!
//! The server and each side run in their own child process (this binary again), so the
//! two sides never share a peak RSS (`VmHWM` from `/proc/self/status`) and the server's
//! memory counts for neither. Each round runs both sides back to back, in turn first, and
//! gives one ratio (factum's throughput over the baseline's): the two runs of a pair see
//! the same load on a shared machine, which the ratio then cancels. The figure is the
//! median of the rounds' ratios, with their spread, and each side's median CPU time per
//! item (user and system, all threads). Many short rounds beat a few long ones here: a
//! pair of 4,000-item runs takes about a quarter of a second, so both halves see the same
//! neighbours. The median of 45 ratios moves less than that of 15: single rounds range
//! from 0.55 to 1.85 on these machines, and on one of them the same code printed medians
//! of 15 rounds from 0.84 to 1.18 and medians of 45 from 0.92 to 0.98, driven from a task
//! (a run of 45 takes about half a minute).
//!
//! Both sides run twice over: driven from a task of the runtime, and from
//! `Runtime::block_on` on the main thread, as `#[tokio::main]` drives `main`; the two cost
//! differently (hand-overs between a worker and a thread that is none). Targets: factum at
//! least 0.95x the baseline's throughput, at most 64 MiB.

#![allow(
    clippy::missing_panics_doc,
    clippy::unwrap_used,
    reason = "a benchmark: a failure is a panic with its message"
)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Command, Stdio};
use std::time::Instant;

use factum::{Client, Provider};
use factum_tests::http::{JOHN_JSON, Person, chat};
use futures_util::StreamExt as _;
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const CONCURRENCY: usize = 64;

/// Where a side's stream is driven from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Driver {
    /// A task of the runtime, spawned by `main`.
    Task,
    /// `Runtime::block_on` on the main thread, as `#[tokio::main]` runs `main`.
    BlockOn,
}

impl Driver {
    fn name(self) -> &'static str {
        match self {
            Driver::Task => "task",
            Driver::BlockOn => "block_on",
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.first().map(String::as_str) {
        Some("serve") => serve(),
        Some(side @ ("factum" | "raw")) => {
            let driver = if args[1] == "task" {
                Driver::Task
            } else {
                Driver::BlockOn
            };
            let items: usize = args[3].parse().unwrap();
            side_main(side, driver, &args[2], items);
        }
        _ => {
            let items = args.first().and_then(|a| a.parse().ok()).unwrap_or(4_000);
            let rounds = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(45);
            compare(items, rounds);
        }
    }
}

/// One side's run in this process: `seconds peak-RSS-KiB CPU-seconds` printed on stdout.
fn side_main(side: &str, driver: Driver, url: &str, items: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (side, url) = (side.to_owned(), url.to_owned());
    let run = async move {
        match side.as_str() {
            "factum" => factum_side(&url, items).await,
            _ => raw_side(&url, items).await,
        }
    };
    let start = Instant::now();
    let ok = match driver {
        Driver::Task => runtime.block_on(runtime.spawn(run)).unwrap(),
        Driver::BlockOn => runtime.block_on(run),
    };
    let elapsed = start.elapsed();
    assert_eq!(ok, items, "every item succeeds");
    println!(
        "{} {} {}",
        elapsed.as_secs_f64(),
        peak_rss_kib(),
        cpu_secs()
    );
}

async fn factum_side(url: &str, items: usize) -> usize {
    let client = Client::builder()
        .provider(Provider::LlamaCpp)
        .base_url(url)
        .model("m")
        .build()
        .unwrap();
    let texts = (0..items).map(|i| format!("John Doe, john@example.com, 30 (#{i})"));
    client
        .extract_batch::<Person>(texts)
        .concurrency(CONCURRENCY)
        .stream()
        .filter(|(_, r)| std::future::ready(r.as_ref().is_ok_and(|o| o.value.age == 30)))
        .count()
        .await
}

#[derive(Deserialize)]
struct RawResponse {
    choices: Vec<RawChoice>,
}

#[derive(Deserialize)]
struct RawChoice {
    message: RawMessage,
}

#[derive(Deserialize)]
struct RawMessage {
    content: String,
}

/// The same exchange without factum: the same system prompt, the text, the schema as
/// `response_format`; the reply parsed into a chat response and its content into a
/// `Person`.
async fn raw_side(url: &str, items: usize) -> usize {
    let http = reqwest::Client::new();
    let endpoint = format!("{url}/chat/completions");
    let schema = factum::schema::<Person>();
    let system = format!(
        "You extract structured data from text. Reply in json: one JSON value that matches \
         the type described below, and nothing else. The text is between <input> and \
         </input>; use only what it says.\n\n{}",
        schema.prompt()
    );
    let format =
        json!({"type": "json_schema", "json_schema": {"name": "Person", "schema": schema.json()}});
    futures_util::stream::iter(0..items)
        .map(|i| {
            let body = json!({
                "model": "m",
                "messages": [
                    {"role": "system", "content": system},
                    {"role": "user", "content": format!("<input>John Doe, john@example.com, 30 (#{i})</input>")},
                ],
                "max_tokens": 2048,
                "temperature": 0.0,
                "response_format": format,
            });
            let request = http
                .post(&endpoint)
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&body).unwrap());
            async move {
                let bytes = request.send().await.ok()?.bytes().await.ok()?;
                let response: RawResponse = serde_json::from_slice(&bytes).ok()?;
                let content = &response.choices.first()?.message.content;
                serde_json::from_str::<Person>(content).ok()
            }
        })
        .buffer_unordered(CONCURRENCY)
        .filter(|p| std::future::ready(p.as_ref().is_some_and(|p| p.age == 30)))
        .count()
        .await
}

/// `VmHWM`, the process's peak resident set, in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The process's CPU time so far, user and system, in seconds (`/proc/self/stat`, in
/// clock ticks of 10 ms).
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// One side's run: items per second, peak RSS in KiB, CPU seconds.
#[derive(Clone, Copy)]
struct Run {
    rate: f64,
    rss: u64,
    cpu: f64,
}

/// Runs one side in a child process.
fn run_side(side: &str, driver: Driver, url: &str, items: usize) -> Run {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .args([side, driver.name(), url, &items.to_string()])
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success(), "{side} failed");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut fields = text.split_whitespace();
    let secs: f64 = fields.next().unwrap().parse().unwrap();
    let rss: u64 = fields.next().unwrap().parse().unwrap();
    let cpu: f64 = fields.next().unwrap().parse().unwrap();
    Run {
        rate: items as f64 / secs,
        rss,
        cpu,
    }
}

/// The median of `values`.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        f64::midpoint(values[mid - 1], values[mid])
    } else {
        values[mid]
    }
}

fn compare(items: usize, rounds: usize) {
    let exe = std::env::current_exe().unwrap();
    let mut server = Command::new(exe)
        .arg("serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().to_owned();
    println!("{items} extractions at concurrency {CONCURRENCY}, {rounds} rounds, server {url}");
    let mut peaks = (0, 0);
    for driver in [Driver::Task, Driver::BlockOn] {
        let pairs = rounds_of(driver, &url, items, rounds);
        for (raw, ours) in &pairs {
            peaks = (peaks.0.max(ours.rss), peaks.1.max(raw.rss));
        }
        summarize(driver, items, &pairs);
    }
    println!(
        "peak RSS: factum {:.1} MiB (target <= 64), raw {:.1} MiB",
        peaks.0 as f64 / 1024.0,
        peaks.1 as f64 / 1024.0
    );
    drop(server.stdin.take());
    let _ = server.kill();
    let _ = server.wait();
}

/// `rounds` pairs of runs, `(raw, factum)`, each pair back to back and in turn first.
fn rounds_of(driver: Driver, url: &str, items: usize, rounds: usize) -> Vec<(Run, Run)> {
    (1..=rounds)
        .map(|round| {
            let (raw, ours) = if round % 2 == 1 {
                let raw = run_side("raw", driver, url, items);
                (raw, run_side("factum", driver, url, items))
            } else {
                let ours = run_side("factum", driver, url, items);
                (run_side("raw", driver, url, items), ours)
            };
            println!(
                "{} round {round}: raw {:.0}/s, factum {:.0}/s, ratio {:.3}",
                driver.name(),
                raw.rate,
                ours.rate,
                ours.rate / raw.rate
            );
            (raw, ours)
        })
        .collect()
}

fn summarize(driver: Driver, items: usize, pairs: &[(Run, Run)]) {
    let ratios: Vec<f64> = pairs
        .iter()
        .map(|(raw, ours)| ours.rate / raw.rate)
        .collect();
    let low = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let high = ratios.iter().copied().fold(0.0, f64::max);
    let (raw, ours): (Vec<Run>, Vec<Run>) = pairs.iter().copied().unzip();
    let rate = |runs: &[Run]| median(runs.iter().map(|r| r.rate).collect());
    let cpu = |runs: &[Run]| median(runs.iter().map(|r| r.cpu).collect()) * 1e6 / items as f64;
    println!(
        "driven from {}: ratio {:.3} (median of {} rounds; spread {low:.3} to {high:.3}; target \
         >= 0.95); factum {:.0}/s and {:.1} us CPU per item, raw {:.0}/s and {:.1} us",
        driver.name(),
        median(ratios.clone()),
        ratios.len(),
        rate(&ours),
        cpu(&ours),
        rate(&raw),
        cpu(&raw)
    );
}

/// The local server: answers every request at once with John, keeping connections alive;
/// prints its base URL, and stops when its stdin closes (the parent ended).
fn serve() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("http://{}/v1", listener.local_addr().unwrap());
        std::io::stdout().flush().unwrap();
        let body = chat(JOHN_JSON, 60, 20).to_string();
        let response: &'static [u8] = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
        .leak();
        tokio::spawn(async {
            let mut stdin = tokio::io::stdin();
            let _ = stdin.read_to_end(&mut Vec::new()).await;
            std::process::exit(0);
        });
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            tokio::spawn(connection(socket, response));
        }
    });
}

/// Answers each request on one keep-alive connection with `response`.
async fn connection(mut socket: tokio::net::TcpStream, response: &'static [u8]) {
    let mut buffer = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    loop {
        while let Some(length) = request_length(&buffer) {
            if buffer.len() < length {
                break;
            }
            buffer.drain(..length);
            if socket.write_all(response).await.is_err() {
                return;
            }
        }
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}

/// The length of the first request in `buffer` (head and body), once its head is whole.
fn request_length(buffer: &[u8]) -> Option<usize> {
    let end = buffer.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&buffer[..end]).ok()?;
    let body = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    Some(end + body)
}
