//! The event stream of a streamed chat completion, read into [`Delta`]s.
//!
//! Events are framed by `eventsource-stream`, which handles `data:` lines split across
//! network chunks, multi-line data and `:` comment or keep-alive lines. On top of it this
//! module reads each event's chunk: text and refusal deltas, the finish reason, usage (in
//! a last chunk), Dria's node id, `data: [DONE]`, and an `{"error": …}` event after the 200,
//! which becomes a typed [`Stream`](crate::ErrorKind::Stream) error with the server's
//! message. An event still unterminated when the body ends is dropped, as the SSE spec
//! says; a stream that ends before the server finished is a fault, judged by the caller.

use eventsource_stream::{EventStreamError, Eventsource as _};
use futures_util::stream::{self, BoxStream, StreamExt as _};

use super::key::redact;
use crate::transport::Delta;
use crate::wire::ChatChunk;
use crate::{Error, Result};

/// Why the body stopped before its end.
#[derive(Debug)]
enum Cut {
    Reqwest(reqwest::Error),
    TooLarge,
}

impl std::fmt::Display for Cut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cut::Reqwest(e) => e.fmt(f),
            Cut::TooLarge => f.write_str("body over the limit"),
        }
    }
}

impl std::error::Error for Cut {}

/// The deltas of an open event-stream response. (The timeout layer bounds each gap between
/// them and the whole stream.)
pub(super) fn deltas(
    response: reqwest::Response,
    reading: Reading,
) -> BoxStream<'static, Result<Delta>> {
    let Reading { limit, key } = reading;
    let mut read = 0usize;
    let bytes = response.bytes_stream().map(move |chunk| {
        let chunk = chunk.map_err(|e| Cut::Reqwest(e.without_url()))?;
        read += chunk.len();
        if read > limit {
            Err(Cut::TooLarge)
        } else {
            Ok(chunk)
        }
    });
    let events = bytes.eventsource().boxed();
    let state = Reader {
        events,
        limit,
        key,
        done: false,
    };
    stream::unfold(state, |mut reader| async move {
        let deltas = reader.next().await?;
        Some((stream::iter(deltas), reader))
    })
    .flatten()
    .boxed()
}

/// How the HTTP transport reads a stream: its limits, and the key to redact from bodies.
pub(super) struct Reading {
    pub(super) limit: usize,
    pub(super) key: Option<String>,
}

type Events =
    BoxStream<'static, std::result::Result<eventsource_stream::Event, EventStreamError<Cut>>>;

struct Reader {
    events: Events,
    limit: usize,
    key: Option<String>,
    done: bool,
}

impl Reader {
    /// The deltas of the next event, or `None` once the stream is over.
    async fn next(&mut self) -> Option<Vec<Result<Delta>>> {
        if self.done {
            return None;
        }
        loop {
            let event = match self.next_event().await {
                Ok(Some(event)) => event,
                Ok(None) => return None,
                Err(e) => {
                    self.done = true;
                    return Some(vec![Err(e)]);
                }
            };
            let data = event.data.trim();
            if data.is_empty() {
                continue;
            }
            if data == "[DONE]" {
                self.done = true;
                return Some(vec![Ok(Delta::Finish(None))]);
            }
            let deltas = self.read_chunk(data);
            if deltas.iter().any(Result::is_err) {
                self.done = true;
            }
            return Some(deltas);
        }
    }

    async fn next_event(&mut self) -> Result<Option<eventsource_stream::Event>> {
        match self.events.next().await {
            None => Ok(None),
            Some(Ok(event)) => Ok(Some(event)),
            Some(Err(EventStreamError::Transport(Cut::Reqwest(e)))) => Err(Error::transport(e)),
            Some(Err(EventStreamError::Transport(Cut::TooLarge))) => {
                Err(Error::body_too_large(self.limit))
            }
            Some(Err(e)) => Err(Error::stream_error(
                format!("unreadable event stream: {e}"),
                String::new(),
            )),
        }
    }

    /// The deltas of one `data:` payload.
    fn read_chunk(&self, data: &str) -> Vec<Result<Delta>> {
        let key = self.key.as_deref();
        let chunk: ChatChunk = match serde_json::from_str(data) {
            Ok(chunk) => chunk,
            Err(e) => {
                return vec![Err(Error::stream_error(
                    format!("unreadable stream chunk: {e}"),
                    redact(data, key),
                ))];
            }
        };
        if let Some(error) = &chunk.error {
            return vec![Err(Error::stream_error(
                error_text(error),
                redact(data, key),
            ))];
        }
        chunk_deltas(chunk).into_iter().map(Ok).collect()
    }
}

/// The message of an error event: `{"error": {"message": …}}` or `{"error": "…"}`.
fn error_text(error: &serde_json::Value) -> String {
    error
        .get("message")
        .and_then(serde_json::Value::as_str)
        .or_else(|| error.as_str())
        .map_or_else(|| error.to_string(), str::to_owned)
}

fn chunk_deltas(chunk: ChatChunk) -> Vec<Delta> {
    let mut deltas = Vec::new();
    deltas.extend(chunk.metadata.and_then(|m| m.node_id).map(Delta::NodeId));
    if let Some(choice) = chunk.choices.into_iter().next() {
        if let Some(delta) = choice.delta {
            deltas.extend(delta.content.filter(|t| !t.is_empty()).map(Delta::Content));
            deltas.extend(delta.refusal.filter(|t| !t.is_empty()).map(Delta::Refusal));
        }
        deltas.extend(choice.finish_reason.map(|r| Delta::Finish(Some(r))));
    }
    deltas.extend(chunk.usage.map(Delta::Usage));
    deltas
}
