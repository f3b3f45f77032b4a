//! The source text as grounding compares it: a folded copy that maps back to the original
//! bytes.

use std::ops::Range;

use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::char::is_combining_mark;

use crate::fold::Folder;

/// How a text is folded for comparison.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fold {
    /// Letters and digits folded by [`crate::fold`] (case, accents, compatibility
    /// forms), and every run of anything else (whitespace, punctuation, symbols) one
    /// space. `tones`: the text is Vietnamese ([`crate::fold::keeps_tones`]).
    Loose { tones: bool },
    /// Compatibility forms only (NFKD: fullwidth `ＡＢＣ` is `ABC`), case and symbols kept,
    /// every whitespace run one space: for values matched as written.
    Compatible,
}

/// The text folded for comparison. Each byte of the folded text knows the original char
/// it came from.
pub(crate) struct Folded {
    pub(crate) text: String,
    /// How it was folded.
    pub(crate) how: Fold,
    /// For each byte of `text`, the byte range of the original char it came from.
    origin: Vec<(u32, u32)>,
}

impl Folded {
    pub(crate) fn new(source: &str, how: Fold) -> Folded {
        let mut folded = Folded {
            text: String::with_capacity(source.len()),
            how,
            origin: Vec::with_capacity(source.len()),
        };
        let mut letters = Folder::new(matches!(how, Fold::Loose { tones: true }));
        for (start, c) in source.char_indices() {
            let origin = (start as u32, (start + c.len_utf8()) as u32);
            let word = match how {
                Fold::Loose { .. } => c.is_alphanumeric() || is_combining_mark(c),
                Fold::Compatible => !c.is_whitespace(),
            };
            if !word {
                if !folded.text.is_empty() && !folded.text.ends_with(' ') {
                    folded.text.push(' ');
                    folded.origin.push(origin);
                }
            } else if matches!(how, Fold::Compatible) {
                std::iter::once(c)
                    .nfkd()
                    .for_each(|f| folded.push(f, origin));
            } else {
                letters.fold(c, |f| folded.push(f, origin));
            }
        }
        folded
    }

    fn push(&mut self, c: char, origin: (u32, u32)) {
        self.text.push(c);
        self.origin.resize(self.text.len(), origin);
    }

    /// The original byte range of folded bytes `range` (non-empty), from the first char's
    /// start to the last char's end.
    pub(crate) fn original(&self, range: Range<usize>) -> Range<usize> {
        let first = self.origin[range.start];
        let last = self.origin[range.end - 1];
        first.0 as usize..last.1 as usize
    }

    /// Whether folded bytes `range` cover whole original chars, and no combining mark
    /// follows them: `s` is not found in the `ss` of `ß`, nor `ma` in the `mả` of a
    /// Vietnamese text.
    pub(crate) fn whole_chars(&self, range: &Range<usize>) -> bool {
        let origin = |i: usize| self.origin.get(i).copied();
        let starts = range.start == 0 || origin(range.start - 1) != origin(range.start);
        let ends = range.end >= self.origin.len() || origin(range.end - 1) != origin(range.end);
        let marked = self.text[range.end..]
            .chars()
            .next()
            .is_some_and(is_combining_mark);
        starts && ends && !marked
    }

    /// The folded offset of an original byte offset: the first folded byte that comes
    /// from at or after it.
    pub(crate) fn folded_offset(&self, original: usize) -> usize {
        self.origin.partition_point(|o| (o.0 as usize) < original)
    }
}

/// A leaf's text folded the same way, without the spaces at its ends.
pub(crate) fn fold(value: &str, how: Fold) -> String {
    let folded = Folded::new(value, how);
    folded.text.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOOSE: Fold = Fold::Loose { tones: false };

    #[test]
    fn folding_sets_case_accents_and_punctuation_aside() {
        let folded = Folded::new("  Zoë  O'Brien,\tCAFÉ!", LOOSE);
        assert_eq!(folded.text, "zoe o brien cafe ");
        // "cafe" maps back to "CAFÉ", the É included whole.
        let at = folded.text.find("cafe").unwrap();
        let back = folded.original(at..at + 4);
        assert_eq!(&"  Zoë  O'Brien,\tCAFÉ!"[back], "CAFÉ");
        assert_eq!(fold("--Ada  LOVELACE.", LOOSE), "ada lovelace");
    }

    #[test]
    fn a_match_covers_whole_chars() {
        let folded = Folded::new("Straße", LOOSE);
        assert!(!folded.whole_chars(&(4..5)), "one s of ß");
        assert!(folded.whole_chars(&(0..7)));
        let vietnamese = Folded::new("thăm mả", Fold::Loose { tones: true });
        let at = vietnamese.text.find("ma").unwrap();
        assert!(
            !vietnamese.whole_chars(&(at..at + 2)),
            "the hook above follows"
        );
    }

    #[test]
    fn compatible_folding_keeps_case_and_symbols() {
        assert_eq!(fold("ＡＢＣ　Ｃ＋＋", Fold::Compatible), "ABC C++");
    }
}
