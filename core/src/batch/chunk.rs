//! Long documents: [`Chunking`](crate::Chunking) cuts the text at paragraph, then sentence, boundaries with
//! an overlap; each chunk (and each pass) is one extraction of the list, run through the
//! batch engine with its concurrency, limits and backoff; the lists are merged, an item
//! found in two chunks kept once, and every span moved into the whole document.
//!
//! This is a driver of the pipeline, not a copy: each chunk's extraction is exactly what
//! `send()` runs on a short text. The chunk jobs are a batch's items, so they take the
//! batch's journal (each job's line written as it finishes; on a rerun, the jobs the
//! journal holds are read back through the pipeline's last stages instead of being sent)
//! and its progress reports.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream, StreamExt as _};
use serde_json::Value;

use super::Batch;
use crate::client::extraction::{Extraction, Plan};
use crate::pipeline::events::{SpannedItem, StreamEvent};
use crate::stream::Node;
use crate::wire::Usage;
use crate::{
    Attempt, ChunkFailure, Chunking, Error, Extract, Extracted, Progress, Result, Span, ground,
};

impl<I: Extract + Send> Extraction<Vec<I>> {
    /// Extracts the list from a long text chunk by chunk: the text is cut at paragraph,
    /// then sentence, boundaries (see [`Chunking`]), each chunk is extracted concurrently
    /// through the batch engine (with the client's retries and backoff, and the limits of
    /// the batch this extraction runs in), and the lists are merged in document order. An
    /// item found in two overlapping chunks (its located values point at the same text) is
    /// kept once, and every span points into the whole text.
    ///
    /// Usage and attempts are summed over every chunk and pass. A chunk that fails fails
    /// the extraction with every attempt kept, unless [`partial_ok`](Extraction::partial_ok)
    /// is set.
    ///
    /// A chunked extraction streams too. [`stream_items`](Extraction::stream_items) and
    /// [`stream_spanned_items`](Extraction::stream_spanned_items) yield each chunk's items
    /// as soon as that chunk is judged (in the order chunks finish; an item already
    /// yielded from an overlapping chunk is not yielded again; each
    /// [`SpannedItem`](crate::SpannedItem) says its `chunk`); a chunk that fails ends the
    /// stream with its error, unless [`partial_ok`](Extraction::partial_ok).
    /// [`stream`](Extraction::stream) yields the merged list as a partial each time a
    /// chunk adds to it, then [`Done`](crate::StreamEvent::Done) with the result merged
    /// exactly as `send()` merges it.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # #[derive(Debug, serde::Deserialize, factum::Extract)] struct Person { name: String }
    /// # async fn run(client: factum::Client, long_text: String) -> factum::Result<()> {
    /// let people = client
    ///     .extraction::<Vec<Person>>(long_text)
    ///     .chunked(factum::Chunking::chars(4000).overlap(400))
    ///     .passes(2)
    ///     .send()
    ///     .await?;
    /// for span in &people.spans {
    ///     println!("{} = {} at {:?}", span.path, span.value, span.range);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn chunked(mut self, chunking: Chunking) -> Extraction<Vec<I>> {
        self.plan.chunking = Some(chunking);
        self.chunk_plan()
    }

    /// Runs the extraction `passes` times (on each chunk, when chunked) and merges the
    /// lists, for recall: an item any pass finds is kept, once. Passes run at the
    /// extraction's temperature; with 0 a deterministic server repeats itself.
    pub fn passes(mut self, passes: u32) -> Extraction<Vec<I>> {
        self.plan.passes = passes.max(1);
        self.chunk_plan()
    }

    /// Lets a chunked or multi-pass extraction succeed when some chunks fail: their errors
    /// are in [`Extracted::failed_chunks`], their attempts in `attempts`.
    pub fn partial_ok(mut self) -> Extraction<Vec<I>> {
        self.plan.partial_ok = true;
        self.chunk_plan()
    }

    /// `send()` and `stream()` run the chunk plan.
    fn chunk_plan(mut self) -> Extraction<Vec<I>> {
        self.runner = Some(run::<I>);
        self.streamer = Some(|extraction| Box::new(stream_events::<I>(extraction)));
        self
    }

    /// Keeps a resumable record of the chunk jobs at `path`, as
    /// [`Batch::journal`](crate::Batch::journal) does for items: one JSON line per chunk (and
    /// pass), written as that chunk finishes, keyed `"chunk 3"` (`"chunk 3, pass 1"` with
    /// several [`passes`](Extraction::passes)), with an input hash of the chunk's text, the
    /// type's schema and the model. Read it with [`Journal`](crate::Journal).
    ///
    /// Run the same extraction again with the same journal (after a failure, or after the
    /// future was dropped half way) and only the chunks the journal holds no value for are
    /// sent. The others are read back from their lines (their JSON validated, deserialized
    /// and grounded in the chunk as a fresh reply is) and merged exactly as if they had
    /// just been extracted: the result has every chunk's items, attempts and usage, the
    /// attempts and usage of the chunks read back being those of the run that did them.
    /// A different cut (another [`Chunking`]) gives other chunk texts, so other hashes:
    /// nothing is reused across cuts. If the journal cannot be opened, every chunk job
    /// fails with a [`Config`](crate::ErrorKind::Config) error (so the extraction does,
    /// unless [`partial_ok`](Extraction::partial_ok)) and nothing is sent.
    ///
    /// Without [`chunked`](Extraction::chunked), the whole text is one chunk.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # #[derive(Debug, serde::Deserialize, factum::Extract)] struct Person { name: String }
    /// # async fn run(client: factum::Client, long_text: String) -> factum::Result<()> {
    /// let people = client
    ///     .extraction::<Vec<Person>>(long_text)
    ///     .chunked(factum::Chunking::chars(4000).overlap(400).concurrency(4))
    ///     .journal("people-chunks.jsonl")
    ///     .on_progress(|p: &factum::Progress| eprintln!("chunks: {}/{:?}", p.done, p.total))
    ///     .send()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn journal(mut self, path: impl Into<PathBuf>) -> Extraction<Vec<I>> {
        self.plan.journal = Some(path.into());
        self.runner = Some(run::<I>);
        self
    }

    /// Calls `callback` after every chunk job (each chunk of each pass) that finishes or
    /// is read back from the [`journal`](Extraction::journal), as
    /// [`Batch::on_progress`](crate::Batch::on_progress) does for items: [`Progress`]
    /// counts chunk jobs, its `total` being chunks × passes.
    pub fn on_progress(
        mut self,
        callback: impl FnMut(&Progress) + Send + 'static,
    ) -> Extraction<Vec<I>> {
        self.plan.on_progress = Some(Mutex::new(Box::new(callback)));
        self.runner = Some(run::<I>);
        self
    }

    /// Draws a progress bar of the chunk jobs on stderr, as
    /// [`Batch::progress_bar`](crate::Batch::progress_bar) does for items.
    #[cfg(feature = "progress")]
    pub fn progress_bar(mut self) -> Extraction<Vec<I>> {
        self.plan.bar = true;
        self.runner = Some(run::<I>);
        self
    }
}

/// One chunk's job: which chunk, which pass.
#[derive(Clone, Copy)]
struct Job {
    chunk: usize,
    pass: usize,
}

/// A list extraction's result with its list's validated JSON, when it was kept.
type WithJson<I> = (Extracted<Vec<I>>, Option<Value>);

/// A chunk job's result, with the validated JSON of its list when it succeeded.
type JobResult<I> = Result<WithJson<I>>;

/// A chunked (or multi-pass) run once started: its jobs, the chunks they read, and their
/// results as each job finishes.
struct Started<I> {
    jobs: Vec<Job>,
    chunks: Vec<Range<usize>>,
    partial_ok: bool,
    results: BoxStream<'static, (usize, JobResult<I>)>,
}

impl<I> Started<I> {
    /// The range of the chunk job `index` read.
    fn range(&self, index: usize) -> Range<usize> {
        self.chunks[self.jobs[index].chunk].clone()
    }

    /// Every result, merged in job order: what `send()` gives.
    fn merge(&self, mut results: Vec<(usize, JobResult<I>)>) -> JobResult<I> {
        results.sort_by_key(|(i, _)| *i);
        let mut merge = Merge::default();
        for (i, result) in results {
            merge.add(self.jobs[i], self.range(i), result, self.partial_ok);
        }
        merge.finish()
    }
}

/// Cuts the text and starts its chunk jobs through the batch engine.
fn start<I: Extract + Send>(mut extraction: Extraction<Vec<I>>) -> Started<I> {
    let mut plan = std::mem::take(&mut extraction.plan);
    let chunks = match plan.chunking {
        Some(chunking) => chunking.split(&extraction.text),
        None => std::iter::once(0..extraction.text.len()).collect(),
    };
    let passes = plan.passes.max(1) as usize;
    let jobs: Vec<Job> = (0..passes)
        .flat_map(|pass| (0..chunks.len()).map(move |chunk| Job { chunk, pass }))
        .collect();
    let children: Vec<Extraction<Vec<I>>> = jobs
        .iter()
        .map(|job| extraction.fork(extraction.text[chunks[job.chunk].clone()].to_owned()))
        .collect();
    let mut batch = extraction
        .client
        .batch(children)
        .chunk_jobs(chunks.len(), passes);
    batch.schema = extraction.dynamic;
    let results = watched(batch, &mut plan)
        .stream_with_json()
        .map(|((i, result), json)| (i, result.map(|out| (out, json))))
        .boxed();
    Started {
        jobs,
        chunks,
        partial_ok: plan.partial_ok,
        results,
    }
}

/// Runs a chunked (or multi-pass) list extraction; see the module docs. Besides the merged
/// result, it gives the merged list's validated JSON (each item's JSON, in the merged
/// order), so that a batch of chunked extractions journals real values.
pub(crate) fn run<I: Extract + Send>(
    extraction: Extraction<Vec<I>>,
) -> BoxFuture<'static, JobResult<I>> {
    Box::pin(async move {
        let mut started = start(extraction);
        let results = std::mem::replace(&mut started.results, stream::empty().boxed());
        let results: Vec<(usize, JobResult<I>)> = results.collect().await;
        started.merge(results)
    })
}

/// A chunked run's events: the merged list so far as a partial after each chunk that adds
/// to it, then the result merged exactly as `send()` merges it.
pub(crate) fn stream_events<I: Extract + Send>(
    extraction: Extraction<Vec<I>>,
) -> BoxStream<'static, Result<StreamEvent<Vec<I>>>> {
    let stream = async_stream::stream! {
        let mut started = start(extraction);
        let mut results = std::mem::replace(&mut started.results, stream::empty().boxed());
        let mut shown = Shown::default();
        let mut kept = Vec::new();
        while let Some((i, result)) = results.next().await {
            if let Ok((out, json)) = &result {
                let range = started.range(i);
                let count = out.value.len();
                let spans = ground::per_item(out.spans.clone(), count);
                let jsons = item_jsons(json.clone(), count);
                let added = jsons
                    .into_iter()
                    .zip(spans)
                    .filter(|(json, spans)| shown.add(json.clone(), ground::shift(spans.clone(), range.start), range.start))
                    .count();
                if added > 0 {
                    yield Ok(StreamEvent::Partial(shown.partial::<I>()));
                }
            }
            kept.push((i, result));
        }
        yield started.merge(kept).map(|(out, _)| StreamEvent::Done(out));
    };
    stream.boxed()
}

/// A chunked run's items, each yielded as its chunk is judged (validated as `send()`
/// validates it), with the chunk it came from; an item already yielded from an
/// overlapping chunk is not yielded again. A chunk that fails is yielded as its error
/// and ends the stream, unless the run is [`partial_ok`](Extraction::partial_ok).
pub(crate) fn stream_items<I: Extract + Send>(
    extraction: Extraction<Vec<I>>,
) -> BoxStream<'static, Result<SpannedItem<I>>> {
    let stream = async_stream::stream! {
        let mut started = start(extraction);
        let mut results = std::mem::replace(&mut started.results, stream::empty().boxed());
        let mut shown: Vec<Vec<Span>> = Vec::new();
        while let Some((i, result)) = results.next().await {
            let (out, _) = match result {
                Ok(done) => done,
                Err(_) if started.partial_ok => continue,
                Err(error) => return yield Err(error),
            };
            let range = started.range(i);
            let count = out.value.len();
            let per_item = ground::per_item(out.spans, count);
            for (value, spans) in out.value.into_iter().zip(per_item) {
                let spans = ground::shift(spans, range.start);
                if shown.iter().any(|seen| same_item(seen, &spans)) {
                    continue;
                }
                shown.push(spans.clone());
                yield Ok(SpannedItem::of_chunk(value, shown.len() - 1, spans, started.jobs[i].chunk));
            }
        }
    };
    stream.boxed()
}

/// The items a chunked stream has shown: their JSON and spans, in document order.
#[derive(Default)]
struct Shown {
    items: Vec<(usize, Option<Value>, Vec<Span>)>,
}

impl Shown {
    /// Adds an item unless one shown is the same; whether it was added.
    fn add(&mut self, json: Option<Value>, spans: Vec<Span>, chunk_start: usize) -> bool {
        if self
            .items
            .iter()
            .any(|(_, _, seen)| same_item(seen, &spans))
        {
            return false;
        }
        let at = place(&spans, chunk_start);
        let index = self.items.partition_point(|(other, _, _)| *other <= at);
        self.items.insert(index, (at, json, spans));
        true
    }

    /// The list so far as the type's partial value.
    fn partial<I: Extract>(&self) -> Vec<I::Partial> {
        self.items
            .iter()
            .filter_map(|(_, json, _)| I::partial_from(&Node::from_value(json.clone()?)))
            .collect()
    }
}

/// The chunk jobs' batch with the plan's concurrency, journal, progress callback and bar.
fn watched<I: Extract + Send>(batch: Batch<Vec<I>>, plan: &mut Plan) -> Batch<Vec<I>> {
    let concurrency = plan
        .chunking
        .and_then(|c| c.concurrency)
        .unwrap_or(super::DEFAULT_CONCURRENCY);
    let mut batch = batch.concurrency(concurrency);
    batch.journal = plan.journal.take();
    batch.on_progress = plan
        .on_progress
        .take()
        .map(|callback| callback.into_inner().unwrap_or_else(|e| e.into_inner()));
    #[cfg(feature = "progress")]
    {
        batch.bar = plan.bar;
    }
    batch
}

/// One item found in a chunk: its value, its validated JSON when the chunk's was kept, and
/// its spans, ranges in the whole document and paths relative to the item.
struct Item<I> {
    value: I,
    json: Option<Value>,
    spans: Vec<Span>,
    /// Where it sits, to order the merged list: its first located byte, else its chunk's.
    at: usize,
}

/// The merged record of every chunk and pass.
struct Merge<I> {
    items: Vec<Item<I>>,
    attempts: Vec<Attempt>,
    usage: Usage,
    node_id: Option<String>,
    model: Option<String>,
    failures: Vec<ChunkFailure>,
    error: Option<Error>,
    /// Whether every chunk so far was read from the response cache.
    cached: bool,
}

impl<I> Default for Merge<I> {
    fn default() -> Self {
        Merge {
            items: Vec::new(),
            attempts: Vec::new(),
            usage: Usage::default(),
            node_id: None,
            model: None,
            failures: Vec::new(),
            error: None,
            cached: true,
        }
    }
}

impl<I> Merge<I> {
    fn add(&mut self, job: Job, range: Range<usize>, result: JobResult<I>, partial_ok: bool) {
        match result {
            Ok((out, json)) => {
                self.cached &= out.cached;
                self.usage += out.usage;
                self.attempts.extend(out.attempts);
                self.node_id = out.node_id.or(self.node_id.take());
                self.model = Some(out.model);
                let count = out.value.len();
                let per_item = ground::per_item(out.spans, count);
                let jsons = item_jsons(json, count);
                for ((value, json), spans) in out.value.into_iter().zip(jsons).zip(per_item) {
                    let new =
                        Item::new(value, json, ground::shift(spans, range.start), range.start);
                    self.item(new);
                }
            }
            Err(error) => {
                self.cached = false;
                self.usage += error.usage();
                self.attempts.extend(error.attempts().iter().cloned());
                if partial_ok {
                    self.failures.push(ChunkFailure {
                        chunk: job.chunk,
                        pass: job.pass,
                        range,
                        error: Arc::new(error),
                    });
                } else if self.error.is_none() {
                    self.error = Some(error);
                }
            }
        }
    }

    /// Adds an item, or, when an item already kept is the same one, keeps whichever of
    /// the two has more of its values located.
    fn item(&mut self, new: Item<I>) {
        match self
            .items
            .iter_mut()
            .find(|kept| same_item(&kept.spans, &new.spans))
        {
            Some(kept) if located(&new.spans) > located(&kept.spans) => *kept = new,
            Some(_) => {}
            None => self.items.push(new),
        }
    }

    /// The merged result, and the merged list's JSON when every item's was kept.
    fn finish(mut self) -> JobResult<I> {
        if let Some(error) = self.error.take() {
            return Err(error.with_record(self.attempts, self.usage));
        }
        self.items.sort_by_key(|item| item.at);
        let mut spans = Vec::new();
        let mut values = Vec::with_capacity(self.items.len());
        let mut jsons = Some(Vec::with_capacity(self.items.len()));
        for (index, item) in self.items.into_iter().enumerate() {
            spans.extend(ground::place(item.spans, index, 0));
            values.push(item.value);
            jsons = jsons.zip(item.json).map(|(mut all, json)| {
                all.push(json);
                all
            });
        }
        let out = Extracted {
            value: values,
            usage: self.usage,
            attempts: self.attempts,
            node_id: self.node_id,
            model: self.model.unwrap_or_default(),
            spans,
            failed_chunks: self.failures,
            cached: self.cached,
        };
        Ok((out, jsons.map(Value::Array)))
    }
}

impl<I> Item<I> {
    /// An item of the chunk starting at `chunk_start`, placed at its first located byte.
    fn new(value: I, json: Option<Value>, spans: Vec<Span>, chunk_start: usize) -> Item<I> {
        let at = place(&spans, chunk_start);
        Item {
            value,
            json,
            spans,
            at,
        }
    }
}

/// Each of a chunk's `count` items' JSON, from the chunk's list's validated JSON: `None`
/// for each when it was not kept (or, which the pipeline never gives, is not a list of as
/// many items).
fn item_jsons(json: Option<Value>, count: usize) -> Vec<Option<Value>> {
    match json {
        Some(Value::Array(items)) if items.len() == count => items.into_iter().map(Some).collect(),
        _ => vec![None; count],
    }
}

/// Where an item of the chunk starting at `chunk_start` sits in the document: its first
/// located byte, else the chunk's.
fn place(spans: &[Span], chunk_start: usize) -> usize {
    spans
        .iter()
        .filter_map(|s| s.range.as_ref().map(|r| r.start))
        .min()
        .unwrap_or(chunk_start)
}

fn located(spans: &[Span]) -> usize {
    spans.iter().filter(|s| s.range.is_some()).count()
}

/// Whether two items (by their spans) are one item found twice: every leaf located in
/// both points at overlapping text, and there is at least one; or, when either has
/// nothing located, the same values at the same paths.
fn same_item(a: &[Span], b: &[Span]) -> bool {
    let mut shared = 0;
    for x in a {
        let Some(rx) = &x.range else { continue };
        for y in b.iter().filter(|y| y.path == x.path) {
            let Some(ry) = &y.range else { continue };
            if rx.start < ry.end && ry.start < rx.end {
                shared += 1;
            } else {
                return false;
            }
        }
    }
    if shared > 0 {
        return true;
    }
    if located(a) > 0 && located(b) > 0 {
        return false;
    }
    let values = |s: &[Span]| -> Vec<(String, String)> {
        s.iter()
            .map(|s| (s.path.clone(), s.value.clone()))
            .collect()
    };
    values(a) == values(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(path: &str, range: Option<Range<usize>>, value: &str) -> Span {
        Span {
            path: path.into(),
            value: value.into(),
            quality: if range.is_some() {
                crate::Match::Exact
            } else {
                crate::Match::NotFound
            },
            range,
        }
    }

    #[test]
    fn items_are_the_same_when_their_located_values_overlap() {
        let ada = vec![
            span("/name", Some(0..3), "Ada"),
            span("/age", Some(7..9), "36"),
        ];
        let ada_again = vec![span("/name", Some(0..3), "Ada"), span("/age", None, "36")];
        let bob = vec![
            span("/name", Some(20..23), "Bob"),
            span("/age", Some(7..9), "36"),
        ];
        assert!(same_item(&ada, &ada_again));
        assert!(!same_item(&ada, &bob), "a shared age is not enough");
        let lost = vec![span("/name", None, "Cy")];
        assert!(same_item(&lost, &lost.clone()));
        assert!(!same_item(&lost, &ada));
    }
}
