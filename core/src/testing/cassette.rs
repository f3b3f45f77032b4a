//! [`Cassette`]: a real server's replies recorded once to a JSON-lines file, and replayed
//! by a transport that sits right on the real one, under the client's retry, pause and
//! timeout, so a replayed 429 is retried as a live one is.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream, StreamExt as _};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::time::Instant;

use crate::cache::Reply;
use crate::cache::key::{self, Key, first_difference};
use crate::error::Again;
use crate::transport::http::status_error;
use crate::transport::provider::Provider;
use crate::transport::{Completion, Delta, Gathered, Transport};
use crate::wire::{ChatRequest, Usage};
use crate::{Error, ErrorKind, Result};

/// The format number written in a cassette's first line; a file of another format is
/// refused, not misread.
const FORMAT: u32 = 1;

/// What a [`Cassette`] does with a request: replay it, record it, or both.
///
/// Set with [`Cassette::mode`]; when the code does not set it, `FACTUM_RECORD` (`none`,
/// `missing` or `all`, any case) does, and without that it is [`Record::None`], so CI never
/// calls a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Record {
    /// Replay only. A request with no recording fails with
    /// [`ErrorKind::Transport`](crate::ErrorKind::Transport), naming the first field that
    /// differs from the nearest recording; nothing is ever sent.
    #[default]
    None,
    /// Replay what the cassette has; send and record the rest.
    Missing,
    /// Send every request and record it anew: the file is rewritten from its first new
    /// recording on.
    All,
}

impl std::str::FromStr for Record {
    type Err = Error;

    fn from_str(s: &str) -> Result<Record> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "" => Ok(Record::None),
            "missing" => Ok(Record::Missing),
            "all" => Ok(Record::All),
            other => Err(Error::config(format!(
                "FACTUM_RECORD is `{other}`: expected `none`, `missing` or `all`"
            ))),
        }
    }
}

/// A file of recorded model calls: recorded once against a real server, replayed in tests
/// with no server. Put it in front of the real transport with
/// [`ClientBuilder::cassette`](crate::ClientBuilder::cassette).
///
/// The file is plain JSON lines, one file per test, meant to be committed and diffed: a
/// first line with the format number, then one line per model call with its request body
/// in canonical form (keys sorted; the model, the messages, the sampling fields and
/// `stream` kept), the schema's fingerprint, the request headers factum sets, and what
/// came back: the status, the reply (or the stream's events, one per delta) and the
/// usage, or the error body and the delay the server asked for. The `Authorization` header
/// and the key are never written, nor any header named in [`redact`](Cassette::redact).
///
/// A request is matched by its canonical body and its schema; identical requests are
/// matched in the order they were recorded. Transport faults that are not an HTTP status
/// (a refused connection, a timeout) are not recorded.
///
/// # Examples
///
/// ```no_run
/// use factum::testing::{Cassette, Record};
/// # #[derive(Debug, serde::Deserialize, factum::Extract)] struct Person { name: String }
///
/// # async fn run() -> factum::Result<()> {
/// // Recorded once with FACTUM_RECORD=missing and a server running; replayed in CI.
/// let cassette = Cassette::open("tests/cassettes/person.jsonl")?;
/// let client = factum::Client::builder()
///     .base_url("http://127.0.0.1:8089/v1")
///     .model("SmolLM2-135M-Instruct")
///     .cassette(cassette.clone())
///     .build()?;
/// let person: Person = client.extract("Ann, 30").await?;
/// cassette.assert_all_used();
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Cassette {
    tape: Arc<Mutex<Tape>>,
}

struct Tape {
    path: PathBuf,
    /// `None` until set by the code; then `FACTUM_RECORD`'s, read at open.
    mode: Option<Record>,
    env_mode: Record,
    recordings: Vec<Recording>,
    /// Which recordings a request was answered with.
    used: Vec<bool>,
    /// Header names never written, lowercase.
    redacted: Vec<String>,
    /// Whether this run has started writing the file (in `Record::All`, the first
    /// recording truncates it).
    writing: bool,
}

/// One recorded model call, as a line of the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Recording {
    /// The canonical request body.
    request: Value,
    /// The schema's fingerprint, in hex.
    schema: String,
    /// The request headers factum set, less the key and the redacted ones.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    headers: BTreeMap<String, String>,
    /// The HTTP status: 200 for a reply.
    status: u16,
    /// A whole reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reply: Option<Reply>,
    /// A streamed reply, one event per delta.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    events: Option<Vec<Event>>,
    /// The reply's usage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    usage: Option<Usage>,
    /// An error status's body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// Whether the error was worth another try, and after how long the server asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry: Option<Retry>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Retry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after_secs: Option<f64>,
}

/// One delta of a streamed reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Event {
    Content(String),
    Refusal(String),
    Usage(Usage),
    NodeId(String),
    Finish(Option<String>),
}

/// The first line of a cassette.
#[derive(Serialize, Deserialize)]
struct Header {
    factum_cassette: u32,
}

impl fmt::Debug for Cassette {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tape = self.tape();
        f.debug_struct("Cassette")
            .field("path", &tape.path)
            .field("mode", &tape.mode())
            .field("recordings", &tape.recordings.len())
            .finish_non_exhaustive()
    }
}

impl Cassette {
    /// Opens the cassette at `path`: reads its recordings when the file exists (a missing
    /// file is an empty cassette, made at the first recording).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the file cannot be read, is not
    /// a cassette of this format, or one of its lines is not a recording (with the line's
    /// number), or when `FACTUM_RECORD` holds something other than `none`, `missing` or
    /// `all`.
    pub fn open(path: impl AsRef<Path>) -> Result<Cassette> {
        let path = path.as_ref().to_owned();
        let env_mode = match std::env::var("FACTUM_RECORD") {
            Ok(value) => value.parse()?,
            Err(_) => Record::None,
        };
        let recordings = match std::fs::read_to_string(&path) {
            Ok(text) => read(&path, &text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                return Err(Error::config(format!(
                    "cannot read the cassette `{}`: {e}",
                    path.display()
                )));
            }
        };
        Ok(Cassette {
            tape: Arc::new(Mutex::new(Tape {
                path,
                mode: None,
                env_mode,
                used: vec![false; recordings.len()],
                recordings,
                redacted: Vec::new(),
                writing: false,
            })),
        })
    }

    /// Replays, records or both ([`Record`]), whatever `FACTUM_RECORD` says.
    #[must_use]
    pub fn mode(self, mode: Record) -> Cassette {
        self.tape().mode = Some(mode);
        self
    }

    /// Never writes these request headers (any case), besides `Authorization`, which is
    /// never written.
    #[must_use]
    pub fn redact<I>(self, headers: I) -> Cassette
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.tape()
            .redacted
            .extend(headers.into_iter().map(|h| h.as_ref().to_ascii_lowercase()));
        self
    }

    /// The mode in effect: the code's, else `FACTUM_RECORD`'s, else [`Record::None`].
    pub fn record_mode(&self) -> Record {
        self.tape().mode()
    }

    /// The cassette's file.
    pub fn path(&self) -> PathBuf {
        self.tape().path.clone()
    }

    /// How many recordings the cassette holds.
    pub fn len(&self) -> usize {
        self.tape().recordings.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Panics, naming them, when recordings were not asked for by any request: a test
    /// that no longer makes a call it used to.
    ///
    /// # Panics
    ///
    /// When a recording was left unused.
    #[track_caller]
    pub fn assert_all_used(&self) {
        let tape = self.tape();
        let unused: Vec<String> = tape
            .used
            .iter()
            .enumerate()
            .filter(|(_, used)| !**used)
            .map(|(i, _)| format!("#{} ({})", i + 1, tape.recordings[i].summary()))
            .collect();
        assert!(
            unused.is_empty(),
            "{} recording(s) of the cassette `{}` were not asked for: {}",
            unused.len(),
            tape.path.display(),
            unused.join("; ")
        );
    }

    fn tape(&self) -> MutexGuard<'_, Tape> {
        self.tape
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A cassette's lines: the header, then recordings.
fn read(path: &Path, text: &str) -> Result<Vec<Recording>> {
    let fail = |line: usize, message: String| {
        Error::config(format!(
            "the cassette `{}` does not read at line {line}: {message}",
            path.display()
        ))
    };
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, first)) = lines.next() else {
        return Ok(Vec::new());
    };
    match serde_json::from_str::<Header>(first) {
        Ok(Header { factum_cassette }) if factum_cassette == FORMAT => {}
        Ok(Header { factum_cassette }) => {
            return Err(fail(
                1,
                format!("format {factum_cassette}; this factum reads format {FORMAT}"),
            ));
        }
        Err(e) => return Err(fail(1, format!("not a cassette header: {e}"))),
    }
    lines
        .map(|(i, line)| serde_json::from_str(line).map_err(|e| fail(i + 1, e.to_string())))
        .collect()
}

impl Tape {
    fn mode(&self) -> Record {
        self.mode.unwrap_or(self.env_mode)
    }

    /// The first recording of `key` not used yet, marked used.
    fn take(&mut self, key: &Key, body: &Value) -> Option<Recording> {
        let schema = format!("{:016x}", key.schema);
        let found = (0..self.recordings.len()).find(|&i| {
            !self.used[i]
                && self.recordings[i].schema == schema
                && self.recordings[i].request == *body
        })?;
        self.used[found] = true;
        Some(self.recordings[found].clone())
    }

    /// Why `body` has no recording: the first field that differs from the nearest one (the
    /// one whose canonical text shares the longest start with it).
    fn missing(&self, key: &Key, body: &Value) -> Error {
        let text = key.request.as_bytes();
        let nearest = self.recordings.iter().max_by_key(|r| {
            let recorded = r.request.to_string();
            recorded
                .bytes()
                .zip(text)
                .take_while(|(a, b)| a == *b)
                .count()
        });
        let why = match nearest {
            None => "the cassette holds no recordings".to_owned(),
            Some(r) => match first_difference(body, &r.request) {
                Some(difference) => format!("the nearest recording differs at {difference}"),
                None if r.schema != format!("{:016x}", key.schema) => format!(
                    "the nearest recording is of another schema ({} recorded, {:016x} here): the type changed",
                    r.schema, key.schema
                ),
                None => "every recording of this request was used already".to_owned(),
            },
        };
        Error::no_answer(format!(
            "the cassette `{}` has no recording of this request ({} mode): {why}; record it with FACTUM_RECORD=missing",
            self.path.display(),
            match self.mode() {
                Record::None => "replay-only",
                Record::Missing => "missing",
                Record::All => "all",
            },
        ))
    }

    /// Appends `recording` to the file (a new file, or in `Record::All` a rewritten one,
    /// starts with the header); a failure to write is a warning, not the call's error.
    fn append(&mut self, recording: Recording) {
        if let Err(e) = self.write(&recording) {
            tracing::warn!(cassette = %self.path.display(), error = %e, "cannot write the recording");
        }
        self.recordings.push(recording);
        self.used.push(true);
    }

    fn write(&mut self, recording: &Recording) -> std::io::Result<()> {
        let fresh = !self.writing && self.mode() == Record::All;
        self.writing = true;
        let mut file: File = if fresh {
            File::create(&self.path)?
        } else {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)?
        };
        let mut text = String::new();
        if file.metadata()?.len() == 0 {
            text.push_str(&serde_json::to_string(&Header {
                factum_cassette: FORMAT,
            })?);
            text.push('\n');
        }
        text.push_str(&serde_json::to_string(recording)?);
        text.push('\n');
        // One write per line, so a stopped test leaves whole lines.
        file.write_all(text.as_bytes())
    }
}

impl Recording {
    /// A short description, for a report of unused recordings.
    fn summary(&self) -> String {
        let last = self
            .request
            .get("messages")
            .and_then(Value::as_array)
            .and_then(|m| m.last())
            .and_then(|m| m.get("content"))
            .map(ToString::to_string)
            .unwrap_or_default();
        format!(
            "status {}, last message {}",
            self.status,
            crate::json::excerpt(&last, 60)
        )
    }

    /// The recording's outcome, as the transport under it would have given it.
    fn replay(self, provider: Provider) -> Result<Vec<Delta>> {
        if let Some(body) = self.error {
            let retry = self.retry;
            let after = retry
                .and_then(|r| r.after_secs)
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(Duration::from_secs_f64);
            return Err(status_error(
                provider,
                self.status,
                body,
                Some(retry.is_some()),
                after,
            ));
        }
        if let Some(events) = self.events {
            return Ok(events.into_iter().map(Event::into_delta).collect());
        }
        let reply = self.reply.unwrap_or(Reply {
            content: None,
            refusal: None,
            finish_reason: None,
            usage: None,
            node_id: None,
        });
        let mut completion = reply.into_completion();
        completion.cached = false;
        completion.usage = completion.usage.or(self.usage);
        Ok(vec![completion.into_delta()])
    }
}

impl Event {
    fn of(delta: &Delta) -> Option<Event> {
        Some(match delta {
            Delta::Content(text) => Event::Content(text.clone()),
            Delta::Refusal(text) => Event::Refusal(text.clone()),
            Delta::Usage(usage) => Event::Usage(*usage),
            Delta::NodeId(node) => Event::NodeId(node.clone()),
            Delta::Finish(reason) => Event::Finish(reason.clone()),
            Delta::Cached | Delta::Whole(_) => return None,
        })
    }

    fn into_delta(self) -> Delta {
        match self {
            Event::Content(text) => Delta::Content(text),
            Event::Refusal(text) => Delta::Refusal(text),
            Event::Usage(usage) => Delta::Usage(usage),
            Event::NodeId(node) => Delta::NodeId(node),
            Event::Finish(reason) => Delta::Finish(reason),
        }
    }
}

/// A cassette in front of a transport.
pub(crate) struct CassetteTransport {
    pub(crate) cassette: Cassette,
    pub(crate) inner: Arc<dyn Transport>,
    /// Whose error bodies a replayed status is read as.
    pub(crate) provider: Provider,
}

impl fmt::Debug for CassetteTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CassetteTransport")
            .field("cassette", &self.cassette)
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

/// What the cassette does with one request.
enum Plan {
    Replay(Result<Vec<Delta>>),
    /// Send it, and record what comes back under this body and key.
    Record(Box<Recording>),
}

impl CassetteTransport {
    fn plan(&self, request: &ChatRequest) -> Plan {
        let body = key::body(request);
        let key = Key::from_body(&body, request.schema_hash);
        let mut tape = self.cassette.tape();
        let mode = tape.mode();
        if mode != Record::All
            && let Some(recording) = tape.take(&key, &body)
        {
            return Plan::Replay(recording.replay(self.provider));
        }
        if mode == Record::None {
            return Plan::Replay(Err(tape.missing(&key, &body)));
        }
        let mut headers = BTreeMap::new();
        headers.insert("content-type".to_owned(), "application/json".to_owned());
        let accept = if request.stream == Some(true) {
            "text/event-stream"
        } else {
            "application/json"
        };
        headers.insert("accept".to_owned(), accept.to_owned());
        headers.retain(|name, _| !tape.redacted.contains(name) && name != "authorization");
        Plan::Record(Box::new(Recording {
            request: body,
            schema: format!("{:016x}", key.schema),
            headers,
            status: 200,
            reply: None,
            events: None,
            usage: None,
            error: None,
            retry: None,
        }))
    }

    /// Records how a call ended: its reply, or an HTTP error (other faults are not
    /// recorded).
    fn record(&self, mut recording: Box<Recording>, outcome: std::result::Result<Outcome, &Error>) {
        match outcome {
            Ok(Outcome::Whole(completion)) => {
                recording.usage = completion.usage;
                recording.reply = Some(Reply::of(completion));
            }
            Ok(Outcome::Events(events, usage)) => {
                recording.usage = usage;
                recording.events = Some(events);
            }
            Err(error) if error.kind() == ErrorKind::Http => {
                recording.status = error.status().unwrap_or_default();
                recording.error = Some(error.raw_body().unwrap_or_default().to_owned());
                recording.retry = match error.again_hint() {
                    Again::Never => None,
                    Again::After(delay) => Some(Retry {
                        after_secs: Some(delay.as_secs_f64()),
                    }),
                    Again::Soon | Again::Drain => Some(Retry { after_secs: None }),
                };
            }
            Err(_) => return,
        }
        self.cassette.tape().append(*recording);
    }
}

/// A stream's events, gathered as they pass and recorded when it ends after the server
/// finished (usage may come after the finish), or when the pipeline drops it midway: the
/// runaway guard hung up, and the text received is an attempt all the same. Its replay
/// ends where the recording does, so the guard cuts it at the same place.
struct Tap {
    transport: Arc<CassetteTransport>,
    recording: Option<Box<Recording>>,
    events: Vec<Event>,
    usage: Option<Usage>,
    finished: bool,
}

impl Tap {
    /// One delta (`None`: the stream ended).
    fn see(&mut self, delta: Option<&Result<Delta>>) {
        match delta {
            Some(Ok(delta)) => {
                if let Some(usage) = delta.usage() {
                    self.usage = Some(usage);
                }
                self.finished |= delta.finishes();
                match delta {
                    // Recorded as the pieces a streaming server sends, as it always was.
                    Delta::Whole(whole) => {
                        let pieces = (**whole).clone().into_pieces();
                        self.events.extend(pieces.iter().filter_map(Event::of));
                    }
                    piece => self.events.extend(Event::of(piece)),
                }
            }
            // A status before any event is recorded; a break after them is not.
            Some(Err(error)) => {
                if let Some(recording) = self.recording.take()
                    && self.events.is_empty()
                {
                    self.transport.record(recording, Err(error));
                }
            }
            None => {
                if self.finished {
                    self.save();
                }
                self.recording = None;
            }
        }
    }

    fn save(&mut self) {
        if let Some(recording) = self.recording.take() {
            let events = std::mem::take(&mut self.events);
            self.transport
                .record(recording, Ok(Outcome::Events(events, self.usage)));
        }
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        if !self.events.is_empty() {
            self.save();
        }
    }
}

/// A call's reply, to record.
enum Outcome<'a> {
    Whole(&'a Completion),
    Events(Vec<Event>, Option<Usage>),
}

impl Transport for CassetteTransport {
    fn complete<'a>(
        &'a self,
        request: &'a ChatRequest,
        deadline: Option<Instant>,
    ) -> BoxFuture<'a, Result<Completion>> {
        Box::pin(async move {
            match self.plan(request) {
                Plan::Replay(deltas) => {
                    let mut gathered = Gathered::default();
                    for delta in deltas? {
                        gathered.add(delta);
                    }
                    gathered.end()
                }
                Plan::Record(recording) => {
                    let result = self.inner.complete(request, deadline).await;
                    self.record(recording, result.as_ref().map(Outcome::Whole));
                    result
                }
            }
        })
    }

    fn stream(
        self: Arc<Self>,
        request: Arc<ChatRequest>,
        deadline: Option<Instant>,
    ) -> BoxStream<'static, Result<Delta>> {
        let recording = match self.plan(&request) {
            Plan::Replay(Ok(deltas)) => return stream::iter(deltas.into_iter().map(Ok)).boxed(),
            Plan::Replay(Err(e)) => return stream::iter([Err(e)]).boxed(),
            Plan::Record(recording) => recording,
        };
        let inner = Arc::clone(&self.inner).stream(request, deadline);
        let mut tap = Tap {
            transport: self,
            recording: Some(recording),
            events: Vec::new(),
            usage: None,
            finished: false,
        };
        inner
            .map(Some)
            .chain(stream::once(async { None }))
            .filter_map(move |delta| {
                tap.see(delta.as_ref());
                std::future::ready(delta)
            })
            .boxed()
    }

    fn models(&self) -> BoxFuture<'_, Option<Vec<String>>> {
        if self.cassette.record_mode() == Record::None {
            return Box::pin(async { None });
        }
        self.inner.models()
    }

    fn context_window<'a>(&'a self, model: &'a str) -> BoxFuture<'a, Option<u32>> {
        if self.cassette.record_mode() == Record::None {
            return Box::pin(async { None });
        }
        self.inner.context_window(model)
    }

    fn slots(&self) -> BoxFuture<'_, Option<u32>> {
        if self.cassette.record_mode() == Record::None {
            return Box::pin(async { None });
        }
        self.inner.slots()
    }
}
