//! [`Extraction`]: one call's options, and `send()`, which resolves them into a run of
//! the pipeline (see `run.rs`).

use std::fmt;
use std::marker::PhantomData;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::time::Instant;
use tracing::Instrument as _;

use futures_util::future::{BoxFuture, Either, TryFutureExt as _};
use serde_json::Value;

use super::Client;
use super::image::Image;
use super::inner::Inner;
use crate::Chunking;
use crate::batch::limits::prompt_tokens;
use crate::batch::progress::OnProgress;
use crate::parse::Leniency;
use crate::pipeline::{Call, Run, request};
use crate::stream::Runaway;
use crate::transport::Transport;
use crate::transport::provider::Mode;
use crate::wire::{Message, Prefix};
use crate::{Error, Extract, Extracted, Result, Schema};

/// One extraction's options; get it from [`Client::extraction`] and finish it with
/// [`send`](Extraction::send). Options not set here come from the client.
///
/// # Examples
///
/// ```no_run
/// # #[derive(Debug, serde::Deserialize, factum::Extract)] struct Person { name: String }
/// # async fn run(client: factum::Client) -> factum::Result<()> {
/// let out = client
///     .extraction::<Person>("John Doe, john@example.com, 30")
///     .model("qwen3.5:9b")
///     .temperature(0.0)
///     .max_retries(2)
///     .send()
///     .await?;
/// println!("{:?} in {} attempts, {:?}", out.value, out.attempts.len(), out.usage);
/// # Ok(()) }
/// ```
#[must_use = "an extraction does nothing until `.send().await`"]
pub struct Extraction<T> {
    pub(crate) client: Client,
    pub(crate) text: String,
    pub(crate) model: Option<String>,
    temperature: Option<f32>,
    /// The re-ask temperature asked for on this call (`Some(None)`: the call's own).
    #[allow(
        clippy::option_option,
        reason = "not set (the client's), set to none, or set to a temperature"
    )]
    reask_temperature: Option<Option<f32>>,
    max_tokens: Option<u32>,
    pub(crate) max_retries: Option<u32>,
    token_budget: Option<u64>,
    instructions: Option<String>,
    images: Vec<Image>,
    messages: Vec<Message>,
    pub(crate) leniency: Option<Leniency>,
    grounding: Option<crate::Grounding>,
    mode: Option<Mode>,
    runaway: Option<Runaway>,
    /// Bypass the response cache ([`Extraction::no_cache`]).
    no_cache: bool,
    /// The root list's schema, bounded by [`Extraction::max_items`]; `None`: the type's own.
    schema: Option<fn(usize) -> &'static Schema>,
    /// A [`Dynamic`](crate::Dynamic) target's schema, asked for instead of `T`'s.
    pub(crate) dynamic: Option<&'static Schema>,
    max_items: usize,
    /// The client's transport inside the rate limits of the batch this extraction runs
    /// in; `None` outside a limited batch.
    pub(crate) transport: Option<Arc<dyn Transport>>,
    /// Chunks, passes and whether failed chunks may be left out.
    pub(crate) plan: Plan,
    /// The text is not known (a provider batch result read without its items): the
    /// reply is judged with no text, so it is not grounded.
    pub(crate) text_unknown: bool,
    /// What `send()` runs instead of one extraction when the plan asks for chunks or
    /// passes: set by [`Extraction::chunked`] and its siblings, which know the item type.
    pub(crate) runner: Option<Runner<T>>,
    /// What `stream()` runs instead of one extraction's stream when the plan asks for
    /// chunks or passes; set together with `runner`, by every chunk plan.
    pub(crate) streamer: Option<Streamer<T>>,
    _type: PhantomData<fn() -> T>,
}

/// How a list extraction is split, and how its chunk jobs are watched: see
/// [`Extraction::chunked`] and [`Extraction::journal`].
pub(crate) struct Plan {
    pub(crate) chunking: Option<Chunking>,
    pub(crate) passes: u32,
    pub(crate) partial_ok: bool,
    /// The chunk jobs' journal.
    pub(crate) journal: Option<PathBuf>,
    /// The chunk jobs' progress callback; in a mutex only to keep the extraction `Sync`
    /// (it is taken out, never locked while it runs).
    pub(crate) on_progress: Option<Mutex<OnProgress>>,
    /// Whether the chunk jobs draw a progress bar.
    #[cfg(feature = "progress")]
    pub(crate) bar: bool,
}

impl Default for Plan {
    /// The whole text, once, unwatched.
    fn default() -> Plan {
        Plan {
            chunking: None,
            passes: 1,
            partial_ok: false,
            journal: None,
            on_progress: None,
            #[cfg(feature = "progress")]
            bar: false,
        }
    }
}

/// What `send()` runs for a chunked or multi-pass extraction: the merged result and, when
/// every item's JSON was kept, the merged list's validated JSON (for a batch's journal).
pub(crate) type Runner<T> =
    fn(Extraction<T>) -> BoxFuture<'static, Result<(Extracted<T>, Option<Value>)>>;

/// A chunked run's stream of events (see [`Extraction::stream`]): a
/// `BoxStream<'static, Result<StreamEvent<T>>>`, boxed as `Any` because `StreamEvent` needs
/// `T: Extract` and the extraction's type does not.
pub(crate) type Streamer<T> = fn(Extraction<T>) -> Box<dyn std::any::Any + Send>;

impl<T> fmt::Debug for Extraction<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Extraction")
            .field("type", &std::any::type_name::<T>())
            .field("text_len", &self.text.len())
            .field("model", &self.model)
            .field("temperature", &self.temperature)
            .field("max_tokens", &self.max_tokens)
            .field("max_retries", &self.max_retries)
            .field("images", &self.images)
            .finish_non_exhaustive()
    }
}

impl<T: Extract> Extraction<T> {
    pub(crate) fn new(client: Client, text: String) -> Extraction<T> {
        Extraction {
            client,
            text,
            model: None,
            temperature: None,
            reask_temperature: None,
            max_tokens: None,
            max_retries: None,
            token_budget: None,
            instructions: None,
            images: Vec::new(),
            messages: Vec::new(),
            leniency: None,
            grounding: None,
            mode: None,
            runaway: None,
            no_cache: false,
            schema: None,
            dynamic: None,
            max_items: 0,
            transport: None,
            plan: Plan::default(),
            text_unknown: false,
            runner: None,
            streamer: None,
            _type: PhantomData,
        }
    }

    /// The same extraction of another text: every option but the chunk plan.
    pub(crate) fn fork(&self, text: String) -> Extraction<T> {
        Extraction {
            client: self.client.clone(),
            text,
            model: self.model.clone(),
            temperature: self.temperature,
            reask_temperature: self.reask_temperature,
            max_tokens: self.max_tokens,
            max_retries: self.max_retries,
            token_budget: self.token_budget,
            instructions: self.instructions.clone(),
            images: self.images.clone(),
            messages: self.messages.clone(),
            leniency: self.leniency,
            grounding: self.grounding,
            mode: self.mode,
            runaway: self.runaway,
            no_cache: self.no_cache,
            schema: self.schema,
            dynamic: self.dynamic,
            max_items: self.max_items,
            transport: self.transport.clone(),
            plan: Plan::default(),
            text_unknown: self.text_unknown,
            runner: None,
            streamer: None,
            _type: PhantomData,
        }
    }

    /// The same extraction with another result type: every option, the plan and a
    /// [`Dynamic`](crate::Dynamic) schema kept; the runner and a bound list schema (both
    /// `T`'s) dropped.
    pub(crate) fn retype<U>(self) -> Extraction<U> {
        Extraction {
            client: self.client,
            text: self.text,
            model: self.model,
            temperature: self.temperature,
            reask_temperature: self.reask_temperature,
            max_tokens: self.max_tokens,
            max_retries: self.max_retries,
            token_budget: self.token_budget,
            instructions: self.instructions,
            images: self.images,
            messages: self.messages,
            leniency: self.leniency,
            grounding: self.grounding,
            mode: self.mode,
            runaway: self.runaway,
            no_cache: self.no_cache,
            schema: None,
            dynamic: self.dynamic,
            max_items: self.max_items,
            transport: self.transport,
            plan: self.plan,
            text_unknown: self.text_unknown,
            runner: None,
            streamer: None,
            _type: PhantomData,
        }
    }

    /// The model to ask.
    pub fn model(mut self, model: impl Into<String>) -> Extraction<T> {
        self.model = Some(model.into());
        self
    }

    /// The sampling temperature.
    pub fn temperature(mut self, temperature: f32) -> Extraction<T> {
        self.temperature = Some(temperature);
        self
    }

    /// The temperature re-asks of this call are sent with at least, each with a new seed;
    /// `None` keeps the call's own sampling on every attempt. See
    /// [`ClientBuilder::reask_temperature`](crate::ClientBuilder::reask_temperature).
    pub fn reask_temperature(mut self, temperature: impl Into<Option<f32>>) -> Extraction<T> {
        self.reask_temperature = Some(temperature.into());
        self
    }

    /// The first attempt's `max_tokens`; a truncated reply is retried with twice as many.
    pub fn max_tokens(mut self, max_tokens: u32) -> Extraction<T> {
        self.max_tokens = Some(max_tokens.max(1));
        self
    }

    /// How many times a failed reply is re-asked (so at most `retries + 1` model calls).
    pub fn max_retries(mut self, retries: u32) -> Extraction<T> {
        self.max_retries = Some(retries);
        self
    }

    /// A budget of total tokens for this extraction, summed over attempts. No new attempt
    /// starts once it is spent. `None` keeps the client's
    /// ([`ClientBuilder::token_budget`](crate::ClientBuilder::token_budget)).
    pub fn token_budget(mut self, tokens: impl Into<Option<u64>>) -> Extraction<T> {
        self.token_budget = tokens.into();
        self
    }

    /// Extra instructions, added to the system message after the type's description.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Extraction<T> {
        self.instructions = Some(instructions.into());
        self
    }

    /// Adds an image, sent as an `image_url` part after the text.
    pub fn image(mut self, image: Image) -> Extraction<T> {
        self.images.push(image);
        self
    }

    /// Context messages, placed after the system message and before the text. Re-ask turns
    /// never touch them.
    pub fn messages(mut self, messages: impl IntoIterator<Item = Message>) -> Extraction<T> {
        self.messages = messages.into_iter().collect();
        self
    }

    /// Bypasses the client's response cache ([`ClientBuilder::cache`]) for this call:
    /// nothing is looked up and nothing stored.
    ///
    /// [`ClientBuilder::cache`]: crate::ClientBuilder::cache
    pub fn no_cache(mut self) -> Extraction<T> {
        self.no_cache = true;
        self
    }

    /// How leniently replies are parsed.
    pub fn leniency(mut self, leniency: Leniency) -> Extraction<T> {
        self.leniency = Some(leniency);
        self
    }

    /// Which values must be found in the text, instead of the client's (see
    /// [`ClientBuilder::grounding`](crate::ClientBuilder::grounding)).
    pub fn grounding(mut self, grounding: crate::Grounding) -> Extraction<T> {
        self.grounding = Some(grounding);
        self
    }

    /// The mode to send this call in, instead of the client's (see [`ClientBuilder::mode`]).
    ///
    /// [`ClientBuilder::mode`]: crate::ClientBuilder::mode
    pub fn mode(mut self, mode: Mode) -> Extraction<T> {
        self.mode = Some(mode);
        self
    }

    /// When a streamed reply ([`stream`](Extraction::stream),
    /// [`stream_items`](Extraction::stream_items)) is cut before the server ends it: see
    /// [`Runaway`]; the default cuts loops and long trailing text.
    pub fn runaway(mut self, limits: Runaway) -> Extraction<T> {
        self.runaway = Some(limits);
        self
    }

    /// Puts this extraction inside `limits`, shared with every other extraction given them
    /// (see [`RateLimits`](crate::RateLimits)): each model call, re-asks included, waits
    /// its turn. The client's own limits, if it has any, still apply.
    pub fn rate_limits(mut self, limits: &crate::RateLimits) -> Extraction<T> {
        if let Some(limits) = limits.shared() {
            self.limit_by(Arc::clone(limits));
        }
        self
    }

    /// Wraps the transport this extraction sends through (the client's, or one set by an
    /// enclosing batch) in `limits`.
    pub(crate) fn limit_by(&mut self, limits: Arc<crate::batch::limits::Limits>) {
        let inner = self
            .transport
            .take()
            .unwrap_or_else(|| Arc::clone(&self.client.inner.transport));
        self.transport = Some(Arc::new(crate::transport::layer::RateLimited::new(
            inner, limits,
        )));
    }

    /// Runs the extraction.
    ///
    /// Each model call's reply is classified (refusal, truncation, empty, `<think>`
    /// blocks stripped), parsed, validated against the type's full source schema,
    /// deserialized and checked by the type's own validators. A reply that fails is
    /// re-asked with the failed output and a compact, path-level list of errors; a
    /// truncated reply is re-sent with twice the `max_tokens`. Transport faults (429, 5xx,
    /// resets, timeouts) are retried separately and do not count as attempts. A
    /// schema-related 400 steps the mode down and is remembered for the base URL and model.
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::Http`](crate::ErrorKind::Http) for a fatal status (400, 401, 402, 403, 404, 422) or a retryable
    ///   one that outlasted the transport retries; [`ErrorKind::Transport`](crate::ErrorKind::Transport),
    ///   [`ErrorKind::Timeout`](crate::ErrorKind::Timeout), [`ErrorKind::Deadline`](crate::ErrorKind::Deadline), [`ErrorKind::BodyTooLarge`](crate::ErrorKind::BodyTooLarge),
    ///   [`ErrorKind::InvalidResponse`](crate::ErrorKind::InvalidResponse) for the other transport failures;
    /// - [`ErrorKind::Refusal`](crate::ErrorKind::Refusal) when the model refuses (not re-asked);
    /// - [`ErrorKind::Exhausted`](crate::ErrorKind::Exhausted), [`ErrorKind::Truncated`](crate::ErrorKind::Truncated) or [`ErrorKind::Empty`](crate::ErrorKind::Empty) when every attempt
    ///   failed (by the last attempt's failure), and [`ErrorKind::TokenBudget`](crate::ErrorKind::TokenBudget) when the budget
    ///   ran out first; each carries every attempt and the summed usage.
    ///
    /// # Cancellation
    ///
    /// Dropping the future cancels the request in flight; no task is left running.
    pub fn send(self) -> impl Future<Output = Result<Extracted<T>>> {
        // A map, not an `async fn`: the extraction is kept once, as in `send_with_json`.
        self.send_with_json().map_ok(|(out, _)| out)
    }

    /// [`send`](Extraction::send), also giving the validated JSON the value was read from
    /// (repairs applied, grounding's drops made): what a journal, a store or a query engine
    /// writes out, since `T` need not be `Serialize`. For a chunked or multi-pass
    /// extraction it is the merged list's. `None` only where a chunked runner kept no JSON.
    ///
    /// # Errors
    ///
    /// Those of [`send`](Extraction::send).
    pub fn send_with_json(mut self) -> impl Future<Output = Result<(Extracted<T>, Option<Value>)>> {
        // Combinators rather than an `async fn`: an async fn keeps the extraction twice in its
        // state (as given and as moved into the body), and once more beside each future it
        // is moved into; a batch moves this future whole, so its size is paid per item.
        match self.runner.take() {
            // In a block so that the runner starts when the future is first polled, as
            // everything else here does, not when `send_with_json` is called.
            Some(runner) => Either::Left(async move { runner(self).await }),
            None => Either::Right(
                self.into_run()
                    .and_then(|(run, span)| run.drive().instrument(span))
                    .map_ok(|(out, json)| (out, Some(json))),
            ),
        }
    }

    /// The run of this extraction and its `factum.extract` span, with the model resolved.
    #[allow(
        clippy::manual_async_fn,
        reason = "an async fn keeps its by-value arguments twice in its state; see Listening::receive"
    )]
    pub(crate) fn into_run(mut self) -> impl Future<Output = Result<(Run<T>, tracing::Span)>> {
        async move {
            let schema = self.target_schema();
            let inner = Arc::clone(&self.client.inner);
            if self.text.trim().is_empty() && self.images.is_empty() && !self.text_unknown {
                let model = self.model.as_deref().unwrap_or(self.client.model());
                return Err(Error::empty_input().in_call(&inner.base_url, model, inner.deadline));
            }
            let model = match &self.model {
                Some(model) => model.clone(),
                None => inner.resolve_model().await?,
            };
            let span = tracing::info_span!(
                "factum.extract",
                r#type = schema.name(),
                model = %model,
                provider = %self.client.inner.provider,
                attempts = tracing::field::Empty,
                total_tokens = tracing::field::Empty,
            );
            let text = std::mem::take(&mut self.text);
            let call = self.call(schema, model, text);
            fits(&inner, &call).await?;
            Ok((Run::new(call), span))
        }
    }

    /// The schema the reply is asked for: a [`Dynamic`](crate::Dynamic) target's, or
    /// `T`'s, with the root list bounded by [`max_items`](Extraction::max_items) when set.
    pub(crate) fn target_schema(&self) -> &'static Schema {
        match (self.dynamic, self.schema) {
            (Some(dynamic), None) => dynamic,
            (Some(dynamic), Some(_)) => {
                crate::dynamic::intern(dynamic.with_max_items(self.max_items))
            }
            (None, Some(bounded)) => bounded(self.max_items),
            (None, None) => T::schema(),
        }
    }

    /// The bound [`max_items`](Extraction::max_items) set on the root list, if any.
    pub(crate) fn items_bound(&self) -> Option<usize> {
        self.schema.is_some().then_some(self.max_items)
    }

    /// The runaway guard a streamed reply is watched with.
    pub(crate) fn runaway_limits(&self) -> Runaway {
        self.runaway.unwrap_or_default()
    }

    /// The response cache this call reads and fills: the client's, unless the call
    /// bypasses it or samples above temperature 0 on a client that caches only
    /// deterministic calls.
    fn cache(&self) -> Option<crate::Cache> {
        let inner = &*self.client.inner;
        let temperature = self.temperature.unwrap_or(inner.temperature);
        let varies = temperature > 0.0 && !inner.cache_nondeterministic;
        if self.no_cache || varies {
            return None;
        }
        inner.cache.clone()
    }

    /// Resolves the options against the client's defaults, once for every attempt.
    fn call(&self, schema: &'static Schema, model: String, text: String) -> Call {
        let inner = &*self.client.inner;
        let mode = inner.start_mode(&model, self.mode);
        let prefix = self.prefix(schema, mode, &text);
        Call {
            inner: Arc::clone(&self.client.inner),
            schema,
            mode,
            model,
            leniency: self.leniency.unwrap_or(inner.leniency),
            grounding: self.grounding.unwrap_or(inner.grounding),
            budget: self.token_budget.or(inner.token_budget),
            max_retries: self.max_retries.unwrap_or(inner.max_retries),
            temperature: self.temperature.unwrap_or(inner.temperature),
            reask_temperature: self.reask_temperature.unwrap_or(inner.reask_temperature),
            deadline: inner.deadline.map(|d| Instant::now() + d),
            runaway: self.runaway_limits(),
            max_items: self.items_bound(),
            prefix,
            text,
            max_tokens: self.max_tokens.unwrap_or(inner.max_tokens),
            cache: self.cache(),
            transport: self
                .transport
                .clone()
                .unwrap_or_else(|| Arc::clone(&inner.transport)),
        }
    }

    /// The messages every attempt sends: the system message, the caller's messages, and
    /// the text.
    fn prefix(&self, schema: &'static Schema, mode: Mode, text: &str) -> Prefix {
        let inner = &*self.client.inner;
        let tag = request::delimiter(text);
        let style = inner.prompt_style;
        // A llama.cpp grammar holds the reply where the mode sends the `LlamaCpp` dialect
        // and the schema lowers to it. (A later step down the mode ladder keeps this
        // prompt; the re-ask's feedback then says any bound the reply broke.)
        let held = inner.provider.dialect_for(mode) == Some(crate::Dialect::LlamaCpp)
            && schema.for_dialect(crate::Dialect::LlamaCpp).is_ok();
        let instructions = self.instructions.as_deref();
        let (system, written) = inner
            .systems
            .message(schema, instructions, &tag, (style, held));
        let mut prefix = Vec::with_capacity(self.messages.len() + 2);
        prefix.push(system);
        prefix.extend(self.messages.iter().cloned());
        // The closing line keeps a model that no grammar holds to JSON from answering in
        // prose; under a schema's grammar the compact prompt leaves it out.
        let closing = (style == crate::PromptStyle::Verbose || !mode.enforces_schema())
            .then(|| schema.name());
        prefix.push(request::user_message(text, &tag, closing, &self.images));
        match written {
            Some(system) => Prefix::with_first_written(prefix, system),
            None => Prefix::from(prefix),
        }
    }
}

impl<T: Extract> Extraction<Vec<T>> {
    /// At most `n` items in the list: the root schema gets `maxItems: n` (sent where the
    /// server's dialect takes it, and said in the prompt), and a reply with more items is
    /// re-asked, like any other violation. At [`Leniency::Lenient`] the items past the
    /// first `n` are dropped instead, recorded as a
    /// [`RepairKind::DroppedPastMaxItems`](crate::parse::RepairKind::DroppedPastMaxItems)
    /// repair. A chunked run bounds each chunk's list.
    ///
    /// The bound is also the runaway guard's: a reply streamed (by `.stream()`, or by
    /// `send()` where the provider streams) is cut as soon as an item past the bound
    /// closes, instead of running on to `max_tokens`.
    pub fn max_items(mut self, n: usize) -> Extraction<Vec<T>> {
        self.schema = Some(crate::extract::bounded_list::<T>);
        self.max_items = n;
        self
    }
}

/// Refuses a prompt that cannot fit the model's context window, when the window is known
/// (llama-server's `/props`, an in-process model, or an earlier overflow error): it would
/// fail on the server, or come back cut off, whatever the model did.
async fn fits(inner: &Inner, call: &Call) -> Result<()> {
    /// No server's context is smaller: a prompt within it fits any, and its window is not
    /// asked for (that would cost a request to `/props` on every first call).
    const SMALLEST_WINDOW: u64 = 512;
    let tokens = prompt_tokens(call.prefix.iter());
    if tokens <= SMALLEST_WINDOW {
        return Ok(());
    }
    let Some(window) = inner.context_window(&call.model).await else {
        return Ok(());
    };
    if tokens > u64::from(window) {
        let error = Error::input_too_long(tokens, window);
        return Err(error.in_call(&inner.base_url, &call.model, inner.deadline));
    }
    Ok(())
}

impl Client {
    /// Extracts a `T` from `text` with the client's defaults.
    ///
    /// Same as `self.extraction::<T>(text).send().await` keeping only the value; see
    /// [`Extraction::send`] for what happens.
    ///
    /// # Errors
    ///
    /// The errors of [`Extraction::send`].
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
/// # Cancellation
///
/// Dropping the future cancels the request; nothing keeps running. The default client
/// stays, for the next call.
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
