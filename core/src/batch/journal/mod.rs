//! Journals: one JSON object per line for each finished item of a batch, or each finished
//! chunk job of a chunked extraction, appended as it finishes, so that a run started again
//! with the same inputs skips what it already has ([`writer`]), and so that anyone can read
//! what a run produced ([`reader`]).
//!
//! Each line holds `index` (the item's place in the batch; for a chunk job,
//! `pass × chunks + chunk`), `key` (the same as text, `"3"`, or `"chunk 3"` and
//! `"chunk 3, pass 1"` for chunk jobs, counting from 0), `input_hash` (of the type's
//! schema, the model and the text, 16 hex digits), `value` (the validated JSON) on success
//! or `error` and `kind` on failure, `usage`, and `attempts` (each with its raw text and
//! failure). A line is written with one `write` of the whole line and its newline,
//! unbuffered, so stopping the program leaves at most one torn last line, which readers
//! ignore and the writer cuts off before appending. Lines are not synced to disk: a crash
//! of the program loses nothing written, a crash of the machine may.

use serde::Deserialize as _;
use serde_json::Value;

use crate::{Attempt, Usage};

pub(crate) mod reader;
pub(crate) mod writer;

/// How a run's lines are named in their `key`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Keys {
    /// A batch's items: the index as text.
    Index,
    /// A chunked extraction's jobs, `chunks` per pass: `"chunk 3"`, or `"chunk 3, pass 1"`
    /// when there are several passes.
    Chunks { chunks: usize, passes: usize },
}

impl Keys {
    /// The key of the line of the item (or job) at `index`.
    pub(crate) fn key(self, index: usize) -> String {
        match self {
            Keys::Chunks { chunks, passes } if chunks > 0 => {
                let (pass, chunk) = (index / chunks, index % chunks);
                if passes > 1 {
                    format!("chunk {chunk}, pass {pass}")
                } else {
                    format!("chunk {chunk}")
                }
            }
            _ => index.to_string(),
        }
    }
}

/// A whole line as read back.
#[derive(serde::Deserialize)]
pub(crate) struct Stored {
    pub(crate) index: usize,
    /// Absent from lines written before keys were.
    #[serde(default)]
    pub(crate) key: Option<String>,
    /// The validated JSON, when the item succeeded (`Some(Value::Null)` for a `null`).
    #[serde(default, deserialize_with = "present")]
    pub(crate) value: Option<Value>,
    #[serde(default)]
    pub(crate) error: Option<String>,
    #[serde(default)]
    pub(crate) usage: Usage,
    #[serde(default)]
    pub(crate) attempts: Vec<Attempt>,
}

/// A field that is there, whatever it holds: a `null` value is a value.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// The whole lines of a journal's bytes, each with its number (from 1), blank ones left
/// out; and where the whole lines end. What follows the last newline is a torn line (the
/// program stopped while writing it), not part of the journal.
pub(crate) fn whole_lines(bytes: &[u8]) -> (Vec<(usize, &[u8])>, usize) {
    let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let lines = bytes[..whole]
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| (i + 1, line))
        .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
        .collect();
    (lines, whole)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_items_by_index_and_chunk_jobs_by_chunk_and_pass() {
        assert_eq!(Keys::Index.key(3), "3");
        let one = Keys::Chunks {
            chunks: 4,
            passes: 1,
        };
        assert_eq!(one.key(3), "chunk 3");
        let two = Keys::Chunks {
            chunks: 4,
            passes: 2,
        };
        assert_eq!(two.key(1), "chunk 1, pass 0");
        assert_eq!(two.key(6), "chunk 2, pass 1");
    }

    #[test]
    fn whole_lines_leave_out_blanks_and_the_torn_tail() {
        let (lines, whole) = whole_lines(b"a\n\n  \nb\ntor");
        assert_eq!(lines, [(1, &b"a"[..]), (4, &b"b"[..])]);
        assert_eq!(whole, 8);
        assert_eq!(whole_lines(b"torn").0.len(), 0);
    }
}
