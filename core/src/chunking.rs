//! [`Chunking`]: how a long text is cut into overlapping chunks, at paragraph, then
//! sentence, boundaries. A pure text splitter: the chunk runner (`batch/chunk.rs`) extracts
//! from the pieces.

use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation as _;

/// How a long text is cut for [`Extraction::chunked`](crate::Extraction::chunked): chunks of at most `chars` chars,
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
    /// `None`: the batch engine's default.
    pub(crate) concurrency: Option<usize>,
}

impl Chunking {
    /// Chunks of at most `chars` chars (at least 1), without overlap.
    pub fn chars(chars: usize) -> Chunking {
        Chunking {
            chars: chars.max(1),
            overlap: 0,
            concurrency: None,
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
        self.concurrency = Some(chunks.max(1));
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

    proptest::proptest! {
        /// Any text, any sizes: the chunks are non-empty ranges on char boundaries, in
        /// order, of at most `chars` chars, always moving on, covering the whole text; next
        /// to each other they overlap by at most the overlap asked for, and without overlap
        /// they are the text exactly.
        #[test]
        fn chunks_cover_the_text_on_char_boundaries_and_overlap_at_most_as_asked(
            text in "(\\PC{0,20}[.!?]? ?\n{0,2}){0,30}",
            chars in 1usize..64,
            overlap in 0usize..64,
        ) {
            let chunking = Chunking::chars(chars).overlap(overlap);
            let chunks = chunking.split(&text);
            proptest::prop_assert_eq!(chunks.first().map(|r| r.start), Some(0));
            proptest::prop_assert_eq!(chunks.last().map(|r| r.end), Some(text.len()));
            for range in &chunks {
                proptest::prop_assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
                proptest::prop_assert!(text[range.clone()].chars().count() <= chars);
                proptest::prop_assert!(!range.is_empty() || text.is_empty());
            }
            for pair in chunks.windows(2) {
                proptest::prop_assert!(pair[1].start > pair[0].start && pair[1].start <= pair[0].end);
                let shared = text[pair[1].start..pair[0].end].chars().count();
                proptest::prop_assert!(shared <= overlap.min(chars / 2), "{shared} shared");
            }
            let without: String = Chunking::chars(chars).split(&text).into_iter().map(|r| &text[r]).collect();
            proptest::prop_assert_eq!(without, text);
        }
    }
}
