//! The bounded fuzzy stage: the passage of the folded text closest to a value, by edit
//! distance (Sellers' semi-global alignment: the value whole, the passage anywhere).
//!
//! The cost is the value's length times the length of the text searched, so the search is
//! bounded: values longer than [`MAX_VALUE`] bytes are not aligned, a value is searched
//! around its located siblings when it has any, and one grounding call aligns at most
//! [`CELLS_PER_CALL`] cells in all.

use std::ops::Range;

/// Longest folded value aligned; longer values are found exactly or not at all.
pub(crate) const MAX_VALUE: usize = 256;
/// Shortest folded value aligned: below this, a few edits make anything match.
pub(crate) const MIN_VALUE: usize = 4;
/// Lowest score (1 − edits / length) reported as [`Fuzzy`](crate::Match::Fuzzy).
pub(crate) const MIN_SCORE: f32 = 0.7;
/// Alignment cells (value bytes × text bytes) one grounding call may spend, about a
/// tenth of a second.
pub(crate) const CELLS_PER_CALL: usize = 64_000_000;

/// The best alignment found: the folded range and its score.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Aligned {
    pub(crate) range: Range<usize>,
    pub(crate) score: f32,
}

/// The passage of `text[window]` closest to `value`, if it scores at least
/// [`MIN_SCORE`]. Both are folded text; ranges are byte offsets into `text`.
pub(crate) fn align(value: &[u8], text: &[u8], window: Range<usize>) -> Option<Aligned> {
    let m = value.len();
    if m == 0 || window.is_empty() {
        return None;
    }
    // Row i: the cost of aligning value[..i] with a passage ending at the current text
    // byte, and where that passage starts.
    let mut prev: Vec<(u32, u32)> = (0..=m).map(|i| (i as u32, window.start as u32)).collect();
    let mut cur = prev.clone();
    let mut best: Option<(u32, Range<usize>)> = None;
    for j in window.clone() {
        cur[0] = (0, j as u32 + 1);
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
        if best.as_ref().is_none_or(|(b, _)| cost < *b) {
            best = Some((cost, start as usize..j + 1));
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let (cost, range) = best?;
    let score = 1.0 - cost as f32 / m as f32;
    (score >= MIN_SCORE && !range.is_empty()).then_some(Aligned { range, score })
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
    fn windows_bound_the_search() {
        let text = "ada lovelance here, and far away ada lovelace";
        let near = align(b"ada lovelace", text.as_bytes(), 0..19).unwrap();
        assert_eq!(&text[near.range], "ada lovelance");
    }
}
