//! The generation thread: it loads the model, creates its one context, then serves jobs
//! from a channel until every client clone is gone, up to `parallel` of them at once as
//! sequences of that context (see `generate`).
//!
//! Nothing here runs on the async executor. The model and the context never leave the
//! thread, so no `Send` or `Sync` promise is needed beyond what `llama-cpp-2` makes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use llama_cpp_2::llama_backend::LlamaBackend;

use super::engine::{Engine, Job, backend, chat_template, load_model, new_context};
use super::generate::Sequence;
use crate::{Error, Result};

/// Starts the generation thread for the model at `path`, serving up to `parallel` calls at
/// once, and waits until the model is loaded and its context made; returns the job queue,
/// the thread and each call's context window.
pub(super) fn spawn(
    path: PathBuf,
    max_context: u32,
    parallel: u32,
) -> Result<(mpsc::Sender<Job>, std::thread::JoinHandle<()>, u32)> {
    let backend = backend()?;
    let (ready_tx, ready_rx) = mpsc::channel();
    let (jobs_tx, jobs_rx) = mpsc::channel();
    let parallel = parallel.max(1);
    let worker = std::thread::Builder::new()
        .name("factum-local".to_owned())
        .spawn(move || serve(backend, &path, (max_context, parallel), &ready_tx, &jobs_rx))
        .map_err(|e| Error::config(format!("cannot start the generation thread: {e}")))?;
    let n_ctx = ready_rx
        .recv()
        .map_err(|_| Error::config("the generation thread stopped while loading the model"))??;
    Ok((jobs_tx, worker, n_ctx))
}

/// The thread's body: load, report ready, then serve: new calls join the running ones
/// (up to `parallel`), and each step moves every running call on by one batch.
fn serve(
    backend: &'static LlamaBackend,
    path: &Path,
    (max_context, parallel): (u32, u32),
    ready: &mpsc::Sender<Result<u32>>,
    jobs: &mpsc::Receiver<Job>,
) {
    let model = match load_model(backend, path) {
        Ok(model) => model,
        Err(e) => return drop(ready.send(Err(e))),
    };
    let (ctx, seq_ctx) = match new_context(backend, &model, max_context, parallel) {
        Ok(made) => made,
        Err(e) => return drop(ready.send(Err(e))),
    };
    let template = chat_template(&model);
    let _ = ready.send(Ok(seq_ctx));
    let mut engine = Engine {
        model: &model,
        ctx,
        template,
        grammars: HashMap::new(),
        cached: vec![Vec::new(); parallel as usize],
        seq_ctx,
        batch: None,
    };
    let mut running: Vec<Sequence> = Vec::new();
    let mut open = true;
    loop {
        open = open && engine.take(jobs, &mut running, parallel as usize);
        if running.is_empty() {
            if open {
                continue;
            }
            return;
        }
        for (job, result) in engine.step(&mut running) {
            let _ = job.reply.send(result);
        }
    }
}

impl Engine<'_> {
    /// Takes calls from `jobs` into `running`, up to `parallel`: waits for one when idle,
    /// takes those already waiting when busy. False once every clone of the client is
    /// gone (what runs is finished first).
    fn take(
        &mut self,
        jobs: &mpsc::Receiver<Job>,
        running: &mut Vec<Sequence>,
        parallel: usize,
    ) -> bool {
        while running.len() < parallel {
            let next = if running.is_empty() {
                jobs.recv().map_err(|_| mpsc::TryRecvError::Disconnected)
            } else {
                jobs.try_recv()
            };
            match next {
                Ok(job) => self.admit(job, running),
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => return false,
            }
        }
        true
    }

    /// Starts `job` on a free sequence, or answers it at once (a job whose caller has
    /// gone is skipped).
    fn admit(&mut self, job: Job, running: &mut Vec<Sequence>) {
        if job.cancelled() {
            return;
        }
        let seq = (0..self.cached.len() as i32)
            .find(|seq| running.iter().all(|r| r.seq() != *seq))
            .unwrap_or_default();
        running.extend(self.begin(job, seq));
    }
}
