//! The HTTP client: [`Client`], its builder, and the per-call [`Extraction`].

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::parse::Leniency;
use crate::provider::{Mode, PerModel, Provider};
use crate::{Error, Extract, Result};
use transport::Transport;

mod batch;
mod builder;
mod chunk;
mod extraction;
mod http;
mod image;
mod journal;
mod limits;
#[cfg(feature = "local")]
pub(crate) mod local;
mod pause;
mod progress;
mod reask;
mod reply;
mod request;
mod run;
mod sse;
mod stream;
mod transport;

pub use batch::{Batch, BatchItem};
pub use builder::ClientBuilder;
pub use chunk::{ChunkFailure, Chunking};
pub use extraction::Extraction;
pub use image::Image;
pub use progress::Progress;
pub use stream::{ExtractionStream, ItemStream, StreamEvent};

/// A client for an OpenAI-compatible `/v1/chat/completions` server (Dria by default).
///
/// A `Client` holds its configuration and a connection pool behind an [`Arc`], so it is
/// cheap to clone and every clone shares the pool and the remembered mode step-downs. Do
/// not wrap it in an `Arc` yourself; clone it instead.
///
/// # Examples
///
/// ```no_run
/// use factum::{Client, Extract};
/// use serde::Deserialize;
///
/// #[derive(Debug, Deserialize, Extract)]
/// struct Person {
///     name: String,
///     age: u8,
/// }
///
/// # async fn run() -> factum::Result<()> {
/// let client = Client::from_env()?;
/// let person: Person = client.extract("John Doe, 30").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

const _: fn() = || {
    fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync_clone::<Client>();
};

/// The shared state of a client and its clones: the defaults of every extraction, and the
/// transport their attempts go through.
pub(crate) struct Inner {
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) base_url: String,
    /// The model configured, or the provider's default for a hosted provider; `None` when
    /// it comes from the server's own list (see [`Inner::resolve_model`]).
    pub(crate) model: Option<String>,
    /// The model the server listed as its only one, or the provider's default after it
    /// listed none or several.
    pub(crate) listed_model: OnceLock<String>,
    pub(crate) provider: Provider,
    /// The per-attempt timeout, which Dria is also told (`timeout_secs`).
    pub(crate) timeout: Option<Duration>,
    pub(crate) deadline: Option<Duration>,
    pub(crate) max_retries: u32,
    pub(crate) max_tokens: u32,
    pub(crate) temperature: f32,
    pub(crate) leniency: Leniency,
    pub(crate) mode: Option<Mode>,
    pub(crate) token_budget: Option<u64>,
    pub(crate) modes: PerModel<Mode>,
    /// Context windows learned from the transport or from overflow errors (`None`: the
    /// transport cannot say).
    pub(crate) windows: PerModel<Option<u32>>,
}

impl Inner {
    /// The model to ask when the call names none: the configured one; else, for a local
    /// server, the one model its `GET /v1/models` lists; else the provider's default.
    pub(crate) async fn resolve_model(&self) -> Result<String> {
        if let Some(model) = self.model.as_ref().or(self.listed_model.get()) {
            return Ok(model.clone());
        }
        let listed = self.transport.models().await;
        let model = match (listed.as_deref(), self.provider.default_model()) {
            (Some([only]), _) => only.clone(),
            (_, Some(default)) => default.to_owned(),
            (Some(many), None) => {
                return Err(Error::config(format!(
                    "no model set for provider {}, and the server at {} lists {} models ({}): \
                     call ClientBuilder::model or set FACTUM_MODEL",
                    self.provider,
                    self.base_url,
                    many.len(),
                    many.join(", ")
                )));
            }
            (None, None) => {
                return Err(Error::config(format!(
                    "no model set for provider {}, and the server at {} does not list its \
                     models: call ClientBuilder::model or set FACTUM_MODEL",
                    self.provider, self.base_url
                )));
            }
        };
        Ok(self.listed_model.get_or_init(|| model).clone())
    }

    /// The context window of `model`, learned once from the transport and remembered.
    pub(crate) async fn context_window(&self, model: &str) -> Option<u32> {
        if let Some(known) = self.windows.get(model) {
            return known;
        }
        let window = self.transport.context_window(model).await;
        self.windows.set(model, window);
        window
    }

    /// The mode an extraction with `model` starts in: the one asked for (per call, then
    /// the client's, then the provider's default), unless the server already rejected it
    /// for this model; then the remembered step-down, whichever is further down the ladder.
    pub(crate) fn start_mode(&self, model: &str, per_call: Option<Mode>) -> Mode {
        let requested = per_call
            .or(self.mode)
            .unwrap_or_else(|| self.provider.default_mode());
        match self.modes.get(model) {
            Some(remembered) if remembered.rank() > requested.rank() => remembered,
            _ => requested,
        }
    }
}

/// An API key whose `Debug` never shows it.
#[derive(Clone)]
pub(crate) struct ApiKey(pub(crate) String);

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Client")
            .field(
                "base_url",
                &crate::error::without_credentials(&inner.base_url),
            )
            .field("provider", &inner.provider)
            .field("model", &inner.model)
            .field("transport", &inner.transport)
            .field("timeout", &inner.timeout)
            .field("deadline", &inner.deadline)
            .field("max_retries", &inner.max_retries)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A builder for a client with non-default settings.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client configured from the environment.
    ///
    /// - `FACTUM_API_KEY`, or else `DRIA_API_KEY`: the API key (sent as a bearer token);
    /// - `FACTUM_BASE_URL`: the server (default: Dria, `https://inference.dria.co/v1`);
    /// - `FACTUM_MODEL`: the model (default on Dria: `qwen3.5:9b`; for a local server, the
    ///   one model its `GET /v1/models` lists);
    /// - `FACTUM_PROVIDER`: the [`Provider`], one of `dria`, `openai`, `ollama`, `llamacpp`,
    ///   `llamacpp-python`, `vllm`, `openrouter`, `groq`, `deepseek`, `custom` (default:
    ///   inferred from the base URL's host; a loopback or private-network host is `llamacpp`).
    ///
    /// `FACTUM_BASE_URL=http://127.0.0.1:8080/v1` alone is enough for llama-server, vLLM,
    /// Ollama or LM Studio serving one model.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when a variable is invalid or a hosted
    /// provider has no key.
    pub fn from_env() -> Result<Client> {
        ClientBuilder::from_env().build()
    }

    /// A client that runs the GGUF model at `path` in this process (feature `local`), the
    /// way a Dria compute node runs it: llama.cpp through `llama-cpp-2`, sampling under the
    /// grammar llama.cpp makes of the type's [`Dialect::LlamaCpp`](crate::Dialect) schema.
    /// No key, server or network is needed.
    ///
    /// Same as `Client::builder().local(path).build()`; see [`ClientBuilder::local`] for
    /// how calls are served.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the file is missing or
    /// llama.cpp cannot load it.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # #[derive(serde::Deserialize, factum::Extract)] struct Person { name: String }
    /// # async fn run() -> factum::Result<()> {
    /// let client = factum::Client::local("models/SmolLM2-135M-Instruct.Q4_1.gguf")?;
    /// let person: Person = client.extract("John Doe, john@example.com, 30").await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "local")]
    pub fn local(path: impl Into<std::path::PathBuf>) -> Result<Client> {
        ClientBuilder::new().local(path).build()
    }

    /// The server's base URL (without a trailing `/`).
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The default model: the configured one, or the provider's default. For a local
    /// server with no model configured, it is the one its `GET /v1/models` lists, known
    /// after the first extraction (empty until then when the provider has no default).
    pub fn model(&self) -> &str {
        let inner = &self.inner;
        inner
            .model
            .as_deref()
            .or(inner.listed_model.get().map(String::as_str))
            .or(inner.provider.default_model())
            .unwrap_or_default()
    }

    /// The server kind.
    pub fn provider(&self) -> Provider {
        self.inner.provider
    }

    /// The mode the next extraction with `model` will start in: the provider's default,
    /// or the step-down remembered after a schema-related 400.
    pub fn mode(&self, model: &str) -> Mode {
        self.inner.start_mode(model, None)
    }

    /// Extracts a `T` from `text` with the client's defaults.
    ///
    /// Same as `self.extraction::<T>(text).send().await` keeping only the value; see
    /// [`Extraction::send`] for what happens and what can fail.
    ///
    /// # Cancellation
    ///
    /// Dropping the future cancels the request; nothing keeps running.
    pub async fn extract<T: Extract>(&self, text: impl Into<String>) -> Result<T> {
        self.extraction::<T>(text).send().await.map(|out| out.value)
    }

    /// Starts a per-call extraction builder, for options such as the model, the
    /// temperature, instructions or images; finish it with [`Extraction::send`].
    pub fn extraction<T: Extract>(&self, text: impl Into<String>) -> Extraction<T> {
        Extraction::new(self.clone(), text.into())
    }
}

/// Extracts a `T` from `text` with the default client, built from the environment
/// ([`Client::from_env`]) on first use and kept for the life of the process.
///
/// # Errors
///
/// The errors of [`Client::from_env`] and of [`Extraction::send`].
///
/// # Examples
///
/// ```no_run
/// # #[derive(serde::Deserialize, factum::Extract)] struct Person { name: String }
/// # async fn run() -> factum::Result<()> {
/// let person: Person = factum::extract("John Doe, john@example.com, 30").await?;
/// # Ok(()) }
/// ```
pub async fn extract<T: Extract>(text: impl Into<String>) -> Result<T> {
    static DEFAULT: OnceLock<Client> = OnceLock::new();
    let client = if let Some(client) = DEFAULT.get() {
        client
    } else {
        // A failed build is not cached: the environment may be fixed and the call repeated.
        let built = Client::from_env()?;
        DEFAULT.get_or_init(|| built)
    };
    client.extract(text).await
}
