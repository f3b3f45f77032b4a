//! The source text as grounding reads it: a normalized copy that maps back to the
//! original bytes, and the numbers written in it.

use std::ops::Range;

/// The text folded for comparison: letters and digits lowercased and stripped of accents,
/// and every run of anything else (whitespace, punctuation, symbols) one space. Each byte
/// of the folded text knows the original char it came from.
pub(crate) struct Folded {
    pub(crate) text: String,
    /// For each byte of `text`, the byte range of the original char it came from.
    origin: Vec<(u32, u32)>,
}

impl Folded {
    pub(crate) fn new(source: &str) -> Folded {
        let mut folded = Folded {
            text: String::with_capacity(source.len()),
            origin: Vec::with_capacity(source.len()),
        };
        for (start, c) in source.char_indices() {
            let end = start + c.len_utf8();
            folded.push_char(c, start, end);
        }
        folded
    }

    fn push_char(&mut self, c: char, start: usize, end: usize) {
        let origin = (start as u32, end as u32);
        if c.is_alphanumeric() {
            crate::fold::fold(c, |folded| {
                self.text.push(folded);
                self.origin.resize(self.text.len(), origin);
            });
        } else if !self.text.is_empty() && !self.text.ends_with(' ') {
            self.text.push(' ');
            self.origin.push(origin);
        }
    }

    /// The original byte range of folded bytes `range` (non-empty), from the first char's
    /// start to the last char's end.
    pub(crate) fn original(&self, range: Range<usize>) -> Range<usize> {
        let first = self.origin[range.start];
        let last = self.origin[range.end - 1];
        first.0 as usize..last.1 as usize
    }

    /// The folded offset of an original byte offset: the first folded byte that comes
    /// from at or after it.
    pub(crate) fn folded_offset(&self, original: usize) -> usize {
        self.origin.partition_point(|o| (o.0 as usize) < original)
    }

    /// Whether `range` of the folded text starts and ends at word boundaries.
    pub(crate) fn is_word(&self, range: &Range<usize>) -> bool {
        is_whole(&self.text, range, &self.text[range.clone()])
    }
}

/// A leaf's text folded the same way, without the spaces at its ends.
pub(crate) fn fold(value: &str) -> String {
    let folded = Folded::new(value);
    folded.text.trim_end().to_owned()
}

/// Whether the chars either side of `range` in `text` leave the match a whole word: a
/// value that starts (ends) with a word char may not continue a word there.
pub(crate) fn is_whole(text: &str, range: &Range<usize>, value: &str) -> bool {
    let word = |c: Option<char>| c.is_some_and(joins_words);
    let goes_on_before =
        word(value.chars().next()) && word(text[..range.start].chars().next_back());
    let goes_on_after = word(value.chars().next_back()) && word(text[range.end..].chars().next());
    !goes_on_before && !goes_on_after
}

/// Whether a char is part of a word that spaces delimit. Scripts written without spaces
/// between words (Thai, Lao, and from the CJK radicals on: Han, kana, Hangul) are not:
/// any run of them may be a word.
fn joins_words(c: char) -> bool {
    let code = c as u32;
    c.is_alphanumeric() && !(0x0E00..0x0F00).contains(&code) && code < 0x2E80
}

/// One number written in the text: where, as written, and what it can mean.
pub(crate) struct Written {
    pub(crate) range: Range<usize>,
    /// One reading, or two when the separators are ambiguous (`1,234` or `1.234`).
    pub(crate) values: [Option<f64>; 2],
}

/// Separators a number may be written with between its digits.
fn is_separator(c: char) -> bool {
    matches!(
        c,
        ',' | '.' | '\'' | '_' | ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}'
    )
}

/// Whether `c`, followed by `rest`, separates the digits of one number: a comma or point
/// before a digit; a space or apostrophe only before a group of exactly three digits (so
/// that `3 4` stays two numbers).
fn separates(c: char, rest: &str) -> bool {
    if !is_separator(c) {
        return false;
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if matches!(c, ',' | '.') {
        digits > 0
    } else {
        digits == 3
    }
}

/// Every number written in the text: a maximal run of ASCII digits and single separators
/// between digits, with a `-` in front when it stands alone, not inside a word.
pub(crate) fn numbers(text: &str) -> Vec<Written> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit()
            || text[..i]
                .chars()
                .next_back()
                .is_some_and(char::is_alphanumeric)
        {
            i += 1;
            continue;
        }
        let mut end = i;
        let mut j = i;
        for (offset, c) in text[i..].char_indices() {
            let at = i + offset;
            if c.is_ascii_digit() {
                end = at + 1;
                j = at + 1;
            } else if at == j && separates(c, &text[at + c.len_utf8()..]) {
                j = at + c.len_utf8();
            } else {
                break;
            }
        }
        let negative = i > 0
            && bytes[i - 1] == b'-'
            && !text[..i - 1]
                .chars()
                .next_back()
                .is_some_and(char::is_alphanumeric);
        let start = if negative { i - 1 } else { i };
        out.push(Written {
            range: start..end,
            values: readings(&text[start..end]),
        });
        i = end.max(i + 1);
    }
    out
}

/// What a written number can mean. Two kinds of separator: the last is the decimal mark.
/// One kind, used once and followed by exactly three digits: thousands or decimals, both
/// read. One kind used more than once, or a space or apostrophe: thousands.
fn readings(written: &str) -> [Option<f64>; 2] {
    let separators: Vec<(usize, char)> = written
        .char_indices()
        .filter(|(_, c)| is_separator(*c))
        .collect();
    let digits_only = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_digit() || *c == '-')
            .collect()
    };
    let parse = |s: String| s.parse::<f64>().ok();
    let Some(&(last_at, last)) = separators.last() else {
        return [written.parse().ok(), None];
    };
    let decimal_at = |at: usize, c: char| {
        let (whole, fraction) = (&written[..at], &written[at + c.len_utf8()..]);
        parse(format!("{}.{}", digits_only(whole), digits_only(fraction)))
    };
    let kinds = separators.iter().filter(|(_, c)| *c != last).count();
    if kinds > 0 {
        return [decimal_at(last_at, last), None];
    }
    let thousands = parse(digits_only(written));
    if separators.len() > 1 || !matches!(last, ',' | '.') {
        return [thousands, None];
    }
    let fraction_digits = written.len() - last_at - 1;
    if fraction_digits == 3 {
        [thousands, decimal_at(last_at, last)]
    } else {
        [decimal_at(last_at, last), None]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_sets_case_accents_and_punctuation_aside() {
        let folded = Folded::new("  Zoë  O'Brien,\tCAFÉ!");
        assert_eq!(folded.text, "zoe o brien cafe ");
        // "cafe" maps back to "CAFÉ", the É included whole.
        let at = folded.text.find("cafe").unwrap();
        let back = folded.original(at..at + 4);
        assert_eq!(&"  Zoë  O'Brien,\tCAFÉ!"[back], "CAFÉ");
        assert_eq!(fold("--Ada  LOVELACE."), "ada lovelace");
    }

    #[test]
    fn whole_words_only() {
        let text = "Adam met Ada.";
        assert!(!is_whole(text, &(0..3), "Ada"));
        assert!(is_whole(text, &(9..12), "Ada"));
    }

    #[test]
    fn numbers_and_their_readings() {
        assert_eq!(numbers("3 4").len(), 2);
        let found = numbers("paid $1,234.50 on 12.03, -7 items, A36 and 1 234 567");
        let read: Vec<(&str, [Option<f64>; 2])> = found
            .iter()
            .map(|w| {
                (
                    &"paid $1,234.50 on 12.03, -7 items, A36 and 1 234 567"[w.range.clone()],
                    w.values,
                )
            })
            .collect();
        assert_eq!(
            read,
            vec![
                ("1,234.50", [Some(1234.5), None]),
                ("12.03", [Some(12.03), None]),
                ("-7", [Some(-7.0), None]),
                ("1 234 567", [Some(1_234_567.0), None]),
            ]
        );
        let ambiguous = numbers("1.234");
        assert_eq!(ambiguous[0].values, [Some(1234.0), Some(1.234)]);
        let european = numbers("1.234,5");
        assert_eq!(european[0].values, [Some(1234.5), None]);
    }
}
