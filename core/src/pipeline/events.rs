//! What a streamed extraction hands out: [`StreamEvent`]s and [`SpannedItem`]s. Apart from
//! the drivers (`stream.rs` for one reply, `batch/chunk.rs` for a chunked run), so that
//! each driver depends on these and neither on the other.

use std::fmt;

use crate::{Attempt, Extract, Extracted, Partial, Span};

/// One event of a streamed extraction.
#[non_exhaustive]
pub enum StreamEvent<T: Extract> {
    /// The value as far as the model has written it; sent only when something visible
    /// changed since the last one.
    Partial(Partial<T>),
    /// An attempt failed and the model is asked again: the attempt, with its raw text and
    /// why it failed. Partials that follow belong to the new attempt.
    Reask(Attempt),
    /// The extraction's result, validated as `send()` validates it. Last.
    Done(Extracted<T>),
}

impl<T: Extract + fmt::Debug> fmt::Debug for StreamEvent<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamEvent::Partial(p) => f.debug_tuple("Partial").field(p).finish(),
            StreamEvent::Reask(a) => f.debug_tuple("Reask").field(a).finish(),
            StreamEvent::Done(out) => f.debug_tuple("Done").field(out).finish(),
        }
    }
}

/// One item of a streamed list and where its values are in the text; see
/// [`Extraction::stream_spanned_items`](crate::Extraction::stream_spanned_items).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SpannedItem<T> {
    /// The validated item.
    pub value: T,
    /// Its index in the reply's list; for a chunked extraction, in the order the items
    /// were yielded.
    pub index: usize,
    /// The chunk it was found in, for a [`chunked`](crate::Extraction::chunked)
    /// extraction (counting from 0 in document order); `None` otherwise.
    pub chunk: Option<usize>,
    /// Where each of its values is in the text: paths relative to the item, ranges in the
    /// text the extraction was given.
    pub spans: Vec<Span>,
}

impl<T> SpannedItem<T> {
    /// An item of a chunked run: the `index`th yielded, found in chunk `chunk`.
    pub(crate) fn of_chunk(value: T, index: usize, spans: Vec<Span>, chunk: usize) -> Self {
        SpannedItem {
            value,
            index,
            spans,
            chunk: Some(chunk),
        }
    }
}
