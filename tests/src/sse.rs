//! A loopback server for streamed replies: it answers each connection with a scripted
//! `text/event-stream` body, written in the pieces the test chooses (each piece its own
//! HTTP chunk, flushed on its own), so a test controls where the network cuts the stream.
//! It can hold a connection open and report when the client went away.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

/// One connection's answer.
#[derive(Debug, Clone, Default)]
pub struct Script {
    /// The body, in the pieces it is written in.
    pub pieces: Vec<Vec<u8>>,
    /// After the pieces, keep the connection open (sending keep-alive comments) until the
    /// client closes it, then report on [`SseServer::gone_within`].
    pub hold: bool,
    /// The pause after each piece (default 1 ms).
    pub gap: Option<Duration>,
}

impl Script {
    /// `body` written in one piece.
    pub fn whole(body: &[u8]) -> Script {
        Script {
            pieces: vec![body.to_vec()],
            ..Script::default()
        }
    }

    /// `body` cut in two at `at`.
    pub fn split_at(body: &[u8], at: usize) -> Script {
        Script {
            pieces: vec![body[..at].to_vec(), body[at..].to_vec()],
            ..Script::default()
        }
    }

    /// Each SSE event of `body` its own piece, `gap` apart: a reply as a model writes it.
    pub fn paced(body: &str, gap: Duration) -> Script {
        Script {
            pieces: body
                .split_inclusive("\n\n")
                .map(|e| e.as_bytes().to_vec())
                .collect(),
            gap: Some(gap),
            ..Script::default()
        }
    }
}

/// A running server; see the module docs.
#[derive(Debug)]
pub struct SseServer {
    /// The base URL, `http://127.0.0.1:PORT/v1`.
    pub url: String,
    /// The JSON bodies of the requests received, in order.
    pub requests: Arc<Mutex<Vec<Value>>>,
    gone: Receiver<()>,
}

impl SseServer {
    /// Starts a server that answers connection `i` with `scripts[i]` (the last repeats).
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound.
    pub fn start(scripts: Vec<Script>) -> SseServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let url = format!(
            "http://{}/v1",
            listener.local_addr().expect("local address")
        );
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (tell, gone) = mpsc::channel();
        let seen = requests.clone();
        std::thread::spawn(move || serve(&listener, &scripts, &seen, &tell));
        SseServer {
            url,
            requests,
            gone,
        }
    }

    /// Waits up to `limit` for a held connection to be closed by the client.
    pub fn gone_within(&self, limit: Duration) -> bool {
        self.gone.recv_timeout(limit).is_ok()
    }

    /// How many requests arrived.
    ///
    /// # Panics
    ///
    /// When the request list's lock was poisoned.
    pub fn request_count(&self) -> usize {
        self.requests.lock().expect("requests lock").len()
    }
}

fn serve(listener: &TcpListener, scripts: &[Script], seen: &Mutex<Vec<Value>>, tell: &Sender<()>) {
    for (i, stream) in listener.incoming().enumerate() {
        let Ok(mut stream) = stream else { return };
        let body = crate::http::read_request(&mut stream);
        if let Ok(mut seen) = seen.lock() {
            seen.push(serde_json::from_slice(&body).unwrap_or(Value::Null));
        }
        let script = &scripts[i.min(scripts.len() - 1)];
        answer(&mut stream, script, tell);
    }
}

fn answer(stream: &mut TcpStream, script: &Script, tell: &Sender<()>) {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                transfer-encoding: chunked\r\nconnection: close\r\n\r\n";
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    for piece in &script.pieces {
        if write_chunk(stream, piece).is_err() {
            return;
        }
        // Give the client a chance to read each piece on its own.
        std::thread::sleep(script.gap.unwrap_or(Duration::from_millis(1)));
    }
    if script.hold {
        // Until the client goes: a keep-alive comment every 10 ms fails once it has.
        for _ in 0..1000 {
            std::thread::sleep(Duration::from_millis(10));
            if write_chunk(stream, b": keep-alive\n\n").is_err() {
                let _ = tell.send(());
                return;
            }
        }
        return;
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    let _ = stream.flush();
}

fn write_chunk(stream: &mut TcpStream, piece: &[u8]) -> std::io::Result<()> {
    if piece.is_empty() {
        return Ok(());
    }
    stream.write_all(format!("{:x}\r\n", piece.len()).as_bytes())?;
    stream.write_all(piece)?;
    stream.write_all(b"\r\n")?;
    stream.flush()
}

/// One `data:` event of a chat-completion stream.
pub fn event(value: &Value) -> String {
    format!("data: {value}\n\n")
}

/// A content delta event.
pub fn delta(text: &str) -> String {
    event(&json!({"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]}))
}

/// The events of a whole reply: `deltas` as content, a `stop`, usage and `[DONE]`.
pub fn reply(deltas: &[&str], prompt_tokens: u64, completion_tokens: u64) -> String {
    let mut body: String = deltas.iter().map(|d| delta(d)).collect();
    body.push_str(&event(
        &json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
    ));
    body.push_str(&event(&json!({"choices": [], "usage": {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }})));
    body.push_str("data: [DONE]\n\n");
    body
}
