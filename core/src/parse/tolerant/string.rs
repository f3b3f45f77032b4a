//! The tolerant parser's hardest part, read alone: where a string ends. A model writes
//! unescaped quotes, smart quotes, single and triple quotes, and strings cut short; each
//! rule here decides from bounded look-aheads whether a quote closes the string.

use serde_json::Value;

use super::{Ctx, Parser, UNQUOTED_SPAN, is_quote};
use crate::parse::locate;
use crate::parse::repair::RepairKind;

impl Parser<'_> {
    /// Reads a quoted string. `None` means the text ended right after the
    /// opening quote, so there is nothing to keep.
    #[allow(
        clippy::too_many_lines,
        reason = "a state machine over one cursor reads best in one piece"
    )]
    pub(super) fn parse_string(&mut self, ctx: Ctx) -> Option<String> {
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
    pub(super) fn fenced_string_end(&mut self) -> Option<usize> {
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
    pub(super) fn fenced_json(&mut self, text: String) -> Value {
        if !self.schemaless || !text.starts_with("```") || !text.trim_end().ends_with("```") {
            return Value::String(text);
        }
        let inner = locate::fences(&text, 1)
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
    pub(super) fn triple_quoted(&mut self, open: char) -> Option<String> {
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
    pub(super) fn quote_closes(
        &self,
        ctx: Ctx,
        after: usize,
        even: bool,
        apostrophe: bool,
    ) -> bool {
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
    pub(super) fn value_may_end(&self, next: Option<char>, at: usize) -> bool {
        match next {
            None | Some(',' | '}' | ']' | ')' | ':') => true,
            Some('/') => matches!(self.bytes.get(at + 1), Some(b'/' | b'*')),
            Some(c) if is_quote(c) => true,
            Some(_) => self.bare_key_at(at),
        }
    }

    /// After a backslash.
    pub(super) fn read_escape(&mut self, out: &mut String) {
        let Some(c) = self.peek() else { return };
        self.pos += c.len_utf8();
        match c {
            '"' | '\\' | '/' => out.push(c),
            // Not an escape in JSON (a JavaScript or Python one): read as the apostrophe it
            // stands for, and said, since plain JSON refuses the text.
            '\'' => {
                self.note(RepairKind::InvalidEscape, "read the escape \\' as '");
                out.push('\'');
            }
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
    pub(super) fn read_unicode_escape(&mut self, out: &mut String) {
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

    pub(super) fn hex4(&self, at: usize) -> Option<u32> {
        let digits = self.bytes.get(at..at + 4)?;
        let text = std::str::from_utf8(digits).ok()?;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(text, 16).ok()
    }
}
