//! A loopback stand-in for an OpenAI-compatible model server, on 127.0.0.1: real HTTP over
//! real sockets, answering each chat request from the row id found in its user message,
//! and counting what it was sent (requests per row, the most in flight at once, the models
//! asked for).

#![allow(
    dead_code,
    unreachable_pub,
    clippy::too_many_lines,
    reason = "each test binary uses part of the support, which is private to it"
)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use datafusion::arrow::array::{Int32Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::json::ArrayWriter;
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::prelude::SessionContext;
use factum::Client;
use serde_json::{Map, Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// The person the stand-in reads: the loopback tests' own.
#[allow(unused_imports, reason = "e2e_llama has a grounded Person of its own")]
pub use factum_tests::http::Person;

/// The note of row `id`: a person the stand-in knows how to read.
pub fn note(id: u32) -> String {
    format!("Note #{id}: Person {id} is {} years old.", age(id))
}

/// The age the stand-in gives row `id`.
pub fn age(id: u32) -> u32 {
    20 + id % 50
}

/// A note the stand-in never answers with JSON: its rows fail after every re-ask.
pub fn bad_note(id: u32) -> String {
    format!("Note #{id}: BAD")
}

/// What the stand-in has been sent.
#[derive(Default)]
pub struct Counts {
    pub requests: AtomicUsize,
    in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
    /// Requests per row id.
    pub per_row: Mutex<HashMap<u32, usize>>,
    /// The `model` of each request.
    pub models: Mutex<Vec<String>>,
    /// Requests per API key (the bearer token), which tells apart processes that share
    /// the stand-in.
    pub per_key: Mutex<HashMap<String, usize>>,
}

impl Counts {
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    /// The requests sent with the API key `key`.
    pub fn for_key(&self, key: &str) -> usize {
        self.per_key.lock().unwrap().get(key).copied().unwrap_or(0)
    }

    /// The requests for row `id`.
    pub fn for_row(&self, id: u32) -> usize {
        self.per_row.lock().unwrap().get(&id).copied().unwrap_or(0)
    }

    /// The row ids sent more than once, with their counts.
    pub fn repeated(&self) -> Vec<(u32, usize)> {
        let mut out: Vec<_> = self
            .per_row
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(id, n)| (*id, *n))
            .collect();
        out.sort_unstable();
        out
    }
}

/// A running stand-in.
pub struct Server {
    pub url: String,
    pub counts: Arc<Counts>,
}

impl Server {
    /// Starts the stand-in on a free port; each reply waits `delay` first, so that calls
    /// overlap.
    pub async fn start(delay: Duration) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        let counts = Arc::new(Counts::default());
        let shared = Arc::clone(&counts);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let counts = Arc::clone(&shared);
                tokio::spawn(async move {
                    let _ = serve(stream, counts, delay).await;
                });
            }
        });
        Server { url, counts }
    }

    /// A client of the stand-in, with the model `test-model`.
    pub fn client(&self) -> Client {
        Client::builder()
            .base_url(&self.url)
            .api_key("sk-test")
            .model("test-model")
            .build()
            .unwrap()
    }
}

async fn serve(mut stream: TcpStream, counts: Arc<Counts>, delay: Duration) -> std::io::Result<()> {
    loop {
        let Some((head, body)) = read_request(&mut stream).await? else {
            return Ok(());
        };
        let key = head
            .lines()
            .find_map(|l| l.strip_prefix("authorization: bearer "))
            .unwrap_or_default()
            .trim()
            .to_owned();
        *counts.per_key.lock().unwrap().entry(key).or_default() += 1;
        let now = counts.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        counts.max_in_flight.fetch_max(now, Ordering::SeqCst);
        counts.requests.fetch_add(1, Ordering::SeqCst);
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let text = user_text(&request);
        if let Some(model) = request["model"].as_str() {
            counts.models.lock().unwrap().push(model.to_owned());
        }
        let id = row_id(&text);
        if let Some(id) = id {
            *counts.per_row.lock().unwrap().entry(id).or_default() += 1;
        }
        tokio::time::sleep(delay).await;
        let content = match id {
            Some(_) if text.contains("BAD") => "I cannot read that note.".to_owned(),
            Some(id) => {
                json!({"name": format!("Person {id}"), "age": age(id), "email": null}).to_string()
            }
            None => "{}".to_owned(),
        };
        let reply = json!({
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": request["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 50, "completion_tokens": 12, "total_tokens": 62}
        })
        .to_string();
        counts.in_flight.fetch_sub(1, Ordering::SeqCst);
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            reply.len()
        );
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(reply.as_bytes()).await?;
    }
}

/// Reads one request's head (lowercased) and body; `None` when the connection closed
/// before a request.
async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(Some((head, buf[head_end..head_end + length].to_vec())))
}

/// The text of the request's user messages (a re-ask adds its feedback after the note).
fn user_text(request: &Value) -> String {
    let Some(messages) = request["messages"].as_array() else {
        return String::new();
    };
    messages
        .iter()
        .filter(|m| m["role"] == "user")
        .map(|m| match &m["content"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The row id after `Note #` in the text.
fn row_id(text: &str) -> Option<u32> {
    let start = text.find("Note #")? + "Note #".len();
    let digits: String = text[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// A fresh folder under cargo's temporary directory for integration tests.
pub fn folder(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("factum-datafusion-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `rows` (id, body; a `None` body is null) as one Parquet file in `dir`.
pub async fn write_notes(dir: &Path, rows: &[(i32, Option<String>)]) -> String {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int32, false),
        Field::new("body", DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| r.0))),
            Arc::new(rows.iter().map(|r| r.1.clone()).collect::<StringArray>()),
        ],
    )
    .unwrap();
    let path = dir.join("notes.parquet");
    SessionContext::new()
        .read_batch(batch)
        .unwrap()
        .write_parquet(
            path.to_str().unwrap(),
            DataFrameWriteOptions::new().with_single_file_output(true),
            None,
        )
        .await
        .unwrap();
    path.to_str().unwrap().to_owned()
}

/// The query's rows as JSON objects, each column keyed by the last part of its name
/// (`…).value` is `value`).
pub async fn rows(ctx: &SessionContext, sql: &str) -> Vec<Map<String, Value>> {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    let mut writer = ArrayWriter::new(Vec::new());
    for batch in &batches {
        writer.write(batch).unwrap();
    }
    writer.finish().unwrap();
    let bytes = writer.into_inner();
    if bytes.is_empty() {
        return Vec::new();
    }
    let rows: Vec<Map<String, Value>> = serde_json::from_slice(&bytes).unwrap();
    rows.into_iter()
        .map(|row| {
            row.into_iter()
                .map(|(k, v)| {
                    let short = k.rsplit(").").next().unwrap_or(&k).to_owned();
                    (short, v)
                })
                .collect()
        })
        .collect()
}
