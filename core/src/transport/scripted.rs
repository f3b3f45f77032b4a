//! A transport that answers from a script and keeps every request it is given: the
//! crate's own tests of the layers and the pipeline's judgement (no HTTP, no model), and
//! provider batch files (`batch_file`), which take the request the pipeline makes and hand
//! the pipeline a reply read from a file.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream, StreamExt as _};
use tokio::time::Instant;

use crate::Result;
use crate::transport::{Completion, Delta, Transport};
use crate::wire::ChatRequest;

/// One scripted answer: after `delay`, this result.
pub(crate) struct Answer {
    pub(crate) delay: Duration,
    pub(crate) result: Result<Completion>,
}

/// Answers each call with the next scripted answer, and records when each call came.
#[derive(Default)]
pub(crate) struct Scripted {
    answers: Mutex<VecDeque<Answer>>,
    pub(crate) calls: Mutex<Vec<Instant>>,
    /// Every request, as sent.
    pub(crate) requests: Mutex<Vec<ChatRequest>>,
}

impl std::fmt::Debug for Scripted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scripted")
    }
}

impl Scripted {
    pub(crate) fn new(answers: impl IntoIterator<Item = Result<Completion>>) -> Scripted {
        Scripted::paced(answers.into_iter().map(|result| Answer {
            delay: Duration::ZERO,
            result,
        }))
    }

    pub(crate) fn paced(answers: impl IntoIterator<Item = Answer>) -> Scripted {
        Scripted {
            answers: Mutex::new(answers.into_iter().collect()),
            calls: Mutex::default(),
            requests: Mutex::default(),
        }
    }

    #[cfg(test)]
    pub(crate) fn call_times(&self) -> Vec<Instant> {
        self.calls.lock().unwrap().clone()
    }

    /// The requests received, as JSON, in order.
    #[cfg(test)]
    pub(crate) fn sent(&self) -> Vec<serde_json::Value> {
        let requests = self.requests.lock().unwrap();
        requests
            .iter()
            .map(|r| serde_json::to_value(r).unwrap())
            .collect()
    }

    fn next(&self, request: &ChatRequest) -> Answer {
        self.calls.lock().unwrap().push(Instant::now());
        self.requests.lock().unwrap().push(request.clone());
        self.answers
            .lock()
            .unwrap()
            .pop_front()
            // A call past the script's end fails; it never panics.
            .unwrap_or_else(|| Answer {
                delay: Duration::ZERO,
                result: Err(crate::Error::config("no scripted answer is left")),
            })
    }
}

impl Transport for Scripted {
    fn complete<'a>(
        &'a self,
        request: &'a ChatRequest,
        _deadline: Option<Instant>,
    ) -> BoxFuture<'a, Result<Completion>> {
        let answer = self.next(request);
        Box::pin(async move {
            tokio::time::sleep(answer.delay).await;
            answer.result
        })
    }

    fn stream(
        self: std::sync::Arc<Self>,
        request: std::sync::Arc<ChatRequest>,
        _deadline: Option<Instant>,
    ) -> BoxStream<'static, Result<Delta>> {
        let answer = self.next(&request);
        // The answer's delay comes before each delta, so a stream can be slow between them:
        // the reply comes in the pieces a streaming server sends.
        let deltas: Vec<Result<Delta>> = match answer.result {
            Ok(completion) => completion.into_pieces().into_iter().map(Ok).collect(),
            Err(e) => vec![Err(e)],
        };
        stream::iter(deltas)
            .then(move |delta| async move {
                tokio::time::sleep(answer.delay).await;
                delta
            })
            .boxed()
    }
}

/// A completion whose content is `text`, with the usage given.
#[cfg(test)]
pub(crate) fn completion(text: &str, prompt: u64, completion: u64) -> Completion {
    Completion {
        content: Some(text.to_owned()),
        usage: Some(crate::Usage::new(prompt, completion)),
        finish_reason: Some("stop".to_owned()),
        ..Completion::default()
    }
}

/// A request with `text` as its one message.
#[cfg(test)]
pub(crate) fn request(text: &str) -> ChatRequest {
    ChatRequest {
        model: "m".to_owned(),
        messages: vec![crate::wire::Message::user(text)].into(),
        max_tokens: Some(16),
        temperature: Some(0.0),
        seed: None,
        stream: None,
        stream_options: None,
        timeout_secs: None,
        response_format: None,
        schema_hash: 0,
    }
}
