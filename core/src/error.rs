//! The crate's one error type.

use std::path::PathBuf;
use std::time::Duration;

use crate::SchemaError;
use crate::client::{Attempt, AttemptFailure};
use crate::wire::Usage;

/// A `Result` whose error is [`factum::Error`](Error).
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in an extraction.
///
/// Errors that come after the model was called carry every [`Attempt`] (its raw text, why
/// it failed, its usage) and the usage summed over all of them, so nothing is lost: see
/// [`Error::attempts`] and [`Error::usage`]. The API key never appears in an error: bodies
/// the server echoes are redacted before they are stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client is misconfigured (a missing model or key, a bad URL, an unknown provider).
    #[error("invalid configuration: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },
    /// An image file could not be read.
    #[error("cannot read image `{}`", path.display())]
    Image {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The server answered with an error status. 400, 401, 402, 403, 404 and 422 are fatal;
    /// 408, 409, 429 and 5xx were retried first.
    #[error("server returned {status}: {message}")]
    Http {
        /// The HTTP status code.
        status: u16,
        /// The server's own message, read from its error body (one line).
        message: String,
        /// The whole error body, as text (capped at the response size limit).
        body: String,
    },
    /// The request could not be sent or the response not read (connection refused or
    /// reset, TLS, a body cut short).
    #[error("transport error")]
    Transport(#[source] reqwest::Error),
    /// One HTTP attempt took longer than the per-attempt timeout (after transport retries).
    #[error("request timed out after {after:?}")]
    Timeout {
        /// The per-attempt timeout.
        after: Duration,
    },
    /// The extraction as a whole took longer than the overall deadline.
    #[error("deadline of {after:?} exceeded")]
    Deadline {
        /// The overall deadline.
        after: Duration,
    },
    /// The response body was larger than the configured limit.
    #[error("response body is larger than the limit of {limit} bytes")]
    BodyTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// A 2xx response whose body is not a chat completion.
    #[error("invalid response body: {message}")]
    InvalidResponse {
        /// What is wrong with it.
        message: String,
        /// The body, as text (capped).
        body: String,
    },
    /// The model declined to answer (`OpenAI`'s `refusal`, or a content filter).
    #[error("the model refused: {message}")]
    Refusal {
        /// The model's refusal text.
        message: String,
        /// Every attempt, the refusal last.
        attempts: Vec<Attempt>,
        /// Usage summed over the attempts.
        usage: Usage,
    },
    /// The reply was cut off at `max_tokens` on the last attempt allowed, even after raising
    /// `max_tokens`.
    #[error(
        "the reply was cut off at {max_tokens} tokens after {}",
        count(attempts)
    )]
    Truncated {
        /// The `max_tokens` of the last attempt.
        max_tokens: u32,
        /// Every attempt.
        attempts: Vec<Attempt>,
        /// Usage summed over the attempts.
        usage: Usage,
    },
    /// The model returned no content on the last attempt allowed.
    #[error("the model returned no content after {}", count(attempts))]
    Empty {
        /// Every attempt.
        attempts: Vec<Attempt>,
        /// Usage summed over the attempts.
        usage: Usage,
    },
    /// Re-asks ran out: no attempt produced a value that fits the type.
    #[error("no valid reply after {}{}", count(attempts), last_failure(attempts))]
    Exhausted {
        /// Every attempt, each with its raw text and its errors.
        attempts: Vec<Attempt>,
        /// Usage summed over the attempts.
        usage: Usage,
    },
    /// The extraction's token budget ran out before a valid reply.
    #[error("token budget of {budget} exhausted after {} tokens", usage.total_tokens)]
    TokenBudget {
        /// The budget, in total tokens.
        budget: u64,
        /// Every attempt.
        attempts: Vec<Attempt>,
        /// Usage summed over the attempts.
        usage: Usage,
    },
    /// The type's schema cannot be sent in any mode the server accepts.
    #[error("the schema cannot be sent")]
    Schema(#[source] SchemaError),
}

fn last_failure(attempts: &[Attempt]) -> String {
    match attempts.last().and_then(|a| a.failure.as_ref()) {
        Some(AttemptFailure::Violations(violations)) => match violations.first() {
            Some(first) if violations.len() > 1 => {
                format!("; last: {first} (and {} more)", violations.len() - 1)
            }
            Some(first) => format!("; last: {first}"),
            None => String::new(),
        },
        Some(failure) => format!("; last: {failure}"),
        None => String::new(),
    }
}

impl Error {
    pub(crate) fn config(message: impl Into<String>) -> Error {
        Error::Config {
            message: message.into(),
        }
    }

    /// Whether a timeout ended the call: the per-attempt timeout, the overall deadline, or
    /// a timeout inside the HTTP client.
    pub fn is_timeout(&self) -> bool {
        match self {
            Error::Timeout { .. } | Error::Deadline { .. } => true,
            Error::Transport(e) => e.is_timeout(),
            _ => false,
        }
    }

    /// Whether the overall deadline ended the call.
    pub fn is_deadline(&self) -> bool {
        matches!(self, Error::Deadline { .. })
    }

    /// Whether the model refused.
    pub fn is_refusal(&self) -> bool {
        matches!(self, Error::Refusal { .. })
    }

    /// The HTTP status of an error response.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Http { status, .. } => Some(*status),
            Error::Transport(e) => e.status().map(|s| s.as_u16()),
            _ => None,
        }
    }

    /// Whether the same call may succeed if made again later: 408, 409, 429 and 5xx
    /// responses, transport errors and timeouts. (factum already retried these.)
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Http { status, .. } => is_retryable_status(*status),
            Error::Transport(_) | Error::Timeout { .. } => true,
            _ => false,
        }
    }

    /// Every model call made before the error, each with its raw text and why it failed;
    /// empty for errors before any model reply.
    pub fn attempts(&self) -> &[Attempt] {
        match self {
            Error::Refusal { attempts, .. }
            | Error::Truncated { attempts, .. }
            | Error::Empty { attempts, .. }
            | Error::Exhausted { attempts, .. }
            | Error::TokenBudget { attempts, .. } => attempts,
            _ => &[],
        }
    }

    /// Usage summed over every attempt (zero when no model call answered).
    pub fn usage(&self) -> Usage {
        match self {
            Error::Refusal { usage, .. }
            | Error::Truncated { usage, .. }
            | Error::Empty { usage, .. }
            | Error::Exhausted { usage, .. }
            | Error::TokenBudget { usage, .. } => *usage,
            _ => Usage::default(),
        }
    }

    /// The raw body of an error response or of an unreadable 2xx response.
    pub fn raw_body(&self) -> Option<&str> {
        match self {
            Error::Http { body, .. } | Error::InvalidResponse { body, .. } => Some(body),
            _ => None,
        }
    }
}

pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 409 | 429) || status >= 500
}

/// Replaces every occurrence of the API key in server-supplied text.
pub(crate) fn redact(text: &str, key: Option<&str>) -> String {
    match key {
        Some(key) if !key.is_empty() && text.contains(key) => text.replace(key, "[redacted]"),
        _ => text.to_owned(),
    }
}

/// "1 attempt", "3 attempts".
fn count(attempts: &[Attempt]) -> String {
    match attempts.len() {
        1 => "1 attempt".to_owned(),
        n => format!("{n} attempts"),
    }
}
