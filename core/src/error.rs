//! The crate's one error type, [`Error`], in reqwest's shape: an opaque box holding what
//! kind of failure it was ([`ErrorKind`]), the facts of that failure, and every attempt
//! made before it.

use std::error::Error as StdError;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::attempt::{Attempt, AttemptFailure};
use crate::lower::SchemaError;
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
}

/// The facts of one error, each stored once.
struct Inner {
    kind: ErrorKind,
    /// The configuration problem, the server's message, the refusal text, or what is wrong
    /// with a response body.
    message: Option<String>,
    status: Option<u16>,
    /// An error response's body, or an unreadable 2xx body (capped, redacted).
    body: Option<String>,
    /// The body limit in bytes, the last `max_tokens`, or the token budget.
    limit: Option<u64>,
    /// The timeout or deadline that ran out.
    after: Option<Duration>,
    path: Option<PathBuf>,
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
}

impl Error {
    fn new(kind: ErrorKind) -> Error {
        Error {
            inner: Box::new(Inner {
                kind,
                message: None,
                status: None,
                body: None,
                limit: None,
                after: None,
                path: None,
                url: None,
                model: None,
                attempt: None,
                source: None,
                attempts: Vec::new(),
                usage: Usage::default(),
            }),
        }
    }

    fn with_message(mut self, message: impl Into<String>) -> Error {
        self.inner.message = Some(message.into());
        self
    }

    fn with_source(mut self, source: impl Into<BoxError>) -> Error {
        self.inner.source = Some(source.into());
        self
    }

    fn with_limit(mut self, limit: u64) -> Error {
        self.inner.limit = Some(limit);
        self
    }

    pub(crate) fn config(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Config).with_message(message)
    }

    pub(crate) fn image(path: &Path, source: std::io::Error) -> Error {
        let mut error = Error::new(ErrorKind::Image).with_source(source);
        error.inner.path = Some(path.to_owned());
        error
    }

    pub(crate) fn encode(source: serde_json::Error) -> Error {
        Error::new(ErrorKind::Encode).with_source(source)
    }

    /// The schema of the type named `name` cannot be used.
    pub(crate) fn schema(name: &str, source: SchemaError) -> Error {
        Error::new(ErrorKind::Schema)
            .with_message(name)
            .with_source(source)
    }

    pub(crate) fn http(status: u16, message: String, body: String) -> Error {
        let mut error = Error::new(ErrorKind::Http).with_message(message);
        error.inner.status = Some(status);
        error.inner.body = Some(body);
        error
    }

    /// A failure of the in-process backend (feature `local`), of the given kind, with what
    /// llama.cpp or the backend said as its source.
    #[cfg(feature = "local")]
    pub(crate) fn local(kind: ErrorKind, source: impl Into<BoxError>) -> Error {
        Error::new(kind).with_source(source)
    }

    pub(crate) fn transport(source: reqwest::Error) -> Error {
        Error::new(ErrorKind::Transport).with_source(source)
    }

    pub(crate) fn timeout(after: Duration) -> Error {
        let mut error = Error::new(ErrorKind::Timeout);
        error.inner.after = Some(after);
        error
    }

    pub(crate) fn deadline(after: Duration) -> Error {
        let mut error = Error::new(ErrorKind::Deadline);
        error.inner.after = Some(after);
        error
    }

    pub(crate) fn body_too_large(limit: usize) -> Error {
        Error::new(ErrorKind::BodyTooLarge).with_limit(limit as u64)
    }

    pub(crate) fn invalid_response(message: String, body: String) -> Error {
        let mut error = Error::new(ErrorKind::InvalidResponse).with_message(message);
        error.inner.body = Some(body);
        error
    }

    pub(crate) fn refused(message: String) -> Error {
        Error::new(ErrorKind::Refusal).with_message(message)
    }

    pub(crate) fn truncated(max_tokens: u32) -> Error {
        Error::new(ErrorKind::Truncated).with_limit(u64::from(max_tokens))
    }

    /// The stream ended before the server said it had finished.
    pub(crate) fn stream_cut() -> Error {
        Error::new(ErrorKind::Stream)
    }

    /// The server sent an error event in the middle of a stream.
    pub(crate) fn stream_error(message: String, body: String) -> Error {
        let mut error = Error::new(ErrorKind::Stream).with_message(message);
        error.inner.body = Some(body);
        error
    }

    /// One streamed item that does not fit, recorded as its own attempt.
    pub(crate) fn invalid_item(attempt: Attempt) -> Error {
        let usage = attempt.usage;
        Error::new(ErrorKind::InvalidItem).with_record(vec![attempt], usage)
    }

    pub(crate) fn empty() -> Error {
        Error::new(ErrorKind::Empty)
    }

    pub(crate) fn exhausted() -> Error {
        Error::new(ErrorKind::Exhausted)
    }

    pub(crate) fn budget_spent(budget: u64) -> Error {
        Error::new(ErrorKind::TokenBudget).with_limit(budget)
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
    pub(crate) fn in_call(self, base_url: &str, model: &str) -> Error {
        let mut error = self.with_url(base_url);
        let done = error.inner.attempts.len() as u32;
        error.inner.attempt = match error.inner.kind {
            ErrorKind::Refusal => Some(done),
            ErrorKind::Truncated
            | ErrorKind::Empty
            | ErrorKind::Exhausted
            | ErrorKind::TokenBudget
            | ErrorKind::Schema => None,
            _ => Some(done + 1),
        };
        error.inner.model = Some(model.to_owned());
        error
    }

    /// Whether the server turned down the request's `response_format` (a schema-related
    /// 400), so that a plainer mode may still work.
    pub(crate) fn is_schema_rejection(&self) -> bool {
        match (self.inner.status, &self.inner.message) {
            (Some(status), Some(message)) => crate::provider::is_schema_rejection(status, message),
            _ => false,
        }
    }

    /// Whether the server said the request does not fit the model's context window:
    /// llama-server's "Context size has been exceeded" (a 500) and
    /// `exceed_context_size_error`, OpenAI's `context_length_exceeded`, vLLM's and
    /// OpenRouter's "maximum context length", Dria's context rejection. Such a reply is a
    /// truncation, never a transport fault to retry.
    pub(crate) fn is_context_overflow(&self) -> bool {
        if !matches!(self.inner.status, Some(400 | 413 | 422 | 500)) {
            return false;
        }
        let text = |s: &Option<String>| s.as_deref().unwrap_or_default().to_ascii_lowercase();
        let (message, body) = (text(&self.inner.message), text(&self.inner.body));
        CONTEXT_OVERFLOW
            .iter()
            .any(|needle| message.contains(needle) || body.contains(needle))
    }

    /// The context window the server named in a context-overflow error, if it named one:
    /// llama-server's `"n_ctx": 4096`, or "maximum context length is 4096 tokens".
    pub(crate) fn context_window(&self) -> Option<u32> {
        let body = self.inner.body.as_deref().unwrap_or_default();
        let message = self.inner.message.as_deref().unwrap_or_default();
        number_after(body, "\"n_ctx\":")
            .or_else(|| number_after(message, "maximum context length is"))
            .or_else(|| number_after(body, "maximum context length is"))
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// Whether a timeout ended the call: the per-attempt timeout, the overall deadline, or
    /// a timeout inside the HTTP client.
    pub fn is_timeout(&self) -> bool {
        match self.inner.kind {
            ErrorKind::Timeout | ErrorKind::Deadline => true,
            ErrorKind::Transport => self.reqwest().is_some_and(reqwest::Error::is_timeout),
            _ => false,
        }
    }

    /// Whether the overall deadline ended the call.
    pub fn is_deadline(&self) -> bool {
        self.inner.kind == ErrorKind::Deadline
    }

    /// Whether the model refused.
    pub fn is_refusal(&self) -> bool {
        self.inner.kind == ErrorKind::Refusal
    }

    /// The HTTP status of an error response.
    pub fn status(&self) -> Option<u16> {
        self.inner
            .status
            .or_else(|| self.reqwest()?.status().map(|s| s.as_u16()))
    }

    /// Whether the same call may succeed if made again later: 408, 409, 429 and 5xx
    /// responses, transport errors and timeouts. (factum already retried these.)
    pub fn is_retryable(&self) -> bool {
        match self.inner.kind {
            ErrorKind::Http => self.inner.status.is_some_and(is_retryable_status),
            ErrorKind::Transport | ErrorKind::Timeout | ErrorKind::Stream => true,
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
        self.inner.body.as_deref()
    }

    /// The model's refusal text, for a [`Refusal`](ErrorKind::Refusal).
    pub fn refusal(&self) -> Option<&str> {
        match self.inner.kind {
            ErrorKind::Refusal => self.inner.message.as_deref(),
            _ => None,
        }
    }

    /// The server's own message, read from its error body (one line), for an
    /// [`Http`](ErrorKind::Http) error.
    pub fn server_message(&self) -> Option<&str> {
        match self.inner.kind {
            ErrorKind::Http | ErrorKind::Stream => self.inner.message.as_deref(),
            _ => None,
        }
    }

    /// The `max_tokens` of the last attempt, for a [`Truncated`](ErrorKind::Truncated) error.
    pub fn max_tokens(&self) -> Option<u32> {
        match self.inner.kind {
            ErrorKind::Truncated => self.inner.limit.map(|n| n as u32),
            _ => None,
        }
    }

    /// The token budget, for a [`TokenBudget`](ErrorKind::TokenBudget) error.
    pub fn token_budget(&self) -> Option<u64> {
        match self.inner.kind {
            ErrorKind::TokenBudget => self.inner.limit,
            _ => None,
        }
    }

    /// The body size limit in bytes, for a [`BodyTooLarge`](ErrorKind::BodyTooLarge) error.
    pub fn body_limit(&self) -> Option<usize> {
        match self.inner.kind {
            ErrorKind::BodyTooLarge => self.inner.limit.map(|n| n as usize),
            _ => None,
        }
    }

    /// The timeout or deadline that ran out.
    pub fn elapsed_limit(&self) -> Option<Duration> {
        self.inner.after
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

    /// The file an [`Image`](ErrorKind::Image) error is about.
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    fn reqwest(&self) -> Option<&reqwest::Error> {
        self.inner.source.as_ref()?.downcast_ref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inner.kind {
            ErrorKind::Refusal
            | ErrorKind::Truncated
            | ErrorKind::Empty
            | ErrorKind::Exhausted
            | ErrorKind::TokenBudget => self.fmt_outcome(f),
            _ => self.fmt_call(f),
        }
    }
}

impl Error {
    /// What went wrong before the model could answer: configuration, request, transport.
    fn fmt_call(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        let message = inner.message.as_deref().unwrap_or_default();
        let at = Where(inner);
        match inner.kind {
            ErrorKind::Config => write!(f, "invalid configuration: {message}"),
            ErrorKind::Image => {
                let path = inner.path.as_deref().unwrap_or(Path::new(""));
                write!(f, "cannot read image `{}`{at}", path.display())
            }
            ErrorKind::Encode => write!(f, "cannot encode the request{at}"),
            ErrorKind::Schema => write!(f, "the schema of `{message}` cannot be sent{at}"),
            ErrorKind::Http => write!(
                f,
                "server returned {}{at}: {message}",
                inner.status.unwrap_or(0)
            ),
            ErrorKind::Timeout => write!(f, "request timed out after {:?}{at}", Since(inner.after)),
            ErrorKind::Deadline => write!(f, "deadline of {:?} exceeded{at}", Since(inner.after)),
            ErrorKind::BodyTooLarge => write!(
                f,
                "response body is larger than the limit of {} bytes{at}",
                inner.limit.unwrap_or(0)
            ),
            ErrorKind::InvalidResponse => write!(f, "invalid response body{at}: {message}"),
            ErrorKind::Stream if inner.message.is_some() => {
                write!(f, "the server broke off the stream{at}: {message}")
            }
            ErrorKind::Stream => write!(f, "the stream ended before the server finished{at}"),
            ErrorKind::InvalidItem => {
                write!(f, "a streamed item does not fit its type{at}")?;
                last_failure(f, &inner.attempts)
            }
            _ if self.reqwest().is_some_and(|e| e.is_body() || e.is_decode()) => {
                write!(f, "error reading the response{at}")
            }
            _ => write!(f, "error sending request{at}"),
        }
    }

    /// How the model's answers ended the extraction.
    fn fmt_outcome(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        let attempts = Count(inner.attempts.len());
        let at = Where(inner);
        match inner.kind {
            ErrorKind::Refusal => write!(
                f,
                "the model refused{at}: {}",
                inner.message.as_deref().unwrap_or_default()
            ),
            ErrorKind::Truncated => {
                write!(
                    f,
                    "the reply was cut off at {} tokens after {attempts}{at}",
                    inner.limit.unwrap_or(0)
                )?;
                if inner.source.is_some() {
                    f.write_str("; the request does not fit the model's context window")?;
                }
                Ok(())
            }
            ErrorKind::Empty => write!(f, "the model returned no content after {attempts}{at}"),
            ErrorKind::TokenBudget => write!(
                f,
                "token budget of {} exhausted after {} tokens{at}",
                inner.limit.unwrap_or(0),
                inner.usage.total_tokens
            ),
            _ => {
                write!(f, "no valid reply after {attempts}{at}")?;
                last_failure(f, &inner.attempts)
            }
        }
    }
}

/// " (URL, model M, attempt N)": where the failed call went, with the parts known.
struct Where<'a>(&'a Inner);

impl fmt::Display for Where<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.0;
        let parts = [
            inner.url.clone(),
            inner.model.as_ref().map(|m| format!("model {m}")),
            inner.attempt.map(|n| format!("attempt {n}")),
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

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        let mut out = f.debug_struct("factum::Error");
        out.field("kind", &inner.kind);
        if let Some(message) = &inner.message {
            out.field("message", message);
        }
        if let Some(status) = inner.status {
            out.field("status", &status);
        }
        for (name, value) in [("url", &inner.url), ("model", &inner.model)] {
            if let Some(value) = value {
                out.field(name, value);
            }
        }
        if let Some(attempt) = inner.attempt {
            out.field("attempt", &attempt);
        }
        if let Some(source) = &inner.source {
            out.field("source", source);
        }
        if !inner.attempts.is_empty() {
            out.field("attempts", &inner.attempts);
            out.field("usage", &inner.usage);
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

/// A duration as `Debug` prints it, zero when unknown.
struct Since(Option<Duration>);

impl fmt::Debug for Since {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0.unwrap_or_default(), f)
    }
}

/// Phrases servers use for a request that does not fit the context window (lower case).
const CONTEXT_OVERFLOW: &[&str] = &[
    "context size has been exceeded",
    "exceed_context_size_error",
    "exceeds the available context size",
    "context_length_exceeded",
    "maximum context length",
    "context length exceeded",
    "context window",
    "prompt is too long",
];

/// The first whole number after `marker` in `text`, skipping spaces.
fn number_after(text: &str, marker: &str) -> Option<u32> {
    let lower = text.to_ascii_lowercase();
    let start = lower.find(marker)? + marker.len();
    let digits: String = lower[start..]
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// 408, 409, 429 and 5xx: statuses that may succeed if sent again.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 409 | 429) || status >= 500
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_one_word() {
        assert_eq!(size_of::<Error>(), size_of::<usize>());
        assert_eq!(size_of::<Result<()>>(), size_of::<usize>());
    }

    #[test]
    fn context_overflows_are_recognised_with_their_window() {
        let llama = Error::http(
            500,
            "Context size has been exceeded.".into(),
            r#"{"error":{"code":500,"message":"Context size has been exceeded.","type":"server_error"}}"#.into(),
        );
        assert!(llama.is_context_overflow());
        assert_eq!(llama.context_window(), None);
        let sized = Error::http(
            400,
            "the request exceeds the available context size".into(),
            r#"{"error":{"type":"exceed_context_size_error","n_prompt_tokens":5000,"n_ctx":4096}}"#
                .into(),
        );
        assert!(sized.is_context_overflow());
        assert_eq!(sized.context_window(), Some(4096));
        let openai = Error::http(
            400,
            "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens."
                .into(),
            "{}".into(),
        );
        assert!(openai.is_context_overflow());
        assert_eq!(openai.context_window(), Some(8192));
    }

    #[test]
    fn every_server_s_context_overflow_is_recognised() {
        // vLLM before 0.10.1 (flat), OpenAI by its code alone, OpenRouter wrapping upstream.
        for (status, body) in [
            (
                400,
                r#"{"object":"error","message":"This model's maximum context length is 2048 tokens. However, you requested 3000 tokens","code":400}"#,
            ),
            (
                400,
                r#"{"error":{"message":"Too long.","type":"invalid_request_error","code":"context_length_exceeded"}}"#,
            ),
            (
                400,
                r#"{"error":{"code":400,"message":"Provider returned error","metadata":{"raw":"prompt is too long: 9000 tokens"}}}"#,
            ),
        ] {
            let error = Error::http(status, String::new(), body.into());
            assert!(error.is_context_overflow(), "{body}");
        }
    }

    #[test]
    fn other_errors_are_no_context_overflow() {
        let other = Error::http(500, "internal error".into(), "{}".into());
        assert!(!other.is_context_overflow());
        let rate = Error::http(429, "maximum context length".into(), "{}".into());
        assert!(
            !rate.is_context_overflow(),
            "only error statuses that mean the request"
        );
    }

    /// A failed attempt, as the run records it.
    fn attempt(failure: AttemptFailure) -> Attempt {
        Attempt {
            raw: "{}".into(),
            failure: Some(failure),
            usage: Usage::default(),
            node_id: None,
            mode: crate::Mode::PromptOnly,
            repairs: Vec::new(),
            finish_reason: None,
            max_tokens: 64,
        }
    }

    /// `error` as the run ends it, after `done` failed attempts, for model `m` at a server
    /// whose URL carries credentials.
    fn ended(error: Error, done: usize) -> String {
        let failure = AttemptFailure::Violations(vec![crate::Violation::new("/age", "too old")]);
        let attempts = vec![attempt(failure); done];
        error
            .with_record(attempts, Usage::default())
            .in_call("http://user:pw@127.0.0.1:8080/v1", "m")
            .to_string()
    }

    #[test]
    fn every_call_error_says_what_was_done_and_where() {
        const AT: &str = "http://127.0.0.1:8080/v1/chat/completions";
        let sent = |error: Error| ended(error.with_url(&format!("{AT}?x=1")), 1);
        let cases = [
            (
                Error::http(503, "busy".into(), "busy".into()),
                format!("server returned 503 ({AT}?x=1, model m, attempt 2): busy"),
            ),
            (
                Error::timeout(Duration::from_secs(5)),
                format!("request timed out after 5s ({AT}?x=1, model m, attempt 2)"),
            ),
            (
                Error::deadline(Duration::from_secs(60)),
                format!("deadline of 60s exceeded ({AT}?x=1, model m, attempt 2)"),
            ),
            (
                Error::body_too_large(1024),
                format!(
                    "response body is larger than the limit of 1024 bytes ({AT}?x=1, model m, attempt 2)"
                ),
            ),
            (
                Error::invalid_response("expected `choices`".into(), "{}".into()),
                format!("invalid response body ({AT}?x=1, model m, attempt 2): expected `choices`"),
            ),
        ];
        for (error, expected) in cases {
            assert_eq!(sent(error), expected);
        }
    }

    #[test]
    fn every_error_before_sending_says_what_was_done_and_where() {
        const AT: &str = "http://127.0.0.1:8080/v1/chat/completions";
        let schema = SchemaError::InvalidName { name: "a b".into() };
        let image = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        assert_eq!(
            Error::config("no model").to_string(),
            "invalid configuration: no model"
        );
        assert_eq!(
            ended(Error::image(Path::new("a.png"), image), 1),
            "cannot read image `a.png` (http://127.0.0.1:8080/v1, model m, attempt 2)"
        );
        assert_eq!(
            ended(Error::schema("Person", schema), 0),
            "the schema of `Person` cannot be sent (http://127.0.0.1:8080/v1, model m)"
        );
        let encode = serde_json::from_str::<u8>("x").unwrap_err();
        assert_eq!(
            ended(Error::encode(encode).with_url(AT), 0),
            format!("cannot encode the request ({AT}, model m, attempt 1)")
        );
    }

    #[test]
    fn every_outcome_error_says_how_the_model_answered_and_where() {
        const AT: &str = "(http://127.0.0.1:8080/v1, model m";
        let cases = [
            (
                Error::refused("no".into()),
                format!("the model refused {AT}, attempt 1): no"),
            ),
            (
                Error::truncated(64),
                format!("the reply was cut off at 64 tokens after 1 attempt {AT})"),
            ),
            (
                Error::truncated(64).with_cause(Error::http(500, "full".into(), String::new())),
                format!(
                    "the reply was cut off at 64 tokens after 1 attempt {AT}); the request does \
                     not fit the model's context window"
                ),
            ),
            (
                Error::empty(),
                format!("the model returned no content after 1 attempt {AT})"),
            ),
            (
                Error::exhausted(),
                format!("no valid reply after 1 attempt {AT}); last: at /age: too old"),
            ),
            (
                Error::budget_spent(10),
                format!("token budget of 10 exhausted after 0 tokens {AT})"),
            ),
        ];
        for (error, expected) in cases {
            assert_eq!(ended(error, 1), expected);
        }
    }

    #[test]
    fn facts_are_read_back() {
        let error = Error::http(429, "slow down".into(), "{}".into());
        assert_eq!(error.kind(), ErrorKind::Http);
        assert_eq!(error.status(), Some(429));
        assert!(error.is_retryable());
        assert_eq!(error.server_message(), Some("slow down"));
        assert_eq!(error.raw_body(), Some("{}"));
        assert_eq!(error.to_string(), "server returned 429: slow down");
        let error = Error::truncated(64);
        assert_eq!(error.max_tokens(), Some(64));
        assert_eq!(
            error.to_string(),
            "the reply was cut off at 64 tokens after 0 attempts"
        );
        assert!(Error::deadline(Duration::from_secs(1)).is_timeout());
        assert!(!Error::empty().is_retryable());
    }
}
