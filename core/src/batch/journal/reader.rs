//! A journal read back: [`Journal`] and its [`JournalEntry`]s.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Stored, whole_lines};
use crate::pipeline::reply::pointer;
use crate::{Attempt, Error, Result, Usage};

/// A batch's or a chunked extraction's journal, read back.
///
/// A run given [`Batch::journal`](crate::Batch::journal) or
/// [`Extraction::journal`](crate::Extraction::journal) appends one JSON line per finished
/// item or chunk; [`entries`](Journal::entries) reads them as typed values, with each one's
/// failure, attempts and usage. The file is read once, by [`open`](Journal::open); a run
/// that appends to it later is not seen.
///
/// # Examples
///
/// ```no_run
/// # #[derive(Debug, serde::Deserialize, factum::Extract)] struct Person { name: String }
/// # fn run() -> factum::Result<()> {
/// let journal = factum::Journal::open("people.jsonl")?;
/// for entry in journal.entries::<Person>()? {
///     match (&entry.value, &entry.failure) {
///         (Some(person), _) => println!("{}: {person:?}", entry.key),
///         (None, Some(failure)) => eprintln!("{}: {failure}", entry.key),
///         (None, None) => eprintln!("{}: no value kept", entry.key),
///     }
///     let raw: Vec<&str> = entry.attempts.iter().map(|a| a.raw.as_str()).collect();
///     println!("  {} tokens, the model wrote {raw:?}", entry.usage.total_tokens);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Journal {
    path: PathBuf,
    bytes: Vec<u8>,
}

/// One item of a [`Journal`]: a batch item, or a chunk job of a chunked extraction.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalEntry<T> {
    /// Which item: a batch item's index as text (`"3"`); a chunk job's chunk, counting
    /// from 0 in document order (`"chunk 3"`), and its pass when the extraction ran several
    /// (`"chunk 3, pass 1"`, passes from 0).
    pub key: String,
    /// The value, when the item succeeded. A line from before chunked items kept their
    /// merged list (its value is `null`) gives `None` for a type that cannot be null.
    pub value: Option<T>,
    /// Why the item failed (the error's message), when it did.
    pub failure: Option<String>,
    /// Every model call the item made in the run that wrote the line, each with its raw
    /// text and why it failed.
    pub attempts: Vec<Attempt>,
    /// Usage summed over those attempts.
    pub usage: Usage,
}

impl Journal {
    /// Reads the journal at `path`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Journal`](crate::ErrorKind::Journal) when the file cannot be read; its
    /// [`source`](std::error::Error::source) is the I/O error.
    pub fn open(path: impl AsRef<Path>) -> Result<Journal> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::journal_file(path, e))?;
        Ok(Journal {
            path: path.to_owned(),
            bytes,
        })
    }

    /// The journal's items, each read into a `T`: for each key, the latest line (an item
    /// that failed and succeeded on a later run gives its success; its earlier attempts
    /// are in the earlier line, which is left out), in input order (by the line's index:
    /// for chunk jobs, every chunk of the first pass, then of the next).
    ///
    /// A value is read with serde alone (`T: DeserializeOwned`, not the pipeline's
    /// validation: it was validated when it was written), so any type it fits will do,
    /// `serde_json::Value` included. For a batch of `T`, read `T`; for a chunked
    /// extraction of `Vec<I>`, each chunk's line holds that chunk's list, `Vec<I>`. A last
    /// line without its newline is torn (the program stopped while writing it) and left
    /// out; blank lines are skipped.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Journal`](crate::ErrorKind::Journal), naming the
    /// [`line`](Error::line) (from 1), when a whole line is not a journal line, or holds a
    /// value that does not fit `T` (the message names the JSON path within the value).
    pub fn entries<T: DeserializeOwned>(&self) -> Result<Vec<JournalEntry<T>>> {
        let mut entries: Vec<(usize, JournalEntry<T>)> = Vec::new();
        let mut at: HashMap<String, usize> = HashMap::new();
        for (number, line) in whole_lines(&self.bytes).0 {
            let (index, entry) = self.entry(number, line)?;
            if let Some(&i) = at.get(&entry.key) {
                entries[i] = (index, entry);
            } else {
                at.insert(entry.key.clone(), entries.len());
                entries.push((index, entry));
            }
        }
        entries.sort_by_key(|(index, _)| *index);
        Ok(entries.into_iter().map(|(_, entry)| entry).collect())
    }

    /// The entry of the line numbered `number`, with its index.
    fn entry<T: DeserializeOwned>(
        &self,
        number: usize,
        line: &[u8],
    ) -> Result<(usize, JournalEntry<T>)> {
        let fail = |message: String| Error::journal_line(&self.path, number, message);
        let stored: Stored =
            serde_json::from_slice(line).map_err(|e| fail(format!("not a journal line: {e}")))?;
        let value = match stored.value {
            Some(json) => value(json).map_err(fail)?,
            None => None,
        };
        let entry = JournalEntry {
            key: stored.key.unwrap_or_else(|| stored.index.to_string()),
            value,
            failure: stored.error,
            attempts: stored.attempts,
            usage: stored.usage,
        };
        Ok((stored.index, entry))
    }
}

/// A line's value as a `T`, or why it is not one. A `null` that `T` does not take is no
/// value: older journals wrote `null` for a chunked item's merged list.
fn value<T: DeserializeOwned>(json: Value) -> std::result::Result<Option<T>, String> {
    let null = json.is_null();
    match serde_path_to_error::deserialize::<_, T>(json) {
        Ok(value) => Ok(Some(value)),
        Err(_) if null => Ok(None),
        Err(e) => {
            let path = pointer(e.path());
            let at = if path.is_empty() { "/" } else { &path };
            Err(format!(
                "the value does not fit at {at}: {}",
                e.into_inner()
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn journal(text: &str) -> Journal {
        Journal {
            path: PathBuf::from("j.jsonl"),
            bytes: text.as_bytes().to_vec(),
        }
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Pair {
        a: u32,
    }

    #[test]
    fn the_latest_line_of_a_key_wins_and_entries_come_in_index_order() {
        let text = concat!(
            r#"{"index":2,"key":"2","input_hash":"02","value":{"a":2},"usage":{},"attempts":[]}"#,
            "\n",
            r#"{"index":0,"input_hash":"00","error":"no valid reply","kind":"Exhausted","usage":{"prompt_tokens":3},"attempts":[]}"#,
            "\n\n",
            r#"{"index":0,"input_hash":"00","value":{"a":0},"usage":{"total_tokens":9},"attempts":[]}"#,
            "\n",
            r#"{"index":1,"input_hash":"01","value":{"a":"#,
        );
        let entries = journal(text).entries::<Pair>().unwrap();
        let got: Vec<(&str, Option<&Pair>)> = entries
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_ref()))
            .collect();
        assert_eq!(
            got,
            [("0", Some(&Pair { a: 0 })), ("2", Some(&Pair { a: 2 }))],
            "the torn line 1 is left out, the failed line of 0 replaced"
        );
        assert_eq!(entries[0].failure, None);
        assert_eq!(entries[0].usage.total_tokens, 9);
    }

    #[test]
    fn a_value_that_does_not_fit_names_its_line_and_path() {
        let text = concat!(
            r#"{"index":0,"input_hash":"00","value":{"a":1},"usage":{},"attempts":[]}"#,
            "\n",
            r#"{"index":1,"input_hash":"01","value":{"a":"one"},"usage":{},"attempts":[]}"#,
            "\n",
        );
        let error = journal(text).entries::<Pair>().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Journal);
        assert_eq!(error.line(), Some(2));
        assert_eq!(error.path(), Some(Path::new("j.jsonl")));
        let message = error.to_string();
        assert!(message.contains("line 2"), "{message}");
        assert!(message.contains("/a"), "{message}");
        let broken = journal("{\"index\":0,\n").entries::<Pair>().unwrap_err();
        assert_eq!(broken.line(), Some(1));
        assert!(
            broken.to_string().contains("not a journal line"),
            "{broken}"
        );
    }

    #[test]
    fn a_null_value_the_type_cannot_hold_is_no_value() {
        let text = concat!(
            r#"{"index":0,"input_hash":"00","value":null,"usage":{},"attempts":[]}"#,
            "\n"
        );
        let entries = journal(text).entries::<Vec<Pair>>().unwrap();
        assert_eq!(entries[0].value, None);
        let nullable = journal(text).entries::<Option<Pair>>().unwrap();
        assert_eq!(nullable[0].value, Some(None));
    }
}
