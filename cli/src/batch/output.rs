//! A batch's output file: one JSON line per item, in input order, each written (and
//! flushed) as soon as it and every item before it are done. Items the journal already
//! held a value for are not run again: their lines are read back from it.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use factum::{Extracted, JournalEntry};
use serde_json::{Map, Value};

use crate::fail::{Failure, one_line};

/// The output being written.
pub(crate) struct Output {
    sink: BufWriter<Box<dyn Write>>,
    /// The output's name in messages.
    pub(crate) shown: String,
    ids: Vec<Value>,
    /// The next index to write.
    next: usize,
    /// Lines done, waiting for an earlier item.
    held: BTreeMap<usize, String>,
    /// What the journal held before the run, by index.
    journal: HashMap<usize, JournalEntry<Value>>,
    /// Lines written.
    pub(crate) written: usize,
    /// Items that failed, among those done.
    pub(crate) failed: usize,
}

impl Output {
    /// Creates (or empties) the output at `path`, `-` for stdout, for items with `ids`.
    pub(crate) fn create(
        path: &Path,
        ids: Vec<Value>,
        journal: HashMap<usize, JournalEntry<Value>>,
    ) -> Result<Output, Failure> {
        let (sink, shown): (Box<dyn Write>, String) = if path == Path::new("-") {
            (Box::new(std::io::stdout()), "stdout".to_owned())
        } else {
            let shown = format!("`{}`", path.display());
            let file = File::create(path)
                .map_err(|e| Failure::io(format_args!("cannot create the output {shown}"), &e))?;
            (Box::new(file), shown)
        };
        Ok(Output {
            sink: BufWriter::new(sink),
            shown,
            ids,
            next: 0,
            held: BTreeMap::new(),
            journal,
            written: 0,
            failed: 0,
        })
    }

    /// An item that ran, with its result.
    pub(crate) fn finished(
        &mut self,
        index: usize,
        result: &factum::Result<Extracted<Value>>,
    ) -> Result<(), Failure> {
        if index < self.next {
            return Ok(());
        }
        let id = self.id(index);
        let line = match result {
            Ok(out) => value_line(id, out.value.clone()),
            Err(error) => error_line(id, error),
        };
        if result.is_err() {
            self.failed += 1;
        }
        self.held.insert(index, line);
        self.release()
    }

    /// An item the batch skipped because the journal holds its value: its line is read
    /// back from the journal.
    pub(crate) fn skipped(&mut self, index: usize) -> Result<(), Failure> {
        if index < self.next || self.held.contains_key(&index) {
            return Ok(());
        }
        let line = self.restored(index);
        self.held.insert(index, line);
        self.release()
    }

    /// Whether the journal held a value for the item at `index` before the run.
    pub(crate) fn in_journal(&self, index: usize) -> bool {
        self.journal.get(&index).is_some_and(|e| e.value.is_some())
    }

    /// The batch's stream ended after `fed` items: every one of them not yielded was
    /// skipped, its line read back from the journal.
    pub(crate) fn complete(&mut self, fed: usize) -> Result<(), Failure> {
        for index in self.next..fed.min(self.ids.len()) {
            if !self.held.contains_key(&index) {
                let line = self.restored(index);
                self.held.insert(index, line);
            }
        }
        self.release()
    }

    /// Stopping now: the lines held for an earlier item are written anyway, after the
    /// others, so that nothing done is lost.
    pub(crate) fn abandon(&mut self) -> Result<(), Failure> {
        self.release()?;
        let held = std::mem::take(&mut self.held);
        for line in held.into_values() {
            self.write(&line)?;
        }
        self.flush()
    }

    fn id(&self, index: usize) -> Value {
        self.ids.get(index).cloned().unwrap_or_else(|| index.into())
    }

    /// The line of a skipped item, from the journal's latest line for its index.
    fn restored(&mut self, index: usize) -> String {
        let id = self.id(index);
        if let Some(value) = self.journal.remove(&index).and_then(|entry| entry.value) {
            return value_line(id, value);
        }
        self.failed += 1;
        let error = object([
            ("kind", Value::from("Journal")),
            (
                "message",
                Value::from(
                    "the batch skipped this item as done, but the journal's latest line for it holds no value; run it again with a new journal",
                ),
            ),
        ]);
        object([
            ("id", id),
            ("error", error),
            ("attempts", Value::Array(Vec::new())),
        ])
        .to_string()
    }

    /// Writes the lines that are next in input order, and flushes.
    fn release(&mut self) -> Result<(), Failure> {
        while let Some(line) = self.held.remove(&self.next) {
            self.write(&line)?;
            self.next += 1;
        }
        self.flush()
    }

    fn write(&mut self, line: &str) -> Result<(), Failure> {
        self.written += 1;
        writeln!(self.sink, "{line}")
            .map_err(|e| Failure::io(format_args!("cannot write the output {}", self.shown), &e))
    }

    fn flush(&mut self) -> Result<(), Failure> {
        self.sink
            .flush()
            .map_err(|e| Failure::io(format_args!("cannot write the output {}", self.shown), &e))
    }
}

fn object<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::Object(
        fields
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect::<Map<_, _>>(),
    )
}

fn value_line(id: Value, value: Value) -> String {
    object([("id", id), ("value", value)]).to_string()
}

fn error_line(id: Value, error: &factum::Error) -> String {
    let detail = object([
        ("kind", Value::from(format!("{:?}", error.kind()))),
        ("message", Value::from(one_line(&error.to_string()))),
    ]);
    let attempts = serde_json::to_value(error.attempts()).unwrap_or_default();
    object([("id", id), ("error", detail), ("attempts", attempts)]).to_string()
}
