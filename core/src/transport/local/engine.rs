//! What the generation thread works with: the jobs it is sent, llama.cpp's backend, the
//! model and its one context (the thread itself is `worker`, its steps `generate`).
//!
//! Nothing here runs on the async executor. The model and the context never leave the
//! thread, so no `Send` or `Sync` promise is needed beyond what `llama-cpp-2` makes.
//! llama.cpp's backend is started once per process, and contexts are created one at a time
//! across the process (creating two in parallel is unsound upstream).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::token::LlamaToken;
use tokio::sync::oneshot;

use crate::transport::Completion;
use crate::wire::{ChatRequest, Content, ContentPart, ResponseFormat, Role};
use crate::{Error, ErrorKind, Result};

/// The prompt is decoded in chunks that start at multiples of this many positions. A
/// cancelled or late call waits at most one step before it stops. Since the chunks are
/// fixed by position, a chunk the cache kept from an earlier call holds exactly what
/// decoding it anew would: the reply does not depend on what was asked before.
pub(super) const PROMPT_BATCH: usize = 64;

/// The context window a local model gets, unless it was trained on less: the same as the
/// project's llama-server (`-c 4096`).
pub(super) const DEFAULT_CONTEXT: u32 = 4096;

/// llama.cpp's backend, started once for the process, with its log sent to `tracing`
/// (target `llama-cpp-2`) instead of stderr.
pub(super) fn backend() -> Result<&'static LlamaBackend> {
    static BACKEND: OnceLock<std::result::Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::config(format!("cannot start llama.cpp: {e}")))
}

/// Held while a context is created: never two at once in the process.
static CONTEXT_CREATION: Mutex<()> = Mutex::new(());

/// What the grammar is built from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum GrammarSource {
    /// No `response_format`: free text, as in prompt-only mode.
    None,
    /// A JSON Schema, as JSON text, for `json_schema` and `json_object` with a schema.
    Schema(String),
}

/// One call for the generation thread: the request, reduced to what a local model reads,
/// and where the answer goes.
pub(super) struct Job {
    /// (role, text) pairs, in order.
    pub(super) messages: Vec<(&'static str, String)>,
    pub(super) grammar: GrammarSource,
    pub(super) max_tokens: u32,
    pub(super) temperature: f32,
    /// When the extraction's deadline passes.
    pub(super) deadline: Option<std::time::Instant>,
    pub(super) cancel: Arc<AtomicBool>,
    /// Where the reply's text goes piece by piece as tokens are sampled, for a streamed
    /// call; closed when the job is done.
    pub(super) pieces: Option<tokio::sync::mpsc::UnboundedSender<String>>,
    pub(super) reply: oneshot::Sender<Result<Completion>>,
    /// The caller's span (the attempt's), the parent of the generation's own.
    pub(super) span: tracing::Span,
}

impl Job {
    /// The job for `request`; an image in the request is a configuration error, since a
    /// local model reads text only.
    pub(super) fn new(
        request: &ChatRequest,
        deadline: Option<tokio::time::Instant>,
        cancel: Arc<AtomicBool>,
        reply: oneshot::Sender<Result<Completion>>,
    ) -> Result<Job> {
        let messages = request
            .messages
            .iter()
            .map(|m| Ok((role(m.role), text(&m.content)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Job {
            messages,
            grammar: grammar_source(request.response_format.as_ref()),
            max_tokens: request.max_tokens.unwrap_or(DEFAULT_CONTEXT),
            temperature: request.temperature.unwrap_or(0.0),
            deadline: deadline.map(tokio::time::Instant::into_std),
            cancel,
            pieces: None,
            reply,
            span: tracing::Span::current(),
        })
    }

    /// The same job, its text sent piece by piece to `pieces` as it is sampled.
    pub(super) fn streaming(mut self, pieces: tokio::sync::mpsc::UnboundedSender<String>) -> Job {
        self.pieces = Some(pieces);
        self
    }

    pub(super) fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

fn role(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

fn text(content: &Content) -> Result<String> {
    match content {
        Content::Text(text) => Ok(text.clone()),
        Content::Parts(parts) => parts
            .iter()
            .map(|part| match part {
                ContentPart::Text { text } => Ok(text.as_str()),
                ContentPart::ImageUrl { .. } => Err(Error::config(
                    "the local backend reads text only: send images to a vision model's server",
                )),
            })
            .collect::<Result<Vec<_>>>()
            .map(|texts| texts.join("\n")),
    }
}

/// The schema the grammar comes from: the `json_schema`'s, the `json_object`'s, any JSON
/// object for a plain `json_object`, none without a `response_format`.
fn grammar_source(format: Option<&ResponseFormat>) -> GrammarSource {
    if let Some(schema) = format.and_then(ResponseFormat::schema) {
        return GrammarSource::Schema(schema.text().into_owned());
    }
    match format {
        Some(ResponseFormat::JsonObject { .. }) => {
            GrammarSource::Schema(r#"{"type":"object"}"#.to_owned())
        }
        _ => GrammarSource::None,
    }
}

pub(super) fn load_model(backend: &LlamaBackend, path: &Path) -> Result<LlamaModel> {
    let params = LlamaModelParams::default();
    LlamaModel::load_from_file(backend, path, &params).map_err(|e| {
        Error::config(format!(
            "llama.cpp cannot load the model at `{}`: {e}",
            path.display()
        ))
    })
}

/// The one context of a model, with room for `parallel` sequences of the model's trained
/// window each (at most `max_context`), and as many threads as the machine has cores;
/// returns it with each sequence's window.
pub(super) fn new_context<'m>(
    backend: &LlamaBackend,
    model: &'m LlamaModel,
    max_context: u32,
    parallel: u32,
) -> Result<(LlamaContext<'m>, u32)> {
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get) as i32;
    let seq_ctx = model.n_ctx_train().clamp(256, max_context.max(256));
    // Each sequence gets its own share of the cache, a whole window.
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(seq_ctx * parallel))
        .with_n_seq_max(parallel)
        .with_n_batch((PROMPT_BATCH as u32 * parallel).max(512))
        .with_n_threads(threads)
        .with_n_threads_batch(threads);
    let _one_at_a_time = CONTEXT_CREATION
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let ctx = model
        .new_context(backend, params)
        .map_err(|e| Error::config(format!("llama.cpp cannot create a context: {e}")))?;
    let seq_ctx = (ctx.n_ctx() / parallel).min(seq_ctx);
    Ok((ctx, seq_ctx))
}

/// The model's own chat template, or ChatML (llama.cpp's built-in) for a model without one.
pub(super) fn chat_template(model: &LlamaModel) -> LlamaChatTemplate {
    model.chat_template(None).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "the model has no chat template; using chatml");
        LlamaChatTemplate::new("chatml").expect("a literal without NUL")
    })
}

/// The thread's state between jobs.
pub(super) struct Engine<'m> {
    pub(super) model: &'m LlamaModel,
    pub(super) ctx: LlamaContext<'m>,
    pub(super) template: LlamaChatTemplate,
    /// Each schema's grammar, or the converter's refusal, converted once.
    pub(super) grammars: HashMap<GrammarSource, std::result::Result<String, String>>,
    /// Per sequence, the tokens its part of the cache holds, from position 0: the last
    /// prompt and reply it served.
    pub(super) cached: Vec<Vec<LlamaToken>>,
    /// Each sequence's context window, prompt and reply together.
    pub(super) seq_ctx: u32,
    /// The batch every step is decoded from, kept between steps.
    pub(super) batch: Option<llama_cpp_2::llama_batch::LlamaBatch<'static>>,
}

impl Engine<'_> {
    /// The prompt: the request's messages through the model's chat template, opened for
    /// the assistant's turn.
    pub(super) fn prompt(&self, messages: &[(&'static str, String)]) -> Result<String> {
        let chat = messages
            .iter()
            .map(|(role, text)| LlamaChatMessage::new((*role).to_owned(), text.clone()))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::local(ErrorKind::Encode, e))?;
        self.model
            .apply_chat_template(&self.template, &chat, true)
            .map_err(|e| Error::local(ErrorKind::Encode, e))
    }
}
