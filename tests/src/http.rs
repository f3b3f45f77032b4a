//! Support for the loopback HTTP tests (`tests/tests/http/`): the extracted types, chat
//! reply bodies, client presets pointed at a wiremock server, a raw TCP server for
//! replies wiremock cannot send, and captured `tracing` output.

#![allow(
    clippy::missing_panics_doc,
    reason = "test support: every panic here is the failure of the test that called it"
)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use factum::{Client, ClientBuilder, Extract, Provider};
use serde::Deserialize;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The API key every test client sends; no text the crate produces may contain it.
pub const KEY: &str = "dkn_live_SECRET_0123456789abcdef";

/// A person mentioned in the text.
#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
pub struct Person {
    /// Full name, as written.
    pub name: String,
    /// Age in whole years.
    #[extract(range(min = 0, max = 150))]
    pub age: u8,
    /// Email address, if the text gives one.
    pub email: Option<String>,
}

/// How a support ticket should be routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Extract)]
#[serde(rename_all = "snake_case")]
#[allow(
    missing_docs,
    reason = "doc comments on the variants would become schema descriptions"
)]
pub enum Route {
    Billing,
    Technical,
    Other,
}

/// The person [`JOHN_JSON`] describes.
pub fn john() -> Person {
    Person {
        name: "John Doe".into(),
        age: 30,
        email: Some("john@example.com".into()),
    }
}

/// [`john`] as the model writes him.
pub const JOHN_JSON: &str = r#"{"name":"John Doe","age":30,"email":"john@example.com"}"#;

/// A chat completion body with `content`, `finish_reason` "stop" and the given usage.
pub fn chat(content: &str, prompt_tokens: u64, completion_tokens: u64) -> Value {
    json!({
        "id": "gen-1",
        "object": "chat.completion",
        "model": "qwen3.5:9b",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": "stop"
        }],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens
        },
        "metadata": {"node_id": "0xnode"}
    })
}

/// Same as [`chat`] with another `finish_reason`.
pub fn chat_finish(content: &str, finish: &str, completion_tokens: u64) -> Value {
    let mut body = chat(content, 10, completion_tokens);
    body["choices"][0]["finish_reason"] = finish.into();
    body
}

/// What a mocked server answers with: a chat body ([`chat`]) sent as 200 JSON, or any
/// wiremock [`ResponseTemplate`].
pub trait Reply {
    /// The response the server sends.
    fn into_response(self) -> ResponseTemplate;
}

impl Reply for Value {
    fn into_response(self) -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_json(self)
    }
}

impl Reply for ResponseTemplate {
    fn into_response(self) -> ResponseTemplate {
        self
    }
}

/// Answers every `POST /v1/chat/completions` to `server` with `reply`.
pub async fn respond(server: &MockServer, reply: impl Reply) {
    respond_in_order(server, [reply]).await;
}

/// Answers the `POST /v1/chat/completions` requests to `server` with `replies`, one each
/// in order; the last one repeats.
pub async fn respond_in_order<R: Reply>(server: &MockServer, replies: impl IntoIterator<Item = R>) {
    let mut replies = replies.into_iter().peekable();
    while let Some(reply) = replies.next() {
        let mock = Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(reply.into_response());
        // wiremock tries the mocks in the order they were mounted, skipping used-up ones.
        let mock = if replies.peek().is_some() {
            mock.up_to_n_times(1)
        } else {
            mock
        };
        mock.mount(server).await;
    }
}

/// A client builder for `server` with fast backoff and a key.
pub fn builder(server: &MockServer, provider: Provider) -> ClientBuilder {
    Client::builder()
        // The mocked replies are not drawn from the text: default grounding has its own tests.
        .grounding(factum::Grounding::Off)
        .base_url(format!("{}/v1", server.uri()))
        .provider(provider)
        .model("qwen3.5:9b")
        .api_key(KEY)
        .backoff(Duration::from_millis(1), Duration::from_millis(5))
        .timeout(Duration::from_secs(10))
        // No idle-connection timer: under tokio's paused time an idle runtime jumps to the
        // next timer, and a 90 s pool timer would make the measured waits meaningless.
        .http_client(
            reqwest::Client::builder()
                .pool_idle_timeout(None)
                .build()
                .expect("reqwest client builds"),
        )
}

/// [`builder`], built.
pub fn client(server: &MockServer, provider: Provider) -> Client {
    builder(server, provider).build().expect("client builds")
}

/// The JSON bodies of every `POST` the server received, in order (the `GET`s of
/// `/v1/models` and `/props` carry none).
pub async fn bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .map(|r| serde_json::from_slice(&r.body).expect("request body is JSON"))
        .collect()
}

/// The text of every message of a request body, in order.
pub fn message_texts(body: &Value) -> Vec<(String, String)> {
    body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            let role = m["role"].as_str().unwrap_or_default().to_owned();
            let text = match &m["content"] {
                Value::String(s) => s.clone(),
                Value::Array(parts) => parts
                    .iter()
                    .filter_map(|p| p["text"].as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
                _ => String::new(),
            };
            (role, text)
        })
        .collect()
}

/// Runs the test named `name` (its path below the test crate's root, such as
/// `client::child_from_env`) in a fresh process of the current test binary, with the
/// `FACTUM_*` variables cleared, `vars` set and `FACTUM_TEST_CHILD=1`: the environment is
/// process-wide, and setting it in-process would race with the other tests. The child
/// test returns at once unless `FACTUM_TEST_CHILD` is set.
pub fn run_child_test(name: &str, vars: &[(&str, &str)]) {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command.args(["--exact", name, "--nocapture", "--test-threads=1"]);
    for name in [
        "FACTUM_API_KEY",
        "DRIA_API_KEY",
        "FACTUM_BASE_URL",
        "FACTUM_MODEL",
        "FACTUM_PROVIDER",
    ] {
        command.env_remove(name);
    }
    command.env("FACTUM_TEST_CHILD", "1");
    for (k, v) in vars {
        command.env(k, v);
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}\n{}",
        stdout,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("1 passed"),
        "the child test did not run: {stdout}"
    );
}

/// A raw HTTP server on 127.0.0.1 that answers connection `i` with `responses[i]` (the
/// last one repeats) and then closes the socket. Returns its base URL and a counter of
/// connections served.
pub fn raw_server(responses: Vec<Vec<u8>>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/v1", listener.local_addr().expect("addr"));
    let count = Arc::new(AtomicUsize::new(0));
    let served = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let i = served.fetch_add(1, Ordering::SeqCst);
            let _ = read_request(&mut stream);
            let response = &responses[i.min(responses.len() - 1)];
            let _ = stream.write_all(response);
            let _ = stream.flush();
            // Dropping the stream closes the connection, mid-body when the response is short.
        }
    });
    (url, count)
}

/// Reads one HTTP request (headers and a Content-Length body) and returns its body; empty
/// when the client went away first.
pub fn read_request(stream: &mut std::net::TcpStream) -> Vec<u8> {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let Ok(n) = stream.read(&mut buf) else {
            return Vec::new();
        };
        if n == 0 {
            return Vec::new();
        }
        data.extend_from_slice(&buf[..n]);
        let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        if data.len() >= end + 4 + length {
            return data[end + 4..end + 4 + length].to_vec();
        }
    }
}

/// What a [`slow_server`] saw: requests being answered now, the most at once, and how
/// many it answered.
#[derive(Debug, Default)]
pub struct Load {
    active: AtomicUsize,
    /// The most requests being answered at once.
    pub peak: AtomicUsize,
    /// Requests answered.
    pub served: AtomicUsize,
}

/// A raw HTTP server on 127.0.0.1 that answers every request with `body` (200 JSON) after
/// `delay`, each connection on its own thread, so that requests overlap as the client
/// sends them. Returns its base URL and what it saw.
pub fn slow_server(delay: Duration, body: &Value) -> (String, Arc<Load>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/v1", listener.local_addr().expect("addr"));
    let load = Arc::new(Load::default());
    let seen = load.clone();
    let response = http_ok(body);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let (load, response) = (seen.clone(), response.clone());
            std::thread::spawn(move || {
                read_request(&mut stream);
                let now = load.active.fetch_add(1, Ordering::SeqCst) + 1;
                load.peak.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(delay);
                load.active.fetch_sub(1, Ordering::SeqCst);
                load.served.fetch_add(1, Ordering::SeqCst);
                let _ = stream.write_all(&response);
                let _ = stream.flush();
            });
        }
    });
    (url, load)
}

/// A complete HTTP/1.1 200 response with a JSON body.
pub fn http_ok(body: &Value) -> Vec<u8> {
    let body = body.to_string();
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Captured `tracing` output: everything logged at `level` and above while the guard
/// returned by [`capture_logs`] lives.
#[derive(Clone, Default)]
pub struct Logs(Arc<std::sync::Mutex<Vec<u8>>>);

impl Logs {
    /// Everything captured so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Routes this thread's `tracing` output at `level` and above into the returned buffer.
pub fn capture_logs(level: tracing::Level) -> (Logs, tracing::subscriber::DefaultGuard) {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}
