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
use super::repair::{Repair, RepairKind};
use super::terms::{MAX_NESTING, ParseError};
use crate::json::{push_index, push_key};

mod string;

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
mod tests;
