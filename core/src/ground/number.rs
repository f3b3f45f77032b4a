//! The numbers written in a text, read with the document's separators.
//!
//! Which mark is the decimal point is decided once for the whole document, from the
//! numbers in it that can only be read one way: `1,200.50`, `1,234,567` and `3.5` say
//! the point is `.` (English), `1.200,50`, `1.234.567` and `0,5` say `,` (German). The
//! side with more such numbers wins; with none, or a tie, a number that could be read
//! either way (`1.234`, `1,234`) is only what its digits say as written (`1.234`), and
//! never a thousands reading. A mark repeated between groups that are not of three digits
//! (`1.7.3`, `10.0.0.1`, `12.03.2024`) makes a version, an address or a date, not a
//! number. A `-` or `−` (U+2212) in front makes it negative.

use std::ops::Range;

use super::words;

/// One number written in the text: where (its sign included), and its value when it is
/// a number at all.
pub(crate) struct Written {
    pub(crate) range: Range<usize>,
    pub(crate) value: Option<f64>,
}

/// The document's decimal point.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Point {
    /// `.`, with `,` between thousands.
    Dot,
    /// `,`, with `.` between thousands.
    Comma,
}

/// Separators of thousands that mean the same in every locale.
fn is_space_group(c: char) -> bool {
    matches!(c, '\'' | '_' | ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}')
}

/// Whether `c`, followed by `rest`, separates the digits of one number: a comma or point
/// before a digit; a space or apostrophe only before a group of exactly three digits (so
/// that `3 4` stays two numbers).
fn separates(c: char, rest: &str) -> bool {
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    match c {
        ',' | '.' => digits > 0,
        _ => is_space_group(c) && digits == 3,
    }
}

/// One run of digits and separators: the digits (and separators) and whether a sign
/// precedes them.
struct Run {
    range: Range<usize>,
    digits: Range<usize>,
    negative: bool,
}

/// Every number written in the text: a maximal run of ASCII digits and single separators
/// between digits, not inside a word, with a sign in front when it stands alone.
pub(crate) fn numbers(text: &str) -> Vec<Written> {
    let runs = runs(text);
    let point = point(runs.iter().map(|r| &text[r.digits.clone()]));
    runs.into_iter()
        .map(|run| {
            let value = read(&text[run.digits.clone()], point);
            Written {
                range: run.range,
                value: value.map(|v| if run.negative { -v } else { v }),
            }
        })
        .collect()
}

fn runs(text: &str) -> Vec<Run> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let inside_word = |i: usize| {
            text[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() && words::spaced(c))
        };
        if !bytes[i].is_ascii_digit() || inside_word(i) {
            i += 1;
            continue;
        }
        let end = run_end(text, i);
        let sign = text[..i]
            .chars()
            .next_back()
            .filter(|c| matches!(c, '-' | '\u{2212}'));
        let start = sign.map_or(i, |s| i - s.len_utf8());
        let negative = sign.is_some()
            && !text[..start]
                .chars()
                .next_back()
                .is_some_and(char::is_alphanumeric);
        out.push(Run {
            range: if negative { start..end } else { i..end },
            digits: i..end,
            negative,
        });
        i = end.max(i + 1);
    }
    out
}

/// The end of the run of digits and separators that starts at `i`.
fn run_end(text: &str, i: usize) -> usize {
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
    end
}

/// The document's decimal point, by a vote of the numbers that can only be read one way.
fn point<'a>(written: impl Iterator<Item = &'a str>) -> Option<Point> {
    let (mut dot, mut comma) = (0usize, 0usize);
    for number in written {
        match evidence(number) {
            Some(Point::Dot) => dot += 1,
            Some(Point::Comma) => comma += 1,
            None => {}
        }
    }
    match dot.cmp(&comma) {
        std::cmp::Ordering::Greater => Some(Point::Dot),
        std::cmp::Ordering::Less => Some(Point::Comma),
        std::cmp::Ordering::Equal => None,
    }
}

/// The decimal point a written number shows on its own, if it can be read one way only.
fn evidence(number: &str) -> Option<Point> {
    let marks: Vec<(usize, char)> = number
        .char_indices()
        .filter(|(_, c)| matches!(c, ',' | '.'))
        .collect();
    let &(last_at, last) = marks.last()?;
    let as_point = |c: char| if c == '.' { Point::Dot } else { Point::Comma };
    let reading = if marks.iter().any(|(_, c)| *c != last) {
        as_point(last)
    } else if marks.len() > 1 {
        // The same mark between groups: it separates thousands.
        if last == '.' {
            Point::Comma
        } else {
            Point::Dot
        }
    } else if number.len() - last_at - 1 != 3 {
        as_point(last)
    } else {
        return None;
    };
    read(number, Some(reading)).is_some().then_some(reading)
}

/// The value of a written number (its digits and separators) with `point` as the decimal
/// point; `None` when it is not a well-formed number that way. With no point known, a
/// number that shows its own is read with it, and `1.234` is `1.234`, `1,234` nothing.
fn read(number: &str, point: Option<Point>) -> Option<f64> {
    // Digits alone (most numbers) read the same under any point.
    if number.bytes().all(|b| b.is_ascii_digit()) {
        return number.parse().ok();
    }
    let point = match point.or_else(|| evidence(number)) {
        Some(point) => point,
        None if number.contains(',') => return None,
        None => Point::Dot,
    };
    let (decimal, group) = match point {
        Point::Dot => ('.', ','),
        Point::Comma => (',', '.'),
    };
    let (whole, fraction) = match number.split_once(decimal) {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (number, None),
    };
    if fraction.is_some_and(|f| !f.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let mut groups = whole.split(|c: char| c == group || is_space_group(c));
    let first = groups.next()?;
    let grouped = groups.clone().next().is_some();
    if grouped && !(1..=3).contains(&first.len()) || groups.clone().any(|g| g.len() != 3) {
        return None;
    }
    let digits: String = std::iter::once(first).chain(groups).collect();
    match fraction {
        Some(fraction) => format!("{digits}.{fraction}").parse().ok(),
        None => digits.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &str) -> Vec<(&str, Option<f64>)> {
        numbers(text)
            .into_iter()
            .map(|w| (&text[w.range], w.value))
            .collect()
    }

    #[test]
    fn numbers_and_their_readings() {
        assert_eq!(read_all("3 4").len(), 2);
        let text = "paid $1,234.50 on 12.03, -7 items, A36 and 1 234 567";
        assert_eq!(
            read_all(text),
            vec![
                ("1,234.50", Some(1234.5)),
                ("12.03", Some(12.03)),
                ("-7", Some(-7.0)),
                ("1 234 567", Some(1_234_567.0)),
            ]
        );
    }

    #[test]
    fn the_document_decides_the_decimal_point() {
        let english = "The fee rose to 1,200.50 dollars; the ratio was 1.234, count 1,200.";
        assert_eq!(
            read_all(english),
            vec![
                ("1,200.50", Some(1200.5)),
                ("1.234", Some(1.234)),
                ("1,200", Some(1200.0))
            ]
        );
        let german = "Der Preis beträgt 1.200,50 Euro, Menge 1.234 Stück, Dosis 0,5.";
        assert_eq!(
            read_all(german),
            vec![
                ("1.200,50", Some(1200.5)),
                ("1.234", Some(1234.0)),
                ("0,5", Some(0.5))
            ]
        );
        assert_eq!(read_all("Menge: 1.234"), vec![("1.234", Some(1.234))]);
        assert_eq!(read_all("Count: 1,234"), vec![("1,234", None)]);
    }

    #[test]
    fn versions_addresses_and_dates_are_not_numbers() {
        assert_eq!(read_all("version 1.7.3"), vec![("1.7.3", None)]);
        assert_eq!(read_all("host 10.0.0.1"), vec![("10.0.0.1", None)]);
        assert_eq!(read_all("am 12.03.2024"), vec![("12.03.2024", None)]);
        assert_eq!(
            read_all("Einwohner 1.234.567"),
            vec![("1.234.567", Some(1_234_567.0))]
        );
    }

    #[test]
    fn signs_and_neighbours() {
        assert_eq!(
            read_all("was \u{2212}5 °C"),
            vec![("\u{2212}5", Some(-5.0))]
        );
        assert_eq!(read_all("田中太郎さんは42歳"), vec![("42", Some(42.0))]);
        assert_eq!(
            read_all("pages 10-15"),
            vec![("10", Some(10.0)), ("15", Some(15.0))]
        );
        assert!(read_all("Seat A36").is_empty());
    }
}
