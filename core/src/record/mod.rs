//! The record of what happened: [`Extracted`] on success, one [`Attempt`] per model call,
//! each with its raw text and, when it failed, its [`AttemptFailure`], and the
//! [`ChunkFailure`]s a partial chunked result left out. Errors carry the same attempts, so
//! nothing the model wrote is lost. Nothing here knows the client, the pipeline or a
//! transport: they all write this record.

use std::ops::Range;
use std::sync::Arc;

use crate::wire::Usage;
use crate::{Error, Span};

pub(crate) mod attempt;

use attempt::Attempt;

/// The result of a successful extraction: the value and how it was obtained.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Extracted<T> {
    /// The extracted value.
    pub value: T,
    /// Usage summed over every attempt, failed ones included.
    pub usage: Usage,
    /// One entry per model call, the successful one last.
    pub attempts: Vec<Attempt>,
    /// The Dria node that produced the value (`metadata.node_id`), if the server says.
    pub node_id: Option<String>,
    /// The model that was asked.
    pub model: String,
    /// Where each string, number and bool leaf of the value is in the source text, in the
    /// value's order (see [`crate::ground`]).
    pub spans: Vec<Span>,
    /// The chunks that failed in a [`chunked`](crate::Extraction::chunked) extraction
    /// allowed to succeed without them ([`partial_ok`](crate::Extraction::partial_ok));
    /// always empty otherwise.
    pub failed_chunks: Vec<ChunkFailure>,
    /// Whether the value was read from the response cache ([`Cache`](crate::Cache)): no
    /// request was sent. For a chunked extraction, whether every chunk was.
    pub cached: bool,
}

impl<T> Extracted<T> {
    /// The same record around another value.
    pub(crate) fn map_value<U>(self, f: impl FnOnce(T) -> U) -> Extracted<U> {
        Extracted {
            value: f(self.value),
            usage: self.usage,
            attempts: self.attempts,
            node_id: self.node_id,
            model: self.model,
            spans: self.spans,
            failed_chunks: self.failed_chunks,
            cached: self.cached,
        }
    }
}

/// A chunk (or pass) that failed, when [`Extraction::partial_ok`](crate::Extraction::partial_ok) lets the others stand.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ChunkFailure {
    /// The chunk's index, in document order.
    pub chunk: usize,
    /// The pass it belonged to, from 0.
    pub pass: usize,
    /// The chunk's byte range in the text.
    pub range: Range<usize>,
    /// Why it failed, with its attempts (also in the result's `attempts`).
    pub error: Arc<Error>,
}
