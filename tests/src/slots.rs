//! A loopback server that behaves as llama-server's shared slots do: every request it is
//! generating for shares one context, and while more than one is in flight the context
//! overflows. Each request then fails as llama-server fails it: a streamed reply with the
//! error event `{"error": {"code": 500, "message": "Context size has been exceeded."}}`
//! after the pieces already sent, a whole reply with that body and status 500. A request
//! alone always finishes. It answers `GET /props` with its slots and context.
//!
//! The answer's content is the same for every request (`content`), written in `pieces`
//! pieces `gap` apart, so a test can count the tokens a broken reply had generated.

#![allow(
    clippy::missing_panics_doc,
    reason = "test support: every panic here is the failure of the test that called it"
)]

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::sse::{delta, event};

/// The error llama-server sends when its shared context fills up mid-generation.
pub const OVERFLOW: &str = "Context size has been exceeded.";

/// What the server counts.
#[derive(Debug, Default)]
pub struct Counts {
    /// Requests being generated for now.
    pub in_flight: AtomicUsize,
    /// Chat requests received.
    pub requests: AtomicUsize,
    /// Requests failed with [`OVERFLOW`].
    pub overflows: AtomicUsize,
    /// Content pieces sent in replies that then overflowed.
    pub broken_pieces: AtomicUsize,
}

/// A running server; see the module docs.
#[derive(Debug)]
pub struct SlotServer {
    /// `http://127.0.0.1:PORT/v1`.
    pub url: String,
    /// What it counted.
    pub counts: Arc<Counts>,
}

/// How the server answers.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The reply's content.
    pub content: String,
    /// How many pieces of about equal length the content is cut into.
    pub pieces: usize,
    /// The pause before each piece.
    pub gap: Duration,
    /// What `GET /props` says of the slots (`total_slots`).
    pub slots: u32,
    /// What `GET /props` says of the context (`n_ctx`).
    pub n_ctx: u32,
}

impl SlotServer {
    /// Starts the server; each connection is served on its own thread, so requests run
    /// together as they do on llama-server's slots.
    pub fn start(answer: Answer) -> SlotServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let url = format!("http://{}/v1", listener.local_addr().expect("address"));
        let counts = Arc::new(Counts::default());
        let shared = Arc::clone(&counts);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (counts, answer) = (Arc::clone(&shared), answer.clone());
                std::thread::spawn(move || serve(stream, &counts, &answer));
            }
        });
        SlotServer { url, counts }
    }

    /// How many chat requests arrived, and how many overflowed.
    pub fn requests(&self) -> (usize, usize) {
        (
            self.counts.requests.load(Ordering::SeqCst),
            self.counts.overflows.load(Ordering::SeqCst),
        )
    }
}

fn serve(mut stream: TcpStream, counts: &Counts, answer: &Answer) {
    let body = crate::http::read_request(&mut stream);
    // The one request without a body is `GET /props`.
    if body.is_empty() {
        let props = json!({
            "default_generation_settings": {"n_ctx": answer.n_ctx},
            "total_slots": answer.slots,
        });
        return write_response(&mut stream, 200, "application/json", &props.to_string());
    }
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    counts.requests.fetch_add(1, Ordering::SeqCst);
    counts.in_flight.fetch_add(1, Ordering::SeqCst);
    if request["stream"] == json!(true) {
        stream_reply(&mut stream, counts, answer);
    } else {
        whole_reply(&mut stream, counts, answer);
    }
    counts.in_flight.fetch_sub(1, Ordering::SeqCst);
}

/// Whether another request shares the context now.
fn crowded(counts: &Counts) -> bool {
    counts.in_flight.load(Ordering::SeqCst) > 1
}

fn pieces(answer: &Answer) -> Vec<String> {
    let chars: Vec<char> = answer.content.chars().collect();
    let size = chars.len().div_ceil(answer.pieces.max(1)).max(1);
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

fn stream_reply(stream: &mut TcpStream, counts: &Counts, answer: &Answer) {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    let pieces = pieces(answer);
    for (sent, piece) in pieces.iter().enumerate() {
        std::thread::sleep(answer.gap);
        if crowded(counts) {
            counts.overflows.fetch_add(1, Ordering::SeqCst);
            counts.broken_pieces.fetch_add(sent, Ordering::SeqCst);
            let error =
                json!({"error": {"code": 500, "message": OVERFLOW, "type": "server_error"}});
            let _ = stream.write_all(event(&error).as_bytes());
            return;
        }
        if stream.write_all(delta(piece).as_bytes()).is_err() {
            return;
        }
        let _ = stream.flush();
    }
    let mut tail = event(&json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}));
    tail.push_str(&event(&json!({"choices": [], "usage": {
        "prompt_tokens": 100, "completion_tokens": pieces.len(), "total_tokens": 100 + pieces.len(),
    }})));
    tail.push_str("data: [DONE]\n\n");
    let _ = stream.write_all(tail.as_bytes());
}

fn whole_reply(stream: &mut TcpStream, counts: &Counts, answer: &Answer) {
    let mut overflowed = false;
    for _ in 0..answer.pieces {
        std::thread::sleep(answer.gap);
        overflowed |= crowded(counts);
    }
    if overflowed {
        counts.overflows.fetch_add(1, Ordering::SeqCst);
        let error = json!({"error": {"code": 500, "message": OVERFLOW, "type": "server_error"}});
        return write_response(stream, 500, "application/json", &error.to_string());
    }
    let n = answer.pieces;
    let body = json!({
        "id": "x", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": n, "total_tokens": 100 + n},
    });
    write_response(stream, 200, "application/json", &body.to_string());
}

fn write_response(stream: &mut TcpStream, status: u16, kind: &str, body: &str) {
    let head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
}
