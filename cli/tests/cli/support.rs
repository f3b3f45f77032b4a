//! The loopback server the tests point the binary at, and running the binary.
//!
//! The server is a few lines of std: each connection gets a thread, its request is read
//! (`content-length` bodies only), and the test's handler says what to answer: a chat
//! completion, an SSE stream written piece by piece, a status, or an answer held until
//! the test opens a gate. `connection: close` on every reply, so each request is its own
//! connection and a held one holds nothing else up.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// What the server answers one request with.
pub(crate) enum Reply {
    /// A chat completion whose message content is this text.
    Chat(String),
    /// A streamed completion: an SSE event per piece of content, `gap` apart.
    Sse(Vec<String>, Duration),
    /// A status with a JSON error body.
    Status(u16),
    /// The reply, once the gate opens (never, if it never does).
    After(Arc<Gate>, Box<Reply>),
}

/// A gate answers wait behind until the test opens it.
#[derive(Default)]
pub(crate) struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    pub(crate) fn open(&self) {
        *self.open.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.opened.notify_all();
    }

    fn wait(&self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        while !*open {
            open = self
                .opened
                .wait(open)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

type Handler = Arc<dyn Fn(&Value) -> Reply + Send + Sync>;

/// A running loopback server.
pub(crate) struct Server {
    /// `http://127.0.0.1:PORT/v1`.
    pub(crate) url: String,
    handler: Arc<Mutex<Handler>>,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl Server {
    /// A server answering each chat request with `handler(body)`.
    pub(crate) fn start(handler: impl Fn(&Value) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let url = format!("http://{}/v1", listener.local_addr().expect("its address"));
        let handler: Arc<Mutex<Handler>> = Arc::new(Mutex::new(Arc::new(handler)));
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let (shared, seen) = (Arc::clone(&handler), Arc::clone(&bodies));
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (handler, seen) = (Arc::clone(&shared), Arc::clone(&seen));
                thread::spawn(move || serve(stream, &handler, &seen));
            }
        });
        Server {
            url,
            handler,
            bodies,
        }
    }

    /// Answers from now on with `handler`.
    pub(crate) fn set_handler(&self, handler: impl Fn(&Value) -> Reply + Send + Sync + 'static) {
        *self.handler.lock().unwrap_or_else(PoisonError::into_inner) = Arc::new(handler);
    }

    /// Every chat request body received so far.
    pub(crate) fn requests(&self) -> Vec<Value> {
        self.bodies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

fn serve(stream: TcpStream, handler: &Mutex<Handler>, seen: &Mutex<Vec<Value>>) {
    let mut reader = BufReader::new(stream);
    let Some((request_line, length)) = head(&mut reader) else {
        return;
    };
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let mut stream = reader.into_inner();
    if request_line.starts_with("GET") {
        let models = json!({"object": "list", "data": [{"id": "m", "object": "model"}]});
        write_json(&mut stream, 200, &models);
        return;
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    seen.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(body.clone());
    let handler = Arc::clone(&handler.lock().unwrap_or_else(PoisonError::into_inner));
    answer(&mut stream, handler(&body));
}

/// The request line and the body's length.
fn head(reader: &mut BufReader<TcpStream>) -> Option<(String, usize)> {
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            return Some((request_line, length));
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
}

fn answer(stream: &mut TcpStream, reply: Reply) {
    match reply {
        Reply::Chat(content) => write_json(stream, 200, &chat(&content)),
        Reply::Status(status) => {
            let body =
                json!({"error": {"message": "the test server says no", "type": "server_error"}});
            write_json(stream, status, &body);
        }
        Reply::Sse(pieces, gap) => write_sse(stream, &pieces, gap),
        Reply::After(gate, reply) => {
            gate.wait();
            answer(stream, *reply);
        }
    }
}

/// A chat completion body whose message is `content`.
pub(crate) fn chat(content: &str) -> Value {
    json!({
        "id": "c1",
        "object": "chat.completion",
        "model": "m",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    })
}

fn write_json(stream: &mut TcpStream, status: u16, body: &Value) {
    let body = body.to_string();
    let head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
    let _ = stream.flush();
}

/// An SSE reply: the head, then each piece as its own event, `gap` apart, flushed, then
/// the finish and `[DONE]`; the body ends when the connection closes.
fn write_sse(stream: &mut TcpStream, pieces: &[String], gap: Duration) {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n";
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    for piece in pieces {
        let event = json!({"choices": [{"index": 0, "delta": {"content": piece}}]});
        if stream
            .write_all(format!("data: {event}\n\n").as_bytes())
            .and_then(|()| stream.flush())
            .is_err()
        {
            return;
        }
        thread::sleep(gap);
    }
    let last = json!({
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    });
    let _ = stream.write_all(format!("data: {last}\n\ndata: [DONE]\n\n").as_bytes());
    let _ = stream.flush();
}

/// The text of a request's messages, all of them, as one string.
pub(crate) fn messages(body: &Value) -> String {
    body["messages"].to_string()
}

/// The binary, pointed at `url` through the environment as `Client::from_env` reads it:
/// provider `custom` (whole replies), model `m`, no key.
pub(crate) fn factum(url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_factum"));
    for name in [
        "FACTUM_API_KEY",
        "DRIA_API_KEY",
        "FACTUM_BASE_URL",
        "FACTUM_MODEL",
        "FACTUM_PROVIDER",
    ] {
        command.env_remove(name);
    }
    command
        .env("FACTUM_BASE_URL", url)
        .env("FACTUM_PROVIDER", "custom")
        .env("FACTUM_MODEL", "m");
    command
}

/// What a finished run gave.
pub(crate) struct Run {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn stdout_lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    pub(crate) fn stderr_lines(&self) -> Vec<&str> {
        self.stderr.lines().collect()
    }
}

/// A running binary whose stdout and stderr are read as they come.
pub(crate) struct Running {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<thread::JoinHandle<()>>,
}

/// Starts `command` with `stdin` written to it (then closed).
pub(crate) fn spawn(mut command: Command, stdin: &str) -> Running {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the factum binary starts");
    let mut pipe = child.stdin.take().expect("stdin");
    let input = stdin.to_owned();
    thread::spawn(move || {
        let _ = pipe.write_all(input.as_bytes());
    });
    let (stdout, stderr) = (Arc::default(), Arc::default());
    let readers = vec![
        collect(child.stdout.take().expect("stdout"), Arc::clone(&stdout)),
        collect(child.stderr.take().expect("stderr"), Arc::clone(&stderr)),
    ];
    Running {
        child,
        stdout,
        stderr,
        readers,
    }
}

fn collect(
    mut pipe: impl std::io::Read + Send + 'static,
    into: Arc<Mutex<String>>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut buffer = [0; 4096];
        while let Ok(n) = pipe.read(&mut buffer) {
            if n == 0 {
                break;
            }
            into.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push_str(&String::from_utf8_lossy(&buffer[..n]));
        }
    })
}

impl Running {
    /// The stderr read so far.
    pub(crate) fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Sends SIGINT, as Ctrl-C does.
    pub(crate) fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-s", "INT", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -s INT failed");
    }

    /// Waits for the binary to exit (at most a minute, then it is killed and the test
    /// fails).
    pub(crate) fn finish(mut self) -> Run {
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("the child's status") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "factum did not exit within a minute; stderr so far:\n{}",
                    self.stderr()
                );
            }
            thread::sleep(Duration::from_millis(20));
        };
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        let take =
            |text: &Arc<Mutex<String>>| text.lock().unwrap_or_else(PoisonError::into_inner).clone();
        Run {
            code: status.code(),
            stdout: take(&self.stdout),
            stderr: take(&self.stderr),
        }
    }
}

/// Runs `command` to its end with `stdin` on its input.
pub(crate) fn run(command: Command, stdin: &str) -> Run {
    spawn(command, stdin).finish()
}

/// Waits until `ready()` holds, for at most 30 s; panics with `what` otherwise.
pub(crate) fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(10));
    }
}

/// The JSON lines of the file at `path` (none if it does not exist).
pub(crate) fn json_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

/// A fresh directory for one test's files.
pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("factum-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}
