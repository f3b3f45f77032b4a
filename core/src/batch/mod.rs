//! Batches: many extractions through the one pipeline, with bounded concurrency, rate
//! limits, progress, a resumable journal, and results as a stream.
//!
//! A batch is a driver, not a copy of the pipeline: each item is an [`Extraction`] whose
//! [`send`](Extraction::send) runs exactly as a single call would (validation, re-asks,
//! transport retries), with the batch's rate limits awaited before each of its model calls.
//! The stream pulls an input only when a slot frees up, so memory stays bounded however
//! long the input is; in input order, at most `2 × concurrency` items are between the
//! oldest one not yet yielded and the newest one started.

use std::collections::BTreeMap;
use std::fmt;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use futures_util::stream::{FuturesUnordered, Stream, StreamExt as _};
use tracing::Instrument as _;

use crate::client::Client;
use crate::client::extraction::Extraction;
use crate::pipeline::reply;
use crate::transport::layer::Gate;
use journal::writer::Writer;
use journal::{Keys, Stored};
use limits::Limits;
use progress::{OnProgress, Tracker};

pub(crate) mod chunk;
pub(crate) mod journal;
pub(crate) mod limits;
pub(crate) mod progress;
use crate::{Error, Extract, Extracted, Progress, Result};
use serde_json::Value;

/// Items in flight when [`Batch::concurrency`] is not called.
pub(crate) const DEFAULT_CONCURRENCY: usize = 8;

/// One item's outcome: its index in the input and the result of its extraction.
pub type BatchItem<T> = (usize, Result<Extracted<T>>);

/// Many extractions of one type, run concurrently; get one from [`Client::extract_batch`]
/// or [`Client::batch`] and finish it with [`stream`](Batch::stream).
///
/// Every item runs the full pipeline of one extraction. A failing item never stops the
/// batch: its `Err` comes out of the stream with every attempt it made, and the batch goes
/// on.
///
/// # Examples
///
/// ```no_run
/// use futures_util::StreamExt as _;
/// # #[derive(Debug, serde::Deserialize, factum::Extract)] struct Person { name: String }
/// # async fn run(client: factum::Client, texts: Vec<String>) {
/// let results: Vec<(usize, factum::Result<factum::Extracted<Person>>)> = client
///     .extract_batch::<Person>(texts)
///     .concurrency(16)
///     .requests_per_minute(600)
///     .tokens_per_minute(200_000)
///     .max_retries(2)
///     .ordered()
///     .journal("people.jsonl")
///     .on_progress(|p: &factum::Progress| eprintln!("{}/{:?}", p.done, p.total))
///     .stream()
///     .collect()
///     .await;
/// # }
/// ```
#[must_use = "a batch does nothing until its `.stream()` is polled"]
pub struct Batch<T> {
    client: Client,
    items: Box<dyn Iterator<Item = Extraction<T>> + Send>,
    total: Option<usize>,
    concurrency: usize,
    requests_per_minute: Option<NonZeroU32>,
    tokens_per_minute: Option<NonZeroU32>,
    max_retries: Option<u32>,
    ordered: bool,
    journal: Option<PathBuf>,
    on_progress: Option<OnProgress>,
    #[cfg(feature = "progress")]
    bar: bool,
    /// Set when the items are a chunked extraction's jobs: see [`Batch::chunk_jobs`].
    jobs: Option<Keys>,
    /// The items' schema when it is not `T`'s own: a [`Dynamic`](crate::Dynamic) target's,
    /// which the journal's hashes are of.
    pub(crate) schema: Option<&'static crate::Schema>,
}

impl<T> fmt::Debug for Batch<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field("type", &std::any::type_name::<T>())
            .field("total", &self.total)
            .field("concurrency", &self.concurrency)
            .field("requests_per_minute", &self.requests_per_minute)
            .field("tokens_per_minute", &self.tokens_per_minute)
            .field("max_retries", &self.max_retries)
            .field("ordered", &self.ordered)
            .field("journal", &self.journal)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A batch extracting a `T` from each text, read lazily from `texts`, with the client's
    /// defaults; set the batch's options, then call [`Batch::stream`].
    ///
    /// The progress total is known when the iterator's size hint is exact.
    pub fn extract_batch<T: Extract + Send>(
        &self,
        texts: impl IntoIterator<Item: Into<String>, IntoIter: Send + 'static>,
    ) -> Batch<T> {
        let client = self.clone();
        let items = texts
            .into_iter()
            .map(move |text| client.extraction::<T>(text));
        Batch::new(self.clone(), items)
    }

    /// A batch of extractions built with [`Client::extraction`], for per-item options
    /// (model, instructions, images, …). An item's own `max_retries` wins over the batch's.
    pub fn batch<T: Extract + Send>(
        &self,
        extractions: impl IntoIterator<Item = Extraction<T>, IntoIter: Send + 'static>,
    ) -> Batch<T> {
        Batch::new(self.clone(), extractions.into_iter())
    }
}

impl<T: Extract + Send> Batch<T> {
    fn new(
        client: Client,
        items: impl Iterator<Item = Extraction<T>> + Send + 'static,
    ) -> Batch<T> {
        let total = match items.size_hint() {
            (low, Some(high)) if low == high => Some(low),
            _ => None,
        };
        Batch {
            client,
            items: Box::new(items),
            total,
            concurrency: DEFAULT_CONCURRENCY,
            requests_per_minute: None,
            tokens_per_minute: None,
            max_retries: None,
            ordered: false,
            journal: None,
            on_progress: None,
            #[cfg(feature = "progress")]
            bar: false,
            jobs: None,
            schema: None,
        }
    }

    /// Marks the items as the jobs of a chunked extraction, `chunks` per pass: their
    /// journal lines are keyed by chunk and pass, every result comes out with its validated
    /// JSON ([`stream_with_json`](Batch::stream_with_json)), and a job the journal holds a
    /// value for is not skipped silently but yielded, read back from its line, as though it
    /// had just been extracted (counted as skipped in the progress).
    pub(crate) fn chunk_jobs(mut self, chunks: usize, passes: usize) -> Batch<T> {
        self.jobs = Some(Keys::Chunks { chunks, passes });
        self
    }

    /// How many items run at once (default: 8; at least 1).
    pub fn concurrency(mut self, items: usize) -> Batch<T> {
        self.concurrency = items.max(1);
        self
    }

    /// At most this many model calls a minute, re-asks included, spread evenly: the burst
    /// allowed is one second's worth (`n / 60`, at least 1). `None` (the default) means
    /// no limit; a limit is at least 1.
    pub fn requests_per_minute(mut self, requests: impl Into<Option<u32>>) -> Batch<T> {
        self.requests_per_minute = requests
            .into()
            .map(|n| NonZeroU32::MIN.saturating_add(n.saturating_sub(1)));
        self
    }

    /// At most this many tokens a minute, spread evenly like
    /// [`requests_per_minute`](Batch::requests_per_minute). `None` (the default) means no
    /// limit; a limit is at least 1.
    ///
    /// Each model call is charged before it is sent from an estimate: its message text in
    /// bytes divided by four, plus its `max_tokens`. The difference from the prompt and
    /// completion tokens the server reports is carried into the next charge, credited or
    /// charged on top.
    pub fn tokens_per_minute(mut self, tokens: impl Into<Option<u32>>) -> Batch<T> {
        self.tokens_per_minute = tokens
            .into()
            .map(|n| NonZeroU32::MIN.saturating_add(n.saturating_sub(1)));
        self
    }

    /// How many times each item's failed reply is re-asked, as on one extraction (default:
    /// the client's). An item built with its own `max_retries` keeps it.
    pub fn max_retries(mut self, retries: u32) -> Batch<T> {
        self.max_retries = Some(retries);
        self
    }

    /// Yields results in input order instead of as they complete.
    pub fn ordered(mut self) -> Batch<T> {
        self.ordered = true;
        self
    }

    /// Keeps a resumable record at `path`: one JSON line per finished item (see the crate
    /// docs' "Batches"), keyed by its index; read it back with [`Journal`](crate::Journal).
    /// Run again with the same inputs and journal, every item that has a value line with a
    /// matching input hash (of the text, the type's schema and the model) is skipped:
    /// neither sent nor yielded. Failed items are tried again. A chunked item's line holds
    /// its merged list.
    ///
    /// A line is written as its item is yielded. If the journal cannot be opened, every
    /// item fails with a [`Config`](crate::ErrorKind::Config) error and nothing is sent.
    pub fn journal(mut self, path: impl Into<PathBuf>) -> Batch<T> {
        self.journal = Some(path.into());
        self
    }

    /// Calls `callback` after every item that finishes or is skipped from the journal.
    pub fn on_progress(mut self, callback: impl FnMut(&Progress) + Send + 'static) -> Batch<T> {
        self.on_progress = Some(Box::new(callback));
        self
    }

    /// Draws a progress bar on stderr (indicatif) with the done and failed counts, the
    /// rate and the ETA.
    #[cfg(feature = "progress")]
    pub fn progress_bar(mut self) -> Batch<T> {
        self.bar = true;
        self
    }

    /// Runs the batch: a stream of `(index, result)`, one per item not skipped, as items
    /// complete (or in input order after [`ordered`](Batch::ordered)). The items run inside
    /// the stream, as `buffer_unordered` runs its futures: they advance while it is polled.
    ///
    /// # Cancellation
    ///
    /// Dropping the stream cancels every request in flight; nothing keeps running. Items
    /// already yielded are in the journal.
    pub fn stream(self) -> impl Stream<Item = BatchItem<T>> + Unpin + Send + 'static {
        Engine::new(self)
    }

    /// [`stream`](Batch::stream), each result with the validated JSON its value was read
    /// from, when the item kept it (always, for [`chunk_jobs`](Batch::chunk_jobs)).
    pub(crate) fn stream_with_json(
        self,
    ) -> impl Stream<Item = (BatchItem<T>, Option<Value>)> + Unpin + Send + 'static {
        WithJson(Engine::new(self))
    }
}

const _: fn() = || {
    fn assert_unpin_send<S: Stream + Unpin + Send + 'static>(_: &S) {}
    fn check<T: Extract + Send>(batch: Batch<T>) {
        assert_unpin_send(&batch.stream());
    }
    let _ = check::<String>;
};

/// Says once per client (a `tracing` warning) when `asked` items at once exceed the
/// server's slots, which share one context (llama-server's `/props`).
fn slots_check(inner: Arc<crate::client::inner::Inner>, asked: usize) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        if let Some(slots) = inner.transport.slots().await {
            inner.gate.warn_slots(asked, slots);
        }
    })
}

/// Why an item is not run: the journal holds its value (for chunk jobs, read back from it),
/// or the journal cannot be used.
enum Skip<T> {
    Done,
    Restored(Box<(Extracted<T>, Value)>),
    Failed(Error),
}

/// A finished item, before it is yielded.
struct Done<T> {
    index: usize,
    /// The item's input hash, when there is a journal to record it in.
    key: Option<u64>,
    result: Result<Extracted<T>>,
    /// The validated JSON the run read the value from, for the journal.
    json: Option<Value>,
    /// Read back from the journal rather than run.
    restored: bool,
}

/// The journal, and the model items without their own are hashed with.
struct Journaling {
    journal: std::result::Result<Writer, String>,
    model: Option<String>,
    resolving: Option<BoxFuture<'static, Option<String>>>,
}

/// In input order: the next index to yield, and the items finished (or skipped, `None`)
/// ahead of it.
type Reorder<T> = (usize, BTreeMap<usize, Option<Done<T>>>);

/// The batch's stream.
struct Engine<T> {
    items: Box<dyn Iterator<Item = Extraction<T>> + Send>,
    next_index: usize,
    exhausted: bool,
    running: FuturesUnordered<BoxFuture<'static, Done<T>>>,
    order: Option<Reorder<T>>,
    concurrency: usize,
    limits: Option<Arc<Limits>>,
    max_retries: Option<u32>,
    journaling: Option<Journaling>,
    progress: Tracker,
    /// How journal lines are keyed; chunk jobs also read done jobs back and keep JSON.
    keys: Keys,
    /// The client's gate, whose limit lowers the concurrency in effect.
    gate: Arc<Gate>,
    /// The check of the server's slots against the concurrency, run beside the items once
    /// the server pushed back (no request is added to a batch it never slowed).
    slots: Slots,
}

/// Where the batch is with its check of the server's slots.
enum Slots {
    NotYet(Arc<crate::client::inner::Inner>),
    Checking(BoxFuture<'static, ()>),
    Done,
}

impl<T: Extract + Send> Engine<T> {
    fn new(batch: Batch<T>) -> Engine<T> {
        let schema = batch.schema.unwrap_or_else(T::schema);
        let keep = batch.jobs.is_some();
        let journaling = batch.journal.as_deref().map(|path| {
            let client = batch.client.clone();
            Journaling {
                journal: Writer::open(path, schema, keep).map_err(|e| e.to_string()),
                model: None,
                resolving: Some(Box::pin(
                    async move { client.inner.resolve_model().await.ok() },
                )),
            }
        });
        let progress = Tracker::new(batch.total, batch.concurrency, batch.on_progress);
        #[cfg(feature = "progress")]
        let progress = if batch.bar {
            progress.with_bar()
        } else {
            progress
        };
        Engine {
            items: batch.items,
            next_index: 0,
            exhausted: false,
            running: FuturesUnordered::new(),
            order: batch.ordered.then(|| (0, BTreeMap::new())),
            concurrency: batch.concurrency,
            limits: Limits::new(batch.requests_per_minute, batch.tokens_per_minute).map(Arc::new),
            max_retries: batch.max_retries,
            journaling,
            progress,
            gate: Arc::clone(&batch.client.inner.gate),
            slots: if batch.concurrency > 1 {
                Slots::NotYet(Arc::clone(&batch.client.inner))
            } else {
                Slots::Done
            },
            keys: batch.jobs.unwrap_or(Keys::Index),
        }
    }

    /// The concurrency in effect: the batch's, or the client's lower limit after the
    /// server's shared context overflowed.
    fn in_effect(&self) -> usize {
        self.gate
            .limit()
            .map_or(self.concurrency, |limit| limit.min(self.concurrency))
    }

    /// Starts items while there is a free slot (and, in input order, room in the window).
    fn fill(&mut self) {
        while !self.exhausted && self.running.len() < self.concurrency && self.window_open() {
            match self.items.next() {
                Some(extraction) => {
                    let index = self.next_index;
                    self.next_index += 1;
                    self.start(index, extraction);
                }
                None => self.exhausted = true,
            }
        }
    }

    fn window_open(&self) -> bool {
        self.order
            .as_ref()
            .is_none_or(|(next, _)| self.next_index - next < 2 * self.concurrency)
    }

    /// Starts one item, or skips it when the journal holds its value.
    fn start(&mut self, index: usize, mut extraction: Extraction<T>) {
        self.limit(&mut extraction);
        if extraction.max_retries.is_none() {
            extraction.max_retries = self.max_retries;
        }
        let key = match self.journal_key(index, &extraction) {
            Ok(key) => key,
            Err(skip) => return self.skip(index, skip),
        };
        // The item runs in the stream, as `buffer_unordered` runs its futures, rather than as
        // a task of its own: handing each finished task back to the thread that polls the
        // stream cost more than the parse it spread over the workers (on the batch bench's
        // 2 cores, 40 to 44 us of CPU per item as tasks against 29 us in the stream).
        let keep_json = key.is_some() || matches!(self.keys, Keys::Chunks { .. });
        // A map over the extraction's future, not an async block awaiting it: a block would
        // keep the future twice in its state (as captured and as awaited).
        let run = extraction.send_with_json().map(move |sent| {
            // Only a journaled item (or a chunk job, whose lists are merged with their JSON)
            // keeps the JSON the run already has; none is parsed again. `send` would drop it
            // the same way, one future deeper.
            let (result, json) = match sent {
                Ok((out, json)) => (Ok(out), json.filter(|_| keep_json)),
                Err(e) => (Err(e), None),
            };
            Done {
                index,
                key,
                result,
                json,
                restored: false,
            }
        });
        self.push(run.in_current_span().boxed());
    }

    /// Puts the item inside the batch's rate limits: they wrap its transport, the client's
    /// or, for a chunk of an extraction that runs in a limited batch, that batch's too.
    fn limit(&self, extraction: &mut Extraction<T>) {
        if let Some(limits) = &self.limits {
            extraction.limit_by(Arc::clone(limits));
        }
    }

    /// The item's input hash when there is a journal; `Skip` when the journal holds its
    /// value already (it is passed over, or for chunk jobs read back) or cannot be used
    /// (the item fails).
    fn journal_key(
        &mut self,
        index: usize,
        extraction: &Extraction<T>,
    ) -> std::result::Result<Option<u64>, Skip<T>> {
        let Some(journaling) = &mut self.journaling else {
            return Ok(None);
        };
        let journal = match &mut journaling.journal {
            Ok(journal) => journal,
            Err(message) => return Err(Skip::Failed(Error::config(message.clone()))),
        };
        let model = extraction.model.as_deref().or(journaling.model.as_deref());
        let model = model.unwrap_or_default();
        let hash = journal.hash(model, &extraction.text);
        if let Keys::Chunks { .. } = self.keys {
            // A job whose line does not read back into a value is run again.
            return match journal.take(index, hash) {
                Some(stored) => {
                    restore(stored, extraction.target_schema(), &extraction.text, model)
                        .map_or(Ok(Some(hash)), |read| Err(Skip::Restored(Box::new(read))))
                }
                None => Ok(Some(hash)),
            };
        }
        if journal.has_value(index, hash) {
            if let Some((_, held)) = &mut self.order {
                held.insert(index, None);
            }
            self.progress.skipped();
            return Err(Skip::Done);
        }
        Ok(Some(hash))
    }

    fn push(&mut self, item: BoxFuture<'static, Done<T>>) {
        self.running.push(item);
        self.progress.started();
    }

    /// An item not run: passed over, or handed out as it was read back or failed.
    fn skip(&mut self, index: usize, skip: Skip<T>) {
        let (result, json, restored) = match skip {
            Skip::Done => return,
            Skip::Restored(read) => {
                let (out, json) = *read;
                (Ok(out), Some(json), true)
            }
            Skip::Failed(error) => (Err(error), None, false),
        };
        self.push_ready(Done {
            index,
            key: None,
            result,
            json,
            restored,
        });
    }

    /// Hands out an item that needs no run (read back, or failed before it could start)
    /// through the same queue, so that input order holds.
    fn push_ready(&mut self, done: Done<T>) {
        let restored = done.restored;
        self.running.push(futures_util::future::ready(done).boxed());
        if !restored {
            self.progress.started();
        }
    }

    /// The next item in input order, when it is ready; skipped items are passed over.
    fn next_in_order(&mut self) -> Option<Done<T>> {
        let (next, held) = self.order.as_mut()?;
        while let Some(entry) = held.first_entry().filter(|e| *e.key() == *next) {
            *next += 1;
            if let Some(done) = entry.remove() {
                return Some(done);
            }
        }
        None
    }

    /// Records a finished item in the journal and the progress, and hands it out with its
    /// validated JSON.
    fn finish(&mut self, done: Done<T>) -> (BatchItem<T>, Option<Value>) {
        let Done {
            index,
            key,
            result,
            json,
            restored,
        } = done;
        if restored {
            self.progress.skipped();
            return ((index, result), json);
        }
        if let (
            Some(hash),
            Some(Journaling {
                journal: Ok(journal),
                ..
            }),
        ) = (key, &mut self.journaling)
        {
            let name = self.keys.key(index);
            journal.record((index, &name), hash, &result, json.as_ref());
        }
        let (usage, cached) = match &result {
            Ok(out) => (out.usage, out.cached),
            Err(e) => (e.usage(), false),
        };
        self.progress.concurrency(self.in_effect());
        self.progress.finished(result.is_ok(), cached, usage);
        ((index, result), json)
    }

    /// Waits for the model name the journal's hashes need, once; moves the slots check on
    /// without waiting for it.
    fn poll_setup(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if let Slots::NotYet(inner) = &self.slots
            && self.gate.limit().is_some()
        {
            self.slots = Slots::Checking(slots_check(Arc::clone(inner), self.concurrency));
        }
        if let Slots::Checking(check) = &mut self.slots
            && check.poll_unpin(cx).is_ready()
        {
            self.slots = Slots::Done;
        }
        if let Some(journaling) = &mut self.journaling
            && let Some(resolving) = &mut journaling.resolving
        {
            journaling.model = std::task::ready!(resolving.poll_unpin(cx));
            journaling.resolving = None;
        }
        Poll::Ready(())
    }
}

/// A journal line read back into what a run of its item would have given, through the
/// pipeline's last stages ([`reply::reread`]); `None` when it does not read.
fn restore<T: Extract>(
    stored: Stored,
    schema: &crate::Schema,
    text: &str,
    model: &str,
) -> Option<(Extracted<T>, Value)> {
    let json = stored.value?;
    let (value, spans) = reply::reread::<T>(schema, text, &json)
        .inspect_err(|e| tracing::warn!(error = %e, "a journaled value no longer reads; running its item again"))
        .ok()?;
    let out = Extracted {
        value,
        usage: stored.usage,
        node_id: stored.attempts.last().and_then(|a| a.node_id.clone()),
        attempts: stored.attempts,
        model: model.to_owned(),
        spans,
        failed_chunks: Vec::new(),
        cached: false,
    };
    Some((out, json))
}

impl<T: Extract + Send> Stream for Engine<T> {
    type Item = BatchItem<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<BatchItem<T>>> {
        self.get_mut()
            .poll_item(cx)
            .map(|done| done.map(|(item, _)| item))
    }
}

/// A batch's stream whose items keep their validated JSON: [`Batch::stream_with_json`].
struct WithJson<T>(Engine<T>);

impl<T: Extract + Send> Stream for WithJson<T> {
    type Item = (BatchItem<T>, Option<Value>);

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().0.poll_item(cx)
    }
}

impl<T: Extract + Send> Engine<T> {
    /// The next finished item and its JSON, or the end.
    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<(BatchItem<T>, Option<Value>)>> {
        let this = self;
        this.progress.begin();
        std::task::ready!(this.poll_setup(cx));
        loop {
            if let Some(done) = this.next_in_order() {
                return Poll::Ready(Some(this.finish(done)));
            }
            this.fill();
            match this.running.poll_next_unpin(cx) {
                Poll::Ready(Some(done)) => match &mut this.order {
                    Some((_, held)) => {
                        held.insert(done.index, Some(done));
                    }
                    None => return Poll::Ready(Some(this.finish(done))),
                },
                Poll::Ready(None) if this.exhausted => {
                    if this
                        .order
                        .as_ref()
                        .is_some_and(|(_, held)| !held.is_empty())
                    {
                        continue;
                    }
                    this.progress.end();
                    return Poll::Ready(None);
                }
                Poll::Ready(None) => {}
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
