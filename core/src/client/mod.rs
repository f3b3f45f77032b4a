//! What a user holds: the [`Client`], its [`ClientBuilder`](builder::ClientBuilder), the
//! per-call [`Extraction`](extraction::Extraction) and the [`Image`](image::Image)s it sends.
//!
//! The files depend on each other one way: `inner.rs` is the shared state every other part
//! of the crate reads; `mod.rs` is the handle; `builder.rs` makes one (and holds
//! `Client::builder`, `from_env`, `local`); `extraction.rs` starts a call from one (and holds
//! `Client::extract`, `Client::extraction`, and the free [`extract`](extraction::extract)).

use std::fmt;
use std::sync::Arc;

use crate::transport::provider::{Mode, Provider};

pub(crate) mod builder;
pub(crate) mod dynamic;
pub(crate) mod extraction;
pub(crate) mod image;
pub(crate) mod inner;

use inner::Inner;

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
}
