//! [`Cache`]: replies that validated, kept so the same request is not paid for twice.
//!
//! The pipeline looks an extraction's first request up before sending it, and stores the
//! reply that gave the extraction its value under that request once the value validated.
//! A hit sends nothing and is judged like any reply (parse, validation, grounding), so a
//! hit can never give a value the pipeline would not have accepted.

use std::fmt;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::transport::Completion;
use crate::wire::Usage;

pub(crate) mod key;

pub(crate) use key::Key;

/// The format number of a stored entry; an entry of another format is a miss.
const FORMAT: u32 = 1;

/// A response cache: set it with [`ClientBuilder::cache`](crate::ClientBuilder::cache).
///
/// An extraction's first request is looked up by its canonical body (keys sorted, the
/// model, the messages, the sampling fields and `stream` kept) and its schema's
/// fingerprint, so any change to the prompt, the type, the model or the sampling misses.
/// A hit sends nothing: the stored reply goes through the same parse, validation and
/// grounding as a fresh one, the result has [`Extracted::cached`](crate::Extracted::cached)
/// set, and its usage is the stored reply's, so cost reports stay true. Batches and chunked
/// runs count hits in [`Progress::cached`](crate::Progress::cached), not in the tokens
/// spent.
///
/// - Only replies that validated are stored: the one that gave the value, under the
///   extraction's first request.
/// - A call whose temperature is above 0 bypasses the cache (its reply is meant to vary),
///   unless [`ClientBuilder::cache_nondeterministic`](crate::ClientBuilder::cache_nondeterministic)
///   says otherwise; [`Extraction::no_cache`](crate::Extraction::no_cache) bypasses it for
///   one call.
/// - A `Cache` is cheap to clone, and clones share their entries.
#[derive(Clone)]
pub struct Cache {
    store: Arc<Store>,
}

enum Store {
    /// Least recently used entries go first once the capacity is reached.
    Memory(Mutex<lru::LruCache<String, Entry>>),
    /// A cacache directory.
    Disk(PathBuf),
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.store {
            Store::Memory(entries) => {
                let entries = entries
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                f.debug_struct("Cache")
                    .field("memory", &entries.len())
                    .field("capacity", &entries.cap())
                    .finish()
            }
            Store::Disk(path) => f.debug_struct("Cache").field("disk", path).finish(),
        }
    }
}

impl Cache {
    /// A cache in this process's memory, of at most `capacity` replies (at least 1); the
    /// least recently used goes first. Gone with the last clone.
    pub fn memory(capacity: usize) -> Cache {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        Cache {
            store: Arc::new(Store::Memory(Mutex::new(lru::LruCache::new(capacity)))),
        }
    }

    /// A cache in the directory `path` (made at the first store), which survives the
    /// client and the process: a content-addressed store (the `cacache` crate, npm's cache
    /// layout) whose every read is checked against the hash it was written with, so a
    /// corrupt or torn entry is found out. Safe to share between processes.
    ///
    /// A corrupt entry, or one that cannot be read, is a miss with a `tracing` warning,
    /// never an error and never a wrong value; a store that fails is a warning too.
    pub fn disk(path: impl Into<PathBuf>) -> Cache {
        Cache {
            store: Arc::new(Store::Disk(path.into())),
        }
    }

    /// The reply stored for `key`, if there is one that reads.
    pub(crate) async fn get(&self, key: &Key) -> Option<Completion> {
        let entry = match &*self.store {
            Store::Memory(entries) => entries
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&key.id())
                .cloned()?,
            Store::Disk(dir) => read(dir.clone(), key.id()).await?,
        };
        // Two requests whose hashes collide are told apart by the whole body.
        (entry.format == FORMAT
            && entry.request == key.request
            && entry.schema == format!("{:016x}", key.schema))
        .then(|| entry.reply.into_completion())
    }

    /// Stores `reply` under `key`.
    pub(crate) async fn put(&self, key: &Key, reply: &Completion) {
        let entry = Entry {
            format: FORMAT,
            request: key.request.clone(),
            schema: format!("{:016x}", key.schema),
            reply: Reply::of(reply),
        };
        match &*self.store {
            Store::Memory(entries) => {
                entries
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .put(key.id(), entry);
            }
            Store::Disk(dir) => write(dir.clone(), key.id(), entry).await,
        }
    }
}

/// Reads an entry off the disk on the blocking pool; a miss when there is none, and a miss
/// with a warning when it does not read. (The warning is logged here, not on the blocking
/// thread, so it goes to the caller's subscriber.)
async fn read(dir: PathBuf, id: String) -> Option<Entry> {
    let path = dir.clone();
    let key = id.clone();
    let read = tokio::task::spawn_blocking(move || match cacache::read_sync(&path, &key) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| e.to_string()),
        Err(cacache::Error::EntryNotFound(..)) => Ok(None),
        Err(e) => Err(e.to_string()),
    });
    match read.await {
        Ok(Ok(entry)) => entry,
        Ok(Err(error)) => {
            warn(&dir, &id, &error);
            None
        }
        Err(joined) => {
            warn(&dir, &id, &joined.to_string());
            None
        }
    }
}

/// Writes an entry on the blocking pool; a failure is a warning.
async fn write(dir: PathBuf, id: String, entry: Entry) {
    let path = dir.clone();
    let key = id.clone();
    let written = tokio::task::spawn_blocking(move || {
        let bytes = serde_json::to_vec(&entry).map_err(|e| e.to_string())?;
        cacache::write_sync(&path, &key, bytes)
            .map(drop)
            .map_err(|e| e.to_string())
    });
    let error = match written.await {
        Ok(Ok(())) => return,
        Ok(Err(error)) => error,
        Err(joined) => joined.to_string(),
    };
    warn(&dir, &id, &error);
}

fn warn(dir: &Path, id: &str, error: &str) {
    tracing::warn!(cache = %dir.display(), entry = id, error, "a response cache entry does not read or write; treated as a miss");
}

/// One stored reply, with the request it answers.
#[derive(Clone, Serialize, Deserialize)]
struct Entry {
    format: u32,
    /// The canonical request body.
    request: String,
    /// The schema's fingerprint, in hex.
    schema: String,
    reply: Reply,
}

/// A model's reply as a cassette or the cache keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Reply {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) refusal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) finish_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) usage: Option<Usage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) node_id: Option<String>,
}

impl Reply {
    pub(crate) fn of(completion: &Completion) -> Reply {
        Reply {
            content: completion.content.clone(),
            refusal: completion.refusal.clone(),
            finish_reason: completion.finish_reason.clone(),
            usage: completion.usage,
            node_id: completion.node_id.clone(),
        }
    }

    /// The reply as a completion read from the cache.
    pub(crate) fn into_completion(self) -> Completion {
        Completion {
            content: self.content,
            refusal: self.refusal,
            finish_reason: self.finish_reason,
            usage: self.usage,
            node_id: self.node_id,
            cached: true,
        }
    }
}
