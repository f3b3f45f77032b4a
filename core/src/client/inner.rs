//! [`Inner`]: what a client and its clones share, and what every extraction reads its
//! defaults, its transport and its remembered step-downs from.

use std::sync::Arc;
use std::sync::OnceLock;
use std::time::Duration;

use crate::parse::Leniency;
use crate::transport::Transport;
use crate::transport::layer::Gate;
use crate::transport::provider::{Mode, PerModel, Provider};
use crate::{Error, Result};

/// The shared state of a client and its clones: the defaults of every extraction, and the
/// transport their attempts go through.
pub(crate) struct Inner {
    pub(crate) transport: Arc<dyn Transport>,
    /// How many calls are in flight toward the server, and its adaptive limit.
    pub(crate) gate: Arc<Gate>,
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
    /// The temperature re-asks are sent with at least (`None`: the call's own).
    pub(crate) reask_temperature: Option<f32>,
    pub(crate) leniency: Leniency,
    /// Which values must be found in the text by default.
    pub(crate) grounding: crate::Grounding,
    pub(crate) mode: Option<Mode>,
    pub(crate) token_budget: Option<u64>,
    /// How the system message and the text are worded.
    pub(crate) prompt_style: crate::PromptStyle,
    /// The system message sent last, kept for the next call that sends the same.
    pub(crate) systems: crate::pipeline::request::LastSystem,
    /// The response cache, if one is set.
    pub(crate) cache: Option<crate::Cache>,
    /// Whether calls above temperature 0 use the cache too.
    pub(crate) cache_nondeterministic: bool,
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
