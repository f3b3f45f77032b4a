//! Where a JSON value ends, seen one generated piece at a time, so generation stops on
//! the token that closes the value instead of waiting for the grammar's trailing space
//! and the end-of-generation token.

use crate::json::InString;

/// Follows the nesting of a reply that opens with `{` or `[` (after white space). A reply
/// that opens with anything else is never reported closed: the model wrote prose, and the
/// lenient parser reads it whole.
#[derive(Debug, Default)]
pub(super) struct ValueEnd {
    depth: u32,
    string: InString,
    /// Whether the reply opened with a bracket; `None` before its first non-space byte.
    structured: Option<bool>,
    closed: bool,
}

impl ValueEnd {
    /// Reads the next piece of the reply; true once the first value has closed.
    pub(super) fn feed(&mut self, piece: &[u8]) -> bool {
        for &byte in piece {
            if self.closed {
                break;
            }
            self.byte(byte);
        }
        self.closed
    }

    fn byte(&mut self, byte: u8) {
        match self.structured {
            None if byte.is_ascii_whitespace() => return,
            None => self.structured = Some(matches!(byte, b'{' | b'[')),
            Some(false) => return,
            Some(true) => {}
        }
        if self.string.consumes(byte) {
            return;
        }
        match byte {
            b'"' => self.string.open(),
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => {
                self.depth = self.depth.saturating_sub(1);
                self.closed = self.depth == 0;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ValueEnd;

    fn closes_at(pieces: &[&str]) -> Option<usize> {
        let mut end = ValueEnd::default();
        pieces.iter().position(|p| end.feed(p.as_bytes()))
    }

    #[test]
    fn an_object_closes_on_its_last_brace() {
        assert_eq!(closes_at(&["{\"a\"", ": [1, {", "}]", "}", " "]), Some(3));
        assert_eq!(closes_at(&["  \n[", "1]"]), Some(1));
    }

    #[test]
    fn brackets_in_strings_do_not_count() {
        assert_eq!(closes_at(&["{\"a\": \"}]\\\"}\"", "}"]), Some(1));
    }

    #[test]
    fn prose_and_unclosed_values_never_close() {
        assert_eq!(closes_at(&["Here is {\"a\": 1}", " done"]), None);
        assert_eq!(closes_at(&["{\"a\": {", "}"]), None);
    }
}
