//! [`StreamParser`]: an incremental JSON parser for model text that arrives in pieces. It
//! keeps its state between [`feed`](StreamParser::feed) calls, so its total work is linear
//! in the text however it is cut, and it builds the [`Node`] tree as it goes.
//!
//! It reads the raw model text: prose before the value, Markdown fences and `<think>`
//! blocks are skipped as they stream. It is a *preview*: it accepts plain JSON (and
//! forgives trailing commas and single-quoted strings); anything else freezes the preview
//! where it was, and the whole text is judged by the full lenient parser when the reply
//! ends, so streaming never accepts less than a buffered call would.

use std::str::FromStr as _;

use serde_json::Number;

use super::Node;

/// Deepest nesting the preview follows; deeper text freezes it (the final parse decides).
const MAX_PREVIEW_DEPTH: usize = 128;

/// An incremental JSON parser. It keeps its state between `feed` calls, so its work is
/// linear in the text however it is cut.
///
/// # Examples
///
/// ```
/// use factum::stream::StreamParser;
///
/// let mut parser = StreamParser::new();
/// parser.feed("Sure! {\"name\": \"Ada Lo");
/// assert_eq!(parser.snapshot().unwrap().get("name").unwrap().as_str(), Some("Ada Lo"));
/// parser.feed("velace\", \"age\": 3");
/// // A number shows only once complete: `3` may still become `36`.
/// assert!(parser.snapshot().unwrap().get("age").is_none());
/// parser.feed("6}");
/// assert!(parser.is_closed());
/// assert_eq!(parser.snapshot().unwrap().get("age").unwrap().complete::<u8>(), Some(36));
/// ```
#[derive(Debug, Default)]
pub struct StreamParser {
    /// The value so far; `None` until it begins.
    root: Option<Node>,
    /// The open containers, outermost first.
    stack: Vec<Open>,
    /// The scalar being read.
    scalar: Scalar,
    /// Before the value: what is being skipped.
    before: Before,
    /// Bytes consumed so far.
    offset: usize,
    /// Where each item of an array at depth 1 or 2 began and ended.
    items: Vec<ItemSpan>,
    /// Where the root value closed.
    closed_at: Option<usize>,
    /// The root value closed.
    closed: bool,
    /// The text is not plain JSON past this point: the preview is frozen.
    frozen: bool,
    /// The in-progress string was written into the tree since its last change.
    synced: bool,
    /// Before the value: the start of a tag cut off at the end of the last piece.
    held: String,
}

/// Where one item of an array sat in the text: `depth` is the array's nesting (1 for a
/// root array, 2 for an array inside the root object), `index` the item's place in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ItemSpan {
    /// The array's depth: 1 for the root, 2 one level down.
    pub depth: usize,
    /// The item's index in its array.
    pub index: usize,
    /// The byte offset of the item's first byte in the text fed.
    pub start: usize,
    /// The byte offset just past its last byte.
    pub end: usize,
}

#[derive(Debug)]
enum Open {
    Array {
        /// A value may come next (after `[` or `,`).
        want_value: bool,
        /// Where the current item began.
        item_start: usize,
    },
    Object {
        state: Member,
        /// The key of the member being read, until its value begins.
        key: Option<String>,
        /// The key of the member whose value is being read.
        member: Option<String>,
    },
}

/// Where an object is between its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Member {
    /// After `{` or `,`: a key or `}`.
    Key,
    /// After a key: `:`.
    Colon,
    /// After `:`: the value.
    Value,
    /// After a value: `,` or `}`.
    Next,
}

#[derive(Debug, Default)]
enum Scalar {
    #[default]
    None,
    String {
        text: String,
        quote: u8,
        is_key: bool,
        escape: Escape,
        /// A `\uD8xx` high surrogate waiting for its low half.
        high: Option<u32>,
        /// Where the string's opening quote sits.
        start: usize,
    },
    Number {
        text: String,
    },
    Literal {
        text: String,
    },
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Escape {
    #[default]
    None,
    /// After a backslash.
    Backslash,
    /// Inside `\uXXXX`: the digits so far and their value.
    Unicode { digits: u8, value: u32 },
}

/// What the parser skips before the value begins.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Before {
    /// Prose: looking for `{`, `[` or `<think>`.
    #[default]
    Prose,
    /// Inside a `<think>` block: looking for `</think>`.
    Think,
}

impl StreamParser {
    /// A parser that has read nothing.
    pub fn new() -> StreamParser {
        StreamParser::default()
    }

    /// Reads the next piece of text.
    pub fn feed(&mut self, chunk: &str) {
        let joined;
        let mut rest = if self.held.is_empty() {
            chunk
        } else {
            joined = std::mem::take(&mut self.held) + chunk;
            &joined
        };
        while !rest.is_empty() && !self.closed && !self.frozen {
            let used = if self.root.is_none() && matches!(self.scalar, Scalar::None) {
                let Some(used) = self.skip_before(rest) else {
                    // A tag may be cut in two: keep its start for the next piece.
                    rest.clone_into(&mut self.held);
                    return;
                };
                used
            } else {
                self.step(rest)
            };
            self.offset += used;
            rest = &rest[used..];
        }
        self.offset += rest.len();
    }

    /// The text ended: a number that was waiting for a delimiter is complete.
    pub fn finish(&mut self) {
        if matches!(self.scalar, Scalar::Number { .. } | Scalar::Literal { .. }) {
            self.end_word(self.offset);
        }
    }

    /// The value so far, or `None` before it begins. The string being read shows its
    /// prefix.
    pub fn snapshot(&mut self) -> Option<&Node> {
        self.sync_string();
        self.root.as_ref()
    }

    /// The value so far as last synced (the string being read may lag behind); for
    /// readers that only look at complete parts.
    pub fn snapshot_ref(&self) -> Option<&Node> {
        self.root.as_ref()
    }

    /// Whether the root value closed: anything after it is trailing text.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Whether the text stopped being plain JSON, so the preview froze where it was.
    pub fn is_frozen(&self) -> bool {
        self.frozen
    }

    /// Bytes read so far.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Where each finished item of an array at depth 1 or 2 sat in the text, in order.
    pub fn items(&self) -> &[ItemSpan] {
        &self.items
    }

    /// Where the root value closed, once it did: the text after it is trailing.
    pub fn closed_at(&self) -> Option<usize> {
        self.closed_at
    }

    /// Where the value being read sits: for each open container, the member's key (`Some`)
    /// or an array item (`None`). Limits that depend on the schema look it up from here.
    pub fn path(&self) -> impl Iterator<Item = Option<&str>> {
        self.stack.iter().map(|open| match open {
            Open::Object { member, .. } => member.as_deref(),
            Open::Array { .. } => None,
        })
    }

    /// The string value being read, if one is: where its quote opened, and its length so
    /// far in bytes. Keys are not values.
    pub fn open_string(&self) -> Option<(usize, usize)> {
        match &self.scalar {
            Scalar::String {
                text,
                start,
                is_key: false,
                ..
            } => Some((*start, text.len())),
            _ => None,
        }
    }

    /// Prose, fences and `<think>` blocks before the value; returns the bytes used, or
    /// `None` when all of `text` may be the start of a tag.
    fn skip_before(&mut self, text: &str) -> Option<usize> {
        const OPEN: &str = "<think>";
        const CLOSE: &str = "</think>";
        match self.before {
            Before::Think => {
                if let Some(at) = text.find(CLOSE) {
                    self.before = Before::Prose;
                    return Some(at + CLOSE.len());
                }
                let keep = (1..CLOSE.len())
                    .rev()
                    .find(|&n| {
                        n <= text.len()
                            && text.is_char_boundary(text.len() - n)
                            && CLOSE.starts_with(&text[text.len() - n..])
                    })
                    .unwrap_or(0);
                (keep < text.len()).then_some(text.len() - keep)
            }
            Before::Prose => {
                let Some(at) = text.find(['{', '[', '<']) else {
                    return Some(text.len());
                };
                let tail = &text[at..];
                if tail.starts_with(OPEN) {
                    self.before = Before::Think;
                    Some(at + OPEN.len())
                } else if tail.starts_with('<') && OPEN.starts_with(tail) {
                    (at > 0).then_some(at)
                } else if tail.starts_with('<') {
                    Some(at + 1)
                } else {
                    Some(at + self.begin_container(text.as_bytes()[at], at))
                }
            }
        }
    }

    /// Reads structure or a scalar's next bytes; returns the bytes used (at least one).
    fn step(&mut self, text: &str) -> usize {
        if !matches!(self.scalar, Scalar::None) {
            return self.continue_scalar(text);
        }
        let bytes = text.as_bytes();
        let skipped = bytes
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(bytes.len());
        if skipped == bytes.len() {
            return skipped;
        }
        skipped + self.token(bytes[skipped], skipped)
    }

    /// One structural byte or the first byte of a scalar, at `at` within the piece.
    fn token(&mut self, byte: u8, at: usize) -> usize {
        let position = self.offset + at;
        match byte {
            b'{' | b'[' => self.begin_container(byte, at),
            b'}' | b']' => {
                self.end_container(byte, position);
                1
            }
            b',' => {
                self.comma();
                1
            }
            b':' => {
                self.colon();
                1
            }
            b'"' | b'\'' => {
                self.begin_string(byte, position);
                1
            }
            b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => {
                if !self.begin_value(position) {
                    self.frozen = true;
                    return 1;
                }
                let text = String::new();
                self.scalar = if byte.is_ascii_alphabetic() {
                    Scalar::Literal { text }
                } else {
                    Scalar::Number { text }
                };
                0
            }
            _ => {
                // Not JSON: the preview stops here. The whole char is used, so the piece
                // is never cut inside one (`byte` leads a char: it follows ASCII space).
                self.frozen = true;
                utf8_len(byte)
            }
        }
    }

    fn begin_container(&mut self, byte: u8, at: usize) -> usize {
        let position = self.offset + at;
        if self.stack.len() >= MAX_PREVIEW_DEPTH || !self.begin_value(position) {
            self.frozen = true;
            return 1;
        }
        let (node, open) = if byte == b'{' {
            let node = Node::Object {
                members: Vec::new(),
                complete: false,
            };
            let open = Open::Object {
                state: Member::Key,
                key: None,
                member: None,
            };
            (node, open)
        } else {
            let node = Node::Array {
                items: Vec::new(),
                complete: false,
            };
            let open = Open::Array {
                want_value: true,
                item_start: position,
            };
            (node, open)
        };
        self.place(node);
        self.stack.push(open);
        1
    }

    /// A value begins at `position`: checks that one may, and notes where an array item
    /// starts. Returns whether a value may begin here.
    fn begin_value(&mut self, position: usize) -> bool {
        match self.stack.last_mut() {
            None => self.root.is_none(),
            Some(Open::Array {
                want_value,
                item_start,
            }) => {
                let ok = *want_value;
                *want_value = false;
                *item_start = position;
                ok
            }
            Some(Open::Object { state, .. }) => *state == Member::Value,
        }
    }

    /// Puts a new node where the next value goes: the root, the open array's end, or the
    /// open object's member under its pending key.
    fn place(&mut self, node: Node) {
        let depth = self.stack.len();
        let key = match self.stack.last_mut() {
            Some(Open::Object { key, state, member }) => {
                *state = Member::Next;
                member.clone_from(key);
                key.take()
            }
            _ => None,
        };
        match self.open_node(depth) {
            None => self.root = Some(node),
            Some(Node::Array { items, .. }) => items.push(node),
            Some(Node::Object { members, .. }) => members.push((key.unwrap_or_default(), node)),
            Some(_) => self.frozen = true,
        }
    }

    /// The open container at `depth` (1 = the root), reached by following last children.
    fn open_node(&mut self, depth: usize) -> Option<&mut Node> {
        if depth == 0 {
            return None;
        }
        let mut node = self.root.as_mut()?;
        for _ in 1..depth {
            node = match node {
                Node::Array { items, .. } => items.last_mut()?,
                Node::Object { members, .. } => &mut members.last_mut()?.1,
                _ => return None,
            };
        }
        Some(node)
    }

    fn end_container(&mut self, byte: u8, position: usize) {
        let depth = self.stack.len();
        let fits = match self.stack.last() {
            Some(Open::Array { .. }) => byte == b']',
            Some(Open::Object { state, .. }) => {
                byte == b'}' && matches!(state, Member::Key | Member::Next)
            }
            None => false,
        };
        if !fits {
            self.frozen = true;
            return;
        }
        if let Some(Node::Array { complete, .. } | Node::Object { complete, .. }) =
            self.open_node(depth)
        {
            *complete = true;
        }
        self.stack.pop();
        self.value_done(position + 1);
    }

    /// A value just ended at `end`: the parent moves on, an array item's span is kept,
    /// the root closes.
    fn value_done(&mut self, end: usize) {
        let depth = self.stack.len();
        match self.stack.last_mut() {
            None => {
                self.closed = true;
                self.closed_at = Some(end);
            }
            Some(Open::Array { item_start, .. }) => {
                let start = *item_start;
                if depth <= 2 {
                    let index = self.open_node(depth).map_or(0, |n| n.items().len()) - 1;
                    self.items.push(ItemSpan {
                        depth,
                        index,
                        start,
                        end,
                    });
                }
            }
            Some(Open::Object { state, .. }) => *state = Member::Next,
        }
    }

    fn comma(&mut self) {
        match self.stack.last_mut() {
            Some(Open::Array { want_value, .. }) if !*want_value => *want_value = true,
            Some(Open::Object { state, .. }) if *state == Member::Next => *state = Member::Key,
            _ => self.frozen = true,
        }
    }

    fn colon(&mut self) {
        match self.stack.last_mut() {
            Some(Open::Object { state, .. }) if *state == Member::Colon => *state = Member::Value,
            _ => self.frozen = true,
        }
    }

    fn begin_string(&mut self, quote: u8, position: usize) {
        let is_key = matches!(
            self.stack.last(),
            Some(Open::Object {
                state: Member::Key,
                ..
            })
        );
        if !is_key {
            if !self.begin_value(position) {
                self.frozen = true;
                return;
            }
            self.place(Node::String {
                text: String::new(),
                complete: false,
            });
        }
        self.scalar = Scalar::String {
            text: String::new(),
            quote,
            is_key,
            escape: Escape::None,
            high: None,
            start: position,
        };
        self.synced = false;
    }

    fn continue_scalar(&mut self, text: &str) -> usize {
        match self.scalar {
            Scalar::String { .. } => self.continue_string(text),
            Scalar::Number { .. } | Scalar::Literal { .. } => self.continue_word(text),
            Scalar::None => 0,
        }
    }

    /// A string's next bytes: plain runs are copied whole; escapes are decoded.
    fn continue_string(&mut self, text: &str) -> usize {
        let Scalar::String {
            text: buf,
            quote,
            escape,
            high,
            ..
        } = &mut self.scalar
        else {
            return 0;
        };
        self.synced = false;
        if *escape != Escape::None {
            return decode_escape(buf, escape, high, text);
        }
        let bytes = text.as_bytes();
        let stop = bytes
            .iter()
            .position(|&b| b == *quote || b == b'\\')
            .unwrap_or(bytes.len());
        buf.push_str(&text[..stop]);
        match bytes.get(stop) {
            Some(b'\\') => {
                *escape = Escape::Backslash;
                stop + 1
            }
            Some(_) => {
                self.end_string(self.offset + stop + 1);
                stop + 1
            }
            None => stop,
        }
    }

    fn end_string(&mut self, end: usize) {
        let Scalar::String { text, is_key, .. } = std::mem::take(&mut self.scalar) else {
            return;
        };
        let depth = self.stack.len();
        if is_key {
            if let Some(Open::Object { state, key, .. }) = self.stack.last_mut() {
                *key = Some(text);
                *state = Member::Colon;
            }
            return;
        }
        if let Some(Node::String {
            text: slot,
            complete,
        }) = self.last_value(depth)
        {
            *slot = text;
            *complete = true;
        }
        self.synced = true;
        self.value_done(end);
    }

    /// The value most recently placed at `depth` (0 = the root).
    fn last_value(&mut self, depth: usize) -> Option<&mut Node> {
        if depth == 0 {
            return self.root.as_mut();
        }
        match self.open_node(depth)? {
            Node::Array { items, .. } => items.last_mut(),
            Node::Object { members, .. } => members.last_mut().map(|(_, v)| v),
            _ => None,
        }
    }

    /// Writes the string being read into its node, so a snapshot shows its prefix.
    fn sync_string(&mut self) {
        if self.synced {
            return;
        }
        self.synced = true;
        let Scalar::String {
            text,
            is_key: false,
            ..
        } = &self.scalar
        else {
            return;
        };
        let prefix = text.clone();
        let depth = self.stack.len();
        if let Some(Node::String { text: slot, .. }) = self.last_value(depth) {
            *slot = prefix;
        }
    }

    /// A number's or literal's next bytes, up to the first byte that cannot belong to it.
    fn continue_word(&mut self, text: &str) -> usize {
        let bytes = text.as_bytes();
        let (Scalar::Number { text: buf, .. } | Scalar::Literal { text: buf, .. }) =
            &mut self.scalar
        else {
            return 0;
        };
        let stop = bytes
            .iter()
            .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.')))
            .unwrap_or(bytes.len());
        buf.push_str(&text[..stop]);
        if stop < bytes.len() {
            self.end_word(self.offset + stop);
        }
        stop
    }

    fn end_word(&mut self, end: usize) {
        let node = match std::mem::take(&mut self.scalar) {
            Scalar::Number { text, .. } => Number::from_str(&text).ok().map(Node::Number),
            Scalar::Literal { text, .. } => match text.as_str() {
                "true" => Some(Node::Bool(true)),
                "false" => Some(Node::Bool(false)),
                "null" => Some(Node::Null),
                _ => None,
            },
            other => {
                self.scalar = other;
                return;
            }
        };
        match node {
            Some(node) => {
                self.place(node);
                self.value_done(end);
            }
            None => self.frozen = true,
        }
    }
}

/// Decodes the escape that `escape` is inside, from the start of `text`; returns the bytes
/// used.
fn decode_escape(
    buf: &mut String,
    escape: &mut Escape,
    high: &mut Option<u32>,
    text: &str,
) -> usize {
    let Some(first) = text.chars().next() else {
        return 0;
    };
    match *escape {
        Escape::Backslash => {
            *escape = Escape::None;
            let decoded = match first {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                'b' => '\u{8}',
                'f' => '\u{c}',
                'u' => {
                    *escape = Escape::Unicode {
                        digits: 0,
                        value: 0,
                    };
                    return 1;
                }
                other => other,
            };
            buf.push(decoded);
            first.len_utf8()
        }
        Escape::Unicode { digits, value } => {
            let value = value * 16 + first.to_digit(16).unwrap_or(0);
            if digits == 3 {
                *escape = Escape::None;
                push_code_unit(buf, high, value);
            } else {
                *escape = Escape::Unicode {
                    digits: digits + 1,
                    value,
                };
            }
            first.len_utf8()
        }
        Escape::None => 0,
    }
}

/// Appends one `\uXXXX` code unit, pairing a low surrogate with the high one before it.
fn push_code_unit(buf: &mut String, high: &mut Option<u32>, unit: u32) {
    if (0xD800..0xDC00).contains(&unit) {
        if high.replace(unit).is_some() {
            buf.push(char::REPLACEMENT_CHARACTER);
        }
        return;
    }
    let c = match high.take() {
        Some(h) if (0xDC00..0xE000).contains(&unit) => {
            char::from_u32(0x10000 + ((h - 0xD800) << 10) + (unit - 0xDC00))
        }
        Some(_) => {
            buf.push(char::REPLACEMENT_CHARACTER);
            char::from_u32(unit)
        }
        None => char::from_u32(unit),
    };
    buf.push(c.unwrap_or(char::REPLACEMENT_CHARACTER));
}

/// The length in bytes of the UTF-8 char that `lead` begins.
fn utf8_len(lead: u8) -> usize {
    match lead {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// The value after feeding `text` in pieces of `size` bytes (on char boundaries).
    fn fed_in_pieces(text: &str, size: usize) -> StreamParser {
        let mut parser = StreamParser::new();
        let mut start = 0;
        while start < text.len() {
            let mut end = (start + size).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            parser.feed(&text[start..end]);
            start = end;
        }
        parser.finish();
        parser
    }

    fn value_of(text: &str, size: usize) -> Option<Value> {
        fed_in_pieces(text, size)
            .snapshot()
            .and_then(Node::to_value)
    }

    #[test]
    fn every_cut_gives_what_serde_json_gives() {
        let text = r#"{"name": "Ada \"Lovelace\"\n", "age": 36, "pi": -3.25e2, "ok": true,
            "none": null, "tags": ["a", "é", "\u00e9\ud83d\ude00"], "nested": {"x": [1, [2, {}]], "y": []}}"#;
        let expected: Value = serde_json::from_str(text).unwrap();
        for size in 1..=text.len() {
            assert_eq!(
                value_of(text, size),
                Some(expected.clone()),
                "pieces of {size}"
            );
        }
    }

    #[test]
    fn prose_fences_and_think_blocks_are_skipped() {
        let text = "<think>maybe {\"a\": 0}?</think>Sure! Here:\n```json\n{\"a\": 1}\n```\nDone.";
        for size in 1..=text.len() {
            let parser = fed_in_pieces(text, size);
            assert!(parser.is_closed(), "pieces of {size}");
            let mut parser = parser;
            assert_eq!(
                parser.snapshot().and_then(Node::to_value),
                Some(json!({"a": 1})),
                "pieces of {size}"
            );
        }
    }

    #[test]
    fn numbers_show_only_once_complete_and_strings_as_prefixes() {
        let mut parser = StreamParser::new();
        parser.feed(r#"{"age": 3"#);
        assert!(parser.snapshot().unwrap().get("age").is_none());
        parser.feed(r#"6, "name": "Jo"#);
        let node = parser.snapshot().unwrap();
        assert_eq!(node.get("age").and_then(Node::complete::<u8>), Some(36));
        assert_eq!(node.get("name").and_then(Node::as_str), Some("Jo"));
        assert!(!node.get("name").unwrap().is_complete());
        parser.feed(r#"hn"}"#);
        assert!(parser.is_closed());
        assert_eq!(
            parser.snapshot().and_then(Node::to_value),
            Some(json!({"age": 36, "name": "John"}))
        );
    }

    #[test]
    fn item_spans_point_at_the_text() {
        let text = r#"{"person_list": [{"name": "A [x]"}, {"name": "B"}]}"#;
        let parser = fed_in_pieces(text, 3);
        let spans: Vec<&str> = parser
            .items()
            .iter()
            .filter(|s| s.depth == 2)
            .map(|s| &text[s.start..s.end])
            .collect();
        assert_eq!(spans, [r#"{"name": "A [x]"}"#, r#"{"name": "B"}"#]);
        let bare = r#"[1, "two", {"three": 3}]"#;
        let parser = fed_in_pieces(bare, 1);
        let spans: Vec<&str> = parser
            .items()
            .iter()
            .map(|s| &bare[s.start..s.end])
            .collect();
        assert_eq!(spans, ["1", r#""two""#, r#"{"three": 3}"#]);
    }

    #[test]
    fn trailing_commas_and_single_quotes_are_forgiven_and_junk_freezes() {
        assert_eq!(value_of("{'a': [1, 2,],}", 2), Some(json!({"a": [1, 2]})));
        let mut parser = fed_in_pieces(r#"{"a": 1, b: 2}"#, 4);
        assert!(parser.is_frozen());
        assert_eq!(
            parser
                .snapshot()
                .unwrap()
                .get("a")
                .and_then(Node::complete::<u8>),
            Some(1)
        );
    }

    #[test]
    fn a_non_ascii_char_where_json_goes_freezes_the_preview_without_a_panic() {
        // Found by the stream fuzz target: the parser stepped one byte into the char.
        for text in ["[\u{FFFD}\u{FFFD}", "{\"a\": 1, é}", "[1, 日本]"] {
            let mut parser = StreamParser::new();
            parser.feed(text);
            parser.finish();
            assert!(parser.is_frozen(), "{text}");
            assert_eq!(parser.offset(), text.len(), "{text}");
        }
    }

    #[test]
    fn deep_nesting_freezes_instead_of_overflowing() {
        let text = "[".repeat(100_000);
        let parser = fed_in_pieces(&text, 4096);
        assert!(parser.is_frozen());
    }

    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        /// Any object or array (the preview starts at a bracket; a bare word is prose),
        /// written compact or pretty and cut anywhere: the finished parser holds exactly the
        /// value, closed and not frozen, as one `serde_json` parse does.
        #[test]
        fn any_value_cut_anywhere_gives_what_serde_json_gives(
            (value, text) in crate::arbitrary::written()
                .prop_filter("a container", |(v, _)| v.is_object() || v.is_array()),
            cuts in proptest::collection::vec(0usize..64, 0..8),
        ) {
            let mut parser = StreamParser::new();
            let mut from = 0;
            for cut in cuts {
                let mut at = (from + cut).min(text.len());
                while !text.is_char_boundary(at) {
                    at += 1;
                }
                parser.feed(&text[from..at]);
                from = at;
            }
            parser.feed(&text[from..]);
            parser.finish();
            proptest::prop_assert!(parser.is_closed());
            proptest::prop_assert!(!parser.is_frozen());
            let got = parser.snapshot().and_then(Node::to_value);
            proptest::prop_assert_eq!(got, Some(value));
        }
    }
}
