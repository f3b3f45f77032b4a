//! The pipeline driver: one extraction's attempts, from the first request to a value or an
//! error. Each turn of the loop is one stage after another: check the budget, build the
//! request, send it through the transport, read the reply into an attempt and an outcome,
//! then succeed, re-ask, or fail.

use std::hash::{Hash as _, Hasher as _};
use std::marker::PhantomData;
use std::sync::Arc;

use futures_util::stream::{BoxStream, StreamExt as _};
use serde_json::Value;
use tokio::time::Instant;
use tracing::Instrument as _;

use crate::client::inner::Inner;
use crate::transport::{Completion, Delta, Transport};
use reask::Reask;
use receive::{Fault, Listening};
use reply::Asked;

pub(crate) mod events;
pub(crate) mod reask;
pub(crate) mod receive;
pub(crate) mod reply;
pub(crate) mod request;
pub(crate) mod stream;
use crate::parse::Leniency;
use crate::stream::{Guard, Runaway};
use crate::transport::provider::Mode;
use crate::wire::{ChatRequest, Conversation, Prefix, Usage};
use crate::{Attempt, AttemptFailure, Error, Extract, Extracted, Grounding, Result, Schema, Span};

/// What one extraction resolved once, before its first attempt.
pub(crate) struct Call {
    pub(crate) inner: Arc<Inner>,
    pub(crate) schema: &'static Schema,
    pub(crate) model: String,
    pub(crate) leniency: Leniency,
    pub(crate) budget: Option<u64>,
    pub(crate) max_retries: u32,
    pub(crate) temperature: f32,
    /// The temperature re-asks are sent with at least, each with a new seed; `None` keeps
    /// the call's own sampling on every attempt.
    pub(crate) reask_temperature: Option<f32>,
    pub(crate) deadline: Option<Instant>,
    /// When a streamed reply is cut: `send()` receives through the same guard as
    /// `.stream()` wherever the provider streams.
    pub(crate) runaway: Runaway,
    /// The bound on the root list's items ([`Extraction::max_items`]), which the guard
    /// also cuts at.
    ///
    /// [`Extraction::max_items`]: crate::Extraction::max_items
    pub(crate) max_items: Option<usize>,
    /// Which values must be found in the text besides the `grounded` fields.
    pub(crate) grounding: Grounding,
    /// The text the values are grounded in.
    pub(crate) text: String,
    /// The system message, the caller's messages and the text: the same in every attempt.
    pub(crate) prefix: Prefix,
    /// The mode and `max_tokens` of the first attempt.
    pub(crate) mode: Mode,
    pub(crate) max_tokens: u32,
    /// The response cache the first request is looked up in and the validated reply
    /// stored in; `None` when the call does not use one.
    pub(crate) cache: Option<crate::Cache>,
    /// The transport attempts go through: the client's, inside a batch's rate limits when
    /// the extraction runs in a limited batch.
    pub(crate) transport: Arc<dyn Transport>,
}

/// One extraction in progress: the call, and what changes between its attempts.
pub(crate) struct Run<T> {
    call: Call,
    mode: Mode,
    reask: Reask,
    /// The temperature and seed of the attempt in flight.
    sampling: (f32, Option<u64>),
    attempts: Vec<Attempt>,
    /// Attempts broken off by a shared-slot overflow and sent again once the calls in
    /// flight drained: kept with their text, but no re-ask of the model's.
    drained: u32,
    /// The response-cache key of the extraction's first request: looked up before it is
    /// sent, and where the reply that validates is stored.
    cache_key: Option<crate::cache::Key>,
    /// The value of a first attempt that failed only on optional values the text does not
    /// hold (see [`Asked::held`]).
    held: Option<Value>,
    usage: Usage,
    /// The extraction's span, which carries the running totals.
    span: tracing::Span,
    _type: PhantomData<fn() -> T>,
}

/// What a reply led to: the value (with the validated JSON it was read from), or a re-ask
/// (the failed attempt is the run's last).
#[allow(
    clippy::large_enum_variant,
    reason = "made once per attempt and matched at once; a box would cost an allocation per value"
)]
pub(crate) enum Judged<T> {
    Done(Extracted<T>, Value),
    Reask,
}

impl<T: Extract> Run<T> {
    pub(crate) fn new(call: Call) -> Run<T> {
        Run {
            mode: call.mode,
            reask: Reask::first(call.max_tokens),
            sampling: (call.temperature, None),
            call,
            attempts: Vec::new(),
            drained: 0,
            cache_key: None,
            held: None,
            usage: Usage::default(),
            span: tracing::Span::current(),
            _type: PhantomData,
        }
    }

    /// Runs attempts until one gives a `T`, or until the re-asks, the budget or the
    /// transport give out: the result and the validated JSON it was read from.
    #[allow(
        clippy::manual_async_fn,
        reason = "an async fn keeps its by-value arguments twice in its state; see Listening::receive"
    )]
    pub(crate) fn drive(mut self) -> impl Future<Output = Result<(Extracted<T>, Value)>> {
        async move {
            self.start()?;
            loop {
                let request = self.next_request(self.inner().provider.streams())?;
                let span = self.attempt_span();
                let sent = self.receive(request).instrument(span.clone()).await;
                match sent {
                    Ok(completion) => {
                        if let Judged::Done(out, json) = self.judge(completion, &span).await? {
                            return Ok((out, json));
                        }
                    }
                    Err(fault) => self.fault(fault)?,
                }
            }
        }
    }

    /// Before the first attempt: the extraction's span, and a schema that compiles.
    fn start(&mut self) -> Result<()> {
        self.span = tracing::Span::current();
        self.check_schema()
    }

    fn inner(&self) -> &Inner {
        &self.call.inner
    }

    fn schema(&self) -> &'static Schema {
        self.call.schema
    }

    /// The next attempt's request, once the budget allows one; sent as a stream with
    /// `stream`. The first request is the one the response cache knows the extraction by.
    fn next_request(&mut self, stream: bool) -> Result<ChatRequest> {
        self.check_budget()?;
        self.sampling = self.next_sampling();
        let mut request = self.request();
        if stream {
            request.stream = Some(true);
            request.stream_options = self.inner().provider.stream_options();
        }
        if self.call.cache.is_some() && self.attempts.is_empty() {
            self.cache_key = Some(crate::cache::Key::of(&request));
        }
        Ok(request)
    }

    /// The response cache and the key to look `request` up by, when it is the
    /// extraction's first (only a first request is answered from the cache).
    fn cache_lookup(&self) -> Option<(crate::Cache, crate::cache::Key)> {
        if !self.attempts.is_empty() {
            return None;
        }
        Some((self.call.cache.clone()?, self.cache_key.clone()?))
    }

    /// The next attempt's temperature and seed. The first is sent as the call asks; a
    /// re-ask at least at the re-ask temperature, with a new seed where the server takes
    /// one, since the same prompt sampled the same way repeats the same mistake. The seed
    /// is drawn from the text and the attempt's number: each re-ask gets its own, and the
    /// same extraction run again gets the same ones.
    fn next_sampling(&self) -> (f32, Option<u64>) {
        let asked = self.call.temperature;
        match self.call.reask_temperature {
            Some(floor) if self.judged() > 0 && !self.only_not_in_text() => {
                let seed = self.inner().provider.takes_seed().then(|| {
                    let mut hasher = std::hash::DefaultHasher::new();
                    (&self.call.text, self.judged()).hash(&mut hasher);
                    hasher.finish()
                });
                (asked.max(floor), seed)
            }
            _ => (asked, None),
        }
    }

    /// Keeps the value of a first attempt that failed only on values the text does not
    /// hold, for the re-ask to be merged into.
    fn hold(&mut self) {
        if self.held.is_some() || self.judged() != 1 || !self.only_not_in_text() {
            return;
        }
        let raw = self
            .attempts
            .last()
            .map(|a| a.raw.as_str())
            .unwrap_or_default();
        self.held = reply::parse_reply(raw, self.call.schema, self.call.leniency)
            .ok()
            .map(|(value, _)| value);
    }

    /// Whether the last attempt failed only on values the text does not hold: its re-ask
    /// changes the prompt (it names each value), and sampled anew it would also change the
    /// values the model got right, so it keeps the call's own sampling.
    fn only_not_in_text(&self) -> bool {
        let Some(AttemptFailure::Violations(violations)) =
            self.attempts.last().and_then(|a| a.failure.as_ref())
        else {
            return false;
        };
        violations
            .iter()
            .all(|v| v.message.contains(crate::ground::NOT_IN_TEXT))
    }

    /// The span of the attempt about to be sent.
    fn attempt_span(&self) -> tracing::Span {
        tracing::debug_span!(
            "factum.attempt",
            attempt = self.attempts.len() + 1,
            mode = %self.mode,
            max_tokens = self.reask.max_tokens,
        )
    }

    /// The attempts that count toward the re-asks: all but those sent again after a
    /// shared-slot overflow.
    fn judged(&self) -> usize {
        self.attempts.len() - self.drained as usize
    }

    /// A transport fault (`Ok`: send again): step the mode down after a schema rejection,
    /// learn the window after a context overflow, or end with the error and the record.
    /// A fault that broke a reply off after it began keeps the reply's text as an attempt
    /// first ([`broken_off`](Run::broken_off)).
    pub(crate) fn fault(&mut self, fault: Fault) -> Result<()> {
        let Fault { error, partial } = fault;
        if let Some(partial) = partial {
            let attempt = reply::broken(partial, self.asked(), &error);
            self.broken_off(attempt, error)
        } else if error.is_schema_rejection() {
            self.step_down(error)
        } else if error.is_context_overflow() {
            self.overflowed(error)
        } else {
            Err(self.record(error))
        }
    }

    /// A reply broken off after it began, kept as `attempt`: after a shared-slot overflow
    /// it is sent again once the calls in flight drained (no re-ask of the model's); after
    /// a context overflow the window is learned; past the deadline the extraction ends;
    /// otherwise (a stall, a dropped connection) it is re-asked while re-asks are left,
    /// and ends with the fault that broke it when they are not.
    fn broken_off(&mut self, attempt: Attempt, error: Error) -> Result<()> {
        // A reply that was looping when it broke off is a runaway, whatever broke it: it is
        // re-asked with the loop named, never sent again as it was.
        let looped = attempt.failure == Some(AttemptFailure::Truncated);
        if error.is_backpressure() && !looped && self.drained < MAX_DRAINS {
            tracing::info!(error = %error, "the server's shared context overflowed; sending again once it drains");
            self.drained += 1;
            self.push(attempt);
            return Ok(());
        }
        if (error.is_context_overflow() && !looped) || error.is_deadline() {
            self.push(attempt);
            return if error.is_deadline() {
                Err(self.record(error))
            } else {
                self.overflowed(error)
            };
        }
        let failure = attempt.failure.clone().unwrap_or(AttemptFailure::Truncated);
        // Re-asks used up: a loop ends as a truncation, anything else with its fault.
        self.fail(attempt, &failure, None)
            .map_err(|ended| match failure {
                AttemptFailure::Interrupted(_) => self
                    .record(error)
                    .with_record(ended.attempts().to_vec(), ended.usage()),
                _ => ended,
            })
    }

    /// Reads a reply into an attempt, then succeeds, plans the re-ask, or fails.
    #[allow(
        clippy::manual_async_fn,
        reason = "an async fn keeps its by-value arguments twice in its state; see Listening::receive"
    )]
    fn judge(
        &mut self,
        completion: Completion,
        span: &tracing::Span,
    ) -> impl Future<Output = Result<Judged<T>>> {
        async move {
            // A reply sent for is kept for the cache, in case it validates.
            let fresh =
                (!completion.cached && self.call.cache.is_some()).then(|| completion.clone());
            let (attempt, outcome) = reply::read::<T>(completion, self.asked(), &self.call.text);
            match outcome {
                Ok(read) => {
                    if let (Some(reply), Some(cache), Some(key)) =
                        (fresh, &self.call.cache, &self.cache_key)
                    {
                        // Boxed: the put's state is as large as the rest of the judging,
                        // and only a call with a cache needs it.
                        Box::pin(cache.put(key, &reply)).await;
                    }
                    let out = span.in_scope(|| self.succeed(attempt, read.value, read.spans));
                    Ok(Judged::Done(out, read.json))
                }
                Err(failure) => {
                    let room = match failure {
                        AttemptFailure::Truncated => self.room(attempt.usage).await,
                        _ => None,
                    };
                    span.in_scope(|| self.fail(attempt, &failure, room))?;
                    self.hold();
                    Ok(Judged::Reask)
                }
            }
        }
    }

    /// A schema that does not compile, or that strict mode cannot express (a map), fails
    /// before any request.
    fn check_schema(&mut self) -> Result<()> {
        let schema = self.call.schema;
        let strict = self.mode == Mode::JsonSchema { strict: true };
        let checked = schema.check().and_then(|()| {
            if strict {
                schema.for_dialect(crate::Dialect::OpenAiStrict).map(|_| ())
            } else {
                Ok(())
            }
        });
        checked.map_err(|e| self.record(Error::schema(schema.name(), e)))
    }

    /// How many completion tokens the context window leaves after a prompt of the size the
    /// last attempt had; `None` when the window is unknown.
    async fn room(&self, last: Usage) -> Option<u32> {
        let window = self.inner().context_window(&self.call.model).await?;
        let prompt = u32::try_from(last.prompt_tokens).unwrap_or(u32::MAX);
        Some(window.saturating_sub(prompt))
    }

    /// The server said the request does not fit the context window. That is a truncation:
    /// the reply could never have been whole at this `max_tokens`. Learn the window it
    /// named, and try once more with what the window leaves, if that is still more room
    /// than the last attempt had; otherwise end, keeping every attempt.
    fn overflowed(&mut self, error: Error) -> Result<()> {
        let window = error.context_window();
        if let Some(window) = window {
            self.inner().windows.set(&self.call.model, Some(window));
        }
        let last = self.attempts.last();
        let prompt = last.map_or(0, |a| {
            u32::try_from(a.usage.prompt_tokens).unwrap_or(u32::MAX)
        });
        let room = window.map(|w| w.saturating_sub(prompt));
        match (room, last) {
            (Some(room), Some(last)) if room > last.max_tokens && room < self.reask.max_tokens => {
                tracing::warn!(
                    window,
                    room,
                    "the reply does not fit the context; asking with less room"
                );
                self.reask.max_tokens = room;
                Ok(())
            }
            _ => {
                let truncated = Error::truncated(self.reask.max_tokens).with_cause(error);
                Err(self.record(truncated))
            }
        }
    }

    /// No new attempt once the budget is spent (the first always goes).
    fn check_budget(&mut self) -> Result<()> {
        match self.call.budget {
            Some(budget) if !self.attempts.is_empty() && self.usage.total_tokens >= budget => {
                Err(self.record(Error::budget_spent(budget)))
            }
            _ => Ok(()),
        }
    }

    /// The attempt's request: the fixed prefix, this attempt's re-ask turns, and its mode's
    /// `response_format`.
    fn request(&self) -> ChatRequest {
        let inner = self.inner();
        ChatRequest {
            model: self.call.model.clone(),
            messages: Conversation {
                prefix: self.call.prefix.clone(),
                turns: self.reask.turns.clone(),
            },
            max_tokens: Some(self.reask.max_tokens),
            temperature: Some(self.sampling.0),
            seed: self.sampling.1,
            stream: None,
            stream_options: None,
            timeout_secs: inner.provider.timeout_secs(inner.timeout),
            response_format: request::response_format(inner.provider, self.mode, self.call.schema),
            schema_hash: self.call.schema.fingerprint(),
        }
    }

    /// Sends one attempt's request through the call's transport and its layers, and
    /// receives the reply: streamed through the runaway guard where the provider streams
    /// (the guard hangs up the moment the reply loops, instead of waiting for
    /// `max_tokens`), else whole.
    #[allow(
        clippy::manual_async_fn,
        reason = "an async fn keeps its by-value arguments twice in its state; see Listening::receive"
    )]
    fn receive(
        &self,
        request: ChatRequest,
    ) -> impl Future<Output = std::result::Result<Completion, Fault>> {
        async move {
            if let Some((cache, key)) = self.cache_lookup()
                && let Some(hit) = cache.get(&key).await
            {
                return Ok(hit);
            }
            if request.stream != Some(true) {
                let transport = &self.call.transport;
                return transport
                    .complete(&request, self.call.deadline)
                    .await
                    .map_err(Fault::from);
            }
            let deltas = self.stream_of(request);
            Listening::new(deltas, self.guard())
                .receive(self.schema())
                .await
        }
    }

    /// The runaway guard a reply of this run is watched by.
    pub(crate) fn guard(&self) -> Guard {
        Guard::new(self.call.runaway, self.call.max_items)
    }

    /// Opens the next attempt's reply as a stream of deltas, through the same transport
    /// and layers as [`receive`](Run::receive).
    fn open_stream(&mut self) -> Result<BoxStream<'static, Result<Delta>>> {
        let request = self.next_request(true)?;
        let Some((cache, key)) = self.cache_lookup() else {
            return Ok(self.stream_of(request));
        };
        // A hit is handed over in one piece, as a server that does not stream would.
        let transport = Arc::clone(&self.call.transport);
        let deadline = self.call.deadline;
        let request = Arc::new(request);
        let looked_up = async move { cache.get(&key).await };
        Ok(futures_util::stream::once(looked_up)
            .flat_map(move |hit| match hit {
                Some(hit) => futures_util::stream::iter([Ok(hit.into_delta())]).boxed(),
                None => Arc::clone(&transport).stream(Arc::clone(&request), deadline),
            })
            .boxed())
    }

    /// `request`, sent as a stream.
    fn stream_of(&self, request: ChatRequest) -> BoxStream<'static, Result<Delta>> {
        let transport = Arc::clone(&self.call.transport);
        transport.stream(Arc::new(request), self.call.deadline)
    }

    /// The server turned the `response_format` down: go one mode down the ladder and
    /// remember it for this model, or fail when there is none left.
    fn step_down(&mut self, error: Error) -> Result<()> {
        let Some(next) = self.mode.step_down() else {
            return Err(self.record(error));
        };
        tracing::warn!(from = %self.mode, to = %next, error = %error, "server rejected the response format; stepping down");
        self.mode = next;
        self.inner().modes.set(&self.call.model, next);
        Ok(())
    }

    /// What the next attempt is asked with.
    fn asked(&self) -> Asked<'_> {
        Asked {
            schema: self.call.schema,
            leniency: self.call.leniency,
            mode: self.mode,
            max_tokens: self.reask.max_tokens,
            temperature: self.sampling.0,
            seed: self.sampling.1,
            grounding: self.call.grounding,
            // On the last attempt allowed, an optional value not found is dropped: default
            // grounding never fails an extraction.
            reasked: self.judged() > 0 || self.judged() >= self.call.max_retries as usize,
            last: self.judged() >= self.call.max_retries as usize,
            held: self.held.as_ref(),
        }
    }

    fn succeed(&mut self, attempt: Attempt, value: T, spans: Vec<Span>) -> Extracted<T> {
        tracing::debug!(node_id = attempt.node_id.as_deref(), "attempt succeeded");
        let node_id = attempt.node_id.clone();
        let cached = attempt.cached;
        self.push(attempt);
        Extracted {
            value,
            usage: self.usage,
            attempts: std::mem::take(&mut self.attempts),
            node_id,
            model: std::mem::take(&mut self.call.model),
            spans,
            failed_chunks: Vec::new(),
            cached,
        }
    }

    /// Records a failed attempt, then plans the re-ask, or ends the extraction: at once on
    /// a refusal, and by the last failure's kind when the re-asks are used up.
    fn fail(
        &mut self,
        attempt: Attempt,
        failure: &AttemptFailure,
        room: Option<u32>,
    ) -> Result<()> {
        tracing::info!(node_id = attempt.node_id.as_deref(), failure = %failure, "attempt failed");
        let end = self.end_after(failure, room);
        if end.is_none() {
            // The re-ask is planned before the attempt joins the record, so its text needs
            // no copy.
            self.reask
                .after(failure, &attempt.raw, self.attempts.len() + 1);
            if let Some(room) = room {
                self.reask.max_tokens = self.reask.max_tokens.min(room);
            }
        }
        self.push(attempt);
        match end {
            Some(error) => Err(self.record(error)),
            None => Ok(()),
        }
    }

    /// Whether a failed attempt (not yet recorded) ends the extraction, and with what: at
    /// once on a refusal, and by the failure's kind when the re-asks are used up or a
    /// truncated reply already had all the room the context window leaves.
    fn end_after(&self, failure: &AttemptFailure, room: Option<u32>) -> Option<Error> {
        if let AttemptFailure::Refusal(message) = failure {
            return Some(Error::refused(message.clone()));
        }
        let no_room = room.is_some_and(|room| room <= self.reask.max_tokens);
        let used_up = self.judged() + 1 > self.call.max_retries as usize;
        (used_up || (*failure == AttemptFailure::Truncated && no_room)).then(|| match failure {
            AttemptFailure::Truncated => Error::truncated(self.reask.max_tokens),
            AttemptFailure::Empty => Error::empty(),
            _ => Error::exhausted(),
        })
    }

    /// The last attempt, the one a re-ask follows.
    fn last_attempt(&self) -> Option<&Attempt> {
        self.attempts.last()
    }

    fn push(&mut self, attempt: Attempt) {
        self.usage += attempt.usage;
        self.attempts.push(attempt);
        self.span.record("attempts", self.attempts.len());
        self.span.record("total_tokens", self.usage.total_tokens);
    }

    /// `error` with every attempt so far, their summed usage, and the call it ended.
    fn record(&mut self, error: Error) -> Error {
        error
            .with_record(std::mem::take(&mut self.attempts), self.usage)
            .in_call(
                &self.call.inner.base_url,
                &self.call.model,
                self.call.inner.deadline,
            )
    }
}

/// How many times one extraction is sent again after shared-slot overflows that broke its
/// replies off, before the overflow ends it.
const MAX_DRAINS: u32 = 8;

#[cfg(test)]
mod tests;
