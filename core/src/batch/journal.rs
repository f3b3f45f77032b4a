//! A batch's journal: one JSON object per line for each finished item, appended as the
//! item is yielded, so that a batch run again with the same inputs skips what it already
//! has.
//!
//! Each line holds `index`, `input_hash` (of the type's schema, the model and the text,
//! 16 hex digits), `value` (the validated JSON) on success or `error` and `kind` on
//! failure, `usage`, and `attempts` (each with its raw text and failure). A line is
//! written with one `write` of the whole line and its newline, unbuffered, so stopping the
//! program leaves at most one torn last line; reopening ignores it with a warning and cuts
//! it off before appending. Lines are not synced to disk: a crash of the program loses
//! nothing written, a crash of the machine may.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::{Attempt, Error, Extracted, Result, Schema, Usage};

/// An open journal and the items it already holds a value for.
#[derive(Debug)]
pub(crate) struct Journal {
    file: File,
    path: PathBuf,
    /// `(index, input_hash)` of every line with a value.
    done: HashSet<(usize, u64)>,
    /// The hash state after the schema, the start of every item's hash.
    seed: u64,
}

/// What a line says, as far as resuming needs it.
#[derive(serde::Deserialize)]
struct Seen {
    index: usize,
    input_hash: String,
    #[serde(default, deserialize_with = "present")]
    value: bool,
}

/// Whether the field is there at all (a `null` value is a value).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(d).map(|_| true)
}

use serde::Deserialize as _;

#[derive(Serialize)]
struct Line<'a> {
    index: usize,
    input_hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    usage: Usage,
    attempts: &'a [Attempt],
}

impl Journal {
    /// Opens (or creates) the journal at `path` for items of `schema`, reading what it holds
    /// and cutting off a torn last line.
    pub(crate) fn open(path: &Path, schema: &Schema) -> Result<Journal> {
        let fail = |e: std::io::Error| {
            Error::config(format!("cannot open the journal `{}`: {e}", path.display()))
        };
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(fail)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(fail)?;
        let (done, whole) = read_lines(&bytes, path);
        if whole < bytes.len() {
            file.set_len(whole as u64).map_err(fail)?;
        }
        let schema_json = serde_json::to_vec(schema.json()).unwrap_or_default();
        Ok(Journal {
            file,
            path: path.to_owned(),
            done,
            seed: fnv(FNV_OFFSET, &schema_json),
        })
    }

    /// The input hash of an item: the schema, the model and the text.
    pub(crate) fn hash(&self, model: &str, text: &str) -> u64 {
        let hash = fnv(self.seed, &[0xff]);
        let hash = fnv(hash, model.as_bytes());
        let hash = fnv(hash, &[0xff]);
        fnv(hash, text.as_bytes())
    }

    /// Whether the journal holds a value for this item.
    pub(crate) fn has_value(&self, index: usize, hash: u64) -> bool {
        self.done.contains(&(index, hash))
    }

    /// Appends the line of a finished item. A failed write is logged, not raised: the
    /// item's result is still the caller's, and the item is simply done again next time.
    /// `json` is the validated JSON the run read the value from (`None` for a chunked
    /// item, whose merged list is kept in its attempts only: the line's value is `null`).
    pub(crate) fn record<T>(
        &mut self,
        index: usize,
        hash: u64,
        result: &Result<Extracted<T>>,
        json: Option<Value>,
    ) {
        let line = match result {
            Ok(out) => Line {
                index,
                input_hash: hex(hash),
                value: Some(json.unwrap_or(Value::Null)),
                error: None,
                kind: None,
                usage: out.usage,
                attempts: &out.attempts,
            },
            Err(e) => Line {
                index,
                input_hash: hex(hash),
                value: None,
                error: Some(e.to_string()),
                kind: Some(format!("{:?}", e.kind())),
                usage: e.usage(),
                attempts: e.attempts(),
            },
        };
        let mut bytes = serde_json::to_vec(&line).unwrap_or_default();
        bytes.push(b'\n');
        if let Err(e) = self.file.write_all(&bytes) {
            tracing::error!(path = %self.path.display(), index, error = %e, "cannot write the journal");
        }
    }
}

/// The `(index, hash)` of every whole line with a value, and the length of the whole
/// lines. A torn or unreadable line is skipped with a warning.
fn read_lines(bytes: &[u8], path: &Path) -> (HashSet<(usize, u64)>, usize) {
    let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    if whole < bytes.len() {
        tracing::warn!(
            path = %path.display(),
            bytes = bytes.len() - whole,
            "the journal's last line is torn (the program stopped while writing it); ignoring it"
        );
    }
    let mut done = HashSet::new();
    for (number, line) in bytes[..whole].split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Seen>(line) {
            Ok(seen) => {
                if let (true, Ok(hash)) = (seen.value, u64::from_str_radix(&seen.input_hash, 16)) {
                    done.insert((seen.index, hash));
                }
            }
            Err(e) => tracing::warn!(
                path = %path.display(),
                line = number + 1,
                error = %e,
                "ignoring an unreadable journal line"
            ),
        }
    }
    (done, whole)
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

/// 64-bit FNV-1a, continued from `hash`: stable across runs, platforms and releases, as a
/// journal kept on disk needs (std's hashers promise none of that).
fn fnv(mut hash: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

fn hex(hash: u64) -> String {
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_its_reference_values() {
        assert_eq!(fnv(FNV_OFFSET, b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv(FNV_OFFSET, b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv(FNV_OFFSET, b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn whole_lines_with_values_count_and_a_torn_tail_does_not() {
        let text = concat!(
            r#"{"index":0,"input_hash":"00000000000000ff","value":{"a":1},"usage":{},"attempts":[]}"#,
            "\n",
            r#"{"index":1,"input_hash":"0000000000000001","error":"no","usage":{},"attempts":[]}"#,
            "\n",
            r#"{"index":2,"input_hash":"0000000000000002","value":null,"usage":{},"attempts":[]}"#,
            "\n",
            r#"{"index":3,"input_hash":"0000000000000003","val"#,
        );
        let (done, whole) = read_lines(text.as_bytes(), Path::new("j"));
        assert_eq!(done, HashSet::from([(0, 0xff), (2, 2)]));
        assert_eq!(
            &text[whole..],
            r#"{"index":3,"input_hash":"0000000000000003","val"#
        );
    }
}
