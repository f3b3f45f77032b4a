//! The transport seam: how one attempt's request reaches a model and its reply comes back.
//!
//! The pipeline builds a [`ChatRequest`], hands it to a [`Transport`], and judges the
//! [`Completion`] that comes back. Only the transport differs between buffered HTTP
//! ([`HttpTransport`](http::HttpTransport), the first implementation), an SSE
//! stream of deltas, an in-process model, and a scripted double for tests.

use std::fmt;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream, StreamExt as _};
use tokio::time::Instant;

use crate::wire::{ChatRequest, ChatResponse, Usage};
use crate::{Error, Result};

pub(crate) mod http;
pub(crate) mod layer;
#[cfg(feature = "local")]
pub(crate) mod local;
pub(crate) mod provider;
pub(crate) mod scripted;

/// One way of running a model call. Crate-internal for now.
///
/// An implementation must guarantee:
///
/// - **Cancellation on drop.** Dropping the returned future stops the call: an HTTP
///   request is aborted and its connection closed, a stream stops being read, an
///   in-process model stops generating at its next token. Nothing keeps running.
/// - **Usage reporting.** [`Completion::usage`] carries the token counts of this call as
///   the model counted them (prompt and completion), or `None` when it has none; the
///   pipeline sums them over attempts and charges budgets with them.
/// - **Fault classification.** `Err` means a *transport* fault: nothing usable came back
///   (connection, status, timeout, deadline, body limit, an unreadable body). The
///   transport marks whether a fault is worth another try ([`Again`](crate::error::Again));
///   the retry layer acts on that. Faults count as no attempt, and the `Err` is raised to
///   the caller as it is, except a schema rejection
///   ([`Error::is_schema_rejection`](crate::Error)), on which the pipeline steps the mode
///   down. `Ok` means the model answered: whatever its content, even none, a refusal or a
///   cut-off text, the pipeline records it as an attempt and judges it.
/// - **The deadline.** A call does not outlive `deadline`; past it, it ends with a
///   [`Deadline`](crate::ErrorKind::Deadline) error.
/// - **The request as sent.** `request.max_tokens`, `temperature` and `response_format`
///   are honoured or knowingly dropped; a transport never retries with a changed request.
pub(crate) trait Transport: fmt::Debug + Send + Sync + 'static {
    /// Runs one model call and returns its complete reply.
    fn complete<'a>(
        &'a self,
        request: &'a ChatRequest,
        deadline: Option<Instant>,
    ) -> BoxFuture<'a, Result<Completion>>;

    /// Runs one model call as a stream of [`Delta`]s, as the model writes its reply.
    ///
    /// The reply is over once a [`Delta::Finish`] came, though the stream may go on with
    /// the usage (`OpenAI` sends it in a chunk after the one that finishes); a stream that
    /// ends before a finish is a fault (an `Err` item), never a value. Dropping the stream
    /// cancels the call. The default runs [`complete`](Transport::complete) and hands its
    /// reply over in one piece, so a transport that cannot stream still drives the
    /// streaming pipeline.
    ///
    /// The request is shared, not owned: a layer that may send it again (the retry, the
    /// gate) keeps a reference instead of a copy of the whole request.
    fn stream(
        self: Arc<Self>,
        request: Arc<ChatRequest>,
        deadline: Option<Instant>,
    ) -> BoxStream<'static, Result<Delta>> {
        let once = async move {
            match self.complete(&request, deadline).await {
                Ok(completion) => Ok(completion.into_delta()),
                Err(e) => Err(e),
            }
        };
        stream::once(once).boxed()
    }

    /// The models the server serves, when it can say (`GET /v1/models`); `None` when it
    /// cannot. Used only when no model is configured.
    fn models(&self) -> BoxFuture<'_, Option<Vec<String>>> {
        Box::pin(async { None })
    }

    /// The context window of `model` in tokens (prompt and completion together), when the
    /// transport can learn it (llama-server's `/props`); `None` when it cannot. `max_tokens`
    /// is never raised past what the window leaves after the prompt.
    fn context_window<'a>(&'a self, model: &'a str) -> BoxFuture<'a, Option<u32>> {
        let _ = model;
        Box::pin(async { None })
    }

    /// How many requests the server generates for at once (llama-server's `total_slots`
    /// in `/props`), when it can say; `None` when it cannot.
    fn slots(&self) -> BoxFuture<'_, Option<u32>> {
        Box::pin(async { None })
    }
}

/// One model call's reply, whatever carried it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Completion {
    /// The reply text, as the model wrote it (`None` when there was none).
    pub(crate) content: Option<String>,
    /// The model's refusal text, when it declined.
    pub(crate) refusal: Option<String>,
    /// Why generation stopped: `stop`, `length`, `content_filter`, …
    pub(crate) finish_reason: Option<String>,
    /// The call's token counts.
    pub(crate) usage: Option<Usage>,
    /// The Dria node that served it.
    pub(crate) node_id: Option<String>,
    /// Read from the response cache: nothing was sent.
    pub(crate) cached: bool,
}

impl From<ChatResponse> for Completion {
    /// The first choice of a chat completion; factum asks for one.
    fn from(response: ChatResponse) -> Completion {
        let choice = response.choices.into_iter().next().unwrap_or_default();
        let message = choice.message.unwrap_or_default();
        Completion {
            content: message.content,
            refusal: message.refusal,
            finish_reason: choice.finish_reason,
            usage: response.usage,
            node_id: response.metadata.and_then(|m| m.node_id),
            cached: false,
        }
    }
}

impl Completion {
    /// The reply as a stream hands it over when it came in one piece.
    pub(crate) fn into_delta(self) -> Delta {
        Delta::Whole(Box::new(self))
    }

    /// The reply as the pieces a streaming server would have sent, in their order.
    pub(crate) fn into_pieces(self) -> Vec<Delta> {
        let mut deltas = Vec::new();
        if self.cached {
            deltas.push(Delta::Cached);
        }
        deltas.extend(self.node_id.map(Delta::NodeId));
        deltas.extend(self.content.map(Delta::Content));
        deltas.extend(self.refusal.map(Delta::Refusal));
        deltas.extend(self.usage.map(Delta::Usage));
        deltas.push(Delta::Finish(self.finish_reason));
        deltas
    }
}

/// One piece of a streamed reply.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Delta {
    /// More reply text.
    Content(String),
    /// More refusal text.
    Refusal(String),
    /// The call's token counts.
    Usage(Usage),
    /// The Dria node that serves the call.
    NodeId(String),
    /// The reply is read from the response cache, not sent for. First.
    Cached,
    /// Generation stopped, with the server's reason if it gave one. Last.
    Finish(Option<String>),
    /// A reply that came in one piece (a server that does not stream, the response cache,
    /// a cassette's reply): everything the pieces above carry, then the end. It goes
    /// through the layers once instead of once a piece: on the batch bench a whole reply
    /// was five deltas, each passed down every layer with a timer set for it.
    Whole(Box<Completion>),
}

impl Delta {
    /// The token counts this delta reports, if any.
    pub(crate) fn usage(&self) -> Option<Usage> {
        match self {
            Delta::Usage(usage) => Some(*usage),
            Delta::Whole(completion) => completion.usage,
            _ => None,
        }
    }

    /// Whether the reply ends with this delta.
    pub(crate) fn finishes(&self) -> bool {
        matches!(self, Delta::Finish(_) | Delta::Whole(_))
    }
}

/// Gathers a stream's deltas into the [`Completion`] a buffered call would have returned.
#[derive(Debug, Default)]
pub(crate) struct Gathered {
    completion: Completion,
    finished: bool,
}

impl Gathered {
    /// Adds one delta; returns the text it added, if any.
    pub(crate) fn add(&mut self, delta: Delta) -> Option<String> {
        let c = &mut self.completion;
        match delta {
            Delta::Content(text) => {
                c.content.get_or_insert_default().push_str(&text);
                return Some(text);
            }
            Delta::Refusal(text) => c.refusal.get_or_insert_default().push_str(&text),
            Delta::Usage(usage) => c.usage = Some(usage),
            Delta::NodeId(node) => c.node_id = Some(node),
            Delta::Cached => c.cached = true,
            Delta::Finish(reason) => {
                // Some servers send the reason in one chunk and an empty one after it.
                if reason.is_some() || c.finish_reason.is_none() {
                    c.finish_reason = reason;
                }
                self.finished = true;
            }
            Delta::Whole(whole) => return self.add_whole(*whole),
        }
        None
    }

    /// Adds a reply that came whole, piece by piece as a streaming server would have sent
    /// it; returns its text. Into nothing gathered yet (a whole reply is almost always all
    /// there is) the pieces would add up to the reply as it came, so it is taken as it is.
    fn add_whole(&mut self, whole: Completion) -> Option<String> {
        if !self.finished && self.completion == Completion::default() {
            let text = whole.content.clone();
            self.completion = whole;
            self.finished = true;
            return text;
        }
        let mut text = None;
        for piece in whole.into_pieces() {
            text = self.add(piece).or(text);
        }
        text
    }

    /// Whether the server said it finished.
    pub(crate) fn is_finished(&self) -> bool {
        self.finished
    }

    /// The text so far.
    pub(crate) fn text(&self) -> &str {
        self.completion.content.as_deref().unwrap_or_default()
    }

    /// The reply, cut by factum (`reason`, e.g. a runaway) before the server finished.
    pub(crate) fn cut(mut self, reason: &str) -> Completion {
        self.completion.finish_reason = Some(reason.to_owned());
        self.completion
    }

    /// The reply, once the stream ended: a fault when it ended before the server finished.
    pub(crate) fn end(self) -> Result<Completion> {
        if self.finished {
            Ok(self.completion)
        } else {
            Err(Error::stream_cut())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every delta of `deltas` gathered: the reply, and the text each delta added.
    fn gather(deltas: Vec<Delta>) -> (Result<Completion>, Vec<String>) {
        let mut gathered = Gathered::default();
        let texts = deltas.into_iter().filter_map(|d| gathered.add(d)).collect();
        (gathered.end(), texts)
    }

    #[test]
    fn a_whole_reply_gathers_as_its_pieces_do() {
        let reply = Completion {
            content: Some("{\"a\": 1}".into()),
            refusal: Some("no".into()),
            finish_reason: Some("stop".into()),
            usage: Some(Usage::new(3, 4)),
            node_id: Some("0xnode".into()),
            cached: true,
        };
        let (whole, whole_text) = gather(vec![reply.clone().into_delta()]);
        let (pieces, piece_text) = gather(reply.clone().into_pieces());
        assert_eq!(whole.unwrap(), reply);
        assert_eq!(pieces.unwrap(), reply);
        assert_eq!(whole_text, piece_text);
        // Into a reply already begun, the whole one adds as its pieces would.
        let begun = vec![Delta::NodeId("0xfirst".into()), Delta::Content("[".into())];
        let (after, after_text) = gather(
            begun
                .iter()
                .cloned()
                .chain([reply.clone().into_delta()])
                .collect(),
        );
        let (after_pieces, after_piece_text) = gather(
            begun
                .into_iter()
                .chain(reply.clone().into_pieces())
                .collect(),
        );
        assert_eq!(after.unwrap(), after_pieces.unwrap());
        assert_eq!(after_text, after_piece_text);
        let delta = Delta::Whole(Box::new(reply));
        assert!(delta.finishes());
        assert_eq!(delta.usage(), Some(Usage::new(3, 4)));
    }
}
