//! The crate's one error type, [`Error`], in reqwest's shape: an opaque box holding what
//! kind of failure it was ([`ErrorKind`]), the facts of that failure, and every attempt
//! made before it.

use std::error::Error as StdError;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::lower::SchemaError;
use crate::record::attempt::{Attempt, AttemptFailure};
use crate::wire::Usage;

/// A `Result` whose error is [`factum::Error`](Error).
pub type Result<T, E = Error> = std::result::Result<T, E>;

type BoxError = Box<dyn StdError + Send + Sync>;

/// Everything that can go wrong in an extraction.
///
/// [`kind`](Error::kind) says what failed; the predicates (`is_timeout`, `is_retryable`, …)
/// and accessors (`status`, `raw_body`, …) give its facts. Errors that come after the model
/// was called carry every [`Attempt`] (its raw text, why it failed, its usage) and the usage
/// summed over all of them, so nothing is lost. The API key never appears in an error:
/// bodies the server echoes are redacted before they are stored.
///
/// # Examples
///
/// ```no_run
/// # #[derive(Debug, serde::Deserialize, factum::Extract)] struct Person { name: String }
/// # async fn run(client: factum::Client) {
/// match client.extract::<Person>("John Doe, 30").await {
///     Ok(person) => println!("{person:?}"),
///     Err(error) => {
///         eprintln!("{error} ({:?})", error.kind());
///         for attempt in error.attempts() {
///             eprintln!("the model wrote: {}", attempt.raw);
///         }
///     }
/// }
/// # }
/// ```
pub struct Error {
    inner: Box<Inner>,
}

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The client is misconfigured: a missing model or key, a bad URL, an unknown provider.
    Config,
    /// An image file could not be read.
    Image,
    /// The request could not be encoded as JSON.
    Encode,
    /// The type's schema cannot be used: it does not compile as a JSON Schema, or no mode
    /// the server accepts can carry it.
    Schema,
    /// The server answered with an error status. 400, 401, 402, 403, 404 and 422 are fatal;
    /// 408, 409, 429 and 5xx were retried first.
    Http,
    /// The request could not be sent or the response not read (connection refused or
    /// reset, TLS, a body cut short).
    Transport,
    /// One HTTP attempt took longer than the per-attempt timeout (after transport retries).
    Timeout,
    /// The extraction as a whole took longer than the overall deadline.
    Deadline,
    /// The response body was larger than the configured limit.
    BodyTooLarge,
    /// A 2xx response whose body is not a chat completion.
    InvalidResponse,
    /// The model declined to answer (OpenAI's `refusal`, or a content filter).
    Refusal,
    /// The reply was cut off at `max_tokens` on the last attempt allowed.
    Truncated,
    /// The model returned no content on the last attempt allowed.
    Empty,
    /// Re-asks ran out: no attempt produced a value that fits the type.
    Exhausted,
    /// The extraction's token budget ran out before a valid reply.
    TokenBudget,
    /// A streamed reply broke off: the server sent an error event after its 200, or the
    /// stream ended before the server said it had finished. Never a value.
    Stream,
    /// One item of a streamed list does not fit its type ([`Extraction::stream_items`]);
    /// the item's raw text and violations are its one attempt, and the stream goes on.
    ///
    /// [`Extraction::stream_items`]: crate::Extraction::stream_items
    InvalidItem,
    /// The text is empty or only white space (and no image goes with it): nothing was
    /// sent.
    EmptyInput,
    /// The prompt cannot fit the model's known context window: nothing was sent.
    /// [`input_tokens`](Error::input_tokens) is the prompt's size (estimated from its
    /// bytes), [`context_limit`](Error::context_limit) the window; a long document is
    /// extracted [`chunked`](crate::Extraction::chunked).
    InputTooLong,
    /// A journal cannot be read back ([`Journal`](crate::Journal)): the file cannot be
    /// opened, or one of its whole lines is not a journal line or holds a value that does
    /// not fit the type asked for; [`path`](Error::path) is the file and
    /// [`line`](Error::line) the line, counting from 1.
    Journal,
    /// A provider batch file ([`batch_file`](crate::batch_file)) cannot be written or read:
    /// the writer or reader failed, or a whole line of a results file is not a result
    /// line; [`line`](Error::line) is the line, counting from 1, when one is at fault.
    BatchFile,
}

/// The facts of one error, each stored once: the kind's own in [`Detail`], then where the
/// call went and what it left.
struct Inner {
    detail: Detail,
    /// Where the call went: the endpoint of a failed request, else the base URL, without
    /// credentials.
    url: Option<String>,
    /// The model asked.
    model: Option<String>,
    /// The number of the model call the error is about, counting from 1.
    attempt: Option<u32>,
    source: Option<BoxError>,
    attempts: Vec<Attempt>,
    usage: Usage,
    /// What the transport that raised a fault says of sending the request again.
    again: Again,
}

/// What the transport that raised a fault says of sending the same request again; the
/// retry layer acts on it, the transport's own rules decide it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Again {
    /// Not worth it: the same request fails the same way.
    #[default]
    Never,
    /// Worth another try, after a backoff.
    Soon,
    /// Worth another try after the delay the server named.
    After(Duration),
    /// The server's shared context overflowed while other calls were in flight, after the
    /// reply began: send the request again once they drain (the pipeline does, keeping the
    /// text received).
    Drain,
}

/// One variant per [`ErrorKind`], holding only the facts of that kind (reqwest's private
/// `Kind`): no impossible states, no numbers cast back out of a shared field.
enum Detail {
    Config {
        message: String,
    },
    Image {
        path: PathBuf,
    },
    Encode,
    Schema {
        type_name: String,
    },
    Http {
        status: u16,
        message: String,
        body: String,
    },
    Transport,
    Timeout {
        after: Duration,
    },
    /// The deadline's length, once the run that owns it has named it.
    Deadline {
        after: Option<Duration>,
    },
    BodyTooLarge {
        limit: usize,
    },
    InvalidResponse {
        message: String,
        body: String,
    },
    Refusal {
        message: String,
    },
    Truncated {
        max_tokens: u32,
    },
    Empty,
    Exhausted,
    TokenBudget {
        budget: u64,
    },
    /// A stream cut short (no message) or broken off by an error event.
    Stream {
        error: Option<(String, String)>,
    },
    InvalidItem,
    EmptyInput,
    /// The prompt's estimated tokens, and the context window it does not fit.
    InputTooLong {
        tokens: u64,
        limit: u32,
    },
    /// The journal, the line at fault (none when the file cannot be read), and what is
    /// wrong with it.
    Journal {
        path: PathBuf,
        at: Option<(usize, String)>,
    },
    /// A batch file: the line at fault (none when the reader or writer failed), and what
    /// is wrong with it.
    BatchFile {
        at: Option<(usize, String)>,
    },
}

impl Detail {
    fn kind(&self) -> ErrorKind {
        match self {
            Detail::Config { .. } => ErrorKind::Config,
            Detail::Image { .. } => ErrorKind::Image,
            Detail::Encode => ErrorKind::Encode,
            Detail::Schema { .. } => ErrorKind::Schema,
            Detail::Http { .. } => ErrorKind::Http,
            Detail::Transport => ErrorKind::Transport,
            Detail::Timeout { .. } => ErrorKind::Timeout,
            Detail::Deadline { .. } => ErrorKind::Deadline,
            Detail::BodyTooLarge { .. } => ErrorKind::BodyTooLarge,
            Detail::InvalidResponse { .. } => ErrorKind::InvalidResponse,
            Detail::Refusal { .. } => ErrorKind::Refusal,
            Detail::Truncated { .. } => ErrorKind::Truncated,
            Detail::Empty => ErrorKind::Empty,
            Detail::Exhausted => ErrorKind::Exhausted,
            Detail::TokenBudget { .. } => ErrorKind::TokenBudget,
            Detail::Stream { .. } => ErrorKind::Stream,
            Detail::InvalidItem => ErrorKind::InvalidItem,
            Detail::EmptyInput => ErrorKind::EmptyInput,
            Detail::InputTooLong { .. } => ErrorKind::InputTooLong,
            Detail::Journal { .. } => ErrorKind::Journal,
            Detail::BatchFile { .. } => ErrorKind::BatchFile,
        }
    }

    /// The server's message and the body it came in, for the kinds that have them.
    fn server_reply(&self) -> Option<(&str, &str)> {
        match self {
            Detail::Http { message, body, .. } | Detail::InvalidResponse { message, body } => {
                Some((message, body))
            }
            Detail::Stream {
                error: Some((message, body)),
            } => Some((message, body)),
            _ => None,
        }
    }
}

impl Error {
    fn new(detail: Detail) -> Error {
        Error {
            inner: Box::new(Inner {
                detail,
                url: None,
                model: None,
                attempt: None,
                source: None,
                attempts: Vec::new(),
                usage: Usage::default(),
                again: Again::Never,
            }),
        }
    }

    /// Marks a transport fault as worth sending again, or not.
    pub(crate) fn again(mut self, again: Again) -> Error {
        self.inner.again = again;
        self
    }

    /// Whether the transport said the request is worth sending again.
    pub(crate) fn again_hint(&self) -> Again {
        self.inner.again
    }

    fn with_source(mut self, source: impl Into<BoxError>) -> Error {
        self.inner.source = Some(source.into());
        self
    }

    pub(crate) fn config(message: impl Into<String>) -> Error {
        Error::new(Detail::Config {
            message: message.into(),
        })
    }

    pub(crate) fn image(path: &Path, source: std::io::Error) -> Error {
        Error::new(Detail::Image {
            path: path.to_owned(),
        })
        .with_source(source)
    }

    /// A journal file that cannot be read.
    pub(crate) fn journal_file(path: &Path, source: std::io::Error) -> Error {
        Error::new(Detail::Journal {
            path: path.to_owned(),
            at: None,
        })
        .with_source(source)
    }

    /// A line of a journal that cannot be read back: `line` counts from 1.
    pub(crate) fn journal_line(path: &Path, line: usize, message: String) -> Error {
        Error::new(Detail::Journal {
            path: path.to_owned(),
            at: Some((line, message)),
        })
    }

    /// A batch file whose writer or reader failed.
    pub(crate) fn batch_file_io(source: std::io::Error) -> Error {
        Error::new(Detail::BatchFile { at: None }).with_source(source)
    }

    /// A line of a batch results file that cannot be read: `line` counts from 1.
    pub(crate) fn batch_file_line(line: usize, message: String) -> Error {
        Error::new(Detail::BatchFile {
            at: Some((line, message)),
        })
    }

    pub(crate) fn encode(source: serde_json::Error) -> Error {
        Error::new(Detail::Encode).with_source(source)
    }

    /// The schema of the type named `name` cannot be used.
    pub(crate) fn schema(name: &str, source: SchemaError) -> Error {
        Error::new(Detail::Schema {
            type_name: name.to_owned(),
        })
        .with_source(source)
    }

    pub(crate) fn http(status: u16, message: String, body: String) -> Error {
        Error::new(Detail::Http {
            status,
            message,
            body,
        })
    }

    /// A failure of the in-process backend (feature `local`), of the given kind, with what
    /// llama.cpp or the backend said as its source.
    #[cfg(feature = "local")]
    pub(crate) fn local(kind: ErrorKind, source: impl Into<BoxError>) -> Error {
        let detail = match kind {
            ErrorKind::Encode => Detail::Encode,
            ErrorKind::Schema => Detail::Schema {
                type_name: String::new(),
            },
            _ => Detail::Transport,
        };
        Error::new(detail).with_source(source)
    }

    /// A transport fault that is not the HTTP client's: a test double with no answer to
    /// give (a script that ran out, a request a cassette holds no recording of).
    pub(crate) fn no_answer(message: String) -> Error {
        Error::new(Detail::Transport).with_source(message)
    }

    pub(crate) fn transport(source: reqwest::Error) -> Error {
        Error::new(Detail::Transport).with_source(source)
    }

    pub(crate) fn timeout(after: Duration) -> Error {
        Error::new(Detail::Timeout { after })
    }

    /// The run's deadline passed. The run, which owns the deadline, names its length
    /// ([`Error::in_call`]).
    pub(crate) fn deadline_reached() -> Error {
        Error::new(Detail::Deadline { after: None })
    }

    pub(crate) fn body_too_large(limit: usize) -> Error {
        Error::new(Detail::BodyTooLarge { limit })
    }

    pub(crate) fn invalid_response(message: String, body: String) -> Error {
        Error::new(Detail::InvalidResponse { message, body })
    }

    pub(crate) fn refused(message: String) -> Error {
        Error::new(Detail::Refusal { message })
    }

    pub(crate) fn truncated(max_tokens: u32) -> Error {
        Error::new(Detail::Truncated { max_tokens })
    }

    /// The stream ended before the server said it had finished.
    pub(crate) fn stream_cut() -> Error {
        Error::new(Detail::Stream { error: None })
    }

    /// The server sent an error event in the middle of a stream.
    pub(crate) fn stream_error(message: String, body: String) -> Error {
        Error::new(Detail::Stream {
            error: Some((message, body)),
        })
    }

    /// One streamed item that does not fit, recorded as its own attempt.
    pub(crate) fn invalid_item(attempt: Attempt) -> Error {
        let usage = attempt.usage;
        Error::new(Detail::InvalidItem).with_record(vec![attempt], usage)
    }

    /// The text is blank: refused before anything is sent.
    pub(crate) fn empty_input() -> Error {
        Error::new(Detail::EmptyInput)
    }

    /// The prompt, about `tokens` tokens, cannot fit a context of `limit`: refused before
    /// anything is sent.
    pub(crate) fn input_too_long(tokens: u64, limit: u32) -> Error {
        Error::new(Detail::InputTooLong { tokens, limit })
    }

    pub(crate) fn empty() -> Error {
        Error::new(Detail::Empty)
    }

    pub(crate) fn exhausted() -> Error {
        Error::new(Detail::Exhausted)
    }

    pub(crate) fn budget_spent(budget: u64) -> Error {
        Error::new(Detail::TokenBudget { budget })
    }

    /// Keeps the error that led to this one as its [`source`](StdError::source).
    pub(crate) fn with_cause(self, cause: Error) -> Error {
        self.with_source(cause)
    }

    /// Attaches the record of the extraction so far: every attempt and the summed usage.
    pub(crate) fn with_record(mut self, attempts: Vec<Attempt>, usage: Usage) -> Error {
        self.inner.attempts = attempts;
        self.inner.usage = usage;
        self
    }

    /// Names the URL the failed request went to, credentials removed, unless one is named.
    pub(crate) fn with_url(mut self, url: &str) -> Error {
        if self.inner.url.is_none() {
            self.inner.url = Some(without_credentials(url));
        }
        self
    }

    /// Names the call the error ended: the server (unless a request's URL is named), the
    /// model, and, after [`with_record`](Error::with_record), the attempt it is about: the
    /// call that failed to come back, or the one that refused.
    pub(crate) fn in_call(self, base_url: &str, model: &str, deadline: Option<Duration>) -> Error {
        let mut error = self.with_url(base_url);
        if let Detail::Deadline { after } = &mut error.inner.detail {
            *after = after.or(deadline);
        }
        let done = error.inner.attempts.len() as u32;
        error.inner.attempt = match error.kind() {
            ErrorKind::Refusal => Some(done),
            ErrorKind::Truncated
            | ErrorKind::Empty
            | ErrorKind::Exhausted
            | ErrorKind::TokenBudget
            | ErrorKind::Schema
            | ErrorKind::EmptyInput
            | ErrorKind::InputTooLong => None,
            _ => Some(done + 1),
        };
        error.inner.model = Some(model.to_owned());
        error
    }

    /// Whether the server turned down the request's `response_format` (a schema-related
    /// 400), so that a plainer mode may still work.
    pub(crate) fn is_schema_rejection(&self) -> bool {
        match &self.inner.detail {
            Detail::Http {
                status, message, ..
            } => crate::transport::provider::is_schema_rejection(*status, message),
            _ => false,
        }
    }

    /// Whether the server said the request does not fit the model's context window (see
    /// [`provider::is_context_overflow`](crate::transport::provider::is_context_overflow)). Such a
    /// reply is a truncation, never a transport fault to retry.
    pub(crate) fn is_context_overflow(&self) -> bool {
        match &self.inner.detail {
            Detail::Http {
                status,
                message,
                body,
            } => crate::transport::provider::is_context_overflow(*status, message, body),
            Detail::Stream { .. } => self.is_slot_overflow(),
            _ => false,
        }
    }

    /// Whether the server's shared context filled up while generating (llama-server's 500
    /// "Context size has been exceeded.", as a status or as an error event in a stream):
    /// backpressure when other calls were in flight, the request's own overflow otherwise.
    /// Its 400 `exceed_context_size_error` is a verdict on one request, and is not this.
    pub(crate) fn is_slot_overflow(&self) -> bool {
        let server_error = match &self.inner.detail {
            Detail::Http { status, .. } => *status == 500,
            Detail::Stream { .. } => true,
            _ => false,
        };
        server_error
            && self
                .inner
                .detail
                .server_reply()
                .is_some_and(|(message, body)| {
                    crate::transport::provider::is_slot_overflow(message, body)
                })
    }

    /// Whether the fault came after the reply began and the request is worth sending
    /// again once the calls in flight drain.
    pub(crate) fn is_backpressure(&self) -> bool {
        self.inner.again == Again::Drain
    }

    /// The context window the server named in a context-overflow error, if it named one.
    pub(crate) fn context_window(&self) -> Option<u32> {
        let (message, body) = self.inner.detail.server_reply()?;
        crate::transport::provider::context_window(message, body)
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.detail.kind()
    }

    /// Whether a timeout ended the call: the per-attempt timeout, the overall deadline, or
    /// a timeout inside the HTTP client.
    pub fn is_timeout(&self) -> bool {
        match self.kind() {
            ErrorKind::Timeout | ErrorKind::Deadline => true,
            ErrorKind::Transport => self.reqwest().is_some_and(reqwest::Error::is_timeout),
            _ => false,
        }
    }

    /// Whether the overall deadline ended the call.
    pub fn is_deadline(&self) -> bool {
        self.kind() == ErrorKind::Deadline
    }

    /// Whether the model refused.
    pub fn is_refusal(&self) -> bool {
        self.kind() == ErrorKind::Refusal
    }

    /// The HTTP status of an error response.
    pub fn status(&self) -> Option<u16> {
        match &self.inner.detail {
            Detail::Http { status, .. } => Some(*status),
            _ => self.reqwest()?.status().map(|s| s.as_u16()),
        }
    }

    /// Whether the same call may succeed if made again later: 408, 409, 429 and 5xx
    /// responses, transport errors and timeouts. (factum already retried these.)
    pub fn is_retryable(&self) -> bool {
        match &self.inner.detail {
            Detail::Http { status, .. } => is_retryable_status(*status),
            Detail::Transport | Detail::Timeout { .. } | Detail::Stream { .. } => true,
            _ => false,
        }
    }

    /// Every model call made before the error, each with its raw text and why it failed;
    /// empty for errors before any model reply.
    pub fn attempts(&self) -> &[Attempt] {
        &self.inner.attempts
    }

    /// Usage summed over every attempt (zero when no model call answered).
    pub fn usage(&self) -> Usage {
        self.inner.usage
    }

    /// The raw body of an error response or of an unreadable 2xx response.
    pub fn raw_body(&self) -> Option<&str> {
        self.inner.detail.server_reply().map(|(_, body)| body)
    }

    /// The model's refusal text, for a [`Refusal`](ErrorKind::Refusal).
    pub fn refusal(&self) -> Option<&str> {
        match &self.inner.detail {
            Detail::Refusal { message } => Some(message),
            _ => None,
        }
    }

    /// The server's own message, read from its error body (one line), for an
    /// [`Http`](ErrorKind::Http) error.
    pub fn server_message(&self) -> Option<&str> {
        match &self.inner.detail {
            Detail::Http { message, .. }
            | Detail::Stream {
                error: Some((message, _)),
            } => Some(message),
            _ => None,
        }
    }

    /// The `max_tokens` of the last attempt, for a [`Truncated`](ErrorKind::Truncated) error.
    pub fn max_tokens(&self) -> Option<u32> {
        match self.inner.detail {
            Detail::Truncated { max_tokens } => Some(max_tokens),
            _ => None,
        }
    }

    /// The token budget, for a [`TokenBudget`](ErrorKind::TokenBudget) error.
    pub fn token_budget(&self) -> Option<u64> {
        match self.inner.detail {
            Detail::TokenBudget { budget } => Some(budget),
            _ => None,
        }
    }

    /// The body size limit in bytes, for a [`BodyTooLarge`](ErrorKind::BodyTooLarge) error.
    pub fn body_limit(&self) -> Option<usize> {
        match self.inner.detail {
            Detail::BodyTooLarge { limit } => Some(limit),
            _ => None,
        }
    }

    /// The prompt's size in tokens, estimated from its bytes, for an
    /// [`InputTooLong`](ErrorKind::InputTooLong) error.
    pub fn input_tokens(&self) -> Option<u64> {
        match self.inner.detail {
            Detail::InputTooLong { tokens, .. } => Some(tokens),
            _ => None,
        }
    }

    /// The model's context window in tokens, for an [`InputTooLong`](ErrorKind::InputTooLong)
    /// error.
    pub fn context_limit(&self) -> Option<u32> {
        match self.inner.detail {
            Detail::InputTooLong { limit, .. } => Some(limit),
            _ => None,
        }
    }

    /// The timeout or deadline that ran out.
    pub fn elapsed_limit(&self) -> Option<Duration> {
        match self.inner.detail {
            Detail::Timeout { after } => Some(after),
            Detail::Deadline { after } => after,
            _ => None,
        }
    }

    /// Where the call went, credentials removed: the endpoint of the request that failed,
    /// or the server's base URL for errors about the model's answers.
    pub fn url(&self) -> Option<&str> {
        self.inner.url.as_deref()
    }

    /// The model the extraction asked, for errors raised once the model was known.
    pub fn model(&self) -> Option<&str> {
        self.inner.model.as_deref()
    }

    /// The number of the model call the error is about, counting from 1: the one that
    /// failed to come back (transport and HTTP errors) or refused.
    pub fn attempt(&self) -> Option<u32> {
        self.inner.attempt
    }

    /// The file an [`Image`](ErrorKind::Image) or [`Journal`](ErrorKind::Journal) error
    /// is about.
    pub fn path(&self) -> Option<&Path> {
        match &self.inner.detail {
            Detail::Image { path } | Detail::Journal { path, .. } => Some(path),
            _ => None,
        }
    }

    /// The line a [`Journal`](ErrorKind::Journal) or [`BatchFile`](ErrorKind::BatchFile)
    /// error is about, counting from 1; `None` when the file itself cannot be read.
    pub fn line(&self) -> Option<usize> {
        match &self.inner.detail {
            Detail::Journal { at, .. } | Detail::BatchFile { at } => {
                at.as_ref().map(|(line, _)| *line)
            }
            _ => None,
        }
    }

    /// The configuration problem, the server's message or the refusal text.
    fn message(&self) -> Option<&str> {
        match &self.inner.detail {
            Detail::Config { message } | Detail::Refusal { message } => Some(message),
            _ => self.inner.detail.server_reply().map(|(message, _)| message),
        }
    }

    fn reqwest(&self) -> Option<&reqwest::Error> {
        self.inner.source.as_ref()?.downcast_ref()
    }
}

impl fmt::Display for Error {
    #[allow(
        clippy::too_many_lines,
        reason = "one arm per kind of error, each a line or two; the long ones call out"
    )]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        let at = Where(inner);
        match &inner.detail {
            Detail::Config { message } => write!(f, "invalid configuration: {message}"),
            Detail::Image { .. } | Detail::Journal { .. } | Detail::BatchFile { .. } => {
                self.fmt_file(f)
            }
            Detail::Encode => write!(f, "cannot encode the request{at}"),
            Detail::Schema { type_name } => {
                write!(f, "the schema of `{type_name}` cannot be sent{at}")
            }
            Detail::Http {
                status, message, ..
            } => write!(f, "server returned {status}{at}: {message}"),
            Detail::Timeout { after } => write!(f, "request timed out after {after:?}{at}"),
            Detail::Deadline { after } => write!(f, "deadline{} exceeded{at}", Of(*after)),
            Detail::BodyTooLarge { limit } => write!(
                f,
                "response body is larger than the limit of {limit} bytes{at}"
            ),
            Detail::InvalidResponse { message, .. } => {
                write!(f, "invalid response body{at}: {message}")
            }
            Detail::Stream {
                error: Some((message, _)),
            } => write!(f, "the server broke off the stream{at}: {message}"),
            Detail::Stream { error: None } => {
                write!(f, "the stream ended before the server finished{at}")
            }
            Detail::InvalidItem => {
                write!(f, "a streamed item does not fit its type{at}")?;
                last_failure(f, &inner.attempts)
            }
            Detail::Transport => self.fmt_transport(f),
            Detail::EmptyInput | Detail::InputTooLong { .. } => self.fmt_input(f),
            Detail::Refusal { .. }
            | Detail::Truncated { .. }
            | Detail::Empty
            | Detail::TokenBudget { .. }
            | Detail::Exhausted => self.fmt_outcome(f),
        }
    }
}

impl Error {
    /// A file that cannot be read: an image, or a journal (at a line).
    fn fmt_file(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = Where(&self.inner);
        match &self.inner.detail {
            Detail::Journal { path, at: line } => {
                write!(f, "cannot read the journal `{}`", path.display())?;
                line.as_ref()
                    .map_or(Ok(()), |(line, why)| write!(f, " at line {line}: {why}"))
            }
            Detail::Image { path } => write!(f, "cannot read image `{}`{at}", path.display()),
            Detail::BatchFile {
                at: Some((line, why)),
            } => {
                write!(f, "cannot read the batch file at line {line}: {why}")
            }
            Detail::BatchFile { at: None } => {
                write!(f, "cannot write or read the batch file")?;
                match std::error::Error::source(self) {
                    Some(source) => write!(f, ": {source}"),
                    None => Ok(()),
                }
            }
            other => write!(f, "{:?}{at}", other.kind()),
        }
    }

    /// Whether the last attempt was cut as a runaway, or broke off while looping.
    fn ended_in_a_loop(attempts: &[Attempt]) -> bool {
        attempts.last().is_some_and(|a| {
            a.finish_reason.as_deref() == Some(crate::stream::RUNAWAY)
                || (a.failure == Some(AttemptFailure::Truncated)
                    && crate::stream::looping(&a.raw).is_some())
        })
    }

    /// How the model's answers ended the extraction.
    fn fmt_outcome(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        let at = Where(inner);
        let attempts = Count(inner.attempts.len());
        match &inner.detail {
            Detail::Refusal { message } => write!(f, "the model refused{at}: {message}"),
            Detail::Truncated { .. } if Self::ended_in_a_loop(&inner.attempts) => write!(
                f,
                "the reply kept repeating itself (cut by the runaway guard) after {attempts}{at}"
            ),
            Detail::Truncated { max_tokens } => {
                write!(
                    f,
                    "the reply was cut off at {max_tokens} tokens after {attempts}{at}"
                )?;
                if inner.source.is_some() {
                    f.write_str("; the request does not fit the model's context window")?;
                }
                Ok(())
            }
            Detail::Empty => write!(f, "the model returned no content after {attempts}{at}"),
            Detail::TokenBudget { budget } => write!(
                f,
                "token budget of {budget} exhausted after {} tokens{at}",
                inner.usage.total_tokens
            ),
            Detail::Exhausted => {
                write!(f, "no valid reply after {attempts}{at}")?;
                last_failure(f, &inner.attempts)
            }
            // `fmt` writes every other kind itself; a kind added there and not here still
            // says what it is.
            other => write!(f, "{:?}{at}", other.kind()),
        }
    }

    /// Input refused before anything was sent, with what to do instead.
    fn fmt_input(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = Where(&self.inner);
        match self.inner.detail {
            Detail::InputTooLong { tokens, limit } => write!(
                f,
                "the input is about {tokens} tokens (estimated), more than the model's \
                 context of {limit}{at}; extract it in pieces with \
                 .chunked(Chunking::chars(..))"
            ),
            _ => write!(f, "the input is empty; nothing was sent{at}"),
        }
    }

    /// A request that could not be sent, or a response that could not be read: the
    /// innermost cause first ("connection refused"), so the top line says what happened.
    fn fmt_transport(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = Where(&self.inner);
        let reading = self.reqwest().is_some_and(|e| e.is_body() || e.is_decode());
        match (self.innermost_cause(), reading) {
            (Some(cause), false) => write!(f, "{cause}{at}"),
            (Some(cause), true) => write!(f, "error reading the response: {cause}{at}"),
            (None, true) => write!(f, "error reading the response{at}"),
            (None, false) => write!(f, "error sending request{at}"),
        }
    }

    /// The last error of the source chain, in one lowercase line without the OS's error
    /// number: `connection refused` for "Connection refused (os error 111)".
    fn innermost_cause(&self) -> Option<String> {
        let mut cause: &(dyn StdError + 'static) = self.inner.source.as_deref()?;
        while let Some(next) = cause.source() {
            cause = next;
        }
        let text = cause.to_string();
        let text = match text.rfind(" (os error ") {
            Some(at) if text.ends_with(')') => &text[..at],
            _ => &text,
        };
        let line = text.lines().next().unwrap_or_default().trim();
        let mut chars = line.chars();
        let first = chars.next()?;
        Some(first.to_lowercase().chain(chars).collect())
    }
}

/// " (URL, model M, attempt N)": where the failed call went, with the parts known.
struct Where<'a>(&'a Inner);

impl fmt::Display for Where<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.0;
        // A fault before any reply came back says so, rather than naming an attempt.
        let unanswered = matches!(inner.detail, Detail::Transport | Detail::Timeout { .. })
            && inner.attempts.is_empty();
        let attempt = inner.attempt.map(|n| match n {
            1 if unanswered => "before the first reply".to_owned(),
            n => format!("attempt {n}"),
        });
        let parts = [
            inner.url.clone(),
            inner.model.as_ref().map(|m| format!("model {m}")),
            attempt,
        ];
        let parts: Vec<String> = parts.into_iter().flatten().collect();
        if parts.is_empty() {
            return Ok(());
        }
        write!(f, " ({})", parts.join(", "))
    }
}

/// `url` without its user name and password; text that is no URL is kept as it is.
pub(crate) fn without_credentials(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            // Setting these fails only for URLs that cannot have credentials at all.
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// A short struct whatever the error holds (at most about 1 KB): the kind and its facts,
/// where the call went, how many attempts it made, and the cause chain. The attempts
/// themselves, with every raw reply, are in [`Error::attempts`].
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        /// Longest text of one field, in bytes.
        const FIELD: usize = 160;
        let inner = &*self.inner;
        let mut out = f.debug_struct("factum::Error");
        out.field("kind", &self.kind());
        if let Some(status) = self.status() {
            out.field("status", &status);
        }
        if let Some(message) = self.message() {
            out.field("message", &crate::json::excerpt(message, FIELD));
        }
        for (name, value) in [("url", &inner.url), ("model", &inner.model)] {
            if let Some(value) = value {
                out.field(name, &crate::json::excerpt(value, FIELD));
            }
        }
        out.field("attempts", &inner.attempts.len());
        let mut causes = Vec::new();
        let mut cause = inner
            .source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static));
        while let Some(error) = cause.filter(|_| causes.len() < 3) {
            causes.push(crate::json::excerpt(&error.to_string(), FIELD).into_owned());
            cause = error.source();
        }
        if !causes.is_empty() {
            out.field("causes", &causes);
        }
        out.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

/// "; last: …", the last attempt's failure, with a count of what else it said.
fn last_failure(f: &mut fmt::Formatter<'_>, attempts: &[Attempt]) -> fmt::Result {
    match attempts.last().and_then(|a| a.failure.as_ref()) {
        Some(AttemptFailure::Violations(violations)) => match violations.first() {
            Some(first) if violations.len() > 1 => {
                write!(f, "; last: {first} (and {} more)", violations.len() - 1)
            }
            Some(first) => write!(f, "; last: {first}"),
            None => Ok(()),
        },
        Some(failure) => write!(f, "; last: {failure}"),
        None => Ok(()),
    }
}

/// " of 60s" for a deadline whose length is known, else nothing.
struct Of(Option<Duration>);

impl fmt::Display for Of {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(length) => write!(f, " of {length:?}"),
            None => Ok(()),
        }
    }
}

/// "1 attempt", "3 attempts".
struct Count(usize);

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1 => f.write_str("1 attempt"),
            n => write!(f, "{n} attempts"),
        }
    }
}

/// 408, 409, 429 and 5xx: statuses that may succeed if sent again.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 409 | 429) || status >= 500
}

#[cfg(test)]
mod tests;
