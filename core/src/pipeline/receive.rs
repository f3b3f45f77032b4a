//! Receiving one reply as it streams: its deltas gathered, fed to the stream parser and
//! watched by the runaway guard, which hangs up on a reply that loops. `send()` receives
//! this way wherever the provider streams, and `.stream()` always does, so every route
//! has the one guard. A fault after the reply began keeps the text received so far.

use futures_util::FutureExt as _;
use futures_util::stream::{BoxStream, StreamExt as _};

use crate::stream::{Cut, Guard, StreamParser};
use crate::transport::{Completion, Delta, Gathered};
use crate::wire::Usage;
use crate::{Error, Result, Schema};

/// The `finish_reason` of a reply broken off by a fault after it began.
pub(crate) const INTERRUPTED: &str = "factum:interrupted";

/// A fault, and the reply as far as it came when the fault broke it off (`None`: the
/// fault came before any of it).
#[derive(Debug)]
pub(crate) struct Fault {
    pub(crate) error: Error,
    pub(crate) partial: Option<Completion>,
}

impl From<Error> for Fault {
    fn from(error: Error) -> Fault {
        Fault {
            error,
            partial: None,
        }
    }
}

/// What one pull of deltas gave.
pub(crate) enum Pulled {
    /// More text arrived (or nothing visible).
    More,
    /// The reply is over: whole, cut by the guard, or broken off by a fault.
    Ended(std::result::Result<Completion, Fault>),
}

/// One reply as it streams.
pub(crate) struct Listening {
    deltas: BoxStream<'static, Result<Delta>>,
    pub(crate) gathered: Gathered,
    pub(crate) parser: StreamParser,
    guard: Guard,
    /// Content deltas received: a streaming server sends about one a token, which is the
    /// estimate of a broken reply's completion tokens (it reports none).
    pieces: u64,
    /// Whether a reader looks at the parser's partial value as the reply comes (`.stream()`
    /// does; `send()` does not).
    partials: bool,
}

impl Listening {
    pub(crate) fn new(deltas: BoxStream<'static, Result<Delta>>, guard: Guard) -> Listening {
        Listening {
            deltas,
            gathered: Gathered::default(),
            parser: StreamParser::new(),
            guard,
            pieces: 0,
            partials: true,
        }
    }

    /// Waits for the next delta, then takes every delta already there, so that one look
    /// covers all of them; the guard may cut the reply.
    pub(crate) async fn pull(&mut self, schema: &Schema) -> Pulled {
        let schema = schema.enveloped_json();
        let first = self.deltas.next().await;
        if let Some(ended) = self.take(first, schema) {
            return ended;
        }
        while let Some(next) = self.deltas.next().now_or_never() {
            if let Some(ended) = self.take(next, schema) {
                return ended;
            }
        }
        Pulled::More
    }

    /// The whole reply: pulls until it ends.
    #[allow(
        clippy::manual_async_fn,
        reason = "an async fn keeps its by-value arguments twice in its state; see below"
    )]
    pub(crate) fn receive(
        mut self,
        schema: &Schema,
    ) -> impl Future<Output = std::result::Result<Completion, Fault>> {
        // An async block rather than an `async fn`: an `async fn` keeps its by-value
        // arguments twice in its state (as given and as moved into the body), and every
        // future it sits inside grows by as much. The same holds for the pipeline's other
        // futures that take `self` or a request by value.
        async move {
            self.partials = false;
            loop {
                if let Pulled::Ended(ended) = self.pull(schema).await {
                    return ended;
                }
            }
        }
    }

    /// Takes one delta; `Some` when the reply is over, cut by the guard, or broken off.
    fn take(&mut self, next: Option<Result<Delta>>, schema: &serde_json::Value) -> Option<Pulled> {
        let text = match next {
            None if self.gathered.is_finished() => {
                let ended = std::mem::take(&mut self.gathered).end();
                return Some(Pulled::Ended(ended.map_err(Fault::from)));
            }
            None => return Some(Pulled::Ended(Err(self.broken(Error::stream_cut())))),
            Some(Err(error)) => return Some(Pulled::Ended(Err(self.broken(error)))),
            Some(Ok(Delta::Whole(whole)))
                if !self.partials
                    && self
                        .guard
                        .passes(whole.content.as_deref().unwrap_or_default()) =>
            {
                self.gathered.add(Delta::Whole(whole));
                let ended = std::mem::take(&mut self.gathered).end();
                return Some(Pulled::Ended(ended.map_err(Fault::from)));
            }
            Some(Ok(delta)) => self.gathered.add(delta)?,
        };
        self.pieces += 1;
        self.parser.feed(&text);
        let cut = self
            .guard
            .check(&self.parser, self.gathered.text(), schema)?;
        match cut {
            Cut::Runaway => tracing::info!("the reply loops; cutting it"),
            Cut::TooMany => tracing::info!("the list went past max_items; cutting it"),
            Cut::Trailing => {}
        }
        let gathered = std::mem::take(&mut self.gathered);
        Some(Pulled::Ended(Ok(gathered.cut(cut.reason()))))
    }

    /// The fault, with the text received before it, if any, and its usage: as the server
    /// reported it, else the content deltas counted as completion tokens.
    fn broken(&mut self, error: Error) -> Fault {
        let gathered = std::mem::take(&mut self.gathered);
        if gathered.text().is_empty() {
            return Fault::from(error);
        }
        let mut partial = gathered.cut(INTERRUPTED);
        partial.usage.get_or_insert(Usage::new(0, self.pieces));
        Fault {
            error,
            partial: Some(partial),
        }
    }
}
