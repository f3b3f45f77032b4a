//! Long documents: [`Chunking`] cuts the text at paragraph, then sentence, boundaries with
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
use unicode_segmentation::UnicodeSegmentation as _;

use super::Extraction;
use crate::wire::Usage;
use crate::{Attempt, Error, Extract, Extracted, Result, Span, ground};

/// How a long text is cut for [`Extraction::chunked`]: chunks of at most `chars` chars,
/// each sharing about `overlap` chars with the one before.
///
/// Cuts fall between paragraphs when one ends in the second half of a chunk, else between
/// sentences; a sentence longer than a chunk is cut between words, and a word longer than
/// a chunk between chars. The overlap is made of whole sentences, so an item that sits on
/// a border is whole in at least one chunk when its sentence fits in the overlap.
///
/// # Examples
///
/// ```
/// let chunking = factum::Chunking::chars(4000).overlap(400);
/// let text = "One sentence. ".repeat(1000);
/// let chunks = chunking.split(&text);
/// assert!(chunks.len() > 3);
/// assert!(chunks.windows(2).all(|w| w[1].start < w[0].end), "neighbours overlap");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Chunking {
    chars: usize,
    overlap: usize,
    concurrency: usize,
}

impl Chunking {
    /// Chunks of at most `chars` chars (at least 1), without overlap.
    pub fn chars(chars: usize) -> Chunking {
        Chunking {
            chars: chars.max(1),
            overlap: 0,
            concurrency: super::batch::DEFAULT_CONCURRENCY,
        }
    }

    /// About this many chars of each chunk repeat the end of the one before (at most half
    /// a chunk).
    pub fn overlap(mut self, chars: usize) -> Chunking {
        self.overlap = chars.min(self.chars / 2);
        self
    }

    /// How many chunks are extracted at once (default: 8, the batch default).
    pub fn concurrency(mut self, chunks: usize) -> Chunking {
        self.concurrency = chunks.max(1);
        self
    }

    /// The byte ranges of `text` the chunks cover, in order, on char boundaries. A text
    /// that fits in one chunk is one range, the whole text.
    pub fn split(&self, text: &str) -> Vec<Range<usize>> {
        let units = units(text, self.chars);
        if units.is_empty() {
            return std::iter::once(0..text.len()).collect();
        }
        let mut chunks = Vec::new();
        let mut first = 0;
        loop {
            let last = self.last_unit(&units, first);
            chunks.push(units[first].range.start..units[last].range.end);
            if last + 1 == units.len() {
                return chunks;
            }
            first = self.next_first(&units, first, last);
        }
    }

    /// The last unit of the chunk that starts at unit `first`: as many as fit, ending at
    /// a paragraph break when one falls in the chunk's second half.
    fn last_unit(&self, units: &[Unit], first: usize) -> usize {
        let mut chars = 0;
        let mut last = first;
        let mut paragraph = None;
        for (i, unit) in units.iter().enumerate().skip(first) {
            if i > first && chars + unit.chars > self.chars {
                break;
            }
            chars += unit.chars;
            last = i;
            if unit.ends_paragraph && chars * 2 >= self.chars {
                paragraph = Some(i);
            }
        }
        match paragraph {
            Some(p) if last + 1 < units.len() => p,
            _ => last,
        }
    }

    /// The first unit of the next chunk: the whole units at the end of this one that fit
    /// in the overlap, always past `first` so that the chunks move on.
    fn next_first(&self, units: &[Unit], first: usize, last: usize) -> usize {
        let mut next = last + 1;
        let mut shared = 0;
        while next - 1 > first && shared + units[next - 1].chars <= self.overlap {
            shared += units[next - 1].chars;
            next -= 1;
        }
        next
    }
}

/// A piece of text no chunk cuts: a sentence, or a part of one too long for a chunk.
struct Unit {
    range: Range<usize>,
    chars: usize,
    /// Followed by a blank line (or the end): a chunk may end here first.
    ends_paragraph: bool,
}

/// The text as units of at most `max` chars.
fn units(text: &str, max: usize) -> Vec<Unit> {
    let sentences: Vec<(usize, &str)> = text.split_sentence_bound_indices().collect();
    let mut out = Vec::with_capacity(sentences.len());
    for (i, &(start, sentence)) in sentences.iter().enumerate() {
        // A paragraph ends at a line break followed by a blank line, and at the blank line.
        let blank = |s: &str| s.trim().is_empty() && s.contains('\n');
        let blank_next = sentences
            .get(i + 1)
            .is_none_or(|(_, next)| blank(sentence) || (sentence.ends_with('\n') && blank(next)));
        let pieces = cut(sentence, max);
        let count = pieces.len();
        for (k, piece) in pieces.into_iter().enumerate() {
            out.push(Unit {
                chars: sentence[piece.clone()].chars().count(),
                range: start + piece.start..start + piece.end,
                ends_paragraph: blank_next && k + 1 == count,
            });
        }
    }
    out
}

/// A sentence cut into pieces of at most `max` chars: between words where it can, between
/// chars where a word is longer than `max`.
fn cut(sentence: &str, max: usize) -> Vec<Range<usize>> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut chars = 0;
    let mut last_space = None;
    for (at, c) in sentence.char_indices() {
        if chars == max {
            let end = last_space.filter(|&s| s > start).unwrap_or(at);
            pieces.push(start..end);
            chars = sentence[end..at].chars().count();
            start = end;
            last_space = None;
        }
        chars += 1;
        if c.is_whitespace() {
            last_space = Some(at + c.len_utf8());
        }
    }
    if start < sentence.len() {
        pieces.push(start..sentence.len());
    }
    pieces
}

/// A chunk (or pass) that failed, when [`Extraction::partial_ok`] lets the others stand.
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

/// One chunk's job: which chunk, which pass.
#[derive(Clone, Copy)]
struct Job {
    chunk: usize,
    pass: usize,
}

/// Runs a chunked (or multi-pass) list extraction; see the module docs.
pub(super) fn run<I: Extract + Send>(
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
            .map_or(super::batch::DEFAULT_CONCURRENCY, |c| c.concurrency);
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

    fn texts(text: &str, chunking: Chunking) -> Vec<&str> {
        chunking.split(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn a_short_text_is_one_chunk() {
        assert_eq!(
            texts("Ada is 36.", Chunking::chars(100)),
            vec!["Ada is 36."]
        );
        assert_eq!(Chunking::chars(10).split(""), vec![0..0]);
    }

    #[test]
    fn chunks_end_between_sentences_and_overlap_by_whole_sentences() {
        let text = "Ada is 36. Bob is 41. Cy is 29. Di is 50. Ed is 12.";
        let chunks = texts(text, Chunking::chars(24).overlap(12));
        assert_eq!(
            chunks,
            vec![
                "Ada is 36. Bob is 41. ",
                "Bob is 41. Cy is 29. ",
                "Cy is 29. Di is 50. ",
                "Di is 50. Ed is 12."
            ]
        );
    }

    #[test]
    fn paragraph_breaks_are_preferred() {
        let text = "First one here.\n\nSecond para starts. It goes on.";
        let chunks = texts(text, Chunking::chars(30));
        assert_eq!(chunks[0], "First one here.\n\n");
    }

    #[test]
    fn long_sentences_and_words_are_cut_on_char_boundaries() {
        let text = "ééééééééééééééé short words here";
        for range in Chunking::chars(6).split(text) {
            assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
            assert!(text[range].chars().count() <= 6);
        }
        let whole: String = texts(text, Chunking::chars(6)).concat();
        assert_eq!(whole, text, "without overlap the chunks are the text");
    }

    #[test]
    fn the_overlap_never_stalls() {
        let text = "a. ".repeat(50);
        let chunks = Chunking::chars(3).overlap(100).split(&text);
        assert!(chunks.windows(2).all(|w| w[1].start > w[0].start));
        assert_eq!(chunks.last().unwrap().end, text.len());
    }

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
