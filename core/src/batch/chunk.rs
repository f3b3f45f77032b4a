//! Long documents: [`Chunking`](crate::Chunking) cuts the text at paragraph, then sentence, boundaries with
//! an overlap; each chunk (and each pass) is one extraction of the list, run through the
//! batch engine with its concurrency, limits and backoff; the lists are merged, an item
//! found in two chunks kept once, and every span moved into the whole document.
//!
//! This is a driver of the pipeline, not a copy: each chunk's extraction is exactly what
//! `send()` runs on a short text.

use std::ops::Range;
use std::sync::Arc;

use futures_util::StreamExt as _;
use futures_util::future::BoxFuture;

use crate::client::extraction::Extraction;
use crate::wire::Usage;
use crate::{Attempt, ChunkFailure, Chunking, Error, Extract, Extracted, Result, Span, ground};

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
    /// is set. Chunking applies to [`send`](Extraction::send); `stream()` and
    /// `stream_items()` of a chunked extraction yield one `Config` error.
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
        self.runner = Some(run::<I>);
        self
    }

    /// Runs the extraction `passes` times (on each chunk, when chunked) and merges the
    /// lists, for recall: an item any pass finds is kept, once. Passes run at the
    /// extraction's temperature; with 0 a deterministic server repeats itself.
    pub fn passes(mut self, passes: u32) -> Extraction<Vec<I>> {
        self.plan.passes = passes.max(1);
        self.runner = Some(run::<I>);
        self
    }

    /// Lets a chunked or multi-pass extraction succeed when some chunks fail: their errors
    /// are in [`Extracted::failed_chunks`], their attempts in `attempts`.
    pub fn partial_ok(mut self) -> Extraction<Vec<I>> {
        self.plan.partial_ok = true;
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

/// Runs a chunked (or multi-pass) list extraction; see the module docs.
fn run<I: Extract + Send>(
    extraction: Extraction<Vec<I>>,
) -> BoxFuture<'static, Result<Extracted<Vec<I>>>> {
    Box::pin(async move {
        let plan = extraction.plan;
        let chunks = match plan.chunking {
            Some(chunking) => chunking.split(&extraction.text),
            None => std::iter::once(0..extraction.text.len()).collect(),
        };
        let concurrency = plan
            .chunking
            .and_then(|c| c.concurrency)
            .unwrap_or(super::DEFAULT_CONCURRENCY);
        let jobs: Vec<Job> = (0..plan.passes.max(1) as usize)
            .flat_map(|pass| (0..chunks.len()).map(move |chunk| Job { chunk, pass }))
            .collect();
        let children: Vec<Extraction<Vec<I>>> = jobs
            .iter()
            .map(|job| extraction.fork(extraction.text[chunks[job.chunk].clone()].to_owned()))
            .collect();
        let mut results: Vec<(usize, Result<Extracted<Vec<I>>>)> = extraction
            .client
            .batch(children)
            .concurrency(concurrency)
            .stream()
            .collect()
            .await;
        results.sort_by_key(|(i, _)| *i);
        let mut merge = Merge::default();
        for (i, result) in results {
            let job = jobs[i];
            merge.add(job, chunks[job.chunk].clone(), result, plan.partial_ok);
        }
        merge.finish()
    })
}

/// One item found in a chunk: its value and its spans, ranges in the whole document and
/// paths relative to the item.
struct Item<I> {
    value: I,
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
        }
    }
}

impl<I> Merge<I> {
    fn add(
        &mut self,
        job: Job,
        range: Range<usize>,
        result: Result<Extracted<Vec<I>>>,
        partial_ok: bool,
    ) {
        match result {
            Ok(out) => {
                self.usage += out.usage;
                self.attempts.extend(out.attempts);
                self.node_id = out.node_id.or(self.node_id.take());
                self.model = Some(out.model);
                let count = out.value.len();
                let per_item = ground::per_item(out.spans, count);
                for (value, spans) in out.value.into_iter().zip(per_item) {
                    self.item(value, ground::shift(spans, range.start), range.start);
                }
            }
            Err(error) => {
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
    fn item(&mut self, value: I, spans: Vec<Span>, chunk_start: usize) {
        let at = spans
            .iter()
            .filter_map(|s| s.range.as_ref().map(|r| r.start))
            .min()
            .unwrap_or(chunk_start);
        let new = Item { value, spans, at };
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

    fn finish(mut self) -> Result<Extracted<Vec<I>>> {
        if let Some(error) = self.error.take() {
            return Err(error.with_record(self.attempts, self.usage));
        }
        self.items.sort_by_key(|item| item.at);
        let mut spans = Vec::new();
        let mut values = Vec::with_capacity(self.items.len());
        for (index, item) in self.items.into_iter().enumerate() {
            spans.extend(ground::place(item.spans, index, 0));
            values.push(item.value);
        }
        Ok(Extracted {
            value: values,
            usage: self.usage,
            attempts: self.attempts,
            node_id: self.node_id,
            model: self.model.unwrap_or_default(),
            spans,
            failed_chunks: self.failures,
        })
    }
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
