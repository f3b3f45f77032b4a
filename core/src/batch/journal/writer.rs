//! The journal a run appends to: it reads what the file already holds, says which items
//! are done, hands back the lines of done chunk jobs, and appends a line per finished item.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::{Stored, whole_lines};
use crate::json::{FNV_OFFSET, fnv};
use crate::{Attempt, Error, Extracted, Result, Schema, Usage};

/// An open journal and the items it already holds a value for.
#[derive(Debug)]
pub(crate) struct Writer {
    file: File,
    path: PathBuf,
    done: Done,
    /// The hash state after the schema, the start of every item's hash.
    seed: u64,
}

/// `(index, input_hash)` of every line with a value; with the line itself when the writer
/// keeps them (see [`Writer::open`]).
type Done = HashMap<(usize, u64), Option<Box<[u8]>>>;

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
    key: &'a str,
    input_hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    usage: Usage,
    attempts: &'a [Attempt],
}

impl Writer {
    /// Opens (or creates) the journal at `path` for items of `schema`, reading what it holds
    /// and cutting off a torn last line. With `keep`, the lines with a value are kept, for
    /// [`take`](Writer::take).
    pub(crate) fn open(path: &Path, schema: &Schema, keep: bool) -> Result<Writer> {
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
        let (done, whole) = read_lines(&bytes, path, keep);
        if whole < bytes.len() {
            file.set_len(whole as u64).map_err(fail)?;
        }
        let schema_json = serde_json::to_vec(schema.json()).unwrap_or_default();
        Ok(Writer {
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
        self.done.contains_key(&(index, hash))
    }

    /// The kept line holding this item's value, read back; `None` when there is none, or
    /// when it does not read (the item is then simply run again).
    pub(crate) fn take(&mut self, index: usize, hash: u64) -> Option<Stored> {
        let line = self.done.get_mut(&(index, hash))?.take()?;
        serde_json::from_slice(&line)
            .inspect_err(|e| {
                tracing::warn!(path = %self.path.display(), index, error = %e, "cannot read a journal line back; running its item again");
            })
            .ok()
    }

    /// Appends the line of a finished item, named `key`. A failed write is logged, not
    /// raised: the item's result is still the caller's, and the item is simply done again
    /// next time. `json` is the validated JSON the run read the value from (a chunked
    /// item's is its merged list; a line whose run kept none gets a `null` value).
    pub(crate) fn record<T>(
        &mut self,
        (index, key): (usize, &str),
        hash: u64,
        result: &Result<Extracted<T>>,
        json: Option<&Value>,
    ) {
        let line = match result {
            Ok(out) => Line {
                index,
                key,
                input_hash: hex(hash),
                value: Some(json.unwrap_or(&Value::Null)),
                error: None,
                kind: None,
                usage: out.usage,
                attempts: &out.attempts,
            },
            Err(e) => Line {
                index,
                key,
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

/// The lines done, by `(index, hash)`, each with its bytes when `keep`; and the length of
/// the whole lines. A torn or unreadable line is skipped with a warning.
fn read_lines(bytes: &[u8], path: &Path, keep: bool) -> (Done, usize) {
    let (lines, whole) = whole_lines(bytes);
    if whole < bytes.len() {
        tracing::warn!(
            path = %path.display(),
            bytes = bytes.len() - whole,
            "the journal's last line is torn (the program stopped while writing it); ignoring it"
        );
    }
    let mut done = HashMap::new();
    for (number, line) in lines {
        match serde_json::from_slice::<Seen>(line) {
            Ok(seen) => {
                if let (true, Ok(hash)) = (seen.value, u64::from_str_radix(&seen.input_hash, 16)) {
                    done.insert((seen.index, hash), keep.then(|| line.into()));
                }
            }
            Err(e) => tracing::warn!(
                path = %path.display(),
                line = number,
                error = %e,
                "ignoring an unreadable journal line"
            ),
        }
    }
    (done, whole)
}

fn hex(hash: u64) -> String {
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    const TEXT: &str = concat!(
        r#"{"index":0,"input_hash":"00000000000000ff","value":{"a":1},"usage":{},"attempts":[]}"#,
        "\n",
        r#"{"index":1,"input_hash":"0000000000000001","error":"no","usage":{},"attempts":[]}"#,
        "\n",
        r#"{"index":2,"input_hash":"0000000000000002","value":null,"usage":{},"attempts":[]}"#,
        "\n",
        r#"{"index":3,"input_hash":"0000000000000003","val"#,
    );

    #[test]
    fn whole_lines_with_values_count_and_a_torn_tail_does_not() {
        let (done, whole) = read_lines(TEXT.as_bytes(), Path::new("j"), false);
        let done: HashSet<(usize, u64)> = done.into_keys().collect();
        assert_eq!(done, HashSet::from([(0, 0xff), (2, 2)]));
        assert_eq!(
            &TEXT[whole..],
            r#"{"index":3,"input_hash":"0000000000000003","val"#
        );
    }

    #[test]
    fn kept_lines_are_handed_back_once() {
        let (done, _) = read_lines(TEXT.as_bytes(), Path::new("j"), true);
        let path = std::env::temp_dir().join(format!("factum-writer-{}", std::process::id()));
        let mut writer = Writer {
            file: File::create(&path).unwrap(),
            path: path.clone(),
            done,
            seed: 0,
        };
        let stored = writer.take(0, 0xff).unwrap();
        assert_eq!(stored.value, Some(serde_json::json!({"a": 1})));
        assert!(writer.take(0, 0xff).is_none(), "a line is handed back once");
        assert!(writer.has_value(0, 0xff));
        assert!(writer.take(1, 1).is_none(), "a failed line has no value");
        let _ = std::fs::remove_file(path);
    }
}
