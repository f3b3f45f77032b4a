//! A batch's progress: the [`Progress`] snapshot handed to `on_progress`, and the tracker
//! that keeps it (and, with the `progress` feature, draws an indicatif bar from it).

use std::time::Duration;

use tokio::time::Instant;

use crate::Usage;

/// How far a batch has got, as handed to [`Batch::on_progress`](crate::Batch::on_progress);
/// for a chunked extraction's [`on_progress`](crate::Extraction::on_progress), its items are
/// the chunk jobs (each chunk of each pass), and `skipped` counts those read back from the
/// journal.
///
/// `done` counts every item finished, successes and failures alike, including the items
/// `skipped` because the journal already holds their value; so `done` reaches `total` at
/// the end.
///
/// # Examples
///
/// ```
/// fn show(p: &factum::Progress) {
///     eprintln!(
///         "{}/{:?} done, {} failed, {} running, {:.1}/s, eta {:?}",
///         p.done, p.total, p.failed, p.in_flight, p.rate(), p.eta()
///     );
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Progress {
    /// Items finished: succeeded, failed, or skipped from the journal.
    pub done: usize,
    /// Items of `done` that failed.
    pub failed: usize,
    /// Items whose extraction is running now.
    pub in_flight: usize,
    /// Items of `done` skipped because the journal held their value.
    pub skipped: usize,
    /// Items of `done` whose value was read from the response cache
    /// ([`Cache`](crate::Cache)): nothing was sent for them, and their stored usage is not
    /// in [`usage`](Progress::usage).
    pub cached: usize,
    /// How many items there are, when the input's size hint is exact.
    pub total: Option<usize>,
    /// Usage summed over the items finished in this run, cache hits left out: the tokens
    /// this run spent.
    pub usage: Usage,
    /// Time since the batch's stream was first polled.
    pub elapsed: Duration,
    /// How many items run at once now: the batch's concurrency, or less while the client
    /// holds its calls back after the server's shared context overflowed (llama-server's
    /// slots share one cache; see the crate docs' "Shared slots").
    pub concurrency: usize,
}

impl Progress {
    /// Items finished per second in this run (skipped items not counted); 0 before any.
    pub fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            (self.done - self.skipped) as f64 / secs
        } else {
            0.0
        }
    }

    /// The time left at the current rate, when the total is known and the rate is not 0.
    pub fn eta(&self) -> Option<Duration> {
        let left = self.total?.saturating_sub(self.done);
        let rate = self.rate();
        (rate > 0.0).then(|| Duration::from_secs_f64(left as f64 / rate))
    }
}

/// The callback a batch reports to.
pub(crate) type OnProgress = Box<dyn FnMut(&Progress) + Send>;

/// Keeps a batch's [`Progress`] and reports every change to the callback and the bar.
pub(crate) struct Tracker {
    progress: Progress,
    start: Option<Instant>,
    callback: Option<OnProgress>,
    #[cfg(feature = "progress")]
    bar: Option<indicatif::ProgressBar>,
}

impl Tracker {
    pub(crate) fn new(
        total: Option<usize>,
        concurrency: usize,
        callback: Option<OnProgress>,
    ) -> Tracker {
        Tracker {
            progress: Progress {
                done: 0,
                failed: 0,
                in_flight: 0,
                skipped: 0,
                cached: 0,
                total,
                usage: Usage::default(),
                elapsed: Duration::ZERO,
                concurrency,
            },
            start: None,
            callback,
            #[cfg(feature = "progress")]
            bar: None,
        }
    }

    /// Starts the clock, at the stream's first poll.
    pub(crate) fn begin(&mut self) {
        self.start.get_or_insert_with(Instant::now);
    }

    pub(crate) fn started(&mut self) {
        self.progress.in_flight += 1;
    }

    /// The concurrency in effect, shown from the next report on.
    pub(crate) fn concurrency(&mut self, concurrency: usize) {
        self.progress.concurrency = concurrency;
    }

    /// An item finished: `ok` or not, `cached` (its usage was not spent now) or sent for.
    pub(crate) fn finished(&mut self, ok: bool, cached: bool, usage: Usage) {
        self.progress.in_flight = self.progress.in_flight.saturating_sub(1);
        self.progress.done += 1;
        self.progress.failed += usize::from(!ok);
        if cached {
            self.progress.cached += 1;
        } else {
            self.progress.usage += usage;
        }
        self.report();
    }

    pub(crate) fn skipped(&mut self) {
        self.progress.done += 1;
        self.progress.skipped += 1;
        self.report();
    }

    fn report(&mut self) {
        self.progress.elapsed = self.start.map_or(Duration::ZERO, |s| s.elapsed());
        if let Some(callback) = &mut self.callback {
            callback(&self.progress);
        }
        #[cfg(feature = "progress")]
        if let Some(bar) = &self.bar {
            bar::draw(bar, &self.progress);
        }
    }

    /// The stream ended.
    #[cfg_attr(
        not(feature = "progress"),
        allow(clippy::unused_self, reason = "only the bar has something to finish")
    )]
    pub(crate) fn end(&mut self) {
        #[cfg(feature = "progress")]
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }
}

#[cfg(feature = "progress")]
impl Tracker {
    /// Draws an indicatif bar on stderr from now on.
    pub(crate) fn with_bar(mut self) -> Tracker {
        self.bar = Some(bar::new(self.progress.total));
        self
    }
}

#[cfg(feature = "progress")]
mod bar {
    use indicatif::{ProgressBar, ProgressStyle};

    use super::Progress;

    pub(super) fn new(total: Option<usize>) -> ProgressBar {
        let bar = match total {
            Some(total) => ProgressBar::new(total as u64),
            None => ProgressBar::new_spinner(),
        };
        let template = if total.is_some() {
            "{elapsed_precise} [{bar:30}] {pos}/{len} {msg}"
        } else {
            "{elapsed_precise} {spinner} {pos} {msg}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    }

    pub(super) fn draw(bar: &ProgressBar, p: &Progress) {
        bar.set_position(p.done as u64);
        let eta = p
            .eta()
            .map_or_else(|| "?".to_owned(), |d| format!("{}s", d.as_secs()));
        bar.set_message(format!(
            "{} failed, {} running (of {}), {:.1}/s, eta {eta}",
            p.failed,
            p.in_flight,
            p.concurrency,
            p.rate()
        ));
    }
}
