//! The HTTP transport: one model call as one `POST /chat/completions`. It implements
//! [`Transport`], the seam every attempt goes through; the retry, the pause, the timeout
//! and the rate limits are layers around it (`transport/layer`).
//!
//! What it decides is which faults are worth another try ([`Again`]): 408, 409, 429, 5xx
//! and connection errors. `x-should-retry` overrides the status, except that 400, 401,
//! 402, 403, 404 and 422 are always fatal, and so is a request that does not fit the
//! context. The delay comes from `retry-after-ms`, else `Retry-After` (seconds or an HTTP
//! date); without one the retry layer backs off.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::StreamExt as _;
use reqwest::header::{self, HeaderMap};
use tokio::time::Instant;

use std::sync::Arc;

use futures_util::future::{BoxFuture, Either};
use futures_util::stream::{self, BoxStream};

use super::{Completion, Delta, Transport};
use crate::error::{Again, is_retryable_status};
use crate::transport::provider::Provider;
use crate::wire::{ChatRequest, ChatResponse};
use crate::{Error, Result};
use key::redact;

mod key;
mod sse;

pub(crate) use key::ApiKey;

/// Statuses never retried, whatever `x-should-retry` says.
const FATAL: [u16; 6] = [400, 401, 402, 403, 404, 422];
/// Largest body kept on an error, in bytes: enough for any error message.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// An OpenAI-compatible `/chat/completions` endpoint and how to talk to it.
pub(crate) struct HttpTransport {
    pub(crate) http: reqwest::Client,
    /// `{base_url}/chat/completions`, parsed once rather than on every request.
    pub(crate) endpoint: reqwest::Url,
    pub(crate) api_key: Option<ApiKey>,
    pub(crate) provider: Provider,
    /// The per-attempt timeout, here for the best-effort `GET`s the layers do not wrap.
    pub(crate) timeout: Option<Duration>,
    pub(crate) body_limit: usize,
}

impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTransport")
            .field(
                "endpoint",
                &crate::error::without_credentials(self.endpoint.as_str()),
            )
            .field("api_key", &self.api_key)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Transport for HttpTransport {
    fn complete<'a>(
        &'a self,
        request: &'a ChatRequest,
        _deadline: Option<Instant>,
    ) -> BoxFuture<'a, Result<Completion>> {
        Box::pin(async move {
            let sent = match request.to_bytes() {
                Ok(body) => send(self, Bytes::from(body), false).await,
                Err(e) => Err(Error::encode(e)),
            };
            match sent {
                Ok(Reply::Response(response)) => Ok(Completion::from(response)),
                Ok(Reply::Stream(_)) => Err(Error::invalid_response(
                    "a buffered request was answered as a stream".to_owned(),
                    String::new(),
                )),
                Err(e) => Err(self.named(e)),
            }
        })
    }

    fn stream(
        self: Arc<Self>,
        request: Arc<ChatRequest>,
        _deadline: Option<Instant>,
    ) -> BoxStream<'static, Result<Delta>> {
        let opened = async move {
            let body = Bytes::from(request.to_bytes().map_err(Error::encode)?);
            match send(&self, body, true).await.map_err(|e| self.named(e))? {
                Reply::Stream(response) => Ok(Either::Left(sse::deltas(response, self.reading()))),
                // A server that ignores `stream` answers whole: hand that over in one piece.
                Reply::Response(response) => {
                    let whole = Completion::from(response).into_delta();
                    Ok(Either::Right(stream::iter([Ok(whole)])))
                }
            }
        };
        // One box for the whole call: what the opening gives is held as it is.
        stream::once(opened)
            .flat_map(|opened| match opened {
                Ok(deltas) => Either::Left(deltas),
                Err(e) => Either::Right(stream::iter([Err(e)])),
            })
            .boxed()
    }

    fn models(&self) -> BoxFuture<'_, Option<Vec<String>>> {
        Box::pin(async move {
            let list: ModelList = self
                .get_json(&format!("{}/models", self.base_url()))
                .await?;
            Some(list.data.into_iter().map(|m| m.id).collect())
        })
    }

    fn context_window<'a>(&'a self, model: &'a str) -> BoxFuture<'a, Option<u32>> {
        Box::pin(async move {
            let props = self.props().await?;
            let window = props
                .default_generation_settings
                .and_then(|s| s.n_ctx)
                .or(props.n_ctx)?;
            tracing::debug!(model, window, "context window from /props");
            Some(window)
        })
    }

    fn slots(&self) -> BoxFuture<'_, Option<u32>> {
        Box::pin(async move { self.props().await?.total_slots })
    }
}

impl HttpTransport {
    /// llama-server's `GET /props`, at the server's root, for the model it serves; `None`
    /// for any other server (only llama-server has it).
    async fn props(&self) -> Option<Props> {
        if self.provider != Provider::LlamaCpp {
            return None;
        }
        let base_url = self.base_url();
        let root = base_url.strip_suffix("/v1").unwrap_or(base_url);
        self.get_json(&format!("{root}/props")).await
    }

    /// The base URL, without a trailing `/`: the endpoint without `/chat/completions`.
    fn base_url(&self) -> &str {
        let endpoint = self.endpoint.as_str();
        endpoint
            .strip_suffix("/chat/completions")
            .unwrap_or(endpoint)
    }

    /// How an event stream of this transport is read.
    fn reading(&self) -> sse::Reading {
        sse::Reading {
            limit: self.body_limit,
            key: self.api_key.as_ref().map(|k| k.0.clone()),
        }
    }

    /// `error` naming the endpoint it came from, the key redacted.
    fn named(&self, error: Error) -> Error {
        let key = self.api_key.as_ref().map(|k| k.0.as_str());
        error.with_url(&redact(self.endpoint.as_str(), key))
    }

    /// A best-effort `GET` of a JSON document: `None` on any failure, which is logged.
    async fn get_json<D: serde::de::DeserializeOwned>(&self, url: &str) -> Option<D> {
        let mut request = self
            .http
            .get(url)
            .header(header::ACCEPT, "application/json");
        if let Some(timeout) = self.timeout {
            request = request.timeout(timeout);
        }
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(&key.0);
        }
        let response = match request
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
        {
            Ok(response) => response,
            Err(e) => {
                tracing::debug!(url, error = %e.without_url(), "GET failed");
                return None;
            }
        };
        let bytes = response.bytes().await.ok()?;
        if bytes.len() > self.body_limit {
            return None;
        }
        serde_json::from_slice(&bytes).ok()
    }
}

/// `GET /v1/models`: `{"data": [{"id": …}, …]}`.
#[derive(serde::Deserialize)]
struct ModelList {
    #[serde(default)]
    data: Vec<ModelEntry>,
}

#[derive(serde::Deserialize)]
struct ModelEntry {
    id: String,
}

/// llama-server's `GET /props`; the window is in `default_generation_settings.n_ctx` (or at
/// the top level in some versions).
#[derive(serde::Deserialize)]
struct Props {
    #[serde(default)]
    default_generation_settings: Option<GenerationSettings>,
    #[serde(default)]
    n_ctx: Option<u32>,
    /// How many slots generate at once; they share the context.
    #[serde(default)]
    total_slots: Option<u32>,
}

#[derive(serde::Deserialize)]
struct GenerationSettings {
    #[serde(default)]
    n_ctx: Option<u32>,
}

/// What a successful exchange gives: a whole chat completion, or, for a streaming
/// request, the open response whose body is the event stream.
enum Reply {
    Response(ChatResponse),
    Stream(reqwest::Response),
}

/// Sends one chat request and reads the reply. A fault says whether it is worth another
/// try ([`Again`]); the retry layer acts on that.
async fn send(inner: &HttpTransport, body: Bytes, open: bool) -> Result<Reply> {
    match exchange(inner, body, open).await {
        Ok(Exchanged::Open(response)) => Ok(Reply::Stream(response)),
        Ok(Exchanged::Whole(status, headers, bytes)) => {
            judge(inner, status, headers.as_ref(), &bytes)
        }
        Err(Exchange::Reqwest(e)) if !e.is_builder() => Err(Error::transport(e).again(Again::Soon)),
        Err(Exchange::Reqwest(e)) => Err(Error::transport(e)),
        Err(Exchange::TooLarge) => Err(Error::body_too_large(inner.body_limit)),
    }
}

/// A response read whole: a 2xx chat completion, or an error status to retry or raise
/// (with its headers, which say whether and when).
fn judge(
    inner: &HttpTransport,
    status: u16,
    headers: Option<&HeaderMap>,
    bytes: &[u8],
) -> Result<Reply> {
    let key = inner.api_key.as_ref().map(|k| k.0.as_str());
    if (200..300).contains(&status) {
        return match serde_json::from_slice::<ChatResponse>(bytes) {
            Ok(response) => Ok(Reply::Response(response)),
            Err(e) => Err(Error::invalid_response(
                redact(&e.to_string(), key),
                redact(&body_text(bytes), key),
            )),
        };
    }
    let body = redact(&body_text(bytes), key);
    let empty = HeaderMap::new();
    let headers = headers.unwrap_or(&empty);
    let should_retry = match header_str(headers, "x-should-retry") {
        Some("true") => Some(true),
        Some("false") => Some(false),
        _ => None,
    };
    Err(status_error(
        inner.provider,
        status,
        body,
        should_retry,
        retry_after(headers),
    ))
}

/// The error of a non-2xx reply, marked with whether it is worth another try: never for
/// the fatal statuses or a request that does not fit the context; else as
/// `x-should-retry` (`should_retry`) says, or by the status; after the server's delay
/// when it named one. The scripted transport of `factum::testing` classifies its
/// statuses here too, so a test sees what HTTP would give.
pub(crate) fn status_error(
    provider: Provider,
    status: u16,
    body: String,
    should_retry: Option<bool>,
    delay: Option<Duration>,
) -> Error {
    let message = provider.error_message(&body);
    let error = Error::http(status, message, body);
    // A request that does not fit the context fails the same way every time.
    let retryable = !FATAL.contains(&status)
        && !error.is_context_overflow()
        && should_retry.unwrap_or_else(|| is_retryable_status(status));
    if retryable {
        error.again(delay.map_or(Again::Soon, Again::After))
    } else {
        error
    }
}

/// Why an exchange failed: the HTTP client's error, or a body over the limit.
enum Exchange {
    Reqwest(reqwest::Error),
    TooLarge,
}

/// A response's body: read whole, or left open for a streaming request that succeeded.
enum Exchanged {
    /// The status, the headers of a reply that is not a success (they say whether to try
    /// again, and when), and the body.
    Whole(u16, Option<HeaderMap>, Bytes),
    Open(reqwest::Response),
}

/// Sends the request and reads the body, at most `inner.body_limit` bytes; with `open`, a
/// 2xx response is handed back unread, for its event stream.
async fn exchange(
    inner: &HttpTransport,
    body: Bytes,
    open: bool,
) -> std::result::Result<Exchanged, Exchange> {
    let mut request = inner
        .http
        .post(inner.endpoint.clone())
        .header(header::CONTENT_TYPE, "application/json")
        .header(
            header::ACCEPT,
            if open {
                "text/event-stream"
            } else {
                "application/json"
            },
        )
        .body(body);
    if let Some(key) = &inner.api_key {
        // bearer_auth marks the header sensitive, so reqwest and hyper never log it.
        request = request.bearer_auth(&key.0);
    }
    let response = request
        .send()
        .await
        .map_err(|e| Exchange::Reqwest(e.without_url()))?;
    let status = response.status();
    // A server that ignores `stream` answers with a whole JSON body: read it as such.
    let is_stream = header_str(response.headers(), "content-type")
        .is_some_and(|t| t.starts_with("text/event-stream"));
    if open && is_stream && status.is_success() {
        return Ok(Exchanged::Open(response));
    }
    // Only a reply that is no success is read for its headers; a success keeps none (a
    // batch item cloned every header map it received).
    let headers = (!status.is_success()).then(|| response.headers().clone());
    let body = read_body(response, inner.body_limit).await?;
    Ok(Exchanged::Whole(status.as_u16(), headers, body))
}

/// The whole body, at most `limit` bytes. A body of a stated length within the limit is
/// read as hyper gathers it (one buffer, often the very one it was received in); a body of
/// no stated length is gathered here, piece by piece, up to the limit.
async fn read_body(
    response: reqwest::Response,
    limit: usize,
) -> std::result::Result<Bytes, Exchange> {
    match response.content_length() {
        Some(len) if len > limit as u64 => return Err(Exchange::TooLarge),
        // hyper reads no more than the stated length.
        Some(_) => {
            return response
                .bytes()
                .await
                .map_err(|e| Exchange::Reqwest(e.without_url()));
        }
        None => {}
    }
    let mut stream = response.bytes_stream();
    let mut buffer = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| Exchange::Reqwest(e.without_url()))?;
        if buffer.len() + chunk.len() > limit {
            return Err(Exchange::TooLarge);
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buffer))
}

fn body_text(bytes: &[u8]) -> String {
    let cut = bytes.len().min(MAX_ERROR_BODY);
    String::from_utf8_lossy(&bytes[..cut]).into_owned()
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The server's requested delay: `retry-after-ms`, else `Retry-After` in seconds or as an
/// HTTP date. Negative, unparsable or absurd values (over a day) are ignored.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    const MAX: f64 = 86_400.0;
    if let Some(ms) = header_str(headers, "retry-after-ms").and_then(|v| v.parse::<f64>().ok())
        && ms.is_finite()
        && (0.0..=MAX * 1000.0).contains(&ms)
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let value = header_str(headers, "retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && (0.0..=MAX).contains(&secs))
            .then(|| Duration::from_secs_f64(secs));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    let wait = date.duration_since(SystemTime::now()).unwrap_or_default();
    (wait.as_secs_f64() <= MAX).then_some(wait)
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn retry_after_is_read_in_milliseconds_seconds_or_as_a_date() {
        assert_eq!(
            retry_after(&headers(&[("retry-after-ms", "1500")])),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "3")])),
            Some(Duration::from_secs(3))
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "-3")])), None);
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
        let later = SystemTime::now() + Duration::from_secs(120);
        let wait = retry_after(&headers(&[(
            "retry-after",
            &httpdate::fmt_http_date(later),
        )]))
        .unwrap();
        assert!(
            wait > Duration::from_secs(115) && wait <= Duration::from_secs(120),
            "{wait:?}"
        );
        let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(60));
        assert_eq!(
            retry_after(&headers(&[("retry-after", &past)])),
            Some(Duration::ZERO)
        );
        // retry-after-ms wins over Retry-After.
        let both = headers(&[("retry-after-ms", "10"), ("retry-after", "30")]);
        assert_eq!(retry_after(&both), Some(Duration::from_millis(10)));
    }
}
