//! [`MemoStore`]: each distinct input's outcome, so that an engine that evaluates the UDF
//! twice (DataFusion for repeated struct field access, Ballista for a retried task) never
//! sends it to the model twice.

use std::collections::HashMap;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use crate::row::Outcome;

/// The key of one input: a 128-bit hash of the schema, the model, the sampling and the
/// text (see [`Key::of`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Key(u128);

impl Key {
    /// FNV-1a over the parts, each closed by a 0xff byte (which UTF-8 never holds, so no
    /// two different part lists hash the same bytes). Written here rather than taken from
    /// a crate because the key must be stable across processes, machines and releases (a
    /// file memo is shared by a cluster's executors and outlives the process), which
    /// std's `DefaultHasher` does not promise; 128 bits make a collision over billions of
    /// rows negligible.
    pub(crate) fn of(parts: &[&[u8]]) -> Key {
        const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
        const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
        let mut hash = OFFSET;
        for part in parts {
            for byte in part.iter().chain(&[0xff]) {
                hash ^= u128::from(*byte);
                hash = hash.wrapping_mul(PRIME);
            }
        }
        Key(hash)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

/// Where an [`ExtractUdf`](crate::ExtractUdf) keeps each distinct input's outcome.
///
/// - [`MemoStore::memory`]: for the life of the store (clones share it). One process
///   sends each distinct input once, however often the engine evaluates it.
/// - [`MemoStore::file`]: also appended to a JSON-lines file, read back when the store
///   opens and again whenever a key is missing, so that a second query, a restarted job,
///   or another process on the same file (a Ballista executor taking over a dead one's
///   task) sends nothing for an input already done.
///
/// An input is keyed like a batch journal's items: the schema, the model, the sampling
/// (temperature, `max_tokens`, re-asks) and the text. A value is kept, and so is a failure
/// the model's replies decided (re-asks used up, a refusal); a failure on the way (a
/// transport fault, a timeout, a 5xx that outlasted the retries) is not, so it is asked
/// again. Evaluations of one key that overlap wait for the first: one request.
#[derive(Clone)]
pub struct MemoStore {
    inner: Arc<Inner>,
}

struct Inner {
    cells: Mutex<HashMap<Key, Arc<OnceCell<Outcome>>>>,
    file: Option<Mutex<Log>>,
}

/// The memo's file: appended to, and read from `offset` on for lines other processes
/// wrote.
struct Log {
    path: PathBuf,
    file: File,
    offset: u64,
}

#[derive(Serialize, Deserialize)]
struct Line {
    key: String,
    outcome: Outcome,
}

impl fmt::Debug for MemoStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.inner.file.as_ref().map(|log| lock(log).path.clone());
        f.debug_struct("MemoStore")
            .field("entries", &self.len())
            .field("file", &path)
            .finish()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl MemoStore {
    /// A memo in memory, for the life of the store.
    pub fn memory() -> MemoStore {
        MemoStore {
            inner: Arc::new(Inner {
                cells: Mutex::new(HashMap::new()),
                file: None,
            }),
        }
    }

    /// A memo kept in the JSON-lines file at `path` (created when missing), shared with
    /// every other store, in this process or another, opened on the same file.
    ///
    /// As [`factum::Cache::disk`], a file that cannot be opened or read is a `tracing`
    /// warning, never an error: the store then keeps its outcomes in memory only, so this
    /// process still sends each distinct input once. [`MemoStore::try_file`] gives the
    /// error instead. A line that does not parse (cut off when a process died while
    /// writing it) is passed over.
    pub fn file(path: impl AsRef<Path>) -> MemoStore {
        let path = path.as_ref();
        MemoStore::try_file(path).unwrap_or_else(|error| {
            tracing::warn!(%error, path = %path.display(), "the memo file cannot be opened; keeping the memo in memory");
            MemoStore::memory()
        })
    }

    /// [`MemoStore::file`], with the error when the file cannot be opened or read.
    ///
    /// # Errors
    ///
    /// The file cannot be created, opened or read.
    pub fn try_file(path: impl AsRef<Path>) -> std::io::Result<MemoStore> {
        let path = path.as_ref().to_owned();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)?;
        // A line a dead process left half-written is closed, so that the next line
        // appended is not glued to it.
        let len = file.metadata()?.len();
        if len > 0 {
            let mut last = [0u8];
            file.seek(SeekFrom::Start(len - 1))?;
            file.read_exact(&mut last)?;
            if last[0] != b'\n' {
                file.write_all(b"\n")?;
            }
        }
        let store = MemoStore {
            inner: Arc::new(Inner {
                cells: Mutex::new(HashMap::new()),
                file: Some(Mutex::new(Log {
                    path,
                    file,
                    offset: 0,
                })),
            }),
        };
        store.refresh()?;
        Ok(store)
    }

    /// How many inputs the memo holds an outcome for.
    pub fn len(&self) -> usize {
        lock(&self.inner.cells)
            .values()
            .filter(|cell| cell.initialized())
            .count()
    }

    /// Whether the memo holds no outcome.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads the lines written to the file since the last read.
    fn refresh(&self) -> std::io::Result<()> {
        let Some(log) = &self.inner.file else {
            return Ok(());
        };
        let mut log = lock(log);
        let offset = log.offset;
        log.file.seek(SeekFrom::Start(offset))?;
        let mut bytes = Vec::new();
        log.file.read_to_end(&mut bytes)?;
        // Only whole lines: a line still being written is read next time.
        let whole = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        log.offset = offset + whole as u64;
        drop(log);
        let mut cells = lock(&self.inner.cells);
        for line in bytes[..whole].split(|b| *b == b'\n') {
            let Ok(line) = serde_json::from_slice::<Line>(line) else {
                continue;
            };
            let Ok(key) = u128::from_str_radix(&line.key, 16) else {
                continue;
            };
            let cell = cells.entry(Key(key)).or_default();
            // A cell being filled here already has its outcome on the way.
            let _ = cell.set(line.outcome);
        }
        Ok(())
    }

    /// The outcome for `key`: the memo's, or `compute`'s, kept when it is final.
    pub(crate) async fn get_or_compute<F>(&self, key: Key, compute: F) -> Outcome
    where
        F: AsyncFnOnce() -> Outcome,
    {
        let cell = self.cell(key);
        if let Some(outcome) = cell.get() {
            return outcome.clone();
        }
        if self.inner.file.is_some() {
            if let Err(error) = self.refresh() {
                tracing::warn!(%error, "the memo file could not be read; going on without its newest lines");
            }
            if let Some(outcome) = cell.get() {
                return outcome.clone();
            }
        }
        let result = cell
            .get_or_try_init(|| async {
                let outcome = compute().await;
                if outcome.is_final() {
                    self.append(key, &outcome);
                    Ok(outcome)
                } else {
                    Err(outcome)
                }
            })
            .await;
        match result {
            Ok(outcome) => outcome.clone(),
            Err(outcome) => outcome,
        }
    }

    fn cell(&self, key: Key) -> Arc<OnceCell<Outcome>> {
        Arc::clone(lock(&self.inner.cells).entry(key).or_default())
    }

    /// Appends the outcome to the file, one line in one write (the file is opened to
    /// append, so lines from several processes do not interleave).
    fn append(&self, key: Key, outcome: &Outcome) {
        let Some(log) = &self.inner.file else {
            return;
        };
        let line = Line {
            key: key.to_string(),
            outcome: outcome.clone(),
        };
        let mut bytes = match serde_json::to_vec(&line) {
            Ok(bytes) => bytes,
            Err(error) => {
                tracing::warn!(%error, "a memo line could not be written");
                return;
            }
        };
        bytes.push(b'\n');
        let mut log = lock(log);
        if let Err(error) = log.file.write_all(&bytes).and_then(|()| log.file.flush()) {
            tracing::warn!(%error, path = %log.path.display(), "a memo line could not be written");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use serde_json::json;

    use super::*;

    fn value(n: u64) -> Outcome {
        Outcome {
            value: Some(json!({ "n": n })),
            error: None,
            attempts: 1,
            prompt_tokens: 1,
            completion_tokens: 1,
            cached: false,
        }
    }

    fn temp(name: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("factum-memo-{name}-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        path
    }

    #[tokio::test]
    async fn overlapping_evaluations_of_a_key_compute_once() {
        let memo = MemoStore::memory();
        let calls = AtomicUsize::new(0);
        let key = Key::of(&[b"text"]);
        let compute = async || {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            value(7)
        };
        let (a, b) = tokio::join!(
            memo.get_or_compute(key, compute),
            memo.get_or_compute(key, compute)
        );
        assert_eq!(a, b);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(memo.len(), 1);
    }

    #[tokio::test]
    async fn a_fault_on_the_way_is_asked_again_and_a_judged_failure_is_not() {
        let memo = MemoStore::memory();
        let calls = AtomicUsize::new(0);
        let fault = async || {
            calls.fetch_add(1, Ordering::SeqCst);
            Outcome::local("timeout", "took too long")
        };
        let key = Key::of(&[b"a"]);
        memo.get_or_compute(key, fault).await;
        memo.get_or_compute(key, fault).await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        let judged = async || {
            calls.fetch_add(1, Ordering::SeqCst);
            Outcome::local("exhausted", "no reply fit")
        };
        let key = Key::of(&[b"b"]);
        memo.get_or_compute(key, judged).await;
        memo.get_or_compute(key, judged).await;
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_file_memo_is_read_back_and_a_torn_line_is_passed_over() {
        let path = temp("file");
        let first = MemoStore::try_file(&path).unwrap();
        first
            .get_or_compute(Key::of(&[b"one"]), async || value(1))
            .await;
        // Another store on the same file, opened before the second line is written, sees
        // it when its key is missing.
        let second = MemoStore::try_file(&path).unwrap();
        first
            .get_or_compute(Key::of(&[b"two"]), async || value(2))
            .await;
        let got = second
            .get_or_compute(Key::of(&[b"two"]), async || panic!("asked again"))
            .await;
        assert_eq!(got, value(2));

        // A process that died mid-line.
        OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"key\":\"00ab")
            .unwrap();
        let third = MemoStore::try_file(&path).unwrap();
        assert_eq!(third.len(), 2);
        third
            .get_or_compute(Key::of(&[b"three"]), async || value(3))
            .await;
        let fourth = MemoStore::try_file(&path).unwrap();
        assert_eq!(fourth.len(), 3, "the line after the torn one is whole");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_memo_file_that_cannot_be_opened_is_an_error_from_try_file_and_memory_from_file() {
        let dir = std::env::temp_dir().join(format!("factum-memo-missing-{}", std::process::id()));
        let path = dir.join("no-such-folder").join("memo.jsonl");
        assert!(MemoStore::try_file(&path).is_err());
        let memo = MemoStore::file(&path);
        assert!(memo.is_empty());
        assert!(format!("{memo:?}").contains("file: None"), "{memo:?}");
    }

    #[test]
    fn keys_are_stable_and_parts_do_not_run_together() {
        assert_eq!(Key::of(&[b"ab", b"c"]).to_string().len(), 32);
        assert_ne!(Key::of(&[b"ab", b"c"]), Key::of(&[b"a", b"bc"]));
        // FNV-1a 128 of b"factum\xff", worked out independently: a memo file written by
        // one release or machine is read by another only while this holds.
        assert_eq!(
            Key::of(&[b"factum"]).to_string(),
            "38f1de4d244ff78da54880046bbb7dba"
        );
    }
}
