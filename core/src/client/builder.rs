//! [`ClientBuilder`]: every setting of a client, its defaults, and how `build` turns them
//! into a [`Client`] over HTTP or, with the `local` feature, over an in-process model.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::Client;
use super::inner::Inner;
use crate::batch::limits::{Limits, at_least_one};
use crate::parse::Leniency;
use crate::transport::Transport;
use crate::transport::http::{ApiKey, HttpTransport};
use crate::transport::layer::{self, Gate, Policies};
use crate::transport::provider::{Mode, PerModel, Provider};
use crate::{Error, Result};

/// Default lowest temperature of a re-ask.
pub(crate) const DEFAULT_REASK_TEMPERATURE: f32 = 0.4;

/// Default per-attempt HTTP timeout. Dria's router waits up to `timeout_secs` (sent as this
/// minus a margin, see `Provider::timeout_secs`) for a node, and small local models can be
/// slow.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(130);
/// Default overall deadline of one extraction, re-asks and transport retries included.
pub(crate) const DEFAULT_DEADLINE: Duration = Duration::from_secs(600);
/// Default number of re-asks after the first attempt.
pub(crate) const DEFAULT_MAX_RETRIES: u32 = 2;
/// Default number of transport retries per model call.
pub(crate) const DEFAULT_TRANSPORT_RETRIES: u32 = 3;
/// Default `max_tokens` (Dria's own default).
pub(crate) const DEFAULT_MAX_TOKENS: u32 = 2048;
/// Default response body limit.
pub(crate) const DEFAULT_BODY_LIMIT: usize = 8 * 1024 * 1024;
/// Default backoff: the first delay and the cap.
pub(crate) const DEFAULT_BACKOFF: (Duration, Duration) =
    (Duration::from_millis(500), Duration::from_secs(8));

/// Builds a [`Client`]; get one from [`Client::builder`].
///
/// Every setting has a default: the Dria API at `https://inference.dria.co/v1` with model
/// `qwen3.5:9b`, temperature 0 (extraction wants the most likely reading; Dria's server
/// default would be 0.7), `max_tokens` 2048, a 130 s per-attempt timeout, a 10 min overall
/// deadline, 2 re-asks, 3 transport retries with exponential backoff from 0.5 s to 8 s,
/// and an 8 MiB response limit.
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use factum::{Client, Provider};
///
/// # fn run() -> factum::Result<()> {
/// let client = Client::builder()
///     .provider(Provider::LlamaCpp)
///     .base_url("http://127.0.0.1:8089/v1")
///     .timeout(Duration::from_secs(30))
///     .build()?;
/// # Ok(()) }
/// ```
#[must_use]
#[derive(Clone)]
pub struct ClientBuilder {
    base_url: Option<String>,
    api_key: Option<ApiKey>,
    model: Option<String>,
    provider: Option<Provider>,
    timeout: Option<Duration>,
    deadline: Option<Duration>,
    max_retries: u32,
    transport_retries: u32,
    http_client: Option<reqwest::Client>,
    max_tokens: u32,
    temperature: f32,
    reask_temperature: Option<f32>,
    leniency: Leniency,
    grounding: crate::Grounding,
    mode: Option<Mode>,
    body_limit: usize,
    token_budget: Option<u64>,
    requests_per_minute: Option<NonZeroU32>,
    tokens_per_minute: Option<NonZeroU32>,
    backoff: (Duration, Duration),
    env_error: Option<String>,
    /// The script to run on instead of a server.
    scripted: Option<crate::testing::Script>,
    cassette: Option<crate::testing::Cassette>,
    prompt_style: crate::PromptStyle,
    cache: Option<crate::Cache>,
    cache_nondeterministic: bool,
    /// The GGUF model to run in-process instead of calling a server.
    #[cfg(feature = "local")]
    local: Option<std::path::PathBuf>,
    /// How many calls the in-process model serves at once.
    #[cfg(feature = "local")]
    local_parallel: u32,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field(
                "base_url",
                &self
                    .base_url
                    .as_deref()
                    .map(crate::error::without_credentials),
            )
            .field("api_key", &self.api_key)
            .field("model", &self.model)
            .field("provider", &self.provider)
            .field("timeout", &self.timeout)
            .field("deadline", &self.deadline)
            .field("max_retries", &self.max_retries)
            .field("transport_retries", &self.transport_retries)
            .field("max_tokens", &self.max_tokens)
            .field("temperature", &self.temperature)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> ClientBuilder {
        ClientBuilder::new()
    }
}

impl ClientBuilder {
    /// A builder with every default.
    pub fn new() -> ClientBuilder {
        ClientBuilder {
            base_url: None,
            api_key: None,
            model: None,
            provider: None,
            timeout: Some(DEFAULT_TIMEOUT),
            deadline: Some(DEFAULT_DEADLINE),
            max_retries: DEFAULT_MAX_RETRIES,
            transport_retries: DEFAULT_TRANSPORT_RETRIES,
            http_client: None,
            max_tokens: DEFAULT_MAX_TOKENS,
            temperature: 0.0,
            reask_temperature: Some(DEFAULT_REASK_TEMPERATURE),
            leniency: Leniency::default(),
            grounding: crate::Grounding::default(),
            mode: None,
            body_limit: DEFAULT_BODY_LIMIT,
            token_budget: None,
            requests_per_minute: None,
            tokens_per_minute: None,
            backoff: DEFAULT_BACKOFF,
            env_error: None,
            scripted: None,
            cassette: None,
            prompt_style: crate::PromptStyle::default(),
            cache: None,
            cache_nondeterministic: false,
            #[cfg(feature = "local")]
            local: None,
            #[cfg(feature = "local")]
            local_parallel: crate::transport::local::DEFAULT_PARALLEL,
        }
    }

    /// A builder preset from `FACTUM_API_KEY` (or `DRIA_API_KEY`), `FACTUM_BASE_URL`,
    /// `FACTUM_MODEL` and `FACTUM_PROVIDER`; see [`Client::from_env`]. Later setters
    /// override what the environment gave. Empty variables count as unset.
    pub fn from_env() -> ClientBuilder {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut builder = ClientBuilder::new();
        if let Some(key) = var("FACTUM_API_KEY").or_else(|| var("DRIA_API_KEY")) {
            builder = builder.api_key(key.trim());
        }
        if let Some(url) = var("FACTUM_BASE_URL") {
            builder = builder.base_url(url.trim());
        }
        if let Some(model) = var("FACTUM_MODEL") {
            builder = builder.model(model.trim());
        }
        if let Some(provider) = var("FACTUM_PROVIDER") {
            match provider.parse::<Provider>() {
                Ok(provider) => builder = builder.provider(provider),
                Err(e) => builder.env_error = Some(format!("FACTUM_PROVIDER: {e}")),
            }
        }
        builder
    }

    /// The server's base URL, the part before `/chat/completions`
    /// (default: the provider's usual URL, or Dria's).
    pub fn base_url(mut self, url: impl Into<String>) -> ClientBuilder {
        self.base_url = Some(url.into());
        self
    }

    /// The API key, sent as `Authorization: Bearer …`. It never appears in `Debug`,
    /// errors or logs.
    pub fn api_key(mut self, key: impl Into<String>) -> ClientBuilder {
        self.api_key = Some(ApiKey(key.into()));
        self
    }

    /// The default model (default: the provider's, `qwen3.5:9b` on Dria).
    pub fn model(mut self, model: impl Into<String>) -> ClientBuilder {
        self.model = Some(model.into());
        self
    }

    /// The server kind (default: inferred from the base URL, see
    /// [`Provider::from_base_url`]; Dria when no URL is set).
    pub fn provider(mut self, provider: Provider) -> ClientBuilder {
        self.provider = Some(provider);
        self
    }

    /// The per-attempt HTTP timeout, or `None` for none (default: 130 s).
    ///
    /// A timed-out attempt is retried like a connection error. On Dria the request also
    /// carries `timeout_secs`, 10 s shorter, so the router answers first.
    pub fn timeout(mut self, timeout: impl Into<Option<Duration>>) -> ClientBuilder {
        self.timeout = timeout.into();
        self
    }

    /// The overall deadline of one extraction, every re-ask, backoff and transport retry
    /// included, or `None` for none (default: 10 min).
    pub fn deadline(mut self, deadline: impl Into<Option<Duration>>) -> ClientBuilder {
        self.deadline = deadline.into();
        self
    }

    /// How many times a reply that does not fit the type is re-asked (default: 2, so at
    /// most 3 model calls).
    pub fn max_retries(mut self, retries: u32) -> ClientBuilder {
        self.max_retries = retries;
        self
    }

    /// How many times one model call is retried after a transport fault (408, 409, 429,
    /// 5xx, connection errors, timeouts); default 3.
    pub fn transport_retries(mut self, retries: u32) -> ClientBuilder {
        self.transport_retries = retries;
        self
    }

    /// The first backoff delay between transport retries and its cap (default: 0.5 s and
    /// 8 s). Each retry doubles the delay, with up to 25% jitter taken off; a server's
    /// `retry-after-ms` or `Retry-After` takes precedence.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> ClientBuilder {
        self.backoff = (initial, max.max(initial));
        self
    }

    /// The `reqwest::Client` to send with (default: a new one). Its own timeouts apply on
    /// top of factum's.
    pub fn http_client(mut self, client: reqwest::Client) -> ClientBuilder {
        self.http_client = Some(client);
        self
    }

    /// The default `max_tokens` (default: 2048). A truncated reply is retried with twice
    /// as many, up to 16384.
    pub fn max_tokens(mut self, max_tokens: u32) -> ClientBuilder {
        self.max_tokens = max_tokens;
        self
    }

    /// The temperature re-asks are sent with at least (default: 0.4), each with a new
    /// `seed` where the server takes one: a small model asked again the same way, at
    /// temperature 0, repeats the same mistake. `None` keeps every attempt's sampling as
    /// the call asks. The temperature and seed each attempt used are on the [`Attempt`].
    ///
    /// [`Attempt`]: crate::Attempt
    pub fn reask_temperature(mut self, temperature: impl Into<Option<f32>>) -> ClientBuilder {
        self.reask_temperature = temperature.into();
        self
    }

    /// The default temperature (default: 0).
    pub fn temperature(mut self, temperature: f32) -> ClientBuilder {
        self.temperature = temperature;
        self
    }

    /// How leniently replies are parsed (default: [`Leniency::Standard`]).
    pub fn leniency(mut self, leniency: Leniency) -> ClientBuilder {
        self.leniency = leniency;
        self
    }

    /// Which values must be found in the text (default: [`Grounding::Optional`]: an
    /// optional field's value the text does not hold is re-asked once, then dropped as a
    /// recorded repair). See [`Grounding`](crate::Grounding).
    ///
    /// [`Grounding::Optional`]: crate::Grounding::Optional
    pub fn grounding(mut self, grounding: crate::Grounding) -> ClientBuilder {
        self.grounding = grounding;
        self
    }

    /// The mode to start in instead of the provider's default, e.g. [`Mode::PromptOnly`]
    /// for a server whose structured output you do not trust. A schema-related 400 still
    /// steps down from it.
    pub fn mode(mut self, mode: Mode) -> ClientBuilder {
        self.mode = Some(mode);
        self
    }

    /// The largest response body read, in bytes (default: 8 MiB).
    pub fn body_limit(mut self, bytes: usize) -> ClientBuilder {
        self.body_limit = bytes;
        self
    }

    /// At most this many model calls a minute over every call of the client (single calls,
    /// streams, batches and chunk runs alike, re-asks included), spread evenly with a burst
    /// of one second's worth, as [`Batch::requests_per_minute`](crate::Batch::requests_per_minute)
    /// spreads one batch's. `None` (the default) means no limit; a limit is at least 1.
    pub fn requests_per_minute(mut self, requests: impl Into<Option<u32>>) -> ClientBuilder {
        self.requests_per_minute = requests.into().map(at_least_one);
        self
    }

    /// At most this many tokens a minute over every call of the client, charged as
    /// [`Batch::tokens_per_minute`](crate::Batch::tokens_per_minute) charges them. `None`
    /// (the default) means no limit.
    pub fn tokens_per_minute(mut self, tokens: impl Into<Option<u32>>) -> ClientBuilder {
        self.tokens_per_minute = tokens.into().map(at_least_one);
        self
    }

    /// A default budget of total tokens per extraction, summed over attempts (default:
    /// none). No new attempt starts once the budget is spent.
    pub fn token_budget(mut self, tokens: impl Into<Option<u64>>) -> ClientBuilder {
        self.token_budget = tokens.into();
        self
    }

    /// Runs the GGUF model at `path` in this process instead of calling a server (feature
    /// `local`), as a Dria compute node runs it: llama.cpp through `llama-cpp-2`, under the
    /// grammar llama.cpp's `json_schema_to_grammar` makes of the type's
    /// [`Dialect::LlamaCpp`](crate::Dialect) schema, first in the sampler chain. The
    /// extraction goes through the same pipeline as over HTTP (validation against the full
    /// schema, re-asks, the raw text of every attempt, usage in the model's own token
    /// counts, tracing spans).
    ///
    /// - [`build`](ClientBuilder::build) loads the model once, on the client's own
    ///   generation thread, and waits until it is ready; every clone of the client shares
    ///   the model. The thread and the model go when the last clone is dropped.
    /// - **Concurrent extractions queue**: the thread has one context and generates one
    ///   reply at a time (or [`local_parallel`](ClientBuilder::local_parallel) at once), in
    ///   the order the calls arrive; nothing runs on the async executor.
    /// - Temperature 0 samples greedily; above 0, top-p 0.9, the temperature and a draw
    ///   seeded with 0, as a Dria node does. `max_tokens` and the deadline hold, and the
    ///   reply ends on the token that closes the JSON value; dropping the call's future
    ///   stops generation at the next token.
    /// - **Replies stream as they are sampled**: `.stream()` and `.stream_items()` show
    ///   partials and items while the model writes, and `send()` reads through the same
    ///   runaway guard as over HTTP, which stops a reply that loops at once. A schema the converter rejects is an
    ///   [`ErrorKind::Schema`](crate::ErrorKind::Schema) error, raised once, never re-asked.
    /// - The context window is the model's trained one, at most 4096 tokens (as the
    ///   project's llama-server); the per-attempt HTTP [`timeout`](ClientBuilder::timeout),
    ///   the key and the base URL do not apply. The provider profile is
    ///   [`Provider::LlamaCpp`] unless set, and the model name is the file's stem unless
    ///   [`model`](ClientBuilder::model) is set. Images are refused: the model reads text.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn run() -> factum::Result<()> {
    /// let client = factum::Client::builder()
    ///     .local("models/SmolLM2-135M-Instruct.Q4_1.gguf")
    ///     .temperature(0.0)
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "local")]
    pub fn local(mut self, path: impl Into<std::path::PathBuf>) -> ClientBuilder {
        self.local = Some(path.into());
        self
    }

    /// Runs the client on `script` instead of a server: see
    /// [`Client::scripted`]. Everything else set on the builder holds (provider, model,
    /// leniency, grounding, re-asks, timeout, deadline, transport retries, rate limits);
    /// the base URL, the key and the HTTP client are not used.
    pub fn scripted(mut self, script: crate::testing::Script) -> ClientBuilder {
        self.scripted = Some(script);
        self
    }

    /// How the prompt is worded (default: [`PromptStyle::Compact`](crate::PromptStyle)); see
    /// [`PromptStyle`](crate::PromptStyle).
    pub fn prompt_style(mut self, style: crate::PromptStyle) -> ClientBuilder {
        self.prompt_style = style;
        self
    }

    /// Puts `cassette` in front of the real transport (HTTP, the in-process model or a
    /// script): requests it holds a recording of are replayed, the others sent and
    /// recorded or refused, as its [`Record`](crate::testing::Record) mode says. It sits
    /// under the transport retries, the pause after a 429 and the timeout, so a replayed
    /// status is retried as a live one is. In replay-only mode a hosted provider needs no
    /// key, and the model is not asked of the server: set it with
    /// [`model`](ClientBuilder::model) as it was recorded.
    pub fn cassette(mut self, cassette: crate::testing::Cassette) -> ClientBuilder {
        self.cassette = Some(cassette);
        self
    }

    /// Keeps the replies that validated in `cache` and answers the same request from it
    /// next time, sending nothing (default: no cache). See [`Cache`](crate::Cache) for what
    /// a request is keyed by and what a hit gives.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn run() -> factum::Result<()> {
    /// let client = factum::Client::builder()
    ///     .base_url("http://127.0.0.1:8089/v1")
    ///     .cache(factum::Cache::disk("target/factum-cache"))
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn cache(mut self, cache: crate::Cache) -> ClientBuilder {
        self.cache = Some(cache);
        self
    }

    /// Whether calls sampled above temperature 0 use the cache too (default: `false`: their
    /// replies are meant to vary, so they bypass it).
    pub fn cache_nondeterministic(mut self, yes: bool) -> ClientBuilder {
        self.cache_nondeterministic = yes;
        self
    }

    /// How many extractions the in-process model ([`local`](ClientBuilder::local)) serves
    /// at once, as parallel sequences of its one llama.cpp context (at least 1; default 1).
    /// Each sequence gets a whole context window of its own; each step of generation decodes
    /// one batch holding the next token (or prompt chunk) of every running sequence, as
    /// llama-server's slots do. Calls beyond `n` queue. Replies are the same as one at a
    /// time, up to llama.cpp's batched arithmetic.
    #[cfg(feature = "local")]
    pub fn local_parallel(mut self, n: u32) -> ClientBuilder {
        self.local_parallel = n.max(1);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the base URL is not an `http(s)` URL, no model is set for a
    /// provider without a default one, a hosted provider has no API key, or
    /// `FACTUM_PROVIDER` was invalid.
    pub fn build(self) -> Result<Client> {
        if let Some(message) = &self.env_error {
            return Err(Error::config(message.clone()));
        }
        #[cfg(feature = "local")]
        if let Some(path) = &self.local {
            let transport =
                crate::transport::local::LocalTransport::load(path, self.local_parallel)?;
            let provider = self.provider.unwrap_or(Provider::LlamaCpp);
            let base_url = format!("local:{}", path.display());
            let model = Some(
                self.model
                    .clone()
                    .unwrap_or_else(|| crate::transport::local::model_name(path)),
            );
            // The per-attempt HTTP timeout does not apply to a model in this process.
            let transport = self.taped(Arc::new(transport), provider);
            let layered = self.layered(transport, None);
            return Ok(self.assemble(layered, provider, base_url, model));
        }
        if let Some(script) = self.scripted.clone() {
            return Ok(self.build_scripted(script));
        }
        let (provider, base_url, model) = self.target()?;
        let transport = self.http_transport(provider, &base_url)?;
        let transport = self.taped(Arc::new(transport), provider);
        let layered = self.layered(transport, self.timeout);
        Ok(self.assemble(layered, provider, base_url, model))
    }

    /// The client around a transport of the crate's own tests (the scripted one), inside
    /// the same layers as every transport; the timeout does not apply.
    #[cfg(test)]
    pub(crate) fn build_on(self, transport: Arc<dyn Transport>) -> Client {
        let layered = self.layered(transport, None);
        let provider = self.provider.unwrap_or(Provider::LlamaCpp);
        let model = Some(self.model.clone().unwrap_or_else(|| "m".to_owned()));
        self.assemble(layered, provider, "scripted:".to_owned(), model)
    }

    /// The client on `script`. A script stands for any OpenAI-compatible server: the
    /// provider is `Custom` unless set (whole replies, no seed), the model `scripted`.
    fn build_scripted(self, script: crate::testing::Script) -> Client {
        let provider = self.provider.unwrap_or(Provider::Custom);
        let model = Some(self.model.clone().unwrap_or_else(|| "scripted".to_owned()));
        let transport = crate::testing::script::ScriptTransport { script, provider };
        let transport = self.taped(Arc::new(transport), provider);
        let layered = self.layered(transport, self.timeout);
        self.assemble(layered, provider, "scripted:".to_owned(), model)
    }

    /// `transport` behind the cassette, when one is set.
    fn taped(&self, transport: Arc<dyn Transport>, provider: Provider) -> Arc<dyn Transport> {
        match &self.cassette {
            Some(cassette) => Arc::new(crate::testing::cassette::CassetteTransport {
                cassette: cassette.clone(),
                inner: transport,
                provider,
            }),
            None => transport,
        }
    }

    /// `transport` inside the client's policies (rate limits, retry, the gate, pause,
    /// timeout), and the client's gate.
    fn layered(
        &self,
        transport: Arc<dyn Transport>,
        timeout: Option<Duration>,
    ) -> (Arc<dyn Transport>, Arc<Gate>) {
        let gate = Arc::new(Gate::default());
        let layered = layer::stack(
            transport,
            Policies {
                timeout,
                retries: self.transport_retries,
                backoff: self.backoff,
                limits: Limits::new(self.requests_per_minute, self.tokens_per_minute).map(Arc::new),
                gate: Arc::clone(&gate),
            },
        );
        (layered, gate)
    }

    /// The client around `transport`, with the builder's defaults.
    fn assemble(
        self,
        (transport, gate): (Arc<dyn Transport>, Arc<Gate>),
        provider: Provider,
        base_url: String,
        model: Option<String>,
    ) -> Client {
        Client {
            inner: Arc::new(Inner {
                transport,
                gate,
                base_url,
                model,
                listed_model: OnceLock::new(),
                provider,
                timeout: self.timeout,
                deadline: self.deadline,
                max_retries: self.max_retries,
                max_tokens: self.max_tokens.max(1),
                temperature: self.temperature,
                reask_temperature: self.reask_temperature,
                leniency: self.leniency,
                grounding: self.grounding,
                mode: self.mode,
                token_budget: self.token_budget,
                prompt_style: self.prompt_style,
                systems: crate::pipeline::request::LastSystem::default(),
                cache: self.cache,
                cache_nondeterministic: self.cache_nondeterministic,
                modes: PerModel::default(),
                windows: PerModel::default(),
            }),
        }
    }

    /// Which server and model: the provider (given, or inferred from the base URL), its
    /// base URL and the model, with the key the provider needs.
    fn target(&self) -> Result<(Provider, String, Option<String>)> {
        let provider = match (self.provider, &self.base_url) {
            (Some(provider), _) => provider,
            (None, Some(url)) => Provider::from_base_url(url),
            (None, None) => Provider::Dria,
        };
        let base_url = resolve_base_url(self.base_url.clone(), provider)?;
        // A local server names its own model (`GET /v1/models`) at the first extraction,
        // when the provider was inferred from its URL (the server may be any kind) or has no
        // default model.
        let inferred = self.provider.is_none();
        let model = match (&self.model, provider.default_model()) {
            (Some(model), _) => Some(model.clone()),
            (None, default) if provider.is_local() && (inferred || default.is_none()) => None,
            (None, Some(default)) => Some(default.to_owned()),
            (None, None) => {
                return Err(Error::config(format!(
                    "no model set for provider {provider}: call ClientBuilder::model or set FACTUM_MODEL"
                )));
            }
        };
        // A cassette that only replays sends nothing, so needs no key.
        let replay_only = self
            .cassette
            .as_ref()
            .is_some_and(|c| c.record_mode() == crate::testing::Record::None);
        if provider.needs_api_key()
            && !replay_only
            && self.api_key.as_ref().is_none_or(|k| k.0.is_empty())
        {
            return Err(Error::config(format!(
                "provider {provider} needs an API key: call ClientBuilder::api_key or set FACTUM_API_KEY"
            )));
        }
        Ok((provider, base_url, model))
    }

    fn http_transport(&self, provider: Provider, base_url: &str) -> Result<HttpTransport> {
        let http = match &self.http_client {
            Some(client) => client.clone(),
            None => reqwest::Client::builder()
                .build()
                .map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")))?,
        };
        Ok(HttpTransport {
            http,
            endpoint: reqwest::Url::parse(&format!("{base_url}/chat/completions"))
                .map_err(|e| Error::config(format!("base URL `{base_url}`: {e}")))?,
            api_key: self.api_key.clone(),
            provider,
            timeout: self.timeout,
            body_limit: self.body_limit,
        })
    }
}

/// The base URL without a trailing `/`: the one given, or the provider's; it must be an
/// `http(s)` URL.
fn resolve_base_url(base_url: Option<String>, provider: Provider) -> Result<String> {
    let Some(url) = base_url.or_else(|| provider.default_base_url().map(str::to_owned)) else {
        return Err(Error::config(format!(
            "provider {provider} needs a base URL"
        )));
    };
    let url = url.trim_end_matches('/').to_owned();
    match reqwest::Url::parse(&format!("{url}/chat/completions")) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(url),
        _ => Err(Error::config(format!(
            "base URL `{url}` is not an http(s) URL"
        ))),
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

    /// A client whose "model" is `script`, for tests of your extraction code with no model
    /// and no server: the whole pipeline runs as over HTTP (the request built the same
    /// way, transport retries, parsing, validation, re-asks, grounding, batches, chunking,
    /// streaming); only the network is replaced. Keep a clone of the script to assert on
    /// the requests it was sent.
    ///
    /// The client's provider is [`Provider::Custom`] (whole replies, no seed) and its model
    /// `scripted`, with every other default; for other settings use
    /// [`ClientBuilder::scripted`].
    ///
    /// # Examples
    ///
    /// ```
    /// use factum::Client;
    /// use factum::testing::Script;
    ///
    /// # #[derive(Debug, serde::Deserialize, factum::Extract)] struct Person { name: String }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> factum::Result<()> {
    /// let script = Script::new().reply(r#"{"name": "Ann"}"#);
    /// let client = Client::scripted(script.clone());
    /// let person: Person = client.extract("Ann wrote this.").await?;
    /// assert_eq!(person.name, "Ann");
    /// assert!(script.requests()[0]["messages"].to_string().contains("Ann wrote this."));
    /// # Ok(()) }
    /// ```
    pub fn scripted(script: crate::testing::Script) -> Client {
        ClientBuilder::new().build_scripted(script)
    }
}
