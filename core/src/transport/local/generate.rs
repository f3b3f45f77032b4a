//! One completion on the generation thread: the prompt through the chat template, decoded
//! in batches after the part the cache still holds; then one token at a time under the grammar until the value closes, the
//! model ends, `max_tokens` or the context runs out, the deadline passes, or the caller
//! goes away.
//!
//! The sampler chain is the grammar first, then greedy (temperature 0) or top-p 0.9,
//! temperature and a seeded draw, as a Dria node samples. A token is chosen by applying
//! the chain to the logits, then accepted once, with `try_accept`, which turns a C++
//! exception in the grammar into an error instead of an abort. An end-of-generation token
//! is never accepted: llama.cpp's grammar aborts the process on one it did not expect.

use std::time::Instant;

use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;

use super::close::ValueEnd;
use super::engine::{Engine, GrammarSource, Job};
use crate::transport::Completion;
use crate::wire::Usage;
use crate::{Error, ErrorKind, Result};

/// The prompt is decoded in batches that start at multiples of this many positions. A
/// cancelled or late call waits at most one batch before it stops. Since the batches are
/// fixed by position, a batch the cache kept from an earlier call holds exactly what
/// decoding it anew would: the reply does not depend on what was asked before.
const PROMPT_BATCH: usize = 64;

/// The text generated so far, and why it ended.
#[derive(Debug, Default)]
struct Output {
    bytes: Vec<u8>,
    tokens: u32,
    finish: &'static str,
}

impl Engine<'_> {
    /// The completion of `job`, with the prompt's and the reply's token counts.
    pub(super) fn complete(&mut self, job: &Job) -> Result<Completion> {
        let mut sampler = self.sampler(job)?;
        let prompt = self.prompt(&job.messages)?;
        let tokens = self.model.vocab().tokenize(prompt.as_bytes(), true, true);
        let n_prompt = tokens.len() as u32;
        // At least one token of room, or the reply is cut off before it starts.
        let room = self.ctx.n_ctx().saturating_sub(n_prompt);
        let output = if room == 0 || tokens.is_empty() {
            Output {
                finish: "length",
                ..Output::default()
            }
        } else {
            let logits_at = self.decode_prompt(job, &tokens)?;
            self.sample(
                job,
                &mut sampler,
                (n_prompt, logits_at),
                job.max_tokens.min(room),
            )?
        };
        tracing::debug!(
            prompt_tokens = n_prompt,
            completion_tokens = output.tokens,
            finish = output.finish,
            "local generation ended"
        );
        Ok(Completion {
            content: Some(String::from_utf8_lossy(&output.bytes).into_owned()),
            refusal: None,
            finish_reason: Some(output.finish.to_owned()),
            usage: Some(Usage {
                prompt_tokens: u64::from(n_prompt),
                completion_tokens: u64::from(output.tokens),
                total_tokens: u64::from(n_prompt) + u64::from(output.tokens),
            }),
            node_id: None,
            cached: false,
        })
    }

    /// The sampler chain: the grammar (converted once per schema), then the draw.
    fn sampler(&mut self, job: &Job) -> Result<LlamaSampler> {
        let mut chain = Vec::with_capacity(4);
        if let GrammarSource::Schema(schema) = &job.grammar {
            let converted = self
                .grammars
                .entry(job.grammar.clone())
                .or_insert_with(|| convert(schema))
                .clone();
            let gbnf = converted.map_err(|message| Error::local(ErrorKind::Schema, message))?;
            chain.push(super::grammar::sampler(self.model, &gbnf)?);
        }
        if job.temperature > 0.0 {
            chain.push(LlamaSampler::top_p(0.9, 1));
            chain.push(LlamaSampler::temp(job.temperature));
            chain.push(LlamaSampler::dist(0));
        } else {
            chain.push(LlamaSampler::greedy());
        }
        Ok(LlamaSampler::chain_simple(chain))
    }

    /// Decodes the prompt in [`PROMPT_BATCH`]es; returns where in the last batch the
    /// logits of the prompt's last token are.
    ///
    /// The whole batches of the prompt the cache already holds (most of the system
    /// message, as a rule) are kept, as llama-server keeps its cached prefix, and only the
    /// rest is decoded; the last token always is, for its logits.
    fn decode_prompt(&mut self, job: &Job, tokens: &[LlamaToken]) -> Result<i32> {
        let shared = common_prefix(&self.cached, tokens).min(tokens.len() - 1);
        let mut keep = shared / PROMPT_BATCH * PROMPT_BATCH;
        let trimmed = self
            .ctx
            .clear_kv_cache_seq(Some(0), Some(keep as u32), None);
        if !matches!(trimmed, Ok(true)) {
            self.ctx.clear_kv_cache();
            keep = 0;
        }
        self.cached.truncate(keep);
        let size = PROMPT_BATCH;
        let mut batch = LlamaBatch::new(size, 1);
        let mut logits_at = 0;
        for chunk in tokens[keep..].chunks(size) {
            check(job)?;
            batch.clear();
            for (i, &token) in chunk.iter().enumerate() {
                let pos = self.cached.len() + i;
                let last = pos == tokens.len() - 1;
                batch.add(token, pos as i32, &[0], last).map_err(fault)?;
                logits_at = i as i32;
            }
            self.ctx.decode(&mut batch).map_err(fault)?;
            self.cached.extend_from_slice(chunk);
        }
        tracing::debug!(
            reused = keep,
            decoded = tokens.len() - keep,
            "prompt decoded"
        );
        Ok(logits_at)
    }

    /// Generates at most `limit` tokens after a prompt of `n_prompt` tokens whose logits
    /// are at `logits_at`.
    fn sample(
        &mut self,
        job: &Job,
        sampler: &mut LlamaSampler,
        (n_prompt, mut logits_at): (u32, i32),
        limit: u32,
    ) -> Result<Output> {
        let vocab = self.model.vocab();
        let mut output = Output::default();
        let mut end = ValueEnd::default();
        let mut text = Utf8Pieces::default();
        let mut batch = LlamaBatch::new(1, 1);
        while output.tokens < limit {
            check(job)?;
            let mut candidates =
                LlamaTokenDataArray::from_iter(self.ctx.candidates_ith(logits_at), false);
            candidates.apply_sampler(sampler);
            let Some(token) = candidates.selected_token() else {
                return Ok(output.ended("stop"));
            };
            if vocab.is_eog(token) {
                return Ok(output.ended("stop"));
            }
            if let Err(e) = sampler.try_accept(token) {
                tracing::warn!(error = %e, "the grammar refused the sampled token; ending the reply");
                return Ok(output.ended("stop"));
            }
            output.tokens += 1;
            let piece = vocab.token_to_piece(token, false, None);
            output.bytes.extend_from_slice(&piece);
            if let Some(pieces) = &job.pieces
                && let Some(whole) = text.push(&piece)
            {
                // A caller that stopped reading is seen by the cancel flag, not here.
                let _ = pieces.send(whole);
            }
            if end.feed(&piece) {
                return Ok(output.ended("stop"));
            }
            batch.clear();
            let pos = (n_prompt + output.tokens - 1) as i32;
            batch.add(token, pos, &[0], true).map_err(fault)?;
            self.ctx.decode(&mut batch).map_err(fault)?;
            self.cached.push(token);
            logits_at = 0;
        }
        Ok(output.ended("length"))
    }
}

/// A streamed reply's text: each token's bytes added, the whole characters handed on and an
/// incomplete one (a character split across tokens) held until it completes.
#[derive(Default)]
struct Utf8Pieces {
    pending: Vec<u8>,
}

impl Utf8Pieces {
    /// Adds `bytes`; the text they complete, if any. Bytes that can never be UTF-8 are
    /// replaced, as the whole reply's lossy reading replaces them.
    fn push(&mut self, bytes: &[u8]) -> Option<String> {
        self.pending.extend_from_slice(bytes);
        let whole = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            Err(e) if e.error_len().is_some() => self.pending.len(),
            Err(e) => e.valid_up_to(),
        };
        if whole == 0 {
            return None;
        }
        let text = String::from_utf8_lossy(&self.pending[..whole]).into_owned();
        self.pending.drain(..whole);
        Some(text)
    }
}

impl Output {
    fn ended(mut self, finish: &'static str) -> Output {
        self.finish = finish;
        self
    }
}

/// How many tokens `a` and `b` share at their start.
fn common_prefix(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// The grammar of a schema given as JSON text, or why there is none.
fn convert(schema: &str) -> std::result::Result<String, String> {
    let value: serde_json::Value = serde_json::from_str(schema).map_err(|e| e.to_string())?;
    super::grammar::grammar(&value).map_err(|e| {
        std::error::Error::source(&e).map_or_else(|| e.to_string(), ToString::to_string)
    })
}

/// Stops at the next token once the caller has gone or the deadline has passed.
fn check(job: &Job) -> Result<()> {
    if job.cancelled() {
        return Err(Error::local(
            ErrorKind::Transport,
            "the call was dropped; generation stopped",
        ));
    }
    match job.deadline {
        Some(at) if Instant::now() >= at => Err(Error::deadline_reached()),
        _ => Ok(()),
    }
}

/// A llama.cpp failure during decoding: nothing usable came back.
fn fault(error: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::local(ErrorKind::Transport, error)
}
