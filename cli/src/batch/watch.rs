//! What the command sees of a running batch: the feed of texts it can stop (Ctrl-C stops
//! taking new items), the items the batch skipped as done in the journal, and the progress
//! it reports as JSON lines on stderr when no terminal shows a bar.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use factum::Progress;
use serde_json::json;

/// The feed's state, shared with the command.
#[derive(Debug, Default)]
pub(crate) struct FeedState {
    stopped: AtomicBool,
    fed: AtomicUsize,
}

impl FeedState {
    /// Stops handing out texts: the batch takes no new item.
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }

    pub(crate) fn stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// How many texts the batch has taken.
    pub(crate) fn fed(&self) -> usize {
        self.fed.load(Ordering::SeqCst)
    }
}

/// The texts, handed to the batch one at a time until stopped.
pub(crate) struct Feed {
    texts: std::vec::IntoIter<String>,
    state: Arc<FeedState>,
}

impl Feed {
    pub(crate) fn new(texts: Vec<String>) -> (Feed, Arc<FeedState>) {
        let state = Arc::new(FeedState::default());
        let feed = Feed {
            texts: texts.into_iter(),
            state: Arc::clone(&state),
        };
        (feed, state)
    }
}

impl Iterator for Feed {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        if self.state.stopped() {
            return None;
        }
        let text = self.texts.next()?;
        self.state.fed.fetch_add(1, Ordering::SeqCst);
        Some(text)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.state.stopped() {
            (0, Some(0))
        } else {
            self.texts.size_hint()
        }
    }
}

/// What the batch's progress callback saw.
#[derive(Debug, Default)]
pub(crate) struct Watch {
    latest: Option<Progress>,
    skipped_seen: usize,
    /// Items skipped as done in the journal, not yet taken by the command.
    skips: Vec<usize>,
}

/// The watch, shared between the callback and the command.
pub(crate) type SharedWatch = Arc<Mutex<Watch>>;

/// The batch's progress callback. A batch decides to skip an item as soon as it takes it
/// from the feed, and reports the skip then, so the item skipped is the one taken last.
pub(crate) fn callback(
    watch: &SharedWatch,
    feed: &Arc<FeedState>,
) -> impl FnMut(&Progress) + Send + 'static {
    let watch = Arc::clone(watch);
    let feed = Arc::clone(feed);
    move |progress: &Progress| {
        let mut watch = watch.lock().unwrap_or_else(PoisonError::into_inner);
        if progress.skipped > watch.skipped_seen {
            watch.skipped_seen = progress.skipped;
            if let Some(index) = feed.fed().checked_sub(1) {
                watch.skips.push(index);
            }
        }
        watch.latest = Some(*progress);
    }
}

/// Takes the items skipped since the last call.
pub(crate) fn take_skips(watch: &SharedWatch) -> Vec<usize> {
    std::mem::take(&mut watch.lock().unwrap_or_else(PoisonError::into_inner).skips)
}

/// Writes progress lines on stderr: `{"done","failed","total","cached","skipped"}`, each
/// only when something changed since the last.
#[derive(Debug)]
pub(crate) struct Reporter {
    /// Whether to write lines at all (not when a bar is drawn).
    on: bool,
    total: usize,
    last: Option<(usize, usize)>,
}

impl Reporter {
    /// A reporter for `total` items, writing lines only when `on`.
    pub(crate) fn new(on: bool, total: usize) -> Reporter {
        Reporter {
            on,
            total,
            last: None,
        }
    }

    /// A line for the latest progress, if it changed.
    pub(crate) fn report(&mut self, watch: &SharedWatch) {
        let latest = watch.lock().unwrap_or_else(PoisonError::into_inner).latest;
        let (done, failed, cached, skipped) =
            latest.map_or((0, 0, 0, 0), |p| (p.done, p.failed, p.cached, p.skipped));
        if !self.on || self.last == Some((done, failed)) {
            return;
        }
        self.last = Some((done, failed));
        let line = json!({
            "done": done,
            "failed": failed,
            "total": self.total,
            "cached": cached,
            "skipped": skipped,
        });
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}
