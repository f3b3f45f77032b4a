//! The in-process transport (feature `local`): a GGUF model run by llama.cpp inside this
//! process, through the `llama-cpp-2` crate, the way a Dria compute node runs it.
//!
//! [`LocalTransport`] is the second implementation of the [`Transport`] seam. It receives
//! the same [`ChatRequest`] the HTTP path sends and answers with a [`Completion`] that
//! carries the model's own token counts. The work is done by one dedicated generation
//! thread per client ([`engine`]), which owns the model and its one context; requests reach
//! it over a channel and are served in the order they arrive, up to `local_parallel` of
//! them at once as sequences of that context ([`generate`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream, StreamExt as _};
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::{Completion, Delta, Transport};
use crate::wire::ChatRequest;
use crate::{Error, ErrorKind, Result};

mod close;
mod engine;
mod generate;
mod grammar;
mod worker;

pub use grammar::{Vocabulary, grammar};

/// How many calls a local model serves at once when [`ClientBuilder::local_parallel`] is
/// not set. One: its context's threads already take every core. Measured on 2 cores with
/// SmolLM2-135M, 12 concurrent extractions took 9.5 s one at a time, 9.0 s two at a time
/// and 9.4 s four at a time, within the machine's noise; decoding is bound by the cores,
/// not by the batch, so more sequences buy overlap (each caller sees progress at once)
/// rather than throughput.
///
/// [`ClientBuilder::local_parallel`]: crate::ClientBuilder::local_parallel
pub(crate) const DEFAULT_PARALLEL: u32 = 1;

/// One GGUF model loaded in this process, and the thread that generates with it.
pub(crate) struct LocalTransport {
    /// The generation thread's queue; `None` only while the transport is dropped.
    jobs: Option<mpsc::Sender<engine::Job>>,
    /// The generation thread, joined on drop.
    worker: Option<std::thread::JoinHandle<()>>,
    path: PathBuf,
    /// The context window in tokens, prompt and completion together.
    n_ctx: u32,
}

impl std::fmt::Debug for LocalTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalTransport")
            .field("path", &self.path)
            .field("n_ctx", &self.n_ctx)
            .finish_non_exhaustive()
    }
}

impl LocalTransport {
    /// Loads the model at `path` on a new generation thread and waits until it is ready.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] when the file is missing or llama.cpp cannot load it.
    pub(crate) fn load(path: &Path, parallel: u32) -> Result<LocalTransport> {
        if !path.is_file() {
            return Err(Error::config(format!(
                "no model file at `{}`: fetch one with scripts/fetch-model.sh",
                path.display()
            )));
        }
        let (jobs, worker, n_ctx) =
            worker::spawn(path.to_owned(), engine::DEFAULT_CONTEXT, parallel)?;
        Ok(LocalTransport {
            jobs: Some(jobs),
            worker: Some(worker),
            path: path.to_owned(),
            n_ctx,
        })
    }

    /// Hands `job` to the generation thread.
    fn queue(&self, job: engine::Job) -> Result<()> {
        self.jobs
            .as_ref()
            .and_then(|jobs| jobs.send(job).ok())
            .ok_or_else(|| Error::local(ErrorKind::Transport, "the generation thread has stopped"))
    }

    /// The waiting side of one call: the job goes to the generation thread, and the reply
    /// comes back, unless the future is dropped first (the timeout layer drops it at the
    /// deadline).
    async fn call(&self, request: &ChatRequest, deadline: Option<Instant>) -> Result<Completion> {
        let (reply, answer) = oneshot::channel();
        let cancel = Arc::new(AtomicBool::new(false));
        // Dropping the future raises the flag; the generation thread reads it, and the
        // deadline, before every token.
        let _guard = CancelOnDrop(Arc::clone(&cancel));
        let job = engine::Job::new(request, deadline, cancel, reply)?;
        self.queue(job)?;
        answer.await.unwrap_or_else(|_| {
            Err(Error::local(
                ErrorKind::Transport,
                "the generation thread stopped during the call",
            ))
        })
    }
}

impl Transport for LocalTransport {
    fn complete<'a>(
        &'a self,
        request: &'a ChatRequest,
        deadline: Option<Instant>,
    ) -> BoxFuture<'a, Result<Completion>> {
        Box::pin(self.call(request, deadline))
    }

    /// The reply as it is sampled: a [`Delta::Content`] per whole piece of text, then the
    /// usage and the finish. Dropping the stream stops generation at the next token, so the
    /// runaway guard's hang-up stops a loop at once.
    fn stream(
        self: Arc<Self>,
        request: Arc<ChatRequest>,
        deadline: Option<Instant>,
    ) -> BoxStream<'static, Result<Delta>> {
        let (pieces, mut texts) = tokio::sync::mpsc::unbounded_channel();
        let (reply, answer) = oneshot::channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let guard = CancelOnDrop(Arc::clone(&cancel));
        let queued = engine::Job::new(&request, deadline, cancel, reply)
            .map(|job| job.streaming(pieces))
            .and_then(|job| self.queue(job));
        if let Err(e) = queued {
            return stream::iter([Err(e)]).boxed();
        }
        let deltas = async_stream::stream! {
            // Held as long as the stream is: dropping it raises the cancel flag.
            let _guard = guard;
            let mut streamed = 0;
            while let Some(text) = texts.recv().await {
                streamed += text.len();
                yield Ok(Delta::Content(text));
            }
            match answer.await {
                Ok(Ok(completion)) => {
                    // A character cut at the end was held back; the whole text has it.
                    let content = completion.content.unwrap_or_default();
                    if let Some(rest) = content.get(streamed..).filter(|rest| !rest.is_empty()) {
                        yield Ok(Delta::Content(rest.to_owned()));
                    }
                    if let Some(usage) = completion.usage {
                        yield Ok(Delta::Usage(usage));
                    }
                    yield Ok(Delta::Finish(completion.finish_reason));
                }
                Ok(Err(e)) => yield Err(e),
                Err(_) => yield Err(Error::local(
                    ErrorKind::Transport,
                    "the generation thread stopped during the call",
                )),
            }
        };
        deltas.boxed()
    }

    fn models(&self) -> BoxFuture<'_, Option<Vec<String>>> {
        let name = model_name(&self.path);
        Box::pin(async move { Some(vec![name]) })
    }

    fn context_window<'a>(&'a self, _model: &'a str) -> BoxFuture<'a, Option<u32>> {
        Box::pin(async move { Some(self.n_ctx) })
    }
}

/// The model's name: its file name without `.gguf`.
pub(crate) fn model_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || "local".to_owned(),
        |name| {
            let name = name.to_string_lossy();
            name.strip_suffix(".gguf").unwrap_or(&name).to_owned()
        },
    )
}

impl Drop for LocalTransport {
    /// Closes the queue and waits for the generation thread to finish: a call whose future
    /// is gone stops at its next token, and the thread then frees the model. No llama.cpp
    /// work outlives the client, so none races the process's exit (a thread still
    /// decoding while llama.cpp's globals are torn down can crash the process).
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

/// Raises the cancel flag when the call's future goes away, however it ends.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}
