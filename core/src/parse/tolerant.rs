//! The tolerant (repairing) parser: one hand-written recursive-descent pass that reads
//! JSON as models actually write it.
//!
//! It never fails on bad syntax; it records a [`Repair`] for every deviation
//! and keeps going. The only errors are the bounds ([`ParseError::TooDeep`]).
//!
//! The hard part is deciding where a string ends when the model forgot to
//! escape a quote. A quote ends a string when what follows it reads like the
//! continuation of the surrounding structure (a colon after a key; a comma,
//! closing bracket or next `"key":` after a value). Inside a string, unescaped
//! quotes usually come in pairs (`"a "quoted" word"`), so while an odd number
//! has been seen the next quote is taken as the partner rather than the end
//! unless a new key follows. A string missing its closing quote ends at a
//! comma followed by a quoted key, or at a closing bracket when no quote
//! appears anywhere later in the text. A single quote inside a single-quoted
//! string is an apostrophe unless a value can end after it; Python's triple
//! quotes delimit strings that hold quotes and newlines freely.
//!
//! An unquoted member value (`b: hey world, and more\n  on the next line`) runs
//! over commas, quotes and lines up to the bracket that closes its container or
//! the next key; a number with thousands separators (`-2,000.00`) is one number
//! there, since a comma cannot separate two numbers inside a member.
//!
//! Every look-ahead is either bounded by a small constant or cached, so the
//! whole pass stays linear in the length of the text.

use serde_json::{Map, Number, Value};

use super::repair::push_repair;
use super::{MAX_NESTING, ParseError, Repair, RepairKind};
use crate::json::{push_index, push_key};

/// Where a value is being read; it decides what may end a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Top,
    Key,
    Value,
    Item,
}

/// An open container on the parser's stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    /// `{`, an object (or a Python set being read as one).
    Object,
    /// `[`, an array (or a Python tuple).
    Array,
}

/// Longest quoted key the `"key":` look-ahead scans.
const KEY_LOOKAHEAD: usize = 256;
/// Farthest a closing quote may be for an unquoted value to run up to it.
const UNQUOTED_LOOKAHEAD: usize = 512;
/// Farthest an unquoted member value may run, over lines, commas and quotes, to the
/// end of its member.
const UNQUOTED_SPAN: usize = 4096;

/// Who reads the values, which decides the two repairs that would guess without a schema
/// to check them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reading {
    /// [`parse_json`](super::parse_json): no schema follows, so a key written with no
    /// value gets `""` (as json_repair does) and a string that is wholly a fenced JSON
    /// block becomes that JSON, each with its repair.
    Schemaless,
    /// [`parse`](super::parse): the schema follows. A key with no value is dropped, so a
    /// missing required property asks the model again instead of passing as `""`, and a
    /// fenced block in a string stays a string (coercion parses it where the schema
    /// wants an object or array).
    ForSchema,
}

/// Parses every top-level value in `src`, skipping the prose between them.
///
/// A value starts at `{` or `[`; a Python tuple `(` is accepted only as the
/// first non-blank character (elsewhere parentheses are prose). Each value
/// comes with its own repairs. At most `max_values` are returned.
pub(crate) fn parse_document(
    src: &str,
    reading: Reading,
    max_values: usize,
) -> Result<Vec<(Value, Vec<Repair>)>, ParseError> {
    let mut parser = Parser::new(src);
    parser.schemaless = reading == Reading::Schemaless;
    parser.document(true, max_values)
}

struct Parser<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Open containers, innermost last; its length is the nesting depth.
    stack: Vec<Container>,
    /// JSON pointer of the value being read, for repair records.
    path: String,
    repairs: Vec<Repair>,
    last_dq: Option<usize>,
    last_sq: Option<usize>,
    last_smart: Option<usize>,
    /// Start of the last `"""` and of the last `'''`: a triple quote opens a Python
    /// string only when one of its kind comes later.
    last_triple: [Option<usize>; 2],
    /// Bytes the multi-line unquoted-value and fenced-string scans may still read, in all.
    span_budget: usize,
    /// See [`Reading::Schemaless`].
    schemaless: bool,
    /// Cache for [`Parser::next_dq`]: `(from, next)` says the first `"` at or after
    /// `from` is at `next`; `None` before the first look-up.
    dq_cache: Option<(usize, Option<usize>)>,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Self {
        let bytes = src.as_bytes();
        Self {
            src,
            bytes,
            pos: 0,
            stack: Vec::new(),
            path: String::new(),
            repairs: Vec::new(),
            last_dq: bytes.iter().rposition(|&b| b == b'"'),
            last_sq: bytes.iter().rposition(|&b| b == b'\''),
            last_smart: src.rfind(['”', '’']),
            last_triple: [src.rfind("\"\"\""), src.rfind("'''")],
            span_budget: src.len().saturating_mul(2).saturating_add(UNQUOTED_SPAN),
            schemaless: false,
            dq_cache: None,
        }
    }

    fn document(
        mut self,
        allow_tuple: bool,
        max_values: usize,
    ) -> Result<Vec<(Value, Vec<Repair>)>, ParseError> {
        let first = self.skip_ws_from(0);
        let mut values = Vec::new();
        while values.len() < max_values {
            let from = self.pos;
            let start = if allow_tuple && from <= first && self.bytes.get(first) == Some(&b'(') {
                first
            } else {
                match self
                    .bytes
                    .get(from..)
                    .and_then(|rest| rest.iter().position(|&b| b == b'{' || b == b'['))
                {
                    Some(off) => from + off,
                    None => break,
                }
            };
            match self.top_value(from, start)? {
                Some(value) => values.push((value, std::mem::take(&mut self.repairs))),
                None if self.pos <= start => self.pos = start + 1,
                None => {}
            }
        }
        if let Some((_, repairs)) = values.last_mut() {
            self.note_trailing_prose(repairs);
        }
        Ok(values)
    }

    /// One top-level value starting at `start`, after the prose from `from`, with
    /// fresh repairs, path and stack.
    fn top_value(&mut self, from: usize, start: usize) -> Result<Option<Value>, ParseError> {
        self.repairs.clear();
        self.path.clear();
        self.stack.clear();
        if self
            .src
            .get(from..start)
            .is_some_and(|prose| !prose.trim().is_empty())
        {
            self.note(
                RepairKind::ExtractedFromProse,
                "skipped prose before the value",
            );
        }
        self.pos = start;
        Ok(match self.parse_value(Ctx::Top)? {
            Some(Value::Object(mut map)) => {
                self.reopen(&mut map)?;
                Some(Value::Object(map))
            }
            other => other,
        })
    }

    /// Text after the last value is prose skipped, unless its repairs say so already.
    fn note_trailing_prose(&self, repairs: &mut Vec<Repair>) {
        let tail_is_prose = self
            .src
            .get(self.pos..)
            .is_some_and(|t| !t.trim().is_empty());
        if tail_is_prose
            && !repairs
                .iter()
                .any(|r| r.kind == RepairKind::ExtractedFromProse)
        {
            push_repair(
                repairs,
                Repair::new(
                    RepairKind::ExtractedFromProse,
                    "",
                    "skipped text after the value",
                ),
            );
        }
    }

    /// `{"a": 1}, "b": 2}`: members written after the closing brace belong to
    /// the object (the model closed it too early).
    fn reopen(&mut self, map: &mut Map<String, Value>) -> Result<(), ParseError> {
        loop {
            let (c, at) = self.next_non_ws(self.pos);
            if c != Some(',') {
                return Ok(());
            }
            let (q, key) = self.next_non_ws(at + 1);
            if !q.is_some_and(is_quote) {
                return Ok(());
            }
            self.pos = key;
            self.note(
                RepairKind::ReopenedObject,
                "added members written after the closing brace",
            );
            self.enter(Container::Object)?;
            self.object_members(map, false)?;
            self.leave();
        }
    }

    // --- Values ---

    fn parse_value(&mut self, ctx: Ctx) -> Result<Option<Value>, ParseError> {
        self.skip_ws_comments();
        let Some(c) = self.peek() else {
            return Ok(None);
        };
        match c {
            '{' => {
                self.pos += 1;
                self.parse_object()
            }
            '[' => {
                self.pos += 1;
                let (items, _) = self.parse_array(b']')?;
                Ok(Some(Value::Array(items)))
            }
            '(' => {
                self.pos += 1;
                self.parse_tuple().map(Some)
            }
            c if is_quote(c) => Ok(self.parse_string(ctx).map(|s| self.fenced_json(s))),
            c if c.is_ascii_digit() || matches!(c, '-' | '+' | '.') || is_word_char(c) => {
                Ok(self.parse_token(ctx))
            }
            // Markdown emphasis or other markup opening an unquoted value (`**Note**`).
            '*' | '~' | '<' | '!' | '@' | '&' | '=' | '^' | '|' if ctx == Ctx::Value => {
                Ok(self.parse_unquoted(ctx).map(Value::String))
            }
            _ => Ok(None),
        }
    }

    /// After `{`. A first entry without a colon (`{'a', 'b'}`) makes it a Python set.
    fn parse_object(&mut self) -> Result<Option<Value>, ParseError> {
        let body = self.pos;
        let mark = self.repairs.len();
        self.enter(Container::Object)?;
        let mut map = Map::new();
        let is_set = self.object_members(&mut map, false)?;
        self.leave();
        if !is_set {
            // `[{]`: a lone `{` closed by the array's bracket is a stray brace.
            if map.is_empty()
                && self.peek() == Some(']')
                && self.stack.last() == Some(&Container::Array)
            {
                self.note(RepairKind::DroppedJunk, "dropped a stray `{`");
                return Ok(None);
            }
            return Ok(Some(Value::Object(map)));
        }
        self.repairs.truncate(mark);
        self.pos = body;
        self.note(RepairKind::SetAsArray, "read a set literal as an array");
        let (items, _) = self.parse_array(b'}')?;
        Ok(Some(Value::Array(items)))
    }

    /// Reads members up to and including the closing `}` (or the end of the
    /// text). Returns `true` when the first entry shows this is a set, not an
    /// object; the caller then re-reads it.
    #[allow(
        clippy::too_many_lines,
        reason = "a state machine over one cursor reads best in one piece"
    )]
    fn object_members(
        &mut self,
        map: &mut Map<String, Value>,
        mut need_comma: bool,
    ) -> Result<bool, ParseError> {
        let mut seen = need_comma || !map.is_empty();
        // A set is re-read from the start, so only while nothing but its first
        // entry was read: re-reading nested containers would make nested sets
        // exponential.
        let mut cheap = true;
        loop {
            self.skip_ws_comments();
            let Some(c) = self.peek() else {
                self.note(RepairKind::ClosedTruncated, "closed an unterminated object");
                return Ok(false);
            };
            match c {
                '}' => {
                    self.pos += 1;
                    return Ok(false);
                }
                ']' => {
                    if self.parent_is(Container::Array) {
                        self.note(
                            RepairKind::MismatchedBracket,
                            "closed the object at the array's `]`",
                        );
                        return Ok(false);
                    }
                    self.pos += 1;
                    self.note(RepairKind::DroppedJunk, "dropped a stray `]`");
                }
                ',' => {
                    self.pos += 1;
                    if !need_comma {
                        self.note(RepairKind::DroppedJunk, "dropped an extra comma");
                    } else if self.next_non_ws(self.pos).0 == Some('}') {
                        self.note(RepairKind::TrailingComma, "removed a trailing comma");
                    }
                    need_comma = false;
                }
                '[' => {
                    // An array where a key belongs continues the previous array value.
                    cheap = false;
                    let value = self.parse_value(Ctx::Value)?;
                    match (value, map.iter_mut().next_back()) {
                        (Some(Value::Array(items)), Some((_, Value::Array(last)))) => {
                            merge_arrays(last, items);
                            self.note(
                                RepairKind::MergedArray,
                                "appended an array written where a key belongs",
                            );
                        }
                        (Some(Value::Array(items)), _) if self.bracketed_key(&items) => {
                            let key = items.into_iter().next().unwrap_or_default();
                            let key = key.as_str().unwrap_or_default().to_owned();
                            self.note(
                                RepairKind::EmptyValue,
                                format!("read [{key:?}] as a key with no value"),
                            );
                            map.insert(key, Value::String(String::new()));
                        }
                        _ => self.note(
                            RepairKind::DroppedJunk,
                            "dropped an array written where a key belongs",
                        ),
                    }
                    need_comma = true;
                }
                '{' => {
                    cheap = false;
                    let _ = self.parse_value(Ctx::Value)?;
                    self.note(
                        RepairKind::DroppedJunk,
                        "dropped an object written where a key belongs",
                    );
                    need_comma = true;
                }
                c if is_quote(c) => {
                    if need_comma && self.is_stray_quote(self.pos) {
                        self.pos += c.len_utf8();
                        self.note(RepairKind::DroppedJunk, "dropped a stray quote");
                        continue;
                    }
                    let Some(key) = self.parse_string(Ctx::Key) else {
                        self.note(
                            RepairKind::DroppedDanglingKey,
                            "dropped a key cut off by the end of the output",
                        );
                        return Ok(false);
                    };
                    if need_comma {
                        self.note(RepairKind::MissingComma, "inserted a missing comma");
                    }
                    self.skip_ws_comments();
                    match self.peek() {
                        Some(':') => self.pos += 1,
                        Some(',' | '}') if !seen && cheap => return Ok(true),
                        None => {
                            self.note(
                                RepairKind::DroppedDanglingKey,
                                format!("dropped key {key:?} with no value"),
                            );
                            return Ok(false);
                        }
                        Some(_) => self.note(
                            RepairKind::MissingColon,
                            format!("inserted a colon after key {key:?}"),
                        ),
                    }
                    self.member_value(map, key)?;
                    need_comma = true;
                    seen = true;
                }
                c if is_word_char(c) => {
                    let end = self.word_end(self.pos);
                    let (next, at) = self.next_non_ws(end);
                    match next {
                        Some(':') => {
                            let key = self.src.get(self.pos..end).unwrap_or_default().to_owned();
                            self.note(RepairKind::UnquotedKey, format!("quoted key {key:?}"));
                            if need_comma {
                                self.note(RepairKind::MissingComma, "inserted a missing comma");
                            }
                            self.pos = at + 1;
                            self.member_value(map, key)?;
                            need_comma = true;
                            seen = true;
                        }
                        Some(',' | '}') if !seen && cheap => return Ok(true),
                        _ => {
                            self.pos = end;
                            self.note(
                                RepairKind::DroppedJunk,
                                "dropped stray text between members",
                            );
                        }
                    }
                }
                c => {
                    self.pos += c.len_utf8();
                    self.note(RepairKind::DroppedJunk, format!("dropped a stray {c:?}"));
                }
            }
        }
    }

    /// `["name"]` where a key belongs, with nothing after it: without a schema, a key
    /// in brackets that has no value (see [`Reading::Schemaless`]).
    fn bracketed_key(&self, items: &[Value]) -> bool {
        self.schemaless
            && matches!(items, [Value::String(_)])
            && matches!(self.next_non_ws(self.pos).0, Some(',' | '}'))
    }

    fn member_value(
        &mut self,
        map: &mut Map<String, Value>,
        key: String,
    ) -> Result<(), ParseError> {
        let mark = self.path.len();
        push_key(&mut self.path, &key);
        let value = self.parse_value(Ctx::Value);
        let result = match value {
            Ok(Some(value)) => {
                if map.contains_key(&key) {
                    self.note(
                        RepairKind::DuplicateKey,
                        "kept the last of two values for this key",
                    );
                }
                map.insert(key, value);
                Ok(())
            }
            Ok(None) if self.schemaless && matches!(self.peek(), Some(',' | '}')) => {
                self.note(RepairKind::EmptyValue, "gave a key with no value \"\"");
                map.insert(key, Value::String(String::new()));
                Ok(())
            }
            Ok(None) => {
                self.note(
                    RepairKind::DroppedDanglingKey,
                    "dropped a key with no value",
                );
                Ok(())
            }
            Err(e) => Err(e),
        };
        self.path.truncate(mark);
        result
    }

    /// After the opener; reads items up to and including `closer`. Returns
    /// the items and whether any comma was seen (a one-item tuple needs one).
    #[allow(
        clippy::too_many_lines,
        reason = "a state machine over one cursor reads best in one piece"
    )]
    fn parse_array(&mut self, closer: u8) -> Result<(Vec<Value>, bool), ParseError> {
        self.enter(Container::Array)?;
        let mut items = Vec::new();
        let mut need_comma = false;
        let mut saw_comma = false;
        loop {
            self.skip_ws_comments();
            let Some(c) = self.peek() else {
                self.note(RepairKind::ClosedTruncated, "closed an unterminated array");
                break;
            };
            if c == char::from(closer) {
                self.pos += 1;
                break;
            }
            match c {
                '}' | ']' | ')' => {
                    if (c == '}' && closer == b']' && self.parent_is(Container::Object))
                        || (c == ']' && closer != b']')
                    {
                        self.note(
                            RepairKind::MismatchedBracket,
                            format!("closed the array at {c:?}"),
                        );
                        break;
                    }
                    self.pos += 1;
                    self.note(RepairKind::DroppedJunk, format!("dropped a stray {c:?}"));
                }
                ',' => {
                    self.pos += 1;
                    if !need_comma {
                        self.note(RepairKind::DroppedJunk, "dropped an extra comma");
                    } else if self.next_non_ws(self.pos).0 == Some(char::from(closer)) {
                        self.note(RepairKind::TrailingComma, "removed a trailing comma");
                    }
                    need_comma = false;
                    saw_comma = true;
                }
                ':' => {
                    self.pos += 1;
                    self.note(RepairKind::DroppedJunk, "dropped a stray ':'");
                }
                c => {
                    if need_comma && is_quote(c) && self.is_stray_quote(self.pos) {
                        self.pos += c.len_utf8();
                        self.note(RepairKind::DroppedJunk, "dropped a stray quote");
                        continue;
                    }
                    let start = self.pos;
                    let mark = self.path.len();
                    push_index(&mut self.path, items.len());
                    let value = self.parse_value(Ctx::Item)?;
                    let pushed = match value {
                        Some(Value::String(key))
                            if is_quote(c) && self.next_non_ws(self.pos).0 == Some(':') =>
                        {
                            // `"key": value` inside an array: an object that lost its braces.
                            let (_, colon) = self.next_non_ws(self.pos);
                            self.pos = colon + 1;
                            self.note(
                                RepairKind::ImpliedObject,
                                "read `key: value` pairs in an array as an object",
                            );
                            self.path.truncate(mark);
                            push_index(&mut self.path, items.len());
                            self.enter(Container::Object)?;
                            let mut map = Map::new();
                            self.member_value(&mut map, key)?;
                            self.object_members(&mut map, true)?;
                            self.leave();
                            items.push(Value::Object(map));
                            true
                        }
                        Some(value) => {
                            items.push(value);
                            true
                        }
                        None => {
                            if self.pos == start {
                                self.pos += c.len_utf8();
                                self.note(
                                    RepairKind::DroppedJunk,
                                    format!("dropped a stray {c:?}"),
                                );
                            }
                            false
                        }
                    };
                    if pushed && need_comma {
                        self.note(RepairKind::MissingComma, "inserted a missing comma");
                    }
                    self.path.truncate(mark);
                    need_comma |= pushed;
                }
            }
        }
        self.leave();
        Ok((items, saw_comma))
    }

    /// After `(`: a Python tuple is an array; `(x)` is just `x`.
    fn parse_tuple(&mut self) -> Result<Value, ParseError> {
        let (mut items, saw_comma) = self.parse_array(b')')?;
        self.note(RepairKind::TupleAsArray, "read a parenthesised tuple");
        if items.len() == 1 && !saw_comma {
            return Ok(items.pop().unwrap_or(Value::Null));
        }
        Ok(Value::Array(items))
    }

    /// A bare token: a number, a literal, junk such as `...`, or the start of
    /// an unquoted string.
    fn parse_token(&mut self, ctx: Ctx) -> Option<Value> {
        let start = self.pos;
        let end = self.token_end(start);
        let token = self.src.get(start..end).unwrap_or_default();
        if let Some((number, fixed)) = number_from_token(token) {
            self.pos = end;
            if let Some(grouped) = self.grouped_value(ctx, start, end) {
                return Some(grouped);
            }
            if fixed {
                self.note(
                    RepairKind::NumberSyntax,
                    format!("read {token:?} as a number"),
                );
            }
            return Some(Value::Number(number));
        }
        if let Some((value, kind)) = literal(token) {
            self.pos = end;
            if let Some(kind) = kind {
                self.note(kind, format!("read {token:?} as {value}"));
            }
            return Some(value);
        }
        if !token.chars().any(char::is_alphanumeric) {
            self.pos = end.max(start + 1);
            self.note(RepairKind::DroppedJunk, format!("dropped {token:?}"));
            return None;
        }
        self.parse_unquoted(ctx).map(Value::String)
    }

    /// The number with thousands separators that starts at `start` (see
    /// [`Parser::grouped_number`]), read and recorded.
    fn grouped_value(&mut self, ctx: Ctx, start: usize, end: usize) -> Option<Value> {
        if !matches!(ctx, Ctx::Value | Ctx::Item) {
            return None;
        }
        let (grouped, grouped_end) = self.grouped_number(start, end)?;
        let text = self.src.get(start..grouped_end).unwrap_or_default();
        if ctx == Ctx::Item && !text.contains(",0") {
            return None;
        }
        self.note(
            RepairKind::ThousandsSeparators,
            format!("read {text:?} as {grouped}"),
        );
        self.pos = grouped_end;
        Some(Value::Number(grouped))
    }

    /// `-2,000.00` as a member's value: a number token of one to three digits followed
    /// by `,ddd` groups (and an optional fraction) that end where a value ends. Commas
    /// cannot separate numbers inside an object member, so the grouping is the only
    /// reading. In an array `[1,234]` is two numbers, as in JSON; `[-2,000.50]` is one,
    /// since `000.50` is no number on its own.
    fn grouped_number(&self, start: usize, end: usize) -> Option<(Number, usize)> {
        let head = self.src.get(start..end)?;
        let digits = head.trim_start_matches(['-', '+']);
        if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digit = |i: usize| self.bytes.get(i).is_some_and(u8::is_ascii_digit);
        let mut i = end;
        while self.bytes.get(i) == Some(&b',') && (1..=3).all(|k| digit(i + k)) && !digit(i + 4) {
            i += 4;
        }
        if i == end {
            return None;
        }
        if self.bytes.get(i) == Some(&b'.') && digit(i + 1) {
            i += 1;
            while digit(i) {
                i += 1;
            }
        }
        if self.token_end(i) != i {
            return None;
        }
        let plain: String = self
            .src
            .get(start..i)?
            .chars()
            .filter(|&c| c != ',')
            .collect();
        let plain = plain.strip_prefix('+').unwrap_or(&plain);
        Some((plain.parse().ok()?, i))
    }

    /// A closing quote just ahead, followed by the end of the value, means only
    /// the opening quote is missing: `abcdef",` or `ipsum, sic",}`.
    fn missing_opening_quote(&mut self, ctx: Ctx) -> Option<String> {
        let start = self.pos;
        let q = self.next_dq(start)?;
        let region = self.src.get(start..q).unwrap_or_default();
        if q - start > UNQUOTED_LOOKAHEAD || region.contains(['\n', '{', '[', '}', ']']) {
            return None;
        }
        let (next, _) = self.next_non_ws(q + 1);
        let ends = match ctx {
            Ctx::Item => matches!(next, None | Some(',' | ']')),
            _ => matches!(next, None | Some(',' | '}')),
        };
        if !ends {
            return None;
        }
        self.pos = q + 1;
        self.note(RepairKind::UnquotedString, "added a missing opening quote");
        Some(region.trim().to_owned())
    }

    /// A string value without its opening quote (and usually without its
    /// closing one).
    fn parse_unquoted(&mut self, ctx: Ctx) -> Option<String> {
        let start = self.pos;
        if let Some(text) = self.missing_opening_quote(ctx) {
            return Some(text);
        }
        if ctx == Ctx::Value
            && let Some(text) = self.unquoted_member(start)
        {
            return Some(text);
        }
        // Otherwise the value runs to the next delimiter; brackets inside it
        // are kept when they balance (`words{in brackets}`).
        let mut depth = 0usize;
        let mut i = start;
        while let Some(c) = self.char_at(i) {
            match c {
                '{' | '[' => depth += 1,
                '}' | ']' if depth > 0 => depth -= 1,
                ',' if depth > 0 => {}
                '}' | ']' | ',' | '\n' | '"' => break,
                _ => {}
            }
            i += c.len_utf8();
        }
        self.pos = i;
        if i >= self.bytes.len() {
            // A bare word cut off by the end of the output may be half a
            // literal (`fals`); keeping it would be a guess.
            self.note(
                RepairKind::DroppedJunk,
                "dropped a bare word cut off by the end of the output",
            );
            return None;
        }
        let text = self.src.get(start..i).unwrap_or_default().trim_end();
        if text.is_empty() {
            return None;
        }
        self.note(RepairKind::UnquotedString, format!("quoted {text:?}"));
        Some(text.to_owned())
    }

    /// An unquoted member value that may run over lines (see
    /// [`Parser::unquoted_value_end`]), when it has an end and some text.
    fn unquoted_member(&mut self, start: usize) -> Option<String> {
        let end = self.unquoted_value_end(start)?;
        let text = self.src.get(start..end).unwrap_or_default().trim_end();
        if text.is_empty() {
            return None;
        }
        self.pos = end;
        let lines = text.lines().count();
        let shown = crate::json::excerpt(text, 40);
        self.note(
            RepairKind::UnquotedString,
            format!("quoted {shown:?} over {lines} line(s)"),
        );
        Some(text.to_owned())
    }

    /// Where an unquoted member value that may run over several lines and hold commas
    /// and quotes ends: at the `}` or `]` that closes its container, or at a comma or line
    /// break followed by the next key (or by that bracket), or at a quoted key that
    /// follows without a comma. Brackets inside it are kept
    /// when they balance. `None` when no such end comes within [`UNQUOTED_SPAN`] bytes;
    /// the value then ends at the first delimiter as before.
    ///
    /// All these scans together read at most [`Parser::span_budget`] bytes, so the pass
    /// stays linear however many values fail to find an end.
    fn unquoted_value_end(&mut self, start: usize) -> Option<usize> {
        let span = UNQUOTED_SPAN.min(self.span_budget);
        let limit = start.saturating_add(span).min(self.bytes.len());
        let mut depth = 0usize;
        // The first comma on the current line: a key later on that line ends the value
        // there, and what lies between is stray text (`a, quick fox. "b": …`).
        let mut comma: Option<usize> = None;
        let mut i = start;
        let found = loop {
            if i >= limit {
                break None;
            }
            match self.bytes[i] {
                b'{' | b'[' => depth += 1,
                b'}' | b']' if depth > 0 => depth -= 1,
                b'}' | b']' => break Some(i),
                // `value "key2": …`: the next member, its comma missing.
                b'"' | b'\'' if depth == 0 && self.key_at(i) => break Some(comma.unwrap_or(i)),
                b',' | b'\n' if depth == 0 => {
                    if self.bytes[i] == b'\n' {
                        comma = None;
                    } else {
                        comma = comma.or(Some(i));
                    }
                    let (next, at) = self.next_non_ws(i + 1);
                    let ends = match next {
                        Some('}' | ']') => self.bytes[i] == b',',
                        Some(c) if is_quote(c) => self.key_at(at),
                        _ => self.bare_key_at(at),
                    };
                    if ends {
                        break Some(i);
                    }
                    // The blanks skipped hold no other end: go on from what follows them.
                    i = at.max(i + 1);
                    continue;
                }
                _ => {}
            }
            i += 1;
        };
        self.span_budget = self.span_budget.saturating_sub(i - start);
        found
    }

    /// An unquoted key (a word of at most [`KEY_LOOKAHEAD`] bytes) followed by a colon
    /// on the same line starts at `at`.
    fn bare_key_at(&self, at: usize) -> bool {
        let mut i = at;
        while i < at + KEY_LOOKAHEAD {
            match self.char_at(i) {
                Some(c) if is_word_char(c) => i += c.len_utf8(),
                _ => break,
            }
        }
        if i == at {
            return false;
        }
        while i < at + 2 * KEY_LOOKAHEAD {
            match self.bytes.get(i) {
                Some(b' ' | b'\t') => i += 1,
                Some(b':') => return true,
                _ => return false,
            }
        }
        false
    }

    // --- Strings ---

    /// Reads a quoted string. `None` means the text ended right after the
    /// opening quote, so there is nothing to keep.
    #[allow(
        clippy::too_many_lines,
        reason = "a state machine over one cursor reads best in one piece"
    )]
    fn parse_string(&mut self, ctx: Ctx) -> Option<String> {
        let open = self.peek()?;
        self.pos += open.len_utf8();
        if let Some(text) = self.triple_quoted(open) {
            return Some(text);
        }
        let closers: &[char] = match open {
            '"' => &['"'],
            '\'' => {
                self.note(RepairKind::SingleQuotes, "replaced single quotes");
                &['\'']
            }
            '‘' => {
                self.note(RepairKind::SmartQuotes, "replaced typographic quotes");
                &['’', '\'']
            }
            _ => {
                self.note(RepairKind::SmartQuotes, "replaced typographic quotes");
                &['”', '“', '"']
            }
        };
        // Only ASCII double quotes pair up inside strings; a single quote in
        // a single-quoted string is usually an apostrophe.
        let counts_pairs = open == '"';
        let mut doubled = false;
        if (open == '"' || open == '\'') && self.peek() == Some(open) {
            let after = self.pos + 1;
            if matches!(
                self.next_non_ws(after).0,
                None | Some(':' | ',' | '}' | ']')
            ) {
                self.pos = after;
                return Some(String::new());
            }
            // `""word""`: CSV-style doubled quotes.
            doubled = true;
            self.pos = after;
            self.note(RepairKind::DoubledQuotes, "read a string in doubled quotes");
        }
        if self.pos >= self.bytes.len() {
            self.note(
                RepairKind::ClosedTruncated,
                "dropped a string cut off right after its opening quote",
            );
            return None;
        }

        // A value that opens a fence (`"```json {"a": 1}```"`) holds quotes of its own: it
        // ends at the quote after the closing fence.
        let fence_end = if ctx == Ctx::Value && open == '"' {
            self.fenced_string_end()
        } else {
            None
        };
        let inside_fence = |at: usize| fence_end.is_some_and(|end| at < end);
        let mut out = String::new();
        let mut pairs = 0u32;
        let mut noted_quote = false;
        let mut noted_control = false;
        let mut unterminated = false;
        loop {
            let Some(c) = self.peek() else {
                self.note(
                    RepairKind::ClosedTruncated,
                    "closed a string cut off by the end of the output",
                );
                break;
            };
            if c == '\\' {
                self.pos += 1;
                self.read_escape(&mut out);
                continue;
            }
            if closers.contains(&c) && !inside_fence(self.pos) {
                let after = self.pos + c.len_utf8();
                if doubled && self.char_at(after) == Some(c) {
                    self.pos = after + c.len_utf8();
                    break;
                }
                let even = !counts_pairs || pairs.is_multiple_of(2);
                let apostrophe = matches!(open, '\'' | '‘');
                if self.quote_closes(ctx, after, even, apostrophe) {
                    self.pos = after;
                    break;
                }
                if !noted_quote {
                    self.note(
                        RepairKind::UnescapedQuote,
                        "kept an unescaped quote inside a string",
                    );
                    noted_quote = true;
                }
                out.push(c);
                pairs += 1;
                self.pos = after;
                continue;
            }
            let ends_early = !inside_fence(self.pos)
                && match (c, ctx) {
                    (',', Ctx::Value) => {
                        (counts_pairs || pairs > 0) && self.key_follows(self.pos + 1)
                    }
                    (':', Ctx::Key) => !self.key_close_ahead(self.pos + 1),
                    ('}', Ctx::Value) | (']', Ctx::Item) => !self.quote_ahead(self.pos, open),
                    _ => false,
                };
            if ends_early {
                self.note(
                    RepairKind::MissingClosingQuote,
                    "added a missing closing quote",
                );
                unterminated = true;
                break;
            }
            if c.is_control() && !noted_control {
                self.note(
                    RepairKind::UnescapedNewline,
                    "kept a raw control character inside a string",
                );
                noted_control = true;
            }
            out.push(c);
            self.pos += c.len_utf8();
        }
        if unterminated || (ctx == Ctx::Key && out.ends_with(['\n', '\r'])) {
            let trimmed = out.trim_end().len();
            out.truncate(trimmed);
        }
        Some(out)
    }

    /// At the start of a string value that opens a fence: the position of its closing
    /// quote, the first `"` after the closing fence, when what follows that quote ends
    /// the value. The scan counts against [`Parser::span_budget`].
    fn fenced_string_end(&mut self) -> Option<usize> {
        let rest = self.src.get(self.pos..)?;
        if !rest.starts_with("```") {
            return None;
        }
        let window = rest.len().min(self.span_budget).min(4 * UNQUOTED_SPAN);
        let body = rest.get(3..window)?;
        let close = body.find("```");
        self.span_budget = self
            .span_budget
            .saturating_sub(close.map_or(body.len(), |c| c + 3));
        let after_fence = self.pos + 3 + close? + 3;
        let after_fence = after_fence
            + self
                .bytes
                .get(after_fence..)?
                .iter()
                .take_while(|&&b| b == b'`')
                .count();
        let (quote, at) = self.next_non_ws(after_fence);
        let ends = matches!(self.next_non_ws(at + 1).0, None | Some(',' | '}' | ']'));
        (quote == Some('"') && ends).then_some(at)
    }

    /// Without a schema, a string that is wholly a fenced block of plain JSON (an object
    /// or an array) is that JSON; anything else stays the string.
    fn fenced_json(&mut self, text: String) -> Value {
        if !self.schemaless || !text.starts_with("```") || !text.trim_end().ends_with("```") {
            return Value::String(text);
        }
        let inner = super::locate::fences(&text, 1)
            .first()
            .and_then(|fence| serde_json::from_str::<Value>(fence.trim()).ok())
            .filter(|v| v.is_object() || v.is_array());
        match inner {
            Some(value) => {
                self.note(RepairKind::JsonInString, "read the fenced JSON in a string");
                value
            }
            None => Value::String(text),
        }
    }

    /// After the first quote of a Python triple-quoted string (`"""…"""`): its text,
    /// read up to the closing triple quote with escapes as in JSON, newlines kept.
    /// `None` (and nothing consumed) when this is not one: fewer or more than three
    /// quotes, or no closing triple quote later in the text.
    fn triple_quoted(&mut self, open: char) -> Option<String> {
        let kind = match open {
            '"' => 0,
            '\'' => 1,
            _ => return None,
        };
        let q = open as u8;
        let body = self.pos + 2;
        let opens = self.bytes.get(self.pos..body) == Some(&[q, q][..])
            && self.bytes.get(body).is_some_and(|&b| b != q);
        if !opens || self.last_triple[kind].is_none_or(|last| last < body) {
            return None;
        }
        let delimiter = if kind == 0 { "\"\"\"" } else { "'''" };
        // Found for sure (the last one is further on), and consumed: linear overall.
        let close = body + self.src.get(body..)?.find(delimiter)?;
        self.pos = body;
        let mut out = String::new();
        while self.pos < close {
            let Some(c) = self.peek() else { break };
            self.pos += c.len_utf8();
            if c == '\\' {
                self.read_escape(&mut out);
            } else {
                out.push(c);
            }
        }
        self.pos = close + 3;
        self.note(RepairKind::TripleQuotes, "read a triple-quoted string");
        Some(out)
    }

    /// Whether a quote just before `after` ends the string, judged by what follows it.
    /// A single quote in a value or item may be an apostrophe (`'it's'`, `'a'   b'`): it
    /// ends the string only where a value can end.
    fn quote_closes(&self, ctx: Ctx, after: usize, even: bool, apostrophe: bool) -> bool {
        let right_after = self.char_at(after);
        let (next, at) = self.next_non_ws(after);
        if apostrophe && matches!(ctx, Ctx::Value | Ctx::Item) {
            return self.value_may_end(next, at);
        }
        match ctx {
            Ctx::Top => true,
            Ctx::Key => {
                matches!(next, None | Some(':' | ',' | '}' | ']'))
                    || right_after.is_some_and(char::is_whitespace)
            }
            Ctx::Value => match next {
                None | Some('}' | ']' | ')') => even,
                Some(':') => true,
                Some(',') => {
                    even || self.key_follows(at + 1)
                        || matches!(self.next_non_ws(at + 1).0, None | Some('}'))
                }
                Some(q) if is_quote(q) && self.key_at(at) => true,
                // A quote glued to a word opens an inner quotation (`"a "b" c"`);
                // one followed by a space or punctuation ends the string, and
                // what follows is stray text.
                Some(_) => even && !right_after.is_some_and(char::is_alphanumeric),
            },
            Ctx::Item => match next {
                // `[1, "a"b"], "k": …`: an odd quote before a `]` that closes the
                // structure ends the item; the unescaped quote was inside it.
                Some(']') => {
                    even || matches!(self.next_non_ws(at + 1).0, None | Some(',' | '}' | ']'))
                }
                None | Some(',' | ')') => even,
                Some(':' | '}') => true,
                Some(_) => even && !right_after.is_some_and(char::is_alphanumeric),
            },
        }
    }

    /// Whether `next` (at `at`) can follow a value: a delimiter, a closing bracket, a
    /// comment, another quote (a missing comma) or an unquoted `key:`.
    fn value_may_end(&self, next: Option<char>, at: usize) -> bool {
        match next {
            None | Some(',' | '}' | ']' | ')' | ':') => true,
            Some('/') => matches!(self.bytes.get(at + 1), Some(b'/' | b'*')),
            Some(c) if is_quote(c) => true,
            Some(_) => self.bare_key_at(at),
        }
    }

    /// After a backslash.
    fn read_escape(&mut self, out: &mut String) {
        let Some(c) = self.peek() else { return };
        self.pos += c.len_utf8();
        match c {
            '"' | '\\' | '/' | '\'' => out.push(c),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'u' => self.read_unicode_escape(out),
            c => {
                self.note(
                    RepairKind::InvalidEscape,
                    format!("kept the invalid escape \\{c} as text"),
                );
                out.push('\\');
                out.push(c);
            }
        }
    }

    /// The rest of a `\u` escape: four hex digits, and for a high surrogate the
    /// `\uXXXX` of its low half. Lone surrogates become U+FFFD, invalid digits stay
    /// as text.
    fn read_unicode_escape(&mut self, out: &mut String) {
        match self.hex4(self.pos) {
            Some(high @ 0xD800..=0xDBFF) => {
                self.pos += 4;
                let low = if self.bytes.get(self.pos..self.pos + 2) == Some(b"\\u") {
                    self.hex4(self.pos + 2)
                        .filter(|low| (0xDC00..=0xDFFF).contains(low))
                } else {
                    None
                };
                if let Some(low) = low {
                    self.pos += 6;
                    let code = 0x1_0000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                    out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                } else {
                    self.note(RepairKind::InvalidEscape, "replaced a lone surrogate");
                    out.push('\u{FFFD}');
                }
            }
            Some(code) => {
                self.pos += 4;
                out.push(char::from_u32(code).unwrap_or_else(|| {
                    self.note(RepairKind::InvalidEscape, "replaced a lone surrogate");
                    '\u{FFFD}'
                }));
            }
            None => {
                self.note(
                    RepairKind::InvalidEscape,
                    "kept an invalid \\u escape as text",
                );
                out.push_str("\\u");
            }
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let digits = self.bytes.get(at..at + 4)?;
        let text = std::str::from_utf8(digits).ok()?;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(text, 16).ok()
    }

    // --- Look-aheads ---

    /// A quoted key followed by a colon starts at `at`.
    fn key_at(&self, at: usize) -> bool {
        let Some(open) = self.char_at(at) else {
            return false;
        };
        if !is_quote(open) {
            return false;
        }
        let mut i = at + open.len_utf8();
        let limit = i + KEY_LOOKAHEAD;
        while i < limit {
            match self.char_at(i) {
                None | Some('\n') => return false,
                Some('\\') => i += 2,
                Some(c) if is_quote(c) || c == '’' => {
                    return self.next_non_ws(i + c.len_utf8()).0 == Some(':');
                }
                Some(c) => i += c.len_utf8(),
            }
        }
        false
    }

    /// Whether a quote followed by a colon appears shortly after `from`, on the
    /// same line: the proper end of a key that itself contains a colon.
    fn key_close_ahead(&self, from: usize) -> bool {
        let mut i = from;
        let limit = from + KEY_LOOKAHEAD;
        while i < limit {
            match self.char_at(i) {
                None | Some('\n') => return false,
                Some(c) if is_quote(c) || c == '’' => {
                    if self.next_non_ws(i + c.len_utf8()).0 == Some(':') {
                        return true;
                    }
                    i += c.len_utf8();
                }
                Some(c) => i += c.len_utf8(),
            }
        }
        false
    }

    /// After optional whitespace, a quoted key followed by a colon.
    fn key_follows(&self, from: usize) -> bool {
        let (c, at) = self.next_non_ws(from);
        c.is_some_and(is_quote) && self.key_at(at)
    }

    /// A quote at `at` that closes nothing: it is followed by the end of a value.
    fn is_stray_quote(&self, at: usize) -> bool {
        let Some(q) = self.char_at(at) else {
            return false;
        };
        matches!(
            self.next_non_ws(at + q.len_utf8()).0,
            None | Some(',' | '}' | ']')
        )
    }

    /// Whether a quote that could close a string opened with `open` appears after `at`.
    fn quote_ahead(&self, at: usize, open: char) -> bool {
        let after = |last: Option<usize>| last.is_some_and(|l| l > at);
        match open {
            '"' => after(self.last_dq),
            '\'' => after(self.last_sq),
            _ => after(self.last_smart) || after(self.last_dq) || after(self.last_sq),
        }
    }

    /// Position of the first `"` at or after `from`, cached so that the
    /// forward-moving callers scan each byte once.
    fn next_dq(&mut self, from: usize) -> Option<usize> {
        if let Some((cached_from, next)) = self.dq_cache
            && from >= cached_from
            && next.is_none_or(|n| n >= from)
        {
            return next;
        }
        let found = self
            .bytes
            .get(from..)?
            .iter()
            .position(|&b| b == b'"')
            .map(|off| from + off);
        self.dq_cache = Some((from, found));
        found
    }

    fn next_non_ws(&self, from: usize) -> (Option<char>, usize) {
        let at = self.skip_ws_from(from);
        (self.char_at(at), at)
    }

    fn skip_ws_from(&self, mut i: usize) -> usize {
        while let Some(c) = self.char_at(i) {
            if !c.is_whitespace() {
                break;
            }
            i += c.len_utf8();
        }
        i
    }

    fn skip_ws_comments(&mut self) {
        loop {
            let from = self.pos;
            self.pos = self.skip_ws_from(from);
            let blanks = self.bytes.get(from..self.pos).unwrap_or_default();
            // Blanks JSON does not allow: a no-break space, a form feed, …
            if blanks.iter().any(|&b| b >= 0x80 || b == 0x0b || b == 0x0c) {
                self.note(
                    RepairKind::DroppedJunk,
                    "dropped blanks that JSON does not allow",
                );
            }
            let rest = self.bytes.get(self.pos..).unwrap_or_default();
            let end = if rest.starts_with(b"//") {
                rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len())
            } else if rest.starts_with(b"/*") {
                rest.windows(2)
                    .skip(2)
                    .position(|w| w == b"*/")
                    .map_or(rest.len(), |off| off + 4)
            } else if rest.first() == Some(&b'#') {
                // Inside a container a `#` note also ends at a closing bracket
                // (`{"a": 1 # note }`).
                let in_container = !self.stack.is_empty();
                rest.iter()
                    .position(|&b| b == b'\n' || (in_container && (b == b'}' || b == b']')))
                    .unwrap_or(rest.len())
            } else {
                return;
            };
            self.pos += end;
            self.note(RepairKind::Comment, "removed a comment");
        }
    }

    fn token_end(&self, start: usize) -> usize {
        let mut i = start;
        while let Some(c) = self.char_at(i) {
            let ends = c.is_whitespace()
                || matches!(
                    c,
                    ',' | ':' | '{' | '}' | '[' | ']' | '(' | ')' | '"' | '“' | '”'
                )
                || (c == '/' && matches!(self.bytes.get(i + 1), Some(b'/' | b'*')));
            if ends {
                break;
            }
            i += c.len_utf8();
        }
        i
    }

    fn word_end(&self, start: usize) -> usize {
        let mut i = start;
        while let Some(c) = self.char_at(i) {
            if !is_word_char(c) {
                break;
            }
            i += c.len_utf8();
        }
        i
    }

    // --- Small helpers ---

    fn peek(&self) -> Option<char> {
        self.char_at(self.pos)
    }

    fn char_at(&self, i: usize) -> Option<char> {
        self.src.get(i..)?.chars().next()
    }

    fn parent_is(&self, kind: Container) -> bool {
        self.stack.iter().rev().nth(1) == Some(&kind)
    }

    fn enter(&mut self, kind: Container) -> Result<(), ParseError> {
        if self.stack.len() >= MAX_NESTING {
            return Err(ParseError::TooDeep { limit: MAX_NESTING });
        }
        self.stack.push(kind);
        Ok(())
    }

    fn leave(&mut self) {
        self.stack.pop();
    }

    fn note(&mut self, kind: RepairKind, detail: impl Into<String>) {
        push_repair(&mut self.repairs, Repair::new(kind, &self.path, detail));
    }
}

/// `"rows": [[1, 2], 3, 4], [5, 6]]`: the model closed the array too early
/// and dropped a bracket. An array of arrays takes a new row as one element
/// (regrouping the loose scalars before it when they make a row of the same
/// length); otherwise the items are appended.
fn merge_arrays(last: &mut Vec<Value>, items: Vec<Value>) {
    let rows = last.first().is_some_and(Value::is_array);
    let new_is_row = !items.is_empty() && !items.iter().any(Value::is_array);
    if !(rows && new_is_row) {
        last.extend(items);
        return;
    }
    let loose = last.iter().rev().take_while(|v| !v.is_array()).count();
    if loose == items.len() {
        let row = last.split_off(last.len() - loose);
        last.push(Value::Array(row));
    }
    last.push(Value::Array(items));
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '\'' | '“' | '”' | '‘')
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '$' | '-' | '.' | '+')
}

/// Reads a bare token as a number, fixing the forms models write that JSON
/// does not allow (`.5`, `1.`, `+1`, `1_000`, `1e`). Returns whether it fixed
/// anything. Tokens such as `1/3`, `10-20` or `1.1.1` are not numbers.
fn number_from_token(token: &str) -> Option<(Number, bool)> {
    if let Ok(n) = token.parse::<Number>() {
        return Some((n, false));
    }
    let first = token.chars().next()?;
    if !(first.is_ascii_digit() || matches!(first, '-' | '+' | '.')) {
        return None;
    }
    let mut text = String::with_capacity(token.len() + 2);
    let mut prev_digit = false;
    let mut chars = token.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '_' {
            // Only as a digit separator: `1_000`, not `_1` or `1__0`.
            if !prev_digit || !chars.peek().is_some_and(char::is_ascii_digit) {
                return None;
            }
            continue;
        }
        prev_digit = c.is_ascii_digit();
        text.push(c);
    }
    let text = text.strip_prefix('+').map(str::to_owned).unwrap_or(text);
    let mut text = match text.strip_prefix("-.") {
        Some(rest) => format!("-0.{rest}"),
        None => match text.strip_prefix('.') {
            Some(rest) => format!("0.{rest}"),
            None => text,
        },
    };
    // Trailing exponent marker with no digits: `1e`, `1e-`.
    while text.ends_with(['e', 'E', '-', '+']) && text.len() > 1 {
        text.pop();
    }
    if text.ends_with('.') {
        text.push('0');
    }
    text.parse::<Number>().ok().map(|n| (n, true))
}

/// JSON literals in any case, Python's, and the non-JSON ones models write.
fn literal(token: &str) -> Option<(Value, Option<RepairKind>)> {
    let exact = match token {
        "true" => Some(Value::Bool(true)),
        "false" => Some(Value::Bool(false)),
        "null" => Some(Value::Null),
        _ => None,
    };
    if let Some(value) = exact {
        return Some((value, None));
    }
    let lower = token.to_ascii_lowercase();
    let value = match lower.as_str() {
        "true" => (Value::Bool(true), RepairKind::PythonLiteral),
        "false" => (Value::Bool(false), RepairKind::PythonLiteral),
        "null" | "none" | "nil" => (Value::Null, RepairKind::PythonLiteral),
        "undefined" | "nan" | "-nan" | "infinity" | "+infinity" | "-infinity" | "inf" | "-inf" => {
            (Value::Null, RepairKind::NonJsonLiteral)
        }
        _ => return None,
    };
    Some((value.0, Some(value.1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(src: &str) -> (Value, Vec<RepairKind>) {
        let mut values = parse_document(src, Reading::Schemaless, 16).unwrap();
        assert_eq!(values.len(), 1, "{src}: {values:?}");
        let (value, repairs) = values.remove(0);
        (value, repairs.into_iter().map(|r| r.kind).collect())
    }

    fn check(src: &str, expected: &Value, kind: RepairKind) {
        let (value, kinds) = one(src);
        assert_eq!(&value, expected, "{src}");
        assert!(
            kinds.contains(&kind),
            "{src}: expected {kind:?} in {kinds:?}"
        );
    }

    #[test]
    fn clean_json_has_no_repairs() {
        let (value, kinds) = one(r#"{"a": [1, 2.5, "x\"y", true, null], "b": {}}"#);
        assert_eq!(value, json!({"a": [1, 2.5, "x\"y", true, null], "b": {}}));
        assert!(kinds.is_empty(), "{kinds:?}");
    }

    #[test]
    #[allow(
        clippy::too_many_lines,
        reason = "one table of assertions, one per syntax repair kind"
    )]
    fn each_syntax_repair() {
        check("{'a': 'b'}", &json!({"a": "b"}), RepairKind::SingleQuotes);
        check("{“a”: “b”}", &json!({"a": "b"}), RepairKind::SmartQuotes);
        check(
            "{‘a’: ‘it’s’}",
            &json!({"a": "it’s"}),
            RepairKind::SmartQuotes,
        );
        check("{a: 1}", &json!({"a": 1}), RepairKind::UnquotedKey);
        check(
            "{\"a\": hello world}",
            &json!({"a": "hello world"}),
            RepairKind::UnquotedString,
        );
        check("{\"a\" 1}", &json!({"a": 1}), RepairKind::MissingColon);
        check("{\"a\": 1,}", &json!({"a": 1}), RepairKind::TrailingComma);
        check("[1, 2,]", &json!([1, 2]), RepairKind::TrailingComma);
        check(
            "{\"a\": 1 \"b\": 2}",
            &json!({"a": 1, "b": 2}),
            RepairKind::MissingComma,
        );
        check(
            "[\"a\" \"b\"]",
            &json!(["a", "b"]),
            RepairKind::MissingComma,
        );
        check(
            "{\"a\": 1 // note\n}",
            &json!({"a": 1}),
            RepairKind::Comment,
        );
        check("{\"a\": /* x */ 1}", &json!({"a": 1}), RepairKind::Comment);
        check("{\"a\": 1 # note\n}", &json!({"a": 1}), RepairKind::Comment);
        check(
            "{\"a\": True, \"b\": None}",
            &json!({"a": true, "b": null}),
            RepairKind::PythonLiteral,
        );
        check(
            "{\"a\": NaN, \"b\": undefined}",
            &json!({"a": null, "b": null}),
            RepairKind::NonJsonLiteral,
        );
        check(
            "{\"a\": \"say \"hi\" now\"}",
            &json!({"a": "say \"hi\" now"}),
            RepairKind::UnescapedQuote,
        );
        check(
            "{\"a\": \"line\nbreak\"}",
            &json!({"a": "line\nbreak"}),
            RepairKind::UnescapedNewline,
        );
        check(
            "{\"a\": \"\\q\"}",
            &json!({"a": "\\q"}),
            RepairKind::InvalidEscape,
        );
        check(
            "{\"a\": \"x, \"b\": 1}",
            &json!({"a": "x", "b": 1}),
            RepairKind::MissingClosingQuote,
        );
        check(
            "{\"a\": \"trunc",
            &json!({"a": "trunc"}),
            RepairKind::ClosedTruncated,
        );
        check(
            "{\"a\": [1, {\"b\": 2",
            &json!({"a": [1, {"b": 2}]}),
            RepairKind::ClosedTruncated,
        );
        check(
            "{\"a\": 1, \"b\"",
            &json!({"a": 1}),
            RepairKind::DroppedDanglingKey,
        );
        check(
            "{\"a\": 1, \"b\":",
            &json!({"a": 1}),
            RepairKind::DroppedDanglingKey,
        );
        check("[1, ..., 2]", &json!([1, 2]), RepairKind::DroppedJunk);
        check(
            "{\"a\": [1}",
            &json!({"a": [1]}),
            RepairKind::MismatchedBracket,
        );
        check(
            "{\"a\": 1, \"a\": 2}",
            &json!({"a": 2}),
            RepairKind::DuplicateKey,
        );
        check("(1, 2)", &json!([1, 2]), RepairKind::TupleAsArray);
        check("{'a', 'b'}", &json!(["a", "b"]), RepairKind::SetAsArray);
        check("[\"a\": 1]", &json!([{"a": 1}]), RepairKind::ImpliedObject);
        check(
            "{\"a\": [1], [2]}",
            &json!({"a": [1, 2]}),
            RepairKind::MergedArray,
        );
        check(
            "{\"a\": .5, \"b\": 1_000, \"c\": 1.}",
            &json!({"a": 0.5, "b": 1000, "c": 1.0}),
            RepairKind::NumberSyntax,
        );
        check(
            "{\"\"a\"\": 1}",
            &json!({"a": 1}),
            RepairKind::DoubledQuotes,
        );
        check(
            "Here: {\"a\": 1}",
            &json!({"a": 1}),
            RepairKind::ExtractedFromProse,
        );
        check(
            "{\"a\": 1}, \"b\": 2}",
            &json!({"a": 1, "b": 2}),
            RepairKind::ReopenedObject,
        );
    }

    #[test]
    fn what_models_write_that_json_does_not() {
        check(
            "{\"a\": -2,000.00, \"b\": 1,234,567}",
            &json!({"a": -2000.0, "b": 1_234_567}),
            RepairKind::ThousandsSeparators,
        );
        // In an array the comma separates items, as in JSON, unless a group is no
        // number on its own.
        assert_eq!(one("[1,234, 5").0, json!([1, 234, 5]));
        assert_eq!(one("[-2,000.50, 5").0, json!([-2000.5, 5]));
        check(
            "{\"a\": \"\"\"say \"hi\"\nnow\"\"\", \"b\": '''x'''}",
            &json!({"a": "say \"hi\"\nnow", "b": "x"}),
            RepairKind::TripleQuotes,
        );
        check(
            "{'a': 'it's here', 'b': ['x'   y' /* c */]}",
            &json!({"a": "it's here", "b": ["x'   y"]}),
            RepairKind::SingleQuotes,
        );
        check(
            "{\"l\": [1, \"a\"b\"], \"k\": 1}",
            &json!({"l": [1, "a\"b"], "k": 1}),
            RepairKind::UnescapedQuote,
        );
        check(
            "{a: one\n  two, b: **x, y**\n\nz \"q\" w\n}",
            &json!({"a": "one\n  two", "b": "**x, y**\n\nz \"q\" w"}),
            RepairKind::UnquotedString,
        );
        // A key later on the same line ends the value at the comma before it.
        check(
            "{\"k\": sic, quick fox. \"b\": 1}",
            &json!({"k": "sic", "b": 1}),
            RepairKind::DroppedJunk,
        );
    }

    #[test]
    fn without_a_schema_empty_values_and_fenced_strings_are_read() {
        check(
            "{\"a\": , \"b\": 1, [\"c\"] }",
            &json!({"a": "", "b": 1, "c": ""}),
            RepairKind::EmptyValue,
        );
        let fenced = "{\"k\": \"```json {\"a\": [1]}```\"}";
        check(fenced, &json!({"k": {"a": [1]}}), RepairKind::JsonInString);
        let for_schema = |src: &str| parse_document(src, Reading::ForSchema, 16).unwrap();
        assert_eq!(for_schema("{\"a\": , \"b\": 1}")[0].0, json!({"b": 1}));
        assert_eq!(
            for_schema(fenced)[0].0,
            json!({"k": "```json {\"a\": [1]}```"})
        );
    }

    #[test]
    fn escapes_and_surrogates() {
        let (v, _) = one(r#"{"a": "\u00e9\ud83d\ude00\n\t\/"#);
        assert_eq!(v, json!({"a": "é😀\n\t/"}));
        let (v, kinds) = one(r#"["\ud800x"]"#);
        assert_eq!(v, json!(["\u{FFFD}x"]));
        assert!(kinds.contains(&RepairKind::InvalidEscape));
    }

    #[test]
    fn truncated_bare_words_are_dropped() {
        let (v, _) = one("[true, fals");
        assert_eq!(v, json!([true]));
        let (v, _) = one("[1, 2");
        assert_eq!(v, json!([1, 2]));
    }

    #[test]
    fn depth_guard() {
        let deep = "[".repeat(MAX_NESTING + 1);
        assert_eq!(
            parse_document(&deep, Reading::Schemaless, 16),
            Err(ParseError::TooDeep { limit: MAX_NESTING })
        );
        let ok = format!("{}{}", "[".repeat(MAX_NESTING), "]".repeat(MAX_NESTING));
        assert!(parse_document(&ok, Reading::Schemaless, 16).is_ok());
        let objects = "{\"a\":".repeat(MAX_NESTING + 1);
        assert_eq!(
            parse_document(&objects, Reading::Schemaless, 16),
            Err(ParseError::TooDeep { limit: MAX_NESTING })
        );
    }

    #[test]
    fn never_panics_on_odd_bytes() {
        for src in [
            "\"",
            "'",
            "“",
            "‘",
            "\\",
            "{\"\\",
            "{\"\\u12",
            "[\"\\ud800\\u",
            "{#",
            "[/*",
            "(",
            "{(}",
            "é{é:é}",
            "{\"a\":\"\u{0}\"}",
        ] {
            let _ = parse_document(src, Reading::Schemaless, 16);
        }
    }

    #[test]
    fn nested_sets_are_not_exponential() {
        // Found by fuzzing: each `{` that turned out to be a set re-read the
        // `{`s inside it, doubling the work per level.
        let start = std::time::Instant::now();
        let src = format!("{}}}2{}", "{".repeat(60), "{{}2{{{{}{`}{}]".repeat(20));
        let _ = parse_document(&src, Reading::Schemaless, 16);
        let fuzz = b"+{{}2{{{{}{`}{}]){\x01\x00\x00[\xf52E\x00\x00\x00\x00\x002]{}2{{{{{}{\x00{\x00\x00\x00\x00\xd7\x00\x00%4{}{{={\x000\r\r\r\r\x00\x00\x00%2{{\"\"0\re[\"{~\": ' }\r\r\x00\x00\x00%2{{{{{\"\"\"\"\"\"\"\"\x02\"\"\"\"\"\"\"\"\"\"\"\"\"\x80\x00\x00\x00\x00\"\"\"\"\"\"\"\x00*\"\"\"}{}]){2]{}2{{{{}{`}{}]){\x01\x00\x00[\xf52E\x00\x00\x00\x00\x002\"\"}{}]).-\x00\x00\x00\x00\x00k}k>}]\x00%{]";
        let _ = parse_document(&String::from_utf8_lossy(fuzz), Reading::Schemaless, 16);
        assert!(
            start.elapsed() < std::time::Duration::from_secs(2),
            "took {:?}",
            start.elapsed()
        );
    }

    #[test]
    fn number_tokens() {
        assert_eq!(number_from_token("1e"), Some((Number::from(1), true)));
        assert_eq!(
            number_from_token("-.5").map(|n| n.0.as_f64()),
            Some(Some(-0.5))
        );
        assert_eq!(number_from_token("1/3"), None);
        assert_eq!(number_from_token("1.1.1"), None);
        assert_eq!(number_from_token("1__0"), None);
        assert_eq!(number_from_token("_1"), None);
        assert_eq!(number_from_token("e"), None);
    }
}
