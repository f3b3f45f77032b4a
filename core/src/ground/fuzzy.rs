//! The bounded fuzzy stage: the passage of the folded text closest to a value, by edit
//! distance (Sellers' semi-global alignment: the value whole, the passage starting and
//! ending on word boundaries, so `Paris` is never half of `Parisian`).
//!
//! A passage scores 1 − edits / length (bytes of the folded value). Below [`MIN_SCORE`]
//! the value is not found, and so it is when a word of the value, set against the word
//! in its place (value and passage having as many words), scores below it: one letter
//! changed in a short word makes another word (`John` is not `Joan`, 0.75). The cost is the value's length times the length of the text
//! searched, so the search is bounded: values longer than [`MAX_VALUE`] bytes are not
//! aligned, a value is searched around its located siblings when it has any, and one
//! grounding call aligns at most [`CELLS_PER_CALL`] cells in all.

use std::ops::Range;

/// Longest folded value aligned; longer values are found exactly or not at all.
pub(crate) const MAX_VALUE: usize = 256;
/// Shortest folded value aligned: below this, one edit already scores under
/// [`MIN_SCORE`].
pub(crate) const MIN_VALUE: usize = 5;
/// Lowest score reported as [`Fuzzy`](crate::Match::Fuzzy): one edit in five letters.
/// True variants (a typo, a plural, a spelling) score at least this; other words that
/// look alike (`Austria` for `Australia`, 0.78; `Joan` for `John`, 0.75) score below.
pub(crate) const MIN_SCORE: f32 = 0.8;
/// Alignment cells (value bytes × text bytes) one grounding call may spend, about a
/// tenth of a second.
pub(crate) const CELLS_PER_CALL: usize = 64_000_000;

/// A cost no passage reaches: a passage may not start off a word boundary.
const BARRED: u32 = u32::MAX / 4;

/// The best alignment found: the folded range and its score.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Aligned {
    pub(crate) range: Range<usize>,
    pub(crate) score: f32,
}

/// Whether a passage of folded `text` may start (end) at byte `at`: folded words are
/// separated by single spaces.
fn starts(text: &[u8], at: usize) -> bool {
    at == 0 || text[at - 1] == b' '
}

fn ends(text: &[u8], at: usize) -> bool {
    at == text.len() || text[at] == b' '
}

/// The word-bounded passage of `text[window]` closest to `value`, if it scores at least
/// [`MIN_SCORE`]. Both are folded text; ranges are byte offsets into `text`.
pub(crate) fn align(value: &[u8], text: &[u8], window: Range<usize>) -> Option<Aligned> {
    let m = value.len();
    if m == 0 || window.is_empty() || window.end > text.len() {
        return None;
    }
    // Row i: the cost of aligning value[..i] with a passage ending at the current text
    // byte, and where that passage starts.
    let open = if starts(text, window.start) {
        0
    } else {
        BARRED
    };
    let mut prev: Vec<(u32, u32)> = (0..=m)
        .map(|i| (open + i as u32, window.start as u32))
        .collect();
    let mut cur = prev.clone();
    let mut best: Option<(u32, Range<usize>)> = None;
    for j in window.clone() {
        cur[0] = if starts(text, j + 1) {
            (0, j as u32 + 1)
        } else {
            (prev[0].0.saturating_add(1), prev[0].1)
        };
        for i in 1..=m {
            let diagonal = prev[i - 1].0 + u32::from(value[i - 1] != text[j]);
            let skip_text = prev[i].0 + 1;
            let skip_value = cur[i - 1].0 + 1;
            cur[i] = if diagonal <= skip_text && diagonal <= skip_value {
                (diagonal, prev[i - 1].1)
            } else if skip_text <= skip_value {
                (skip_text, prev[i].1)
            } else {
                (skip_value, cur[i - 1].1)
            };
        }
        let (cost, start) = cur[m];
        if ends(text, j + 1) && best.as_ref().is_none_or(|(b, _)| cost < *b) {
            best = Some((cost, start as usize..j + 1));
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let (cost, range) = best?;
    scored(value, text, cost, range)
}

/// The passage `range` of `text` aligned with `value` at `cost`, if it scores at least
/// [`MIN_SCORE`], and each of its words too.
fn scored(value: &[u8], text: &[u8], cost: u32, range: Range<usize>) -> Option<Aligned> {
    let passage = std::str::from_utf8(text.get(range.clone())?).ok()?;
    let value_text = std::str::from_utf8(value).ok()?;
    let score = 1.0 - cost as f32 / value.len() as f32;
    let words = per_word(value_text, passage);
    (score >= MIN_SCORE && words >= MIN_SCORE && !range.is_empty())
        .then_some(Aligned { range, score })
}

/// The lowest score of a word of `value` against the word of `passage` in its place,
/// when both have as many words; 1 otherwise.
fn per_word(value: &str, passage: &str) -> f32 {
    let (ours, theirs) = (value.split(' '), passage.trim().split(' '));
    if ours.clone().count() != theirs.clone().count() {
        return 1.0;
    }
    ours.zip(theirs)
        .map(|(a, b)| {
            let longest = a.chars().count().max(b.chars().count()).max(1);
            1.0 - edits(a, b) as f32 / longest as f32
        })
        .fold(1.0, f32::min)
}

/// The edit distance between two words, by char.
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(value: &str, text: &str) -> Option<(String, f32)> {
        align(value.as_bytes(), text.as_bytes(), 0..text.len())
            .map(|a| (text[a.range].to_owned(), a.score))
    }

    #[test]
    fn a_typo_is_found_with_its_score() {
        let (passage, score) = find("ada lovelace", "we met ada lovelance at noon").unwrap();
        assert_eq!(passage, "ada lovelance");
        assert!((score - (1.0 - 1.0 / 12.0)).abs() < 1e-6, "{score}");
    }

    #[test]
    fn an_exact_passage_scores_one() {
        let (passage, score) = find("noon", "we met at noon").unwrap();
        assert_eq!((passage.as_str(), score), ("noon", 1.0));
    }

    #[test]
    fn an_unrelated_value_is_not_found() {
        assert_eq!(find("grace hopper", "we met ada lovelace at noon"), None);
    }

    #[test]
    fn passages_are_whole_words() {
        assert_eq!(find("paris", "the parisian cafe"), None);
        let (passage, score) = find("heart attack", "two heart attacks since").unwrap();
        assert_eq!(passage, "heart attacks");
        assert!(score >= MIN_SCORE, "{score}");
    }

    #[test]
    fn look_alike_words_score_below_the_threshold() {
        assert_eq!(find("australia", "we flew to austria"), None);
        assert_eq!(find("john smith", "joan smith signed"), None);
        assert!(per_word("john smith", "joan smith") < MIN_SCORE);
        assert!(per_word("jonathan miles", "jonathon miles") >= MIN_SCORE);
    }

    #[test]
    fn windows_bound_the_search() {
        let text = "ada lovelance here, and far away ada lovelace";
        let near = align(b"ada lovelace", text.as_bytes(), 0..19).unwrap();
        assert_eq!(&text[near.range], "ada lovelance");
    }
}
