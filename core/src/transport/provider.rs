//! Server kinds and their capability profiles.
//!
//! Each [`Provider`] decides what factum sends (the `response_format` shape, whether
//! `strict` is set, which extra fields are allowed) and how it reads error bodies. The
//! facts behind each profile are in the project's `PROVIDERS.md`.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

use crate::Dialect;

/// How much shorter Dria's `timeout_secs` is than the HTTP timeout, so the router answers
/// before the client gives up.
const DRIA_TIMEOUT_MARGIN: Duration = Duration::from_secs(10);

/// The kind of server a [`Client`](crate::Client) talks to.
///
/// [`Client::from_env`](crate::Client::from_env) reads it from `FACTUM_PROVIDER`, or infers
/// it from the base URL's host ([`Provider::from_base_url`]): a loopback or private-network
/// host gets [`LlamaCpp`](Provider::LlamaCpp)'s profile, which fits every local server.
///
/// `FACTUM_PROVIDER` accepts each provider's [`name`](Provider::name): `dria`, `openai`,
/// `ollama`, `llamacpp`, `llamacpp-python`, `vllm`, `openrouter`, `groq`, `deepseek` and
/// `custom`. Case, `-`, `_`, `.` and spaces are ignored, so `llama.cpp` and `LlamaCpp` work
/// too, and `llama-server` names `llamacpp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Provider {
    /// The Dria inference API (the default): llama.cpp grammars on community nodes,
    /// plain-text error bodies, `timeout_secs`, `metadata.node_id`.
    #[default]
    Dria,
    /// `OpenAI`: strict Structured Outputs; nothing undocumented is sent.
    OpenAi,
    /// Ollama's OpenAI-compatible `/v1` API.
    Ollama,
    /// llama.cpp's `llama-server`.
    LlamaCpp,
    /// llama-cpp-python's server: only `{"type": "json_object", "schema": …}`.
    LlamaCppPython,
    /// vLLM: `json_schema`, always enforced.
    Vllm,
    /// `OpenRouter`: strict `json_schema`, passed to the upstream provider.
    OpenRouter,
    /// Groq: `json_schema`, strict on the models that support it.
    Groq,
    /// `DeepSeek`: only `json_object`, with the schema described in the prompt.
    DeepSeek,
    /// Any other OpenAI-compatible server: non-strict `json_schema` with the source schema.
    Custom,
}

/// How the reply's shape is requested from the server.
///
/// Each provider starts at its own mode; a schema-related 400 steps down one mode
/// ([`Mode::step_down`]) and the client remembers the step for that base URL and model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum Mode {
    /// `{"type": "json_schema", "json_schema": {"name", "schema", "strict"?}}`.
    JsonSchema {
        /// Whether `strict: true` is sent (with the OpenAI-strict lowered schema).
        strict: bool,
    },
    /// `{"type": "json_object", "schema": …}`, as llama-cpp-python reads it.
    JsonObjectWithSchema,
    /// `{"type": "json_object"}`; the schema is only described in the prompt.
    JsonObject,
    /// No `response_format`; the prompt alone asks for JSON.
    PromptOnly,
}

impl Mode {
    /// How far down the ladder this mode is: 0 for strict `json_schema`, 4 for prompt-only.
    pub(crate) fn rank(self) -> u8 {
        match self {
            Mode::JsonSchema { strict: true } => 0,
            Mode::JsonSchema { strict: false } => 1,
            Mode::JsonObjectWithSchema => 2,
            Mode::JsonObject => 3,
            Mode::PromptOnly => 4,
        }
    }

    /// Whether the server is given the schema to hold the reply to (a grammar, strict
    /// mode): `json_schema` and `json_object` with a schema.
    pub(crate) fn enforces_schema(self) -> bool {
        self.rank() <= 2
    }

    /// The next, less demanding mode, or `None` at the bottom of the ladder:
    /// strict `json_schema` → `json_schema` → `json_object` with schema → `json_object` →
    /// prompt-only.
    pub fn step_down(self) -> Option<Mode> {
        match self {
            Mode::JsonSchema { strict: true } => Some(Mode::JsonSchema { strict: false }),
            Mode::JsonSchema { strict: false } => Some(Mode::JsonObjectWithSchema),
            Mode::JsonObjectWithSchema => Some(Mode::JsonObject),
            Mode::JsonObject => Some(Mode::PromptOnly),
            Mode::PromptOnly => None,
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::JsonSchema { strict: true } => "json_schema strict",
            Mode::JsonSchema { strict: false } => "json_schema",
            Mode::JsonObjectWithSchema => "json_object with schema",
            Mode::JsonObject => "json_object",
            Mode::PromptOnly => "prompt only",
        })
    }
}

impl Provider {
    /// Every provider, in a fixed order.
    pub const ALL: [Provider; 10] = [
        Provider::Dria,
        Provider::OpenAi,
        Provider::Ollama,
        Provider::LlamaCpp,
        Provider::LlamaCppPython,
        Provider::Vllm,
        Provider::OpenRouter,
        Provider::Groq,
        Provider::DeepSeek,
        Provider::Custom,
    ];

    /// The provider's short name, as `FACTUM_PROVIDER` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Dria => "dria",
            Provider::OpenAi => "openai",
            Provider::Ollama => "ollama",
            Provider::LlamaCpp => "llamacpp",
            Provider::LlamaCppPython => "llamacpp-python",
            Provider::Vllm => "vllm",
            Provider::OpenRouter => "openrouter",
            Provider::Groq => "groq",
            Provider::DeepSeek => "deepseek",
            Provider::Custom => "custom",
        }
    }

    /// Infers the provider from a base URL's host: `inference.dria.co` → Dria,
    /// `api.openai.com` → [`OpenAi`](Provider::OpenAi), `openrouter.ai` → `OpenRouter`, `api.groq.com` → Groq,
    /// `api.deepseek.com` → `DeepSeek`, port 11434 → Ollama, any other loopback or
    /// private-network host (`localhost`, `127.0.0.1`, `10.…`, `192.168.…`, …) →
    /// [`LlamaCpp`](Provider::LlamaCpp), whose profile fits every local server; anything else
    /// → Custom.
    pub fn from_base_url(url: &str) -> Provider {
        let Ok(url) = reqwest::Url::parse(url) else {
            return Provider::Custom;
        };
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let is = |domain: &str| host == domain || host.ends_with(&format!(".{domain}"));
        if is("inference.dria.co") {
            Provider::Dria
        } else if is("api.openai.com") {
            Provider::OpenAi
        } else if is("openrouter.ai") {
            Provider::OpenRouter
        } else if is("api.groq.com") {
            Provider::Groq
        } else if is("api.deepseek.com") {
            Provider::DeepSeek
        } else if url.port() == Some(11434) {
            Provider::Ollama
        } else if is_nearby(&url) {
            Provider::LlamaCpp
        } else {
            Provider::Custom
        }
    }

    /// The provider's usual base URL, if it has one.
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            Provider::Dria => Some("https://inference.dria.co/v1"),
            Provider::OpenAi => Some("https://api.openai.com/v1"),
            Provider::Ollama => Some("http://127.0.0.1:11434/v1"),
            Provider::LlamaCpp => Some("http://127.0.0.1:8080/v1"),
            Provider::LlamaCppPython | Provider::Vllm => Some("http://127.0.0.1:8000/v1"),
            Provider::OpenRouter => Some("https://openrouter.ai/api/v1"),
            Provider::Groq => Some("https://api.groq.com/openai/v1"),
            Provider::DeepSeek => Some("https://api.deepseek.com/v1"),
            Provider::Custom => None,
        }
    }

    /// The model used when none is configured: `qwen3.5:9b` on Dria; llama.cpp servers
    /// ignore the name. Other providers need one.
    pub fn default_model(self) -> Option<&'static str> {
        match self {
            Provider::Dria => Some("qwen3.5:9b"),
            Provider::LlamaCpp | Provider::LlamaCppPython => Some("default"),
            _ => None,
        }
    }

    /// Whether the server runs next to the caller (llama.cpp, llama-cpp-python, Ollama,
    /// vLLM, or an unknown server) and can say which model it serves.
    pub(crate) fn is_local(self) -> bool {
        matches!(
            self,
            Provider::LlamaCpp
                | Provider::LlamaCppPython
                | Provider::Ollama
                | Provider::Vllm
                | Provider::Custom
        )
    }

    /// Whether the hosted service needs an API key.
    pub fn needs_api_key(self) -> bool {
        matches!(
            self,
            Provider::Dria
                | Provider::OpenAi
                | Provider::OpenRouter
                | Provider::Groq
                | Provider::DeepSeek
        )
    }

    /// The mode the provider starts in.
    pub fn default_mode(self) -> Mode {
        match self {
            Provider::OpenAi | Provider::OpenRouter | Provider::Groq => {
                Mode::JsonSchema { strict: true }
            }
            Provider::Dria
            | Provider::Ollama
            | Provider::LlamaCpp
            | Provider::Vllm
            | Provider::Custom => Mode::JsonSchema { strict: false },
            Provider::LlamaCppPython => Mode::JsonObjectWithSchema,
            Provider::DeepSeek => Mode::JsonObject,
        }
    }

    /// The schema dialect sent to this server: OpenAI strict for OpenAI, OpenRouter and
    /// Groq; the llama.cpp subset for every grammar-enforcing or unknown server; `None` for
    /// DeepSeek, which takes no schema on the wire.
    pub fn dialect(self) -> Option<Dialect> {
        match self {
            // vLLM's grammar backends and unknown servers get the llama.cpp subset too:
            // anchored patterns, well-known formats and inlined references are what local
            // grammar engines handle, and nothing is lost (replies are checked locally).
            Provider::Dria
            | Provider::Ollama
            | Provider::LlamaCpp
            | Provider::LlamaCppPython
            | Provider::Vllm
            | Provider::Custom => Some(Dialect::LlamaCpp),
            Provider::OpenAi | Provider::OpenRouter | Provider::Groq => Some(Dialect::OpenAiStrict),
            Provider::DeepSeek => None,
        }
    }

    /// The dialect of the schema sent in `mode`, or `None` when the source schema goes as
    /// it is (or none goes at all). Strict mode always takes the OpenAI strict dialect. The
    /// other modes take the provider's grammar dialect, never the strict one: without
    /// `strict`, closing objects and forcing nulls would only narrow what the model may say.
    pub(crate) fn dialect_for(self, mode: Mode) -> Option<Dialect> {
        match mode {
            Mode::JsonSchema { strict: true } => Some(Dialect::OpenAiStrict),
            Mode::JsonSchema { strict: false } | Mode::JsonObjectWithSchema => {
                self.dialect().filter(|d| *d != Dialect::OpenAiStrict)
            }
            Mode::JsonObject | Mode::PromptOnly => None,
        }
    }

    /// Whether the server takes a sampling `seed`. Dria gets only its documented fields, and
    /// a custom server is not sent what it may refuse.
    pub(crate) fn takes_seed(self) -> bool {
        !matches!(self, Provider::Dria | Provider::Custom)
    }

    /// Dria's `timeout_secs` for an HTTP timeout: the timeout less a margin, so the router
    /// answers before the client gives up; `None` for every other provider (OpenAI answers
    /// unknown fields with 400) and when there is no timeout.
    pub(crate) fn timeout_secs(self, http_timeout: Option<Duration>) -> Option<u64> {
        if self != Provider::Dria {
            return None;
        }
        http_timeout.map(|t| t.saturating_sub(DRIA_TIMEOUT_MARGIN).as_secs().max(1))
    }

    /// Whether `send()` receives its replies as a stream, through the runaway guard that
    /// hangs up on a loop: for the servers that report usage at a stream's end
    /// (`stream_options`). Dria and unknown servers are asked for whole replies, whose
    /// usage they report for sure.
    pub(crate) fn streams(self) -> bool {
        self.stream_options().is_some()
    }

    /// `stream_options` for a streaming request: usage in a last chunk, for the servers
    /// that accept the field. Dria gets only its documented fields.
    pub(crate) fn stream_options(self) -> Option<crate::wire::StreamOptions> {
        matches!(
            self,
            Provider::OpenAi
                | Provider::OpenRouter
                | Provider::Groq
                | Provider::DeepSeek
                | Provider::Vllm
                | Provider::LlamaCpp
                | Provider::Ollama
        )
        .then_some(crate::wire::StreamOptions {
            include_usage: true,
        })
    }

    /// Whether error bodies are plain text (Dria) rather than JSON.
    pub(crate) fn plain_text_errors(self) -> bool {
        self == Provider::Dria
    }

    /// Reads the server's own message out of an error body.
    ///
    /// JSON bodies are tried in the shapes servers use (`{"error": {"message"}}`,
    /// `OpenRouter`'s `metadata.raw`, the flat `{"message"}`, `{"error": "…"}`, `{"detail"}`);
    /// anything else, and every Dria body, is read as plain text. The result is one line,
    /// at most 500 characters.
    pub(crate) fn error_message(self, body: &str) -> String {
        let trimmed = body.trim();
        let from_json = if self.plain_text_errors() && !trimmed.starts_with('{') {
            None
        } else {
            serde_json::from_str::<Value>(trimmed)
                .ok()
                .and_then(|v| json_error_message(&v))
        };
        let message = from_json.unwrap_or_else(|| trimmed.to_owned());
        let line: String = message.split_whitespace().collect::<Vec<_>>().join(" ");
        crate::json::excerpt(&line, MAX_ERROR_LINE).into_owned()
    }
}

/// Longest server error message kept, in bytes: one line in a log.
const MAX_ERROR_LINE: usize = 500;

fn json_error_message(body: &Value) -> Option<String> {
    let text = |v: &Value| {
        v.as_str()
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
    };
    if let Some(error) = body.get("error") {
        if let Some(message) = text(error) {
            return Some(message);
        }
        let mut message = error.get("message").and_then(text);
        // OpenRouter wraps upstream errors: the useful text is in metadata.raw.
        if let Some(raw) = error
            .get("metadata")
            .and_then(|m| m.get("raw"))
            .and_then(text)
        {
            message = Some(match message {
                Some(m) => format!("{m}: {raw}"),
                None => raw,
            });
        }
        if let Some(code) = error.get("code").and_then(Value::as_str)
            && let Some(m) = &message
            && !m.contains(code)
        {
            message = Some(format!("{m} ({code})"));
        }
        if message.is_some() {
            return message;
        }
    }
    body.get("message")
        .and_then(text)
        .or_else(|| match body.get("detail") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(detail @ (Value::Array(_) | Value::Object(_))) => Some(detail.to_string()),
            _ => None,
        })
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing a [`Provider`] from a name that is none of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseProviderError {
    name: String,
}

impl fmt::Display for ParseProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Provider::ALL.iter().map(|p| p.name()).collect();
        let (last, rest) = names.split_last().unwrap_or((&"", &[]));
        write!(
            f,
            "unknown provider `{}` (expected {} or {last})",
            self.name,
            rest.join(", ")
        )
    }
}

impl std::error::Error for ParseProviderError {}

impl FromStr for Provider {
    type Err = ParseProviderError;

    /// Parses a provider name, ignoring case, `-`, `_` and `.`: `llama-cpp`, `llama.cpp`
    /// and `llamacpp` all name [`Provider::LlamaCpp`].
    ///
    /// # Errors
    ///
    /// [`ParseProviderError`] when the name is none of the providers'.
    fn from_str(s: &str) -> Result<Provider, ParseProviderError> {
        let key: String = s
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | '.' | ' '))
            .map(|c| c.to_ascii_lowercase())
            .collect();
        Ok(match key.as_str() {
            "dria" => Provider::Dria,
            "openai" => Provider::OpenAi,
            "ollama" => Provider::Ollama,
            "llamacpp" | "llamaserver" => Provider::LlamaCpp,
            "llamacpppython" => Provider::LlamaCppPython,
            "vllm" => Provider::Vllm,
            "openrouter" => Provider::OpenRouter,
            "groq" => Provider::Groq,
            "deepseek" => Provider::DeepSeek,
            "custom" => Provider::Custom,
            _ => return Err(ParseProviderError { name: s.to_owned() }),
        })
    }
}

/// Whether a URL's host is this machine or a private network: where local model servers
/// run.
fn is_nearby(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    match host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        Ok(IpAddr::V4(ip)) => ip.is_loopback() || ip.is_private() || ip.is_link_local(),
        Ok(IpAddr::V6(ip)) => ip.is_loopback() || ip.is_unique_local(),
        Err(_) => host.eq_ignore_ascii_case("localhost") || host.ends_with(".localhost"),
    }
}

/// Whether an error response says the `response_format` (or its schema) is not accepted,
/// which steps the mode down rather than failing.
pub(crate) fn is_schema_rejection(status: u16, message: &str) -> bool {
    if status != 400 && status != 422 {
        return false;
    }
    let message = message.to_ascii_lowercase();
    [
        "response_format",
        "response format",
        "json_schema",
        "schema",
        "unavailable",
        "not supported",
        "unsupported",
        "invalid_json_schema",
    ]
    .iter()
    .any(|needle| message.contains(needle))
}

/// Whether an error response says the request does not fit the model's context window:
/// llama-server's "Context size has been exceeded" (a 500) and `exceed_context_size_error`,
/// OpenAI's `context_length_exceeded`, vLLM's and OpenRouter's "maximum context length",
/// Dria's context rejection.
pub(crate) fn is_context_overflow(status: u16, message: &str, body: &str) -> bool {
    if !matches!(status, 400 | 413 | 422 | 500) {
        return false;
    }
    let (message, body) = (message.to_ascii_lowercase(), body.to_ascii_lowercase());
    CONTEXT_OVERFLOW
        .iter()
        .any(|needle| message.contains(needle) || body.contains(needle))
}

/// Whether an error says a shared context filled up mid-generation (llama-server's
/// "Context size has been exceeded."), not that one request is too long for it.
pub(crate) fn is_slot_overflow(message: &str, body: &str) -> bool {
    let needle = "context size has been exceeded";
    message.to_ascii_lowercase().contains(needle) || body.to_ascii_lowercase().contains(needle)
}

/// The context window a context-overflow error names, if it names one: llama-server's
/// `"n_ctx": 4096`, or "maximum context length is 4096 tokens".
pub(crate) fn context_window(message: &str, body: &str) -> Option<u32> {
    number_after(body, "\"n_ctx\":")
        .or_else(|| number_after(message, "maximum context length is"))
        .or_else(|| number_after(body, "maximum context length is"))
}

/// Phrases servers use for a request that does not fit the context window (lower case).
const CONTEXT_OVERFLOW: &[&str] = &[
    "context size has been exceeded",
    "exceed_context_size_error",
    "exceeds the available context size",
    "context_length_exceeded",
    "maximum context length",
    "context length exceeded",
    "context window",
    "prompt is too long",
];

/// The first whole number after `marker` in `text`, skipping spaces.
fn number_after(text: &str, marker: &str) -> Option<u32> {
    let lower = text.to_ascii_lowercase();
    let start = lower.find(marker)? + marker.len();
    let digits: String = lower[start..]
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Facts learned about each model while a client runs: its mode step-down, its context
/// window. One client talks to one base URL, and its clones share this memory, so "per
/// model" is "per base URL and model".
#[derive(Debug)]
pub(crate) struct PerModel<T> {
    facts: Mutex<HashMap<String, T>>,
}

impl<T> Default for PerModel<T> {
    fn default() -> PerModel<T> {
        PerModel {
            facts: Mutex::default(),
        }
    }
}

impl<T: Copy> PerModel<T> {
    pub(crate) fn get(&self, model: &str) -> Option<T> {
        let map = self
            .facts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(model).copied()
    }

    pub(crate) fn set(&self, model: &str, fact: T) {
        let mut map = self
            .facts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.insert(model.to_owned(), fact);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_provider_from_host() {
        for (url, provider) in [
            ("https://inference.dria.co/v1", Provider::Dria),
            ("https://api.openai.com/v1", Provider::OpenAi),
            ("https://openrouter.ai/api/v1", Provider::OpenRouter),
            ("https://api.groq.com/openai/v1", Provider::Groq),
            ("https://api.deepseek.com", Provider::DeepSeek),
            ("http://localhost:11434/v1", Provider::Ollama),
            ("https://llm.example.com/v1", Provider::Custom),
            ("not a url", Provider::Custom),
        ] {
            assert_eq!(Provider::from_base_url(url), provider, "{url}");
        }
    }

    #[test]
    fn loopback_and_private_hosts_get_the_llama_cpp_profile() {
        for local in [
            "http://127.0.0.1:8089/v1",
            "http://localhost:8000/v1",
            "http://192.168.1.20:8080/v1",
            "http://10.0.0.5/v1",
            "http://[::1]:8080/v1",
        ] {
            assert_eq!(
                Provider::from_base_url(local),
                Provider::LlamaCpp,
                "{local}"
            );
        }
    }

    #[test]
    fn every_name_parses_and_an_unknown_one_says_which_are_known() {
        for p in Provider::ALL {
            assert_eq!(p.name().parse::<Provider>().unwrap(), p);
        }
        assert_eq!("llama.cpp".parse::<Provider>().unwrap(), Provider::LlamaCpp);
        let error = "nope".parse::<Provider>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown provider `nope` (expected dria, openai, ollama, \
             llamacpp, llamacpp-python, vllm, openrouter, groq, deepseek or custom)"
        );
    }

    #[test]
    fn server_messages_are_read_from_each_providers_error_shape() {
        let p = Provider::OpenAi;
        assert_eq!(
            p.error_message(
                r#"{"error":{"message":"bad schema","type":"x","code":"invalid_json_schema"}}"#
            ),
            "bad schema (invalid_json_schema)"
        );
        assert_eq!(
            p.error_message(r#"{"error":{"code":400,"message":"nope","type":"t"}}"#),
            "nope"
        );
        assert_eq!(
            p.error_message(r#"{"error":{"code":400,"message":"Provider returned error","metadata":{"raw":"oops"}}}"#),
            "Provider returned error: oops"
        );
        assert_eq!(
            p.error_message(r#"{"object":"error","message":"flat","code":400}"#),
            "flat"
        );
        assert_eq!(
            p.error_message(r#"{"error":"plain string"}"#),
            "plain string"
        );
        assert_eq!(
            p.error_message("<html>\n gateway </html>"),
            "<html> gateway </html>"
        );
        assert_eq!(
            Provider::Dria.error_message("No nodes available\n"),
            "No nodes available"
        );
    }

    #[test]
    fn the_mode_ladder_ends_at_prompt_only_after_four_steps() {
        let mut mode = Mode::JsonSchema { strict: true };
        let mut steps = 0;
        while let Some(next) = mode.step_down() {
            mode = next;
            steps += 1;
        }
        assert_eq!((mode, steps), (Mode::PromptOnly, 4));
    }

    #[test]
    fn a_400_or_422_naming_the_response_format_is_a_schema_rejection() {
        assert!(is_schema_rejection(
            400,
            "This response_format type is unavailable now"
        ));
        assert!(is_schema_rejection(422, "`json_schema` is unavailable now"));
        assert!(!is_schema_rejection(400, "max_tokens too large"));
        assert!(!is_schema_rejection(500, "schema"));
    }
}
