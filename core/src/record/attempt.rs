//! One model call's record: its raw text, usage and mode, and, when it failed, why
//! ([`AttemptFailure`]).

use std::fmt;

use crate::Violation;
use crate::parse::Repair;
use crate::transport::provider::Mode;
use crate::wire::Usage;

/// One model call of an extraction.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct Attempt {
    /// The raw text the model returned, before any cleanup.
    pub raw: String,
    /// Why the attempt failed, or `None` for the one that succeeded.
    pub failure: Option<AttemptFailure>,
    /// The attempt's own usage.
    pub usage: Usage,
    /// The Dria node that served it.
    pub node_id: Option<String>,
    /// The mode the request was sent in.
    pub mode: Mode,
    /// Every repair and coercion the lenient parser applied to the raw text to get a
    /// value of the type (empty when the reply was used as written).
    pub repairs: Vec<Repair>,
    /// The server's `finish_reason`.
    pub finish_reason: Option<String>,
    /// The `max_tokens` the request was sent with.
    pub max_tokens: u32,
    /// The temperature the request was sent with.
    pub temperature: f32,
    /// The sampler's seed the request was sent with, if the server takes one and it was
    /// set (on a re-ask whose sampling changed).
    pub seed: Option<u64>,
}

/// Why an attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub enum AttemptFailure {
    /// The reply parsed but does not fit the type: schema, deserialization or validator
    /// errors, each with its JSON path.
    Violations(Vec<Violation>),
    /// The model refused, with its message.
    Refusal(String),
    /// The reply was cut off at `max_tokens`.
    Truncated,
    /// The reply had no content (or only a `<think>` block).
    Empty,
    /// No JSON value could be found in the reply.
    NotJson(String),
    /// The reply broke off after it began: the connection dropped, the per-attempt timeout
    /// passed between two pieces, or the server sent an error (a shared-slot overflow,
    /// sent again once the calls in flight drained). The text received is the attempt's
    /// `raw`; the message says what broke it.
    Interrupted(String),
}

impl fmt::Display for AttemptFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttemptFailure::Violations(violations) => {
                for (i, v) in violations.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{v}")?;
                }
                Ok(())
            }
            AttemptFailure::Refusal(message) => write!(f, "the model refused: {message}"),
            AttemptFailure::Truncated => f.write_str("the reply was cut off at max_tokens"),
            AttemptFailure::Empty => f.write_str("the reply was empty"),
            AttemptFailure::NotJson(message) => write!(f, "the reply is not JSON: {message}"),
            AttemptFailure::Interrupted(message) => write!(f, "the reply broke off: {message}"),
        }
    }
}
