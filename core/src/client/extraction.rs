use std::fmt;
use std::marker::PhantomData;

use bytes::Bytes;
use serde_json::Value;
use tokio::time::Instant;
use tracing::Instrument as _;

use super::builder::DRIA_TIMEOUT_MARGIN;
use super::response::classify;
use crate::parse::RepairKind;

use super::{Attempt, AttemptFailure, Client, Extracted, Image, Leniency, reply, request, retry};
use crate::provider::{Mode, is_schema_rejection};
use crate::wire::{ChatRequest, Message, Usage};
use crate::{Error, Extract, Result, Schema, Violation};

/// Largest `max_tokens` a truncated reply is retried with.
const MAX_TOKENS_CEILING: u32 = 16_384;

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
    client: Client,
    text: String,
    model: Option<String>,
    temperature: Option<f32>,
    max_tokens: Option<u32>,
    max_retries: Option<u32>,
    token_budget: Option<u64>,
    instructions: Option<String>,
    images: Vec<Image>,
    messages: Vec<Message>,
    leniency: Option<Leniency>,
    mode: Option<Mode>,
    _type: PhantomData<fn() -> T>,
}

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
            max_tokens: None,
            max_retries: None,
            token_budget: None,
            instructions: None,
            images: Vec::new(),
            messages: Vec::new(),
            leniency: None,
            mode: None,
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
    /// starts once it is spent.
    pub fn token_budget(mut self, tokens: u64) -> Extraction<T> {
        self.token_budget = Some(tokens);
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

    /// Context messages, placed after the system message and before the text. They are
    /// copied: re-ask turns never touch the caller's list.
    pub fn messages(mut self, messages: &[Message]) -> Extraction<T> {
        self.messages = messages.to_vec();
        self
    }

    /// How leniently replies are parsed.
    pub fn leniency(mut self, leniency: Leniency) -> Extraction<T> {
        self.leniency = Some(leniency);
        self
    }

    /// The mode to send this call in, instead of the client's (see [`ClientBuilder::mode`]).
    ///
    /// [`ClientBuilder::mode`]: crate::ClientBuilder::mode
    pub fn mode(mut self, mode: Mode) -> Extraction<T> {
        self.mode = Some(mode);
        self
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
    /// - [`Error::Http`] for a fatal status (400, 401, 402, 403, 404, 422) or a retryable
    ///   one that outlasted the transport retries; [`Error::Transport`],
    ///   [`Error::Timeout`], [`Error::Deadline`], [`Error::BodyTooLarge`],
    ///   [`Error::InvalidResponse`] for the other transport failures;
    /// - [`Error::Refusal`] when the model refuses (not re-asked);
    /// - [`Error::Exhausted`], [`Error::Truncated`] or [`Error::Empty`] when every attempt
    ///   failed (by the last attempt's failure), and [`Error::TokenBudget`] when the budget
    ///   ran out first; each carries every attempt and the summed usage.
    ///
    /// # Cancellation
    ///
    /// Dropping the future cancels the request in flight; no task is left running.
    pub async fn send(self) -> Result<Extracted<T>> {
        let schema = T::schema();
        let model = self
            .model
            .clone()
            .unwrap_or_else(|| self.client.inner.model.clone());
        let span = tracing::info_span!(
            "factum.extract",
            r#type = schema.name(),
            model = %model,
            provider = %self.client.inner.provider,
            attempts = tracing::field::Empty,
            total_tokens = tracing::field::Empty,
        );
        self.run(schema, model).instrument(span).await
    }

    async fn run(self, schema: &'static Schema, model: String) -> Result<Extracted<T>> {
        let inner = &*self.client.inner;
        let deadline = inner.deadline.map(|d| Instant::now() + d);
        let max_retries = self.max_retries.unwrap_or(inner.max_retries);
        let budget = self.token_budget.or(inner.token_budget);
        let leniency = self.leniency.unwrap_or(inner.leniency);
        let mut max_tokens = self.max_tokens.unwrap_or(inner.max_tokens);
        let mut mode = inner.start_mode(&model, self.mode);

        let tag = request::delimiter(&self.text);
        let user = request::user_message(&self.text, &tag, schema.name(), &self.images);
        let mut attempts: Vec<Attempt> = Vec::new();
        let mut usage = Usage::default();
        // The re-ask turns of the last failure: bounded history, never the caller's list.
        let mut reask: Vec<Message> = Vec::new();

        loop {
            if let Some(budget) = budget
                && !attempts.is_empty()
                && usage.total_tokens >= budget
            {
                return Err(Error::TokenBudget {
                    budget,
                    attempts,
                    usage,
                });
            }
            let (response_format, wrapped) = request::response_format(inner.provider, mode, schema);
            let mut messages = Vec::with_capacity(self.messages.len() + 4);
            messages.push(Message::system(request::system_prompt(
                schema,
                self.instructions.as_deref(),
                wrapped,
                &tag,
            )));
            messages.extend(self.messages.iter().cloned());
            messages.push(user.clone());
            messages.extend(reask.iter().cloned());
            let body = ChatRequest {
                model: model.clone(),
                messages,
                max_tokens: Some(max_tokens),
                temperature: Some(self.temperature.unwrap_or(inner.temperature)),
                stream: None,
                timeout_secs: if inner.provider.sends_timeout_secs() {
                    inner
                        .timeout
                        .map(|t| t.saturating_sub(DRIA_TIMEOUT_MARGIN).as_secs().max(1))
                } else {
                    None
                },
                response_format,
            };
            let body = match serde_json::to_vec(&body) {
                Ok(bytes) => Bytes::from(bytes),
                Err(e) => return Err(Error::config(format!("cannot encode the request: {e}"))),
            };

            let number = attempts.len() + 1;
            let attempt_span =
                tracing::debug_span!("factum.attempt", attempt = number, mode = %mode, max_tokens);
            let response = match retry::send(inner, body, deadline)
                .instrument(attempt_span.clone())
                .await
            {
                Ok(response) => response,
                Err(Error::Http {
                    status,
                    message,
                    body,
                }) if is_schema_rejection(status, &message) => {
                    let error = Error::Http {
                        status,
                        message,
                        body,
                    };
                    let Some(next) = mode.step_down() else {
                        return Err(error);
                    };
                    tracing::warn!(from = %mode, to = %next, error = %error, "server rejected the response format; stepping down");
                    mode = next;
                    inner.modes.set(&inner.base_url, &model, mode);
                    continue;
                }
                Err(error) => return Err(error),
            };

            let this_usage = response.usage.unwrap_or_default();
            usage += this_usage;
            let node_id = response.metadata.as_ref().and_then(|m| m.node_id.clone());
            let classified = classify(&response, max_tokens);
            let mut attempt = Attempt {
                raw: classified.raw,
                failure: None,
                usage: this_usage,
                node_id,
                mode,
                repairs: Vec::new(),
                finish_reason: classified.finish_reason,
                max_tokens,
            };
            let outcome = classified.content.and_then(|content| {
                match reply::parse_reply(&content, schema, leniency, wrapped) {
                    // Closing what a cut-off reply left open is a guess when the cut came
                    // from the token limit: the value may go on. Ask again with more room.
                    Ok((_, repairs))
                        if classified.at_token_limit
                            && repairs
                                .iter()
                                .any(|r| r.kind == RepairKind::ClosedTruncated) =>
                    {
                        attempt.repairs = repairs;
                        Err(AttemptFailure::Truncated)
                    }
                    Ok((value, repairs)) => {
                        attempt.repairs = repairs;
                        finish::<T>(schema, value)
                    }
                    Err(_) if classified.at_token_limit => Err(AttemptFailure::Truncated),
                    Err(failure) => Err(failure),
                }
            });
            match outcome {
                Ok(value) => {
                    attempt_span.in_scope(|| {
                        tracing::debug!(node_id = attempt.node_id.as_deref(), "attempt succeeded");
                    });
                    let node_id = attempt.node_id.clone();
                    attempts.push(attempt);
                    record(&attempts, usage);
                    return Ok(Extracted {
                        value,
                        usage,
                        attempts,
                        node_id,
                        model,
                    });
                }
                Err(failure) => {
                    attempt_span.in_scope(|| {
                        tracing::info!(node_id = attempt.node_id.as_deref(), failure = %failure, "attempt failed");
                    });
                    attempt.failure = Some(failure.clone());
                    let raw = attempt.raw.clone();
                    attempts.push(attempt);
                    record(&attempts, usage);
                    if let AttemptFailure::Refusal(message) = failure {
                        return Err(Error::Refusal {
                            message,
                            attempts,
                            usage,
                        });
                    }
                    if attempts.len() > max_retries as usize {
                        return Err(match failure {
                            AttemptFailure::Truncated => Error::Truncated {
                                max_tokens,
                                attempts,
                                usage,
                            },
                            AttemptFailure::Empty => Error::Empty { attempts, usage },
                            _ => Error::Exhausted { attempts, usage },
                        });
                    }
                    match failure {
                        // Same conversation, more room: the cut reply was going somewhere.
                        AttemptFailure::Truncated => {
                            max_tokens = max_tokens
                                .saturating_mul(2)
                                .min(MAX_TOKENS_CEILING)
                                .max(max_tokens);
                        }
                        AttemptFailure::Empty => {
                            reask.clear();
                            reask.push(Message::user(request::feedback(&failure, attempts.len())));
                        }
                        _ => {
                            reask.clear();
                            reask.push(Message::assistant(request::echo(&raw)));
                            reask.push(Message::user(request::feedback(&failure, attempts.len())));
                        }
                    }
                }
            }
        }
    }
}

fn record(attempts: &[Attempt], usage: Usage) {
    let span = tracing::Span::current();
    span.record("attempts", attempts.len());
    span.record("total_tokens", usage.total_tokens);
}

/// From a parsed value to a `T`: validate against the full source schema, deserialize
/// with paths, then run the type's validators. The parse seam has already removed the
/// wrapper of a non-object root (see [`Schema::wrapper`]).
fn finish<T: Extract>(schema: &Schema, value: Value) -> Result<T, AttemptFailure> {
    schema
        .validate(&value)
        .map_err(AttemptFailure::Violations)?;
    let typed: T = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = pointer(e.path());
        AttemptFailure::Violations(vec![Violation::new(path, e.into_inner().to_string())])
    })?;
    typed.validate().map_err(AttemptFailure::Violations)?;
    Ok(typed)
}

/// A `serde_path_to_error` path as a JSON pointer.
fn pointer(path: &serde_path_to_error::Path) -> String {
    use std::fmt::Write as _;

    use serde_path_to_error::Segment;

    use crate::json::push_key as push_segment;
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Seq { index } => {
                let _ = write!(out, "/{index}");
            }
            Segment::Map { key } => push_segment(&mut out, key),
            Segment::Enum { variant } => push_segment(&mut out, variant),
            Segment::Unknown => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_paths() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)] // only deserialized, to produce an error path
        struct Line {
            qty: u32,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Invoice {
            lines: Vec<Line>,
        }
        let value = serde_json::json!({"lines": [{"qty": 1}, {"qty": "x"}]});
        let error = serde_path_to_error::deserialize::<_, Invoice>(value).unwrap_err();
        assert_eq!(pointer(error.path()), "/lines/1/qty");
    }
}
