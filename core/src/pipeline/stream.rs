//! Streaming extractions: [`Extraction::stream`] and [`Extraction::stream_items`]. They
//! drive the same [`Run`](super::Run) as `send()` (request, transport, judge, re-ask); only the reply
//! arrives as deltas, which feed a [`StreamParser`] for typed partial values, the item
//! stream and the runaway guard. When a reply ends, the whole text is judged by the full
//! pipeline, so streaming never accepts less than `send()` would.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::stream::{self, BoxStream, Stream, StreamExt as _};
use serde_json::Value;
use tracing::Instrument as _;

use super::Judged;
use super::Run;
use super::events::{SpannedItem, StreamEvent};
use super::receive::{Listening, Pulled};
use super::reply::Asked;
use crate::client::extraction::Extraction;
use crate::stream::{Guard, Node, StreamParser};
use crate::transport::{Completion, Delta};
use crate::{Attempt, Error, Extract, Extracted, Result, Schema};

/// The events of a streamed extraction; get it from [`Extraction::stream`].
///
/// It is `Unpin` and `Send`: `.next()` works without pinning, and the stream can move to a
/// spawned task. Dropping it cancels the request in flight and closes its connection.
#[must_use = "a stream does nothing unless polled"]
pub struct ExtractionStream<T: Extract> {
    events: BoxStream<'static, Result<StreamEvent<T>>>,
}

impl<T: Extract> Stream for ExtractionStream<T> {
    type Item = Result<StreamEvent<T>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.events.poll_next_unpin(cx)
    }
}

impl<T: Extract> fmt::Debug for ExtractionStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExtractionStream")
            .field("type", &std::any::type_name::<T>())
            .finish_non_exhaustive()
    }
}

impl<T: Extract> ExtractionStream<T> {
    /// Drives the stream to its end and returns the result, as `send()` would.
    ///
    /// # Errors
    ///
    /// The errors of [`Extraction::send`].
    ///
    /// # Cancellation
    ///
    /// Dropping the future drops the stream: the request in flight is cancelled and its
    /// connection closed.
    pub async fn finish(mut self) -> Result<Extracted<T>> {
        while let Some(event) = self.next().await {
            if let StreamEvent::Done(out) = event? {
                return Ok(out);
            }
        }
        Err(Error::stream_cut())
    }
}

/// The items of a streamed list; get it from [`Extraction::stream_items`].
///
/// It is `Unpin` and `Send`; dropping it cancels the request in flight.
#[must_use = "a stream does nothing unless polled"]
pub struct ItemStream<T: Extract> {
    items: BoxStream<'static, Result<T>>,
}

impl<T: Extract> Stream for ItemStream<T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.items.poll_next_unpin(cx)
    }
}

impl<T: Extract> fmt::Debug for ItemStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ItemStream")
            .field("type", &std::any::type_name::<T>())
            .finish_non_exhaustive()
    }
}

impl<T: Extract + Send> Extraction<T> {
    /// Runs the extraction as a stream of events: typed [`Partial`](crate::Partial)s as the reply is
    /// written, a [`Reask`](StreamEvent::Reask) for each failed attempt, and
    /// [`Done`](StreamEvent::Done) with the validated result.
    ///
    /// The request is sent with `"stream": true`. A server or transport that does not
    /// stream still works: its reply arrives in one piece. Replies that loop are cut early
    /// (see [`Runaway`](crate::Runaway) and [`Extraction::runaway`]).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # #[derive(Debug, serde::Deserialize, factum::Extract)] struct Person { name: String }
    /// use factum::StreamEvent;
    /// use futures_util::StreamExt;
    ///
    /// # async fn run(client: factum::Client) -> factum::Result<()> {
    /// let mut stream = client.extraction::<Person>("John Doe, 30").stream();
    /// while let Some(event) = stream.next().await {
    ///     match event? {
    ///         StreamEvent::Partial(p) => println!("so far: {p:?}"),
    ///         StreamEvent::Done(out) => println!("done: {:?}", out.value),
    ///         _ => {}
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Cancellation
    ///
    /// Dropping the stream closes the connection at once; nothing keeps running.
    pub fn stream(mut self) -> ExtractionStream<T> {
        if let Some(streamer) = self.streamer.take() {
            let events = streamer(self)
                .downcast::<BoxStream<'static, Result<StreamEvent<T>>>>()
                .map_or_else(
                    |_| {
                        let error = Error::config("a chunked stream of another type".to_owned());
                        stream::once(async { Err(error) }).boxed()
                    },
                    |events| *events,
                );
            return ExtractionStream { events };
        }
        let events = drive(self, NoItems).filter_map(|event| async move {
            match event {
                Event::Shown(event) => Some(Ok(event)),
                Event::Failed(e) => Some(Err(e)),
                Event::Item(_) => None,
            }
        });
        ExtractionStream {
            events: events.boxed(),
        }
    }
}

impl<T: Extract + Send> Extraction<Vec<T>> {
    /// Runs a list extraction as a stream of its items: each element is yielded as a
    /// validated `T` as soon as its closing bracket arrives. An element that does not fit
    /// is yielded as an [`InvalidItem`](crate::ErrorKind::InvalidItem) error with its raw
    /// text and violations, and the stream goes on. The envelope (`{"person_list": […]}`)
    /// never reaches the caller.
    ///
    /// When the reply ends, the whole list is judged as `send()` judges it; items the
    /// lenient parser recovers that the stream did not show are yielded then. A reply that
    /// fails is re-asked only while no item has been yielded: afterwards a re-ask could
    /// repeat or contradict what the caller already has, so the stream ends with the
    /// error instead.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # #[derive(Debug, serde::Deserialize, factum::Extract)] struct Person { name: String }
    /// use futures_util::StreamExt;
    ///
    /// # async fn run(client: factum::Client) -> factum::Result<()> {
    /// let mut people = client.extraction::<Vec<Person>>("John is 30. Mary is 45.").stream_items();
    /// while let Some(person) = people.next().await {
    ///     println!("{:?}", person?);
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Cancellation
    ///
    /// Dropping the stream closes the connection at once; nothing keeps running. Items
    /// already yielded stay the caller's.
    pub fn stream_items(self) -> ItemStream<T> {
        let items = self
            .stream_spanned_items()
            .items
            .map(|item| item.map(|spanned| spanned.value));
        ItemStream {
            items: items.boxed(),
        }
    }

    /// [`stream_items`](Extraction::stream_items), each item with where its values are in
    /// the text the extraction was given: its [`Span`](crate::Span)s, paths relative to the item
    /// (`/name`), ranges in the whole text, computed as soon as the item closes.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # #[derive(Debug, serde::Deserialize, factum::Extract)] struct Person { name: String }
    /// use futures_util::StreamExt;
    ///
    /// # async fn run(client: factum::Client) -> factum::Result<()> {
    /// let text = "John is 30. Mary is 45.";
    /// let mut people = client.extraction::<Vec<Person>>(text).stream_spanned_items();
    /// while let Some(person) = people.next().await {
    ///     let person = person?;
    ///     for span in &person.spans {
    ///         println!("{} {} at {:?}", person.index, span.path, span.range);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn stream_spanned_items(self) -> SpannedItemStream<T> {
        if self.runner.is_some() {
            return SpannedItemStream {
                items: crate::batch::chunk::stream_items(self),
            };
        }
        let watch = ListItems {
            bound: self.items_bound(),
            source: self.text.clone(),
            ..ListItems::default()
        };
        let mut handed = 0;
        let items = drive(self, watch).flat_map(move |event| {
            let items: Vec<Result<SpannedItem<T>>> = match event {
                Event::Item(item) => {
                    handed += 1;
                    vec![item]
                }
                Event::Failed(e) => vec![Err(e)],
                Event::Shown(StreamEvent::Done(out)) => {
                    rest(out, handed).into_iter().map(Ok).collect()
                }
                Event::Shown(_) => Vec::new(),
            };
            stream::iter(items)
        });
        SpannedItemStream {
            items: items.boxed(),
        }
    }
}

/// The items of a result not handed out while streaming (`handed` were), with their spans.
fn rest<T>(out: Extracted<Vec<T>>, handed: usize) -> Vec<SpannedItem<T>> {
    let count = out.value.len();
    let per_item = crate::ground::per_item(out.spans, count);
    out.value
        .into_iter()
        .zip(per_item)
        .enumerate()
        .map(|(i, (value, spans))| SpannedItem {
            value,
            index: handed + i,
            spans,
            chunk: None,
        })
        .collect()
}

/// The items of a streamed list with their spans; get it from
/// [`Extraction::stream_spanned_items`]. It is `Unpin` and `Send`; dropping it cancels the
/// request in flight.
#[must_use = "a stream does nothing unless polled"]
pub struct SpannedItemStream<T: Extract> {
    items: BoxStream<'static, Result<SpannedItem<T>>>,
}

impl<T: Extract> Stream for SpannedItemStream<T> {
    type Item = Result<SpannedItem<T>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.items.poll_next_unpin(cx)
    }
}

impl<T: Extract> fmt::Debug for SpannedItemStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpannedItemStream")
            .field("type", &std::any::type_name::<T>())
            .finish_non_exhaustive()
    }
}

/// What the driver hands out: an event for the caller, a list item, or the error that
/// ends the stream.
enum Event<T: Extract, I> {
    Shown(StreamEvent<T>),
    Item(Result<I>),
    Failed(Error),
}

/// What a driver watches a reply for besides partials: nothing, or a list's items.
trait Watch<T: Extract>: Send + Sync + 'static {
    type Item: Send + 'static;

    /// Whether the caller wants partial values.
    const PARTIALS: bool;

    /// How many items were handed out.
    fn shown(&self) -> usize;

    /// The items that closed since the last look, judged; `text` is the reply so far.
    fn closed(
        &mut self,
        parser: &StreamParser,
        text: &str,
        asked: Asked<'_>,
    ) -> Vec<Result<Self::Item>>;

    /// Whether a failed reply failed only in items already handed out (each as an error
    /// of its own), so the stream can end without another error.
    fn only_in_shown(&self, failed: &Attempt) -> bool;

    /// The result, without the items already handed out.
    fn unshown(&self, out: Extracted<T>) -> Extracted<T>;
}

/// A plain extraction: partials only.
struct NoItems;

impl<T: Extract> Watch<T> for NoItems {
    type Item = std::convert::Infallible;

    const PARTIALS: bool = true;

    fn shown(&self) -> usize {
        0
    }

    fn closed(&mut self, _: &StreamParser, _: &str, _: Asked<'_>) -> Vec<Result<Self::Item>> {
        Vec::new()
    }

    fn only_in_shown(&self, _: &Attempt) -> bool {
        false
    }

    fn unshown(&self, out: Extracted<T>) -> Extracted<T> {
        out
    }
}

/// A list extraction read item by item.
#[derive(Default)]
struct ListItems {
    shown: usize,
    /// How many of the parser's item spans were looked at: each is looked at once.
    seen: usize,
    /// The extraction's `max_items`: an item past it is never handed out.
    bound: Option<usize>,
    /// The text the extraction was given, which each item is grounded in.
    source: String,
}

impl<I: Extract + Send> Watch<Vec<I>> for ListItems {
    type Item = SpannedItem<I>;

    const PARTIALS: bool = false;

    fn shown(&self) -> usize {
        self.shown
    }

    fn closed(
        &mut self,
        parser: &StreamParser,
        text: &str,
        asked: Asked<'_>,
    ) -> Vec<Result<SpannedItem<I>>> {
        let key = asked.schema.envelope_key();
        let spans = parser.items();
        let Some(root) = parser.snapshot_ref() else {
            return Vec::new();
        };
        let list = open_envelope(root, key);
        let depth = if std::ptr::eq(list, root) { 1 } else { 2 };
        let mut out = Vec::new();
        for span in &spans[self.seen.min(spans.len())..] {
            if span.depth == depth && self.bound.is_none_or(|max| span.index < max) {
                let Some(node) = list.items().get(span.index) else {
                    break;
                };
                let raw = text.get(span.start..span.end).unwrap_or_default();
                out.push(
                    item::<I>(node, raw, asked).map(|(value, json)| SpannedItem {
                        value,
                        index: span.index,
                        spans: crate::ground::spans(&self.source, &json),
                        chunk: None,
                    }),
                );
            }
            self.seen += 1;
        }
        self.shown += out.len();
        out
    }

    fn only_in_shown(&self, failed: &Attempt) -> bool {
        let Some(crate::AttemptFailure::Violations(violations)) = &failed.failure else {
            return false;
        };
        violations.iter().all(|v| {
            let index = v.path.trim_start_matches('/').split('/').next();
            index
                .and_then(|i| i.parse::<usize>().ok())
                .is_some_and(|i| i < self.shown)
        })
    }

    fn unshown(&self, mut out: Extracted<Vec<I>>) -> Extracted<Vec<I>> {
        let shown = self.shown.min(out.value.len());
        out.value.drain(..shown);
        out.spans = crate::ground::drop_items(std::mem::take(&mut out.spans), shown);
        out
    }
}

/// One closed list item, judged as the whole list's items are: coerced to the item's
/// schema with the extraction's leniency, validated, deserialized with paths, checked by
/// its validators.
fn item<I: Extract>(node: &Node, raw: &str, asked: Asked<'_>) -> Result<(I, Value)> {
    let schema = I::schema();
    let value = node.to_value().unwrap_or_default();
    let (outcome, repairs) = match crate::parse::coerce(value, schema.json(), asked.leniency) {
        Ok(parsed) => (
            super::reply::finish::<I>(schema, &parsed.value).map(|value| (value, parsed.value)),
            parsed.repairs,
        ),
        Err(crate::parse::ParseError::Mismatch {
            path,
            expected,
            found,
        }) => (
            Err(crate::AttemptFailure::Violations(vec![
                crate::Violation::new(path, format!("expected {expected}, found {found}")),
            ])),
            Vec::new(),
        ),
        Err(e) => (
            Err(crate::AttemptFailure::NotJson(e.to_string())),
            Vec::new(),
        ),
    };
    outcome.map_err(|failure| {
        Error::invalid_item(Attempt {
            raw: raw.to_owned(),
            failure: Some(failure),
            usage: crate::Usage::default(),
            node_id: None,
            mode: asked.mode,
            repairs,
            finish_reason: None,
            max_tokens: asked.max_tokens,
            temperature: asked.temperature,
            seed: asked.seed,
            cached: false,
        })
    })
}

/// One attempt's reply as it streams, and what was shown of it.
struct Reading<P> {
    listening: Listening,
    /// Bytes fed when the last partial was built.
    built_at: usize,
    /// The last partial shown.
    shown: Option<P>,
}

/// What a judged reply leads to: a re-ask (its event), or the end of the stream (with
/// its last event, if any).
enum Next<E> {
    Reask(E),
    End(Option<E>),
}

/// The driver: the same [`Run`](super::Run) as `send()`, one attempt per turn of the loop,
/// each reply read as it streams. Every event is yielded where it happens.
fn drive<T: Extract + Send, W: Watch<T>>(
    extraction: Extraction<T>,
    mut watch: W,
) -> impl Stream<Item = Event<T, W::Item>> + Send + 'static {
    async_stream::stream! {
        let (mut run, span) = match begin(extraction).await {
            Ok(started) => started,
            Err(e) => return yield Event::Failed(e),
        };
        loop {
            let attempt = run.attempt_span();
            let mut reading = match span.in_scope(|| run.open_stream()) {
                Ok(deltas) => Reading::<T::Partial>::new(deltas, run.guard()),
                Err(e) => return yield Event::Failed(e),
            };
            let ended = loop {
                match reading.listening.pull(run.schema()).instrument(attempt.clone()).await {
                    Pulled::More => for event in reading.show(&mut watch, run.asked()) {
                        yield event;
                    },
                    Pulled::Ended(ended) => break ended,
                }
            };
            let completion = match ended.map_err(|fault| run.fault(fault)) {
                Ok(completion) => completion,
                Err(Ok(())) => continue,
                Err(Err(e)) => return yield Event::Failed(e),
            };
            for event in reading.finish(&mut watch, run.asked(), &completion) {
                yield event;
            }
            match judged(&mut run, &watch, completion, &attempt).instrument(span.clone()).await {
                Next::Reask(event) => yield event,
                Next::End(event) => return if let Some(event) = event { yield event },
            }
        }
    }
}

/// The run of `extraction` and its span, started: a schema that compiles.
async fn begin<T: Extract>(extraction: Extraction<T>) -> Result<(Run<T>, tracing::Span)> {
    let (mut run, span) = extraction.into_run().await?;
    span.in_scope(|| run.start())?;
    Ok((run, span))
}

/// Judges a whole reply: the result, or a re-ask. A list whose items were already handed
/// out ends instead: each bad item was its own error, and a re-ask could repeat or
/// contradict what the caller has.
async fn judged<T: Extract, W: Watch<T>>(
    run: &mut Run<T>,
    watch: &W,
    completion: Completion,
    attempt: &tracing::Span,
) -> Next<Event<T, W::Item>> {
    let shown = watch.shown();
    match run.judge(completion, attempt).await {
        Ok(Judged::Done(out, _)) => {
            Next::End(Some(Event::Shown(StreamEvent::Done(watch.unshown(out)))))
        }
        Ok(Judged::Reask)
            if shown > 0 && run.last_attempt().is_some_and(|a| watch.only_in_shown(a)) =>
        {
            Next::End(None)
        }
        Ok(Judged::Reask) if shown > 0 => {
            Next::End(Some(Event::Failed(run.record(Error::exhausted()))))
        }
        Ok(Judged::Reask) => match run.last_attempt() {
            Some(attempt) => Next::Reask(Event::Shown(StreamEvent::Reask(attempt.clone()))),
            None => Next::End(None),
        },
        Err(e) => Next::End(Some(Event::Failed(e))),
    }
}

impl<P: Clone + PartialEq> Reading<P> {
    fn new(deltas: BoxStream<'static, Result<Delta>>, guard: Guard) -> Self {
        Reading {
            listening: Listening::new(deltas, guard),
            built_at: 0,
            shown: None,
        }
    }

    /// What the reply so far shows that was not shown yet: the list items that closed,
    /// then a new partial.
    fn show<T, W>(&mut self, watch: &mut W, asked: Asked<'_>) -> Vec<Event<T, W::Item>>
    where
        T: Extract<Partial = P>,
        W: Watch<T>,
    {
        let items = watch.closed(
            &self.listening.parser,
            self.listening.gathered.text(),
            asked,
        );
        let mut events: Vec<_> = items.into_iter().map(Event::Item).collect();
        events.extend(self.partial::<T, W>(asked.schema));
        events
    }

    /// The same, once the reply is whole: its text is the completion's.
    fn finish<T, W>(
        &mut self,
        watch: &mut W,
        asked: Asked<'_>,
        completion: &Completion,
    ) -> Vec<Event<T, W::Item>>
    where
        T: Extract<Partial = P>,
        W: Watch<T>,
    {
        self.listening.parser.finish();
        let text = completion.content.as_deref().unwrap_or_default();
        let items = watch.closed(&self.listening.parser, text, asked);
        let mut events: Vec<_> = items.into_iter().map(Event::Item).collect();
        events.extend(self.partial::<T, W>(asked.schema));
        events
    }

    /// A new partial, when the caller wants them and the reply changed visibly since the
    /// last one.
    fn partial<T, W>(&mut self, schema: &Schema) -> Option<Event<T, W::Item>>
    where
        T: Extract<Partial = P>,
        W: Watch<T>,
    {
        if !W::PARTIALS || self.listening.parser.offset() == self.built_at {
            return None;
        }
        self.built_at = self.listening.parser.offset();
        let root = self.listening.parser.snapshot()?;
        let partial = T::partial_from(open_envelope(root, schema.envelope_key()))?;
        if self.shown.as_ref() == Some(&partial) {
            return None;
        }
        self.shown = Some(partial.clone());
        Some(Event::Shown(StreamEvent::Partial(partial)))
    }
}

/// The value inside the envelope `key`, or the node itself when the model skipped it.
fn open_envelope<'n>(root: &'n Node, key: Option<&str>) -> &'n Node {
    match key.and_then(|key| root.get(key)) {
        Some(inner) if root.members().len() == 1 => inner,
        _ => root,
    }
}
