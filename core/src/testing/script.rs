//! [`Script`]: what the "model" does next, step by step, and the transport that plays it
//! under the client's layers.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream, StreamExt as _};
use serde_json::Value;
use tokio::time::Instant;

use crate::transport::http::status_error;
use crate::transport::provider::Provider;
use crate::transport::{Completion, Delta, Transport};
use crate::wire::{ChatRequest, Usage};
use crate::{Error, Result};

/// The closure of [`Script::respond`].
type Responder = Arc<dyn Fn(&Value) -> String + Send + Sync>;

/// What the scripted model does at one request.
#[derive(Clone)]
enum Step {
    /// A whole reply: its text, its usage (estimated when `None`), its finish reason.
    Reply {
        text: String,
        usage: Option<Usage>,
        finish: &'static str,
    },
    /// A reply in pieces, each one SSE delta when the call streams.
    Stream(Vec<String>),
    /// An HTTP-shaped failure.
    Status {
        code: u16,
        body: String,
        retry_after: Option<Duration>,
    },
    /// A request that never answers.
    Timeout,
    /// A reply made from the request.
    Respond(Responder),
}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Reply { text, finish, .. } if *finish == "length" => {
                write!(f, "truncated({:?})", crate::json::excerpt(text, 40))
            }
            Step::Reply { text, .. } => write!(f, "reply({:?})", crate::json::excerpt(text, 40)),
            Step::Stream(chunks) => write!(f, "stream({} chunks)", chunks.len()),
            Step::Status { code, .. } => write!(f, "status({code})"),
            Step::Timeout => f.write_str("timeout"),
            Step::Respond(_) => f.write_str("respond(..)"),
        }
    }
}

#[derive(Default)]
struct State {
    steps: VecDeque<Step>,
    /// Every request, as its JSON body, in the order they came.
    requests: Vec<Value>,
}

/// A scripted "model" for tests: each request gets the next step of the script.
///
/// Build it with the step methods, in the order the requests will come, and give it to
/// [`Client::scripted`](crate::Client::scripted) or
/// [`ClientBuilder::scripted`](crate::ClientBuilder::scripted). The client runs the real
/// pipeline on it (the request built exactly as for HTTP, the transport retries and
/// pauses, parsing, validation, re-asks, grounding, batches, chunking and streaming); only
/// the network is replaced.
///
/// A `Script` is [`Clone`] and every clone shares the same steps and record, so the test
/// keeps a handle after giving one to the client: [`requests`](Script::requests) gives
/// every request body as sent, [`remaining`](Script::remaining) the steps left, and
/// [`assert_done`](Script::assert_done) fails the test when steps were left unused. A
/// request that finds no step left fails with [`ErrorKind::Transport`](crate::ErrorKind::Transport), saying the script
/// ran out after how many requests.
///
/// Usage is estimated at about 4 characters a token, for the prompt from the request's
/// messages and for the completion from the reply, unless
/// [`reply_with_usage`](Script::reply_with_usage) sets it.
///
/// # Examples
///
/// A 429 with `Retry-After`, survived:
///
/// ```
/// # use factum::{Client, Extract};
/// # use factum::testing::Script;
/// # #[derive(Debug, serde::Deserialize, Extract)] struct Person { name: String }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> factum::Result<()> {
/// let script = Script::new()
///     .status_with_retry_after(429, "slow down", 0.01)
///     .reply(r#"{"name": "Ann"}"#);
/// let client = Client::scripted(script.clone());
/// let out = client.extraction::<Person>("Ann").send().await?;
/// assert_eq!(out.value.name, "Ann");
/// assert_eq!(out.attempts.len(), 1); // a transport retry is not an attempt
/// assert_eq!(script.requests().len(), 2);
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct Script {
    state: Arc<Mutex<State>>,
}

impl fmt::Debug for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("Script")
            .field("steps", &state.steps)
            .field("requests", &state.requests.len())
            .finish()
    }
}

impl Script {
    /// An empty script; add steps in the order the requests will come.
    #[must_use]
    pub fn new() -> Script {
        Script::default()
    }

    fn then(self, step: Step) -> Script {
        self.state().steps.push_back(step);
        self
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock leaves the state as it was: still
        // worth reading.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Replies with `text` (finish reason `stop`), its usage estimated from the request and
    /// the text.
    #[must_use]
    pub fn reply(self, text: impl Into<String>) -> Script {
        self.then(Step::Reply {
            text: text.into(),
            usage: None,
            finish: "stop",
        })
    }

    /// Replies with `text` and reports `usage` for it.
    #[must_use]
    pub fn reply_with_usage(self, text: impl Into<String>, usage: Usage) -> Script {
        self.then(Step::Reply {
            text: text.into(),
            usage: Some(usage),
            finish: "stop",
        })
    }

    /// Replies with the pieces of `chunks` joined: a call that streams
    /// ([`Extraction::stream`](crate::Extraction::stream),
    /// [`stream_items`](crate::Extraction::stream_items), or `send()` on a provider that
    /// streams) gets one SSE delta per piece, then the usage and the finish.
    #[must_use]
    pub fn stream<I>(self, chunks: I) -> Script
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.then(Step::Stream(chunks.into_iter().map(Into::into).collect()))
    }

    /// Answers with HTTP status `code` and `body`, classified exactly as the HTTP transport
    /// classifies a reply with that status: 408, 409, 429 and 5xx are retried (by the
    /// client's transport retries, each retry taking the next step), 400, 401, 402, 403,
    /// 404 and 422 are fatal, a 400 about the schema steps the mode down, and a context
    /// overflow is a truncation. A 2xx code is an error too: use [`reply`](Script::reply).
    #[must_use]
    pub fn status(self, code: u16, body: impl Into<String>) -> Script {
        self.then(Step::Status {
            code,
            body: body.into(),
            retry_after: None,
        })
    }

    /// Like [`status`](Script::status), with a `Retry-After` of `secs` seconds (whole, as
    /// `2`, or fractions, as `0.25`), which the retry waits for instead of backing off. A
    /// negative or non-finite delay is ignored, as HTTP's is.
    #[must_use]
    pub fn status_with_retry_after(
        self,
        code: u16,
        body: impl Into<String>,
        secs: impl Into<f64>,
    ) -> Script {
        let secs: f64 = secs.into();
        let retry_after = (secs.is_finite() && (0.0..=86_400.0).contains(&secs))
            .then(|| Duration::from_secs_f64(secs));
        self.then(Step::Status {
            code,
            body: body.into(),
            retry_after,
        })
    }

    /// A request that never answers: the client's per-attempt
    /// [`timeout`](crate::ClientBuilder::timeout) or its
    /// [`deadline`](crate::ClientBuilder::deadline) ends it, as they end a server that hangs.
    /// (With neither set, the call waits forever.)
    #[must_use]
    pub fn timeout(self) -> Script {
        self.then(Step::Timeout)
    }

    /// Replies with `text` cut off at `max_tokens`: finish reason `length`.
    #[must_use]
    pub fn truncated(self, text: impl Into<String>) -> Script {
        self.then(Step::Reply {
            text: text.into(),
            usage: None,
            finish: "length",
        })
    }

    /// Replies with what `respond` makes of the request's JSON body, for replies that
    /// depend on it, such as echoing a value from the prompt.
    #[must_use]
    pub fn respond<F>(self, respond: F) -> Script
    where
        F: Fn(&Value) -> String + Send + Sync + 'static,
    {
        self.then(Step::Respond(Arc::new(respond)))
    }

    /// Every request the script was sent, as its JSON body exactly as HTTP would have sent
    /// it (`model`, `messages`, `max_tokens`, `temperature`, `seed`, `stream`,
    /// `response_format`, …), in order; transport retries included.
    pub fn requests(&self) -> Vec<Value> {
        self.state().requests.clone()
    }

    /// How many steps are left unused.
    pub fn remaining(&self) -> usize {
        self.state().steps.len()
    }

    /// Panics, naming them, when steps are left unused.
    ///
    /// # Panics
    ///
    /// When [`remaining`](Script::remaining) is not 0.
    #[track_caller]
    pub fn assert_done(&self) {
        let state = self.state();
        assert!(
            state.steps.is_empty(),
            "the script has {} step(s) left unused after {} request(s): {:?}",
            state.steps.len(),
            state.requests.len(),
            state.steps
        );
    }

    /// Records `request` and takes the next step; an error when none is left.
    fn take(&self, request: &ChatRequest) -> Result<(Step, Value)> {
        let body = request.body().map_err(Error::encode)?;
        let mut state = self.state();
        state.requests.push(body.clone());
        let served = state.requests.len() - 1;
        match state.steps.pop_front() {
            Some(step) => Ok((step, body)),
            None => Err(Error::no_answer(format!(
                "the script ran out after {served} request(s): request {} has no step",
                served + 1
            ))),
        }
    }
}

/// A [`Script`] as the transport under a client's layers.
pub(crate) struct ScriptTransport {
    pub(crate) script: Script,
    /// Whose error bodies a status step reads, as the HTTP transport would.
    pub(crate) provider: Provider,
}

impl fmt::Debug for ScriptTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScriptTransport")
            .field("script", &self.script)
            .finish_non_exhaustive()
    }
}

/// What one step gives: a reply's pieces and usage, or a fault; `None` never answers.
enum Played {
    Reply {
        chunks: Vec<String>,
        usage: Usage,
        finish: &'static str,
    },
    Fault(Error),
    Hang,
}

impl ScriptTransport {
    fn play(&self, request: &ChatRequest) -> Played {
        let (step, body) = match self.script.take(request) {
            Ok(taken) => taken,
            Err(e) => return Played::Fault(e),
        };
        let reply = |chunks: Vec<String>, usage: Option<Usage>, finish| {
            let usage = usage.unwrap_or_else(|| estimate(&body, &chunks));
            Played::Reply {
                chunks,
                usage,
                finish,
            }
        };
        match step {
            Step::Reply {
                text,
                usage,
                finish,
            } => reply(vec![text], usage, finish),
            Step::Stream(chunks) => reply(chunks, None, "stop"),
            Step::Respond(respond) => reply(vec![respond(&body)], None, "stop"),
            Step::Status {
                code,
                body,
                retry_after,
            } => Played::Fault(status_error(self.provider, code, body, None, retry_after)),
            Step::Timeout => Played::Hang,
        }
    }
}

/// About 4 characters a token: the prompt from the request's messages, the completion from
/// the reply.
fn estimate(body: &Value, chunks: &[String]) -> Usage {
    let prompt = body.get("messages").map_or(0, |m| m.to_string().len());
    let completion: usize = chunks.iter().map(String::len).sum();
    Usage::new(prompt.div_ceil(4) as u64, completion.div_ceil(4) as u64)
}

impl Transport for ScriptTransport {
    fn complete<'a>(
        &'a self,
        request: &'a ChatRequest,
        _deadline: Option<Instant>,
    ) -> BoxFuture<'a, Result<Completion>> {
        let played = self.play(request);
        Box::pin(async move {
            match played {
                Played::Reply {
                    chunks,
                    usage,
                    finish,
                } => Ok(Completion {
                    content: Some(chunks.concat()),
                    usage: Some(usage),
                    finish_reason: Some(finish.to_owned()),
                    ..Completion::default()
                }),
                Played::Fault(e) => Err(e),
                Played::Hang => std::future::pending().await,
            }
        })
    }

    fn stream(
        self: Arc<Self>,
        request: Arc<ChatRequest>,
        _deadline: Option<Instant>,
    ) -> BoxStream<'static, Result<Delta>> {
        match self.play(&request) {
            Played::Reply {
                chunks,
                usage,
                finish,
            } => {
                let deltas = chunks
                    .into_iter()
                    .map(Delta::Content)
                    .chain([Delta::Usage(usage), Delta::Finish(Some(finish.to_owned()))]);
                // Each piece comes on a poll of its own, as SSE events over a network do,
                // so a streamed extraction shows a partial per piece.
                stream::iter(deltas)
                    .then(|delta| async move {
                        tokio::task::yield_now().await;
                        Ok(delta)
                    })
                    .boxed()
            }
            Played::Fault(e) => stream::iter([Err(e)]).boxed(),
            Played::Hang => stream::pending().boxed(),
        }
    }
}
