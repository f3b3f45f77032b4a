//! `factum batch`: a value from every item of a JSONL file or a directory, written as a
//! JSONL file in input order, resumable through a journal and stopped cleanly by Ctrl-C.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::IsTerminal as _;
use std::path::Path;
use std::time::Duration;

use factum::{Batch, BatchItem, JournalEntry};
use futures_util::future::BoxFuture;
use futures_util::{FutureExt as _, Stream, StreamExt as _};
use serde_json::Value;

use crate::args::{BatchArgs, Connection};
use crate::fail::Failure;
use crate::setup;

mod input;
mod output;
mod watch;

use input::Fields;
use output::Output;
use watch::{Feed, FeedState, Reporter, SharedWatch};

/// How often a progress line is written when stderr is not a terminal.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// How a batch's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// Every item is done.
    Done,
    /// Ctrl-C: no new item was taken, and those in flight finished.
    Drained,
    /// Ctrl-C twice: the items in flight were dropped.
    Abandoned,
}

/// Runs `factum batch`.
pub(crate) async fn run(args: &BatchArgs, connection: &Connection) -> Result<(), Failure> {
    let target = setup::target(&args.target, false)?;
    let fields = Fields {
        text: &args.text_field,
        id: &args.id_field,
    };
    let items = input::read(&args.input, fields)?;
    let journal = read_journal(args.journal.as_deref(), &args.output)?;
    let client = setup::client(connection, &args.tuning)?;
    let total = items.len();
    let (ids, texts): (Vec<Value>, Vec<String>) =
        items.into_iter().map(|item| (item.id, item.text)).unzip();
    let mut output = Output::create(&args.output, ids, journal)?;
    let (feed, state) = Feed::new(texts);
    let watch = SharedWatch::default();
    let bar = std::io::stderr().is_terminal() && cfg!(feature = "progress");
    let batch = configure(client.batch_dynamic(&target, feed), args, bar)
        .on_progress(watch::callback(&watch, &state));
    let mut reporter = Reporter::new(!bar, total);
    let end = drive(batch.stream(), &mut output, &state, &watch, &mut reporter).await?;
    reporter.report(&watch);
    conclude(end, &mut output, &state, total, args.journal.is_some())
}

/// The batch with the command's options.
fn configure(batch: Batch<Value>, args: &BatchArgs, bar: bool) -> Batch<Value> {
    let mut batch = batch
        .concurrency(usize::try_from(args.concurrency).unwrap_or(usize::MAX))
        .requests_per_minute(args.rpm)
        .tokens_per_minute(args.tpm);
    if let Some(path) = &args.journal {
        batch = batch.journal(path);
    }
    #[cfg(feature = "progress")]
    if bar {
        batch = batch.progress_bar();
    }
    #[cfg(not(feature = "progress"))]
    let _ = bar;
    batch
}

/// What the journal at `path` holds, by index, after checking it can be written (and is
/// not the output).
fn read_journal(
    path: Option<&Path>,
    output: &Path,
) -> Result<HashMap<usize, JournalEntry<Value>>, Failure> {
    let Some(path) = path else {
        return Ok(HashMap::new());
    };
    if std::path::absolute(path).ok() == std::path::absolute(output).ok() {
        return Err(Failure::Usage(
            "--journal and --output name the same file".to_owned(),
        ));
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| {
            Failure::io(
                format_args!("cannot open the journal `{}`", path.display()),
                &e,
            )
        })?;
    let entries = factum::Journal::open(path)?.entries::<Value>()?;
    Ok(entries
        .into_iter()
        .filter_map(|entry| Some((entry.key.parse().ok()?, entry)))
        .collect())
}

/// Runs the stream to its end or to Ctrl-C, writing each item as it finishes.
async fn drive(
    mut stream: impl Stream<Item = BatchItem<Value>> + Unpin,
    output: &mut Output,
    state: &FeedState,
    watch: &SharedWatch,
    reporter: &mut Reporter,
) -> Result<End, Failure> {
    let mut interrupt = listen();
    let start = tokio::time::Instant::now() + PROGRESS_EVERY;
    let mut tick = tokio::time::interval_at(start, PROGRESS_EVERY);
    loop {
        tokio::select! {
            item = stream.next() => match item {
                Some((index, result)) => output.finished(index, &result)?,
                None if state.stopped() => return Ok(End::Drained),
                None => return Ok(End::Done),
            },
            () = &mut interrupt => {
                if state.stopped() {
                    return Ok(End::Abandoned);
                }
                state.stop();
                interrupt = listen();
                eprintln!("factum: stopping: no new items; waiting for those in flight (Ctrl-C again to stop now)");
            }
            _ = tick.tick() => reporter.report(watch),
        }
        for index in watch::take_skips(watch) {
            if output.in_journal(index) {
                output.skipped(index)?;
            }
        }
    }
}

/// A future that resolves at the next Ctrl-C (never, if the signal cannot be listened
/// for), already listening: polled once, so that a Ctrl-C from now on is not missed.
fn listen() -> BoxFuture<'static, ()> {
    let mut interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
    .boxed();
    if (&mut interrupt).now_or_never().is_some() {
        return futures_util::future::ready(()).boxed();
    }
    interrupt
}

/// Writes what is left and says how the batch ended.
fn conclude(
    end: End,
    output: &mut Output,
    state: &FeedState,
    total: usize,
    journaled: bool,
) -> Result<(), Failure> {
    match end {
        End::Done => output.complete(total)?,
        End::Drained => output.complete(state.fed())?,
        End::Abandoned => output.abandon()?,
    }
    let shown = output.shown.clone();
    if !matches!(end, End::Done) && output.written < total {
        let rerun = if journaled {
            "run the same command again to do the rest"
        } else {
            "pass --journal next time to resume instead of starting over"
        };
        return Err(Failure::Interrupted(format!(
            "interrupted: {} of {total} items written to {shown}; {rerun}",
            output.written
        )));
    }
    if output.failed > 0 {
        return Err(Failure::ItemsFailed(format!(
            "{} of {total} items failed; each has its error in {shown}",
            output.failed
        )));
    }
    Ok(())
}
