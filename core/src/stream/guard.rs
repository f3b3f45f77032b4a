//! The runaway guard: small models loop (the same line or list item again and again, a
//! string that never ends), and a streamed reply can be cut after a few hundred tokens
//! instead of at `max_tokens`. [`Runaway`] sets the limits; the crate-internal [`Guard`]
//! watches a reply as it streams.

use serde_json::Value;

use super::StreamParser;
use crate::json;

/// When a streamed reply is cut before the server finishes.
///
/// - **Trailing text:** the value has closed and more than `max_trailing` bytes follow.
///   The value is kept, and judged as usual.
/// - **A string that never ends:** it outgrows its schema's `maxLength`, or `max_string`.
/// - **Repeats:** the same list item, or the same line, `max_repeats` times in a row.
/// - **Blank runs:** 256 bytes of whitespace in a row outside any string (a grammar
///   allows JSON whitespace anywhere, and small models fall into writing newlines until
///   `max_tokens`). Cut with the repeats, and off with them.
///
/// The last two are recorded as a truncation (the attempt's `finish_reason` is
/// `"factum:runaway"`), so the usual re-ask policy handles them. When the last attempt
/// allowed loops too and is cut inside a list, that list's whole items are kept, each run
/// of repeats once, with a [`CutList`](crate::parse::RepairKind::CutList) repair (never
/// at [`Leniency::Exact`](crate::Leniency::Exact)).
///
/// # Examples
///
/// ```
/// let guard = factum::Runaway::default().max_string(4096).max_repeats(8);
/// # let _ = guard;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Runaway {
    max_trailing: usize,
    max_string: usize,
    max_repeats: usize,
}

impl Default for Runaway {
    /// 256 trailing bytes, strings of 32 KiB, 16 repeats.
    fn default() -> Runaway {
        Runaway {
            max_trailing: 256,
            max_string: 32 * 1024,
            max_repeats: 16,
        }
    }
}

impl Runaway {
    /// No cuts: every reply streams until the server ends it.
    pub fn off() -> Runaway {
        Runaway {
            max_trailing: usize::MAX,
            max_string: usize::MAX,
            max_repeats: usize::MAX,
        }
    }

    /// Cut once this many bytes follow the closed value; `None`: never.
    pub fn max_trailing(mut self, bytes: impl Into<Option<usize>>) -> Runaway {
        self.max_trailing = bytes.into().unwrap_or(usize::MAX);
        self
    }

    /// Cut a string longer than this many bytes, whatever its schema allows; `None`: never.
    pub fn max_string(mut self, bytes: impl Into<Option<usize>>) -> Runaway {
        self.max_string = bytes.into().unwrap_or(usize::MAX);
        self
    }

    /// Cut after this many identical list items, or identical lines, in a row (at least
    /// 2); `None`: never.
    pub fn max_repeats(mut self, count: impl Into<Option<usize>>) -> Runaway {
        self.max_repeats = count.into().map_or(usize::MAX, |n| n.max(2));
        self
    }
}

/// Why the guard cut a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cut {
    /// The value closed and text kept coming: keep the value.
    Trailing,
    /// The root list went past the extraction's `max_items`: the text up to the item over
    /// the bound is judged, so the bound's violation is re-asked (or, at
    /// `Leniency::Lenient`, the extra items dropped as a recorded repair).
    TooMany,
    /// A loop: record a truncation.
    Runaway,
}

impl Cut {
    /// The `finish_reason` recorded on the attempt.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Cut::Trailing => "factum:trailing-text",
            Cut::Runaway => RUNAWAY,
            Cut::TooMany => TOO_MANY,
        }
    }
}

/// The `finish_reason` of a reply cut as a runaway; it reads as a truncation.
pub(crate) const RUNAWAY: &str = "factum:runaway";

/// The `finish_reason` of a reply cut when its root list went past `max_items`.
pub(crate) const TOO_MANY: &str = "factum:max-items";

/// Longest unit a cut reply's tail is checked for repeating, in bytes.
const MAX_LOOP_UNIT: usize = 128;
/// Least number of bytes a repeating tail covers before the reply counts as a loop.
const MIN_LOOP_BYTES: usize = 256;
/// Least number of times the unit repeats before the reply counts as a loop.
const MIN_LOOP_REPEATS: usize = 8;
/// How much of an open string's tail the guard looks at for a loop, in bytes.
const LOOP_WINDOW: usize = 2048;
/// How many more bytes arrive before the guard looks again.
const LOOP_STRIDE: usize = 64;
/// Most whitespace in a row outside a string before the reply counts as a loop: far more
/// than any pretty-printer's indentation.
const MAX_BLANK_RUN: usize = 256;

/// The unit of text a cut reply ends by repeating (`johan_` in `"johan_johan_johan_jo`),
/// taken where its run starts; `None` when the tail does not repeat one unit of at most
/// [`MAX_LOOP_UNIT`] bytes at least [`MIN_LOOP_REPEATS`] times over [`MIN_LOOP_BYTES`].
pub(crate) fn looping(raw: &str) -> Option<&str> {
    let bytes = raw.as_bytes();
    (1..=MAX_LOOP_UNIT).find_map(|period| {
        let run = (period * MIN_LOOP_REPEATS).max(MIN_LOOP_BYTES);
        let tail = bytes.len().checked_sub(run)?;
        if (tail..bytes.len() - period).any(|i| bytes[i] != bytes[i + period]) {
            return None;
        }
        let mut start = tail;
        while start > 0 && bytes[start - 1] == bytes[start - 1 + period] {
            start -= 1;
        }
        raw.get(start..start + period)
    })
}

/// Whether a cut reply's tail repeats one unit once each run of digits is read as one
/// digit: a model counting (`"… at 19"}, {"name": "… at 29"}, …` to the token limit) loops
/// as surely as one that repeats itself, though no two of its items are the same. For
/// judging a reply already cut only: the live guard never cuts on it, since a real list of
/// numbered things reads the same way while it is being written.
pub(crate) fn looping_but_for_numbers(raw: &str) -> bool {
    let mut folded = String::with_capacity(raw.len());
    let mut in_number = false;
    for c in raw.chars() {
        let digit = c.is_ascii_digit();
        if !(digit && in_number) {
            folded.push(if digit { '0' } else { c });
        }
        in_number = digit;
    }
    looping(&folded).is_some()
}

/// Watches one streamed reply.
#[derive(Debug)]
pub(crate) struct Guard {
    limits: Runaway,
    /// The string whose limit was looked up (its start), and that limit.
    string: Option<(usize, usize)>,
    /// Items already compared.
    items_seen: usize,
    /// Line repeats: where the unread text starts, how far it was searched for a newline
    /// (so a long line is scanned once, not on every delta), the last line, and its run.
    line_from: usize,
    line_scanned: usize,
    last_line: String,
    line_run: usize,
    /// The bound on the root list's items, and how many item spans were looked at.
    max_items: Option<usize>,
    items_counted: usize,
    /// How much text there was when an open string was last looked at for a loop.
    loop_checked: usize,
}

impl Guard {
    pub(crate) fn new(limits: Runaway, max_items: Option<usize>) -> Guard {
        Guard {
            max_items,
            items_counted: 0,
            loop_checked: 0,
            limits,
            string: None,
            items_seen: 0,
            line_from: 0,
            line_scanned: 0,
            last_line: String::new(),
            line_run: 0,
        }
    }

    /// Whether a reply that came whole, `text`, passes the guard without being parsed for
    /// it: the text is one JSON object or array, and no more than `max_trailing` bytes of
    /// whitespace follow it. Fed to the parser, such a text closes its value, and once the
    /// value is closed [`check`](Guard::check) looks at the trailing bytes only; so the
    /// guard could not cut it, and `send()` skips the parse (a whole reply is one
    /// delta: the parse would run once, for nothing).
    pub(crate) fn passes(&self, text: &str) -> bool {
        let value = text.trim_end();
        let opens = matches!(value.trim_start().as_bytes().first(), Some(b'{' | b'['));
        opens
            && text.len() - value.len() <= self.limits.max_trailing
            && serde_json::from_str::<serde::de::IgnoredAny>(value).is_ok()
    }

    /// Whether to cut now, after `text` (the whole reply so far) was fed to `parser`.
    /// `schema` is the schema the value is asked in (the envelope included).
    pub(crate) fn check(
        &mut self,
        parser: &StreamParser,
        text: &str,
        schema: &Value,
    ) -> Option<Cut> {
        if let Some(end) = parser.closed_at() {
            return (text.len().saturating_sub(end) > self.limits.max_trailing)
                .then_some(Cut::Trailing);
        }
        if self.too_many_items(parser) {
            return Some(Cut::TooMany);
        }
        (self.string_too_long(parser, schema)
            || self.blank_run(parser, text)
            || self.string_loops(parser, text)
            || self.items_repeat(parser, text)
            || self.lines_repeat(text))
        .then_some(Cut::Runaway)
    }

    /// Whether an item of the root list (bare, or in its envelope one level down) closed
    /// past the bound.
    fn too_many_items(&mut self, parser: &StreamParser) -> bool {
        let Some(max) = self.max_items else {
            return false;
        };
        let items = parser.items();
        let new = &items[self.items_counted.min(items.len())..];
        self.items_counted = items.len();
        let depth = match parser.snapshot_ref() {
            Some(super::Node::Array { .. }) => 1,
            Some(_) => 2,
            None => return false,
        };
        new.iter().any(|s| s.depth == depth && s.index >= max)
    }

    fn string_too_long(&mut self, parser: &StreamParser, schema: &Value) -> bool {
        let Some((start, len)) = parser.open_string() else {
            return false;
        };
        let limit = match self.string {
            Some((at, limit)) if at == start => limit,
            _ => {
                let path: Vec<Option<String>> =
                    parser.path().map(|step| step.map(str::to_owned)).collect();
                let limit = max_length(schema, &path)
                    // `maxLength` counts characters; a character is at most four bytes.
                    .map_or(self.limits.max_string, |n| n.saturating_mul(4))
                    .min(self.limits.max_string);
                self.string = Some((start, limit));
                limit
            }
        };
        len > limit
    }

    /// Whether the string being written ends by repeating one unit (`of note of note …`):
    /// a loop inside one string has no items or lines to repeat. Its tail is looked at
    /// each time [`LOOP_STRIDE`] more bytes arrived.
    fn string_loops(&mut self, parser: &StreamParser, text: &str) -> bool {
        let off = self.limits.max_repeats == usize::MAX;
        if off || parser.open_string().is_none() || text.len() < self.loop_checked + LOOP_STRIDE {
            return false;
        }
        self.loop_checked = text.len();
        let mut from = text.len().saturating_sub(LOOP_WINDOW);
        while !text.is_char_boundary(from) {
            from += 1;
        }
        looping(&text[from..]).is_some()
    }

    /// Whether the reply ends in [`MAX_BLANK_RUN`] bytes of whitespace outside a string
    /// (inside one, [`string_loops`](Guard::string_loops) sees the run repeat).
    fn blank_run(&self, parser: &StreamParser, text: &str) -> bool {
        let off = self.limits.max_repeats == usize::MAX;
        let Some(tail) = text.len().checked_sub(MAX_BLANK_RUN) else {
            return false;
        };
        !off && parser.open_string().is_none()
            && text.as_bytes()[tail..]
                .iter()
                .all(|b| matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
    }

    fn items_repeat(&mut self, parser: &StreamParser, text: &str) -> bool {
        let items = parser.items();
        if items.len() == self.items_seen {
            return false;
        }
        self.items_seen = items.len();
        let n = self.limits.max_repeats;
        if items.len() < n {
            return false;
        }
        let last = &items[items.len() - n..];
        let first = last[0];
        let raw = |s: &super::ItemSpan| text.get(s.start..s.end);
        last.iter()
            .all(|s| s.depth == first.depth && raw(s) == raw(&first) && s.end > s.start + 1)
    }

    fn lines_repeat(&mut self, text: &str) -> bool {
        let from = self.line_scanned.max(self.line_from);
        let Some(new) = text.get(from..) else {
            return false;
        };
        self.line_scanned = text.len();
        let Some(last_newline) = new.rfind('\n').map(|i| from + i) else {
            return false;
        };
        for line in text[self.line_from..last_newline].split('\n') {
            let line = line.trim();
            if line.len() < 4 {
                continue;
            }
            if line == self.last_line {
                self.line_run += 1;
            } else {
                line.clone_into(&mut self.last_line);
                self.line_run = 1;
            }
        }
        self.line_from = last_newline + 1;
        self.line_run >= self.limits.max_repeats
    }
}

/// The `maxLength` of the string at `path` in `schema`: each step is an object member
/// (`Some(key)`) or an array item (`None`). `$ref`s into `$defs` and union branches are
/// followed; `None` when the path leaves the schema or the string has no limit.
fn max_length(schema: &Value, path: &[Option<String>]) -> Option<usize> {
    let mut here = vec![schema];
    for step in path {
        here = here
            .into_iter()
            .flat_map(|s| branches(schema, s))
            .filter_map(|s| match step {
                Some(key) => s.get("properties")?.get(key),
                None => s.get("items"),
            })
            .collect();
    }
    here.into_iter()
        .flat_map(|s| branches(schema, s))
        .find_map(|s| s.get("maxLength")?.as_u64())
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
}

/// A schema and what it stands for: its `$ref` target and its union branches, a few
/// levels deep.
fn branches<'a>(root: &'a Value, schema: &'a Value) -> Vec<&'a Value> {
    let mut out = Vec::new();
    let mut todo = vec![(schema, 0)];
    while let Some((s, depth)) = todo.pop() {
        out.push(s);
        if depth >= 8 {
            continue;
        }
        if let Some(target) = s
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(json::def_name)
            .and_then(|name| root.get("$defs")?.get(name.as_ref()))
        {
            todo.push((target, depth + 1));
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            for branch in s.get(key).and_then(Value::as_array).into_iter().flatten() {
                todo.push((branch, depth + 1));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn counting_items_loop_but_for_their_numbers_and_a_short_list_does_not() {
        use std::fmt::Write as _;
        let mut counting = String::new();
        for n in 19..200 {
            let _ = write!(
                counting,
                "{{\"name\": \"Anna Schmidt (35) can be contacted at {n}\"}},"
            );
        }
        let raw = format!("{{\"named_list\":[{counting}");
        assert!(looping(&raw).is_none(), "no two items are the same");
        assert!(looping_but_for_numbers(&raw));
        let counting_string = format!(
            "{{\"name\": \"at {}",
            (19..400)
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        assert!(looping_but_for_numbers(&counting_string));
        // A few numbered items are a list, not a loop.
        let short = r#"{"pages":[{"page": 1},{"page": 2},{"page": 3}"#;
        assert!(!looping_but_for_numbers(short));
        assert!(!looping_but_for_numbers(
            r#"{"name": "Ada Lovelace", "age": 36}"#
        ));
    }

    fn feed(text: &str) -> StreamParser {
        let mut parser = StreamParser::new();
        parser.feed(text);
        parser
    }

    #[test]
    fn max_length_follows_refs_and_unions() {
        let schema = json!({
            "type": "object",
            "properties": {"p": {"anyOf": [{"$ref": "#/$defs/P"}, {"type": "null"}]}},
            "$defs": {"P": {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string", "maxLength": 5}}}}}
        });
        let path = [Some("p".to_owned()), Some("tags".to_owned()), None];
        assert_eq!(max_length(&schema, &path), Some(5));
        assert_eq!(max_length(&schema, &[Some("q".to_owned())]), None);
    }

    #[test]
    fn a_run_of_blank_lines_outside_a_string_is_a_runaway() {
        let schema = json!({"type": "object"});
        let blank = format!("{{{}", "\n".repeat(MAX_BLANK_RUN));
        let mut guard = Guard::new(Runaway::default(), None);
        assert_eq!(
            guard.check(&feed(&blank), &blank, &schema),
            Some(Cut::Runaway)
        );
        // Indentation, however deep, is not a run; the same run inside a string is text.
        let indented = format!("{{\n{}\"a\": 1,\n{}", " ".repeat(200), " ".repeat(200));
        let mut guard = Guard::new(Runaway::default(), None);
        assert_eq!(guard.check(&feed(&indented), &indented, &schema), None);
        let in_string = format!("{{\"a\": \"x{}", " ".repeat(MAX_BLANK_RUN));
        let guard = Guard::new(Runaway::default(), None);
        assert!(!guard.blank_run(&feed(&in_string), &in_string));
        assert!(guard.blank_run(&feed(&blank), &blank));
        let mut guard = Guard::new(Runaway::off(), None);
        assert_eq!(guard.check(&feed(&blank), &blank, &schema), None);
    }

    #[test]
    fn a_string_past_its_limit_is_a_runaway() {
        let schema =
            json!({"type": "object", "properties": {"s": {"type": "string", "maxLength": 2}}});
        let text = r#"{"s": "abcdefghi"#;
        let mut guard = Guard::new(Runaway::default(), None);
        assert_eq!(guard.check(&feed(text), text, &schema), Some(Cut::Runaway));
        let short = r#"{"s": "abcdefg"#;
        let mut guard = Guard::new(Runaway::default(), None);
        assert_eq!(
            guard.check(&feed(short), short, &schema),
            None,
            "7 bytes may be 2 characters"
        );
        let ceiling = Runaway::default().max_string(3);
        let other = r#"{"t": "abcd"#;
        assert_eq!(
            Guard::new(ceiling, None).check(&feed(other), other, &schema),
            Some(Cut::Runaway)
        );
    }

    #[test]
    fn a_string_that_repeats_a_phrase_is_a_runaway_but_prose_is_not() {
        let schema = json!({"type": "object", "properties": {"s": {"type": "string"}}});
        let mut guard = Guard::new(Runaway::default(), None);
        let mut text = String::from(r#"{"s": "Nothing else "#);
        let mut cut = None;
        for _ in 0..40 {
            text.push_str("of note ");
            cut = cut.or(guard.check(&feed(&text), &text, &schema));
        }
        assert_eq!(cut, Some(Cut::Runaway), "cut after a few hundred bytes");
        let mut guard = Guard::new(Runaway::default(), None);
        let mut prose = String::from(r#"{"s": ""#);
        for word in "the quick brown fox jumps over the lazy dog "
            .repeat(3)
            .split(' ')
        {
            let at = prose.len();
            prose.push_str(word);
            prose.push(' ');
            prose.push_str(&at.to_string());
            prose.push(' ');
            assert_eq!(guard.check(&feed(&prose), &prose, &schema), None, "{prose}");
        }
        let off = Runaway::off();
        assert_eq!(
            Guard::new(off, None).check(&feed(&text), &text, &schema),
            None
        );
    }

    #[test]
    fn repeated_items_and_lines_are_runaways() {
        let schema = json!({});
        let items = format!("{{\"tags\": [{}", "\"again\", ".repeat(16));
        let mut guard = Guard::new(Runaway::default(), None);
        assert_eq!(
            guard.check(&feed(&items), &items, &schema),
            Some(Cut::Runaway)
        );
        let varied = format!(
            "{{\"n\": [{}",
            (0..40).map(|i| i.to_string() + ", ").collect::<String>()
        );
        assert_eq!(
            Guard::new(Runaway::default(), None).check(&feed(&varied), &varied, &schema),
            None
        );
        let lines = format!("{{\"s\": \"x\"\n{}", "the same line\n".repeat(16));
        let mut guard = Guard::new(Runaway::default(), None);
        assert_eq!(
            guard.check(&feed(&lines), &lines, &schema),
            Some(Cut::Runaway)
        );
    }

    #[test]
    fn trailing_text_after_the_value_is_cut_and_kept() {
        let schema = json!({});
        let text = format!("{{\"a\": 1}} {}", "and more ".repeat(40));
        let mut guard = Guard::new(Runaway::default(), None);
        assert_eq!(
            guard.check(&feed(&text), &text, &schema),
            Some(Cut::Trailing)
        );
        let brief = "{\"a\": 1}\nDone.";
        assert_eq!(
            Guard::new(Runaway::default(), None).check(&feed(brief), brief, &schema),
            None
        );
    }

    /// A JSON value of a few levels, with strings that may loop and lists that repeat.
    fn value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            "[a-z \n]{0,40}".prop_map(Value::from),
            ("[a-z]{1,4}", 1..300usize).prop_map(|(unit, n)| Value::from(unit.repeat(n))),
        ];
        leaf.prop_recursive(4, 64, 24, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..24).prop_map(Value::from),
                proptest::collection::btree_map("[a-z]{1,6}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// A whole reply the guard passes unparsed is one it could not have cut parsed,
        /// with any limits and any `max_items`.
        #[test]
        fn a_whole_reply_passed_unparsed_is_never_one_it_would_cut(
            value in value(),
            pretty in proptest::bool::ANY,
            blank in 0..400usize,
            repeats in 2..20usize,
            trailing in 0..300usize,
            max_items in proptest::option::of(0..4usize),
        ) {
            let body = if pretty {
                serde_json::to_string_pretty(&value).unwrap()
            } else {
                value.to_string()
            };
            let text = format!("{body}{}", "\n".repeat(blank));
            let limits = Runaway::default().max_repeats(repeats).max_trailing(trailing);
            let guard = Guard::new(limits, max_items);
            let container = value.is_object() || value.is_array();
            proptest::prop_assert_eq!(guard.passes(&text), container && blank <= trailing);
            if guard.passes(&text) {
                let mut parsed = Guard::new(limits, max_items);
                proptest::prop_assert_eq!(parsed.check(&feed(&text), &text, &json!({})), None);
            }
        }
    }
}
