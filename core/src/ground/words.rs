//! Where words begin and end, and which values must be matched as they are written.
//!
//! Word boundaries are Unicode's (UAX #29, through `unicode-segmentation`), with four
//! refinements: a run of one script written without spaces (Han, Hiragana, Thai, Lao,
//! Khmer, Myanmar) is one word, since no dictionary says where its words end (`京都` is
//! not found inside `東京都`); a Korean word may end before the particle attached to it
//! (`서울` in `서울에서`); a word ends before an apostrophe clitic (`Ada` in `Ada's`,
//! `İstanbul` in `İstanbul'da`); and a digit after a sign (`-5`, `−5`) does not start a
//! word, since the number is negative.

use std::ops::Range;

use unicode_normalization::char::is_combining_mark;
use unicode_segmentation::UnicodeSegmentation as _;

/// Bytes of text either side of a position segmented to tell whether it is a boundary.
const CONTEXT: usize = 64;

/// Whether `range` of `text` starts and ends on word boundaries.
pub(crate) fn is_word(text: &str, range: &Range<usize>) -> bool {
    starts_word(text, range.start) && ends_word(text, range.end)
}

/// `range` grown over the combining marks that follow it: a decomposed accent belongs to
/// the letter before it.
pub(crate) fn with_marks(text: &str, mut range: Range<usize>) -> Range<usize> {
    if let Some(rest) = text.get(range.end..) {
        range.end += rest
            .chars()
            .take_while(|c| is_combining_mark(*c))
            .map(char::len_utf8)
            .sum::<usize>();
    }
    range
}

fn starts_word(text: &str, at: usize) -> bool {
    let (Some(prev), Some(next)) = (before(text, at), after(text, at)) else {
        return true;
    };
    let signed = matches!(prev, '-' | '\u{2212}' | '+')
        && next.is_ascii_digit()
        && before(text, at - prev.len_utf8()).is_none_or(|c| !c.is_alphanumeric());
    !signed && !same_spaceless(prev, next) && boundary(text, at, prev, next)
}

fn ends_word(text: &str, at: usize) -> bool {
    let (Some(prev), Some(next)) = (before(text, at), after(text, at)) else {
        return true;
    };
    if same_spaceless(prev, next) {
        return false;
    }
    (is_hangul(prev) && is_hangul(next))
        || (prev.is_alphabetic() && clitic(&text[at..]))
        || boundary(text, at, prev, next)
}

fn before(text: &str, at: usize) -> Option<char> {
    text.get(..at)?.chars().next_back()
}

fn after(text: &str, at: usize) -> Option<char> {
    text.get(at..)?.chars().next()
}

/// Whether `rest` starts with an apostrophe and a clitic or suffix of one to three
/// letters (`'s`, `'ll`, `'da`), then the word ends. Not `'t`: `can't` is not `can`.
fn clitic(rest: &str) -> bool {
    let Some(tail) = rest.strip_prefix(['\'', '\u{2019}']) else {
        return false;
    };
    let letters = tail.chars().take_while(|c| c.is_alphabetic()).count();
    // The letters' bytes: a letter past ASCII is more than one (`'ও`).
    let end: usize = tail.chars().take(letters).map(char::len_utf8).sum();
    (1..=3).contains(&letters)
        && tail
            .chars()
            .nth(letters)
            .is_none_or(|c| !c.is_alphanumeric())
        && !tail[..end].eq_ignore_ascii_case("t")
}

/// Whether a UAX #29 word boundary falls at `at`, between `prev` and `next`. Plain ASCII
/// neighbours are decided directly; anything else by segmenting the text around `at`.
fn boundary(text: &str, at: usize, prev: char, next: char) -> bool {
    if prev.is_ascii() && next.is_ascii() {
        let outer = (
            before(text, at - prev.len_utf8()),
            after(text, at + next.len_utf8()),
        );
        if let Some(answer) = ascii_boundary(prev, next, outer) {
            return answer;
        }
    }
    let start = segment_start(text, at);
    let mut end = (at + CONTEXT).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    text[start..end]
        .split_word_bound_indices()
        .any(|(i, _)| start + i == at)
}

/// UAX #29 between two ASCII chars, when the chars around them (`outer`: the one
/// before `prev`, the one after `next`) are ASCII too or do not matter: letters, digits
/// and `_` hold together (WB5, WB8–WB10, WB13a/b); whitespace breaks (WB3a/b, CR LF
/// apart); `:`, `.`, `'` hold between letters (WB6/7) and `.`, `,`, `;`, `'` between
/// digits (WB11/12). `None` leaves it to segmentation.
fn ascii_boundary(prev: char, next: char, outer: (Option<char>, Option<char>)) -> Option<bool> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if word(prev) && word(next) {
        return Some(false);
    }
    if prev.is_ascii_whitespace() || next.is_ascii_whitespace() {
        return Some(!(prev == '\r' && next == '\n'));
    }
    let holds = |left: char, mid: char, right: Option<char>| -> Option<bool> {
        let right = right?;
        if !right.is_ascii() {
            return None;
        }
        let letters = left.is_ascii_alphabetic()
            && matches!(mid, ':' | '.' | '\'')
            && right.is_ascii_alphabetic();
        let digits = left.is_ascii_digit()
            && matches!(mid, '.' | ',' | ';' | '\'')
            && right.is_ascii_digit();
        Some(letters || digits)
    };
    let mid = |c: char| matches!(c, '.' | '\'' | ':' | ',' | ';');
    if mid(next) && prev.is_ascii_alphanumeric() {
        return holds(prev, next, outer.1).map(|held| !held);
    }
    if mid(prev) && next.is_ascii_alphanumeric() {
        let left = outer.0?;
        return (left.is_ascii()).then(|| !holds(left, prev, Some(next)).unwrap_or(false));
    }
    Some(true)
}

/// Where to start segmenting to judge `at`: just after the last whitespace within
/// [`CONTEXT`] bytes before it (a boundary whatever comes before), else that far back.
fn segment_start(text: &str, at: usize) -> usize {
    let mut start = at.saturating_sub(CONTEXT);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..at]
        .char_indices()
        .rfind(|(_, c)| c.is_whitespace())
        .map_or(start, |(i, c)| start + i + c.len_utf8())
}

/// The scripts written without spaces between words that UAX #29 splits char by char,
/// by Unicode block: no dependency gives a char's script, and these blocks are stable.
#[derive(PartialEq)]
enum Spaceless {
    Han,
    Hiragana,
    Thai,
    Lao,
    Khmer,
    Myanmar,
}

fn spaceless(c: char) -> Option<Spaceless> {
    Some(match c as u32 {
        0x3005 | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3FFFF => {
            Spaceless::Han
        }
        0x3041..=0x309F => Spaceless::Hiragana,
        0x0E00..=0x0E7F => Spaceless::Thai,
        0x0E80..=0x0EFF => Spaceless::Lao,
        0x1780..=0x17FF => Spaceless::Khmer,
        0x1000..=0x109F => Spaceless::Myanmar,
        _ => return None,
    })
}

fn same_spaceless(prev: char, next: char) -> bool {
    spaceless(prev).is_some_and(|s| spaceless(next) == Some(s))
}

fn is_hangul(c: char) -> bool {
    matches!(c as u32, 0xAC00..=0xD7A3 | 0x1100..=0x11FF | 0x3130..=0x318F)
}

/// Whether a letter belongs to a script that separates words with spaces (not one of
/// the [`Spaceless`] ones, nor Hangul, whose words carry particles).
pub(crate) fn spaced(c: char) -> bool {
    spaceless(c).is_none() && !is_hangul(c) && !(0x2E80..=0x33FF).contains(&(c as u32))
}

/// Punctuation that folding may set aside inside a value (`O'Brien`, `Jean-Luc`,
/// `Dr. King`, an email's `@`); any other char that is not a letter, digit, mark or
/// space is a symbol that makes a token what it is (`C++`, `$5`, `C#`, `12%`).
fn is_light(c: char) -> bool {
    matches!(
        c,
        '-' | '\''
            | '\u{2019}'
            | '.'
            | ','
            | ';'
            | ':'
            | '('
            | ')'
            | '"'
            | '\u{201C}'
            | '\u{201D}'
            | '\u{AB}'
            | '\u{BB}'
            | '\u{2010}'
            | '\u{2013}'
            | '\u{2014}'
            | '_'
            | '/'
            | '!'
            | '?'
            | '@'
            | '\u{3001}'
            | '\u{3002}'
            | '\u{FF0C}'
            | '\u{30FB}'
    )
}

/// Whether a value must be matched with its case and symbols as written: an acronym
/// (one token of one to four letters, all capitals: `US`, `IT`, `NASA`), a value with a
/// symbol (`C++`, `$5`), or a token that starts with punctuation (`.NET`). Folding would
/// remove what makes it that token (`US` is not `us`, `C++` is not `C`).
pub(crate) fn is_literal(value: &str) -> bool {
    let token = !value.contains(char::is_whitespace);
    let letters = value.chars().filter(|c| c.is_alphabetic());
    let acronym = token
        && (1..=4).contains(&letters.clone().count())
        && letters.clone().all(char::is_uppercase);
    let symbol = value.chars().any(|c| {
        !c.is_alphanumeric() && !c.is_whitespace() && !is_combining_mark(c) && !is_light(c)
    });
    let leading = token && value.chars().next().is_some_and(|c| !c.is_alphanumeric());
    acronym || symbol || leading
}

/// Whether the case of a one-word value agrees with its occurrence `range` in `text`: a
/// capitalised word (`May`, `Rose`, `Bill`) is a name, and the same word in lower case
/// (`may`, `rose`, `bill`) is a common word, another value. A word in lower case at the
/// start of a sentence would be capitalised, so lower case is never the start of one.
/// The other way round agrees: a value in lower case (`may`, `strasse`) may be a word
/// the text capitalises at a sentence start or as a noun (German capitalises every noun).
/// Values of several words, and words in capitals or caseless scripts, always agree.
pub(crate) fn case_agrees(value: &str, text: &str, range: &Range<usize>) -> bool {
    if value.trim().contains(char::is_whitespace) {
        return true;
    }
    capitalised(value) != Some(true) || capitalised(&text[range.clone()]) != Some(false)
}

/// `Some(true)` for a capitalised word, `Some(false)` for one in lower case, `None` for
/// anything else (capitals, mixed case, one letter, no case).
fn capitalised(word: &str) -> Option<bool> {
    let mut letters = word.chars().filter(|c| c.is_alphabetic());
    let first = letters.next()?;
    let mut rest = letters.peekable();
    rest.peek()?;
    let lower = rest.all(char::is_lowercase);
    (lower && (first.is_uppercase() || first.is_lowercase())).then(|| first.is_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, value: &str) -> bool {
        let start = text.find(value).unwrap();
        is_word(text, &(start..start + value.len()))
    }

    #[test]
    fn words_end_where_unicode_says() {
        assert!(!word("The Parisian café", "Paris"));
        assert!(word("The café in Paris.", "Paris"));
        assert!(!word("I can't come", "can"));
        assert!(word("Ada's notes", "Ada"));
        assert!(word("İstanbul'da bir gün", "İstanbul"));
        assert!(!word("O'Brien", "O"));
        assert!(!word("version 1.7.3", "7"));
        assert!(!word("ASP.NET", ".NET"));
    }

    #[test]
    fn a_clitic_past_ascii_is_read_by_its_chars_not_its_bytes() {
        // Three bytes, one letter: this used to slice inside the letter and panic.
        assert!(clitic("'ও "));
        assert!(clitic("'\u{f3}s"));
        assert!(!clitic("'t"));
    }

    #[test]
    fn the_ascii_shortcut_agrees_with_segmentation() {
        let text = "a.b a. 1.5 1, x:y 2;3 _a it's 'q' e.g. 3.x a\r\nb, c!d $5 (x)";
        for at in 1..text.len() {
            let (prev, next) = (before(text, at).unwrap(), after(text, at).unwrap());
            let outer = (before(text, at - 1), after(text, at + 1));
            let segmented = text.split_word_bound_indices().any(|(i, _)| i == at);
            if let Some(answer) = ascii_boundary(prev, next, outer) {
                assert_eq!(answer, segmented, "at {at} in {text:?}");
            }
        }
    }

    #[test]
    fn a_signed_digit_is_not_a_word_start() {
        assert!(!word("Change: -5 points", "5"));
        assert!(!word("It was \u{2212}5 °C", "5"));
        assert!(word("pages 10-15", "15"));
        assert!(word("It costs $5", "5"));
    }

    #[test]
    fn spaceless_runs_are_whole_words() {
        assert!(!word("我住在東京都。", "京都"));
        assert!(word("東京の田中さん", "東京"));
        assert!(word("東京の田中さん", "田中"));
        assert!(word("田中太郎さんは42歳", "42"));
        assert!(!word("เขามีไข้สูง", "ไข้"));
        assert!(!word("コーヒーを", "コー"));
        assert!(word("서울에서 만났다", "서울"));
        assert!(!word("대한민국의 수도", "한민"));
        assert!(!word("वह दिल्ली में", "दिल"));
    }

    #[test]
    fn acronyms_and_symbol_tokens_are_literal() {
        for literal in ["US", "IT", "NASA", "C++", ".NET", "$5", "C#", "12%", "U.S."] {
            assert!(is_literal(literal), "{literal}");
        }
        for loose in [
            "May",
            "UNESCO",
            "O'Brien",
            "Jean-Luc",
            "ada@example.com",
            "Dr. King",
            "42",
        ] {
            assert!(!is_literal(loose), "{loose}");
        }
    }

    #[test]
    fn a_capitalised_word_is_not_its_lower_case() {
        let text = "You may leave. May I? In May, rose.";
        let at = |n: usize| {
            let start = text.match_indices(['m', 'M']).nth(n).unwrap().0;
            start..start + 3
        };
        assert!(!case_agrees("May", text, &at(0)), "may, mid-sentence");
        assert!(case_agrees("may", text, &at(1)), "May, at a sentence start");
        assert!(case_agrees("May", text, &at(2)));
        assert!(
            case_agrees("strasse", "Die Straße", &(4..11)),
            "a German noun"
        );
        assert!(!case_agrees("Rose", text, &(31..35)));
        assert!(case_agrees("May", "IN MAY", &(3..6)), "capitals agree");
        assert!(case_agrees("ada lovelace", "Ada Lovelace", &(0..12)));
    }
}
