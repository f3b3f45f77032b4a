//! Generation on the generation thread: up to `parallel` sequences at once in the one
//! context, each with its own sequence id, grammar, sampler and part of the cache. Each
//! step decodes one batch holding, for every active sequence, either its next prompt chunk
//! or its last sampled token, then samples the next token of every sequence whose logits
//! came out. A sequence ends when its value closes, the model ends, `max_tokens` or its
//! share of the context runs out, the deadline passes, or its caller goes away.
//!
//! Each sequence draws greedily (temperature 0) or by top-p 0.9, temperature and a seeded
//! draw, as a Dria node samples, under its grammar ([`Sampling::pick`]). The token is then
//! accepted once, with `try_accept`, which turns a C++ exception in the grammar into an
//! error instead of an abort. An end-of-generation token
//! is never accepted: llama.cpp's grammar aborts the process on one it did not expect.

use std::time::Instant;

use llama_cpp_2::SamplerAcceptError;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;

use super::close::ValueEnd;
use super::engine::{Engine, GrammarSource, Job, PROMPT_BATCH};
use crate::transport::Completion;
use crate::wire::Usage;
use crate::{Error, ErrorKind, Result};

/// The text generated so far.
#[derive(Debug, Default)]
struct Output {
    bytes: Vec<u8>,
    tokens: u32,
}

/// One call being served: its job, its sequence in the context, and how far it is.
pub(super) struct Sequence {
    job: Job,
    /// The sequence id, also the index of its cache record.
    seq: i32,
    sampling: Sampling,
    prompt: Vec<LlamaToken>,
    /// How many of the prompt's tokens the cache holds.
    decoded: usize,
    /// At most this many tokens are generated.
    limit: u32,
    output: Output,
    end: ValueEnd,
    text: Utf8Pieces,
    /// The token sampled last, decoded at the next step.
    next: Option<LlamaToken>,
    /// Where this sequence's logits are in the batch just decoded.
    logits_at: Option<i32>,
    span: tracing::Span,
}

impl Sequence {
    /// Its sequence id.
    pub(super) fn seq(&self) -> i32 {
        self.seq
    }

    /// It ended, for `finish` (`stop` or `length`): its completion.
    fn finish(&self, finish: &'static str) -> Went {
        let usage = Usage::new(self.prompt.len() as u64, u64::from(self.output.tokens));
        tracing::debug!(
            parent: &self.span,
            prompt_tokens = usage.prompt_tokens,
            completion_tokens = usage.completion_tokens,
            finish,
            "local generation ended"
        );
        Went::Done(Ok(completion(&self.output, finish, usage)))
    }
}

/// Answers `job` at once: it never runs as a sequence.
fn answer(job: Job, result: Result<Completion>) -> Option<Sequence> {
    let _ = job.reply.send(result);
    None
}

/// What a sequence does after a step.
enum Went {
    On,
    Done(Result<Completion>),
}

impl Engine<'_> {
    /// Starts serving `job` as sequence `seq`; `None` when it was answered at once (a bad
    /// schema or prompt, no room left in its share of the context).
    pub(super) fn begin(&mut self, job: Job, seq: i32) -> Option<Sequence> {
        let span = tracing::debug_span!(
            parent: &job.span,
            "factum.local",
            prompt_tokens = tracing::field::Empty,
            completion_tokens = tracing::field::Empty,
        );
        let prepared = span.in_scope(|| {
            let sampling = self.sampling(&job)?;
            let prompt = self.prompt(&job.messages)?;
            let tokens = self.model.vocab().tokenize(prompt.as_bytes(), true, true);
            Ok((sampling, tokens))
        });
        let (sampling, prompt) = match prepared {
            Ok(prepared) => prepared,
            Err(e) => return answer(job, Err(e)),
        };
        let n_prompt = prompt.len() as u32;
        // At least one token of room, or the reply is cut off before it starts.
        let room = self.seq_ctx.saturating_sub(n_prompt);
        if room == 0 || prompt.is_empty() {
            let usage = Usage::new(u64::from(n_prompt), 0);
            return answer(job, Ok(completion(&Output::default(), "length", usage)));
        }
        let decoded = self.reuse(seq, &prompt);
        let limit = job.max_tokens.min(room);
        Some(Sequence {
            job,
            seq,
            sampling,
            prompt,
            decoded,
            limit,
            output: Output::default(),
            end: ValueEnd::default(),
            text: Utf8Pieces::default(),
            next: None,
            logits_at: None,
            span,
        })
    }

    /// Keeps the whole chunks of `prompt` that sequence `seq`'s cache already holds (most
    /// of the system message, as a rule), as llama-server keeps its cached prefix; the rest
    /// is decoded, the last token always, for its logits. Returns how many are kept.
    fn reuse(&mut self, seq: i32, prompt: &[LlamaToken]) -> usize {
        let cached = &mut self.cached[seq as usize];
        let shared = common_prefix(cached, prompt).min(prompt.len() - 1);
        let mut keep = shared / PROMPT_BATCH * PROMPT_BATCH;
        let trimmed = self
            .ctx
            .clear_kv_cache_seq(Some(seq as u32), Some(keep as u32), None);
        if !matches!(trimmed, Ok(true)) {
            let _ = self.ctx.clear_kv_cache_seq(Some(seq as u32), None, None);
            keep = 0;
        }
        let cached = &mut self.cached[seq as usize];
        cached.truncate(keep);
        tracing::debug!(
            seq,
            reused = keep,
            decoded = prompt.len() - keep,
            "prompt cache"
        );
        keep
    }

    /// One step for every sequence in `running`: one batch decoded, then each sequence
    /// whose logits came out sampled. Returns the sequences that ended, with their answers.
    pub(super) fn step(&mut self, running: &mut Vec<Sequence>) -> Vec<(Job, Result<Completion>)> {
        // The batch is the engine's, made once; it is taken out for the step so that
        // staging can borrow the engine.
        let mut batch = self.batch.take().unwrap_or_else(|| self.new_batch());
        batch.clear();
        let mut ended = self.stage_all(running, &mut batch);
        let decoded = if batch.n_tokens() > 0 {
            self.ctx.decode(&mut batch)
        } else {
            Ok(())
        };
        self.batch = Some(batch);
        if let Err(e) = decoded {
            let message = e.to_string();
            for sequence in running.drain(..) {
                let _ = self
                    .ctx
                    .clear_kv_cache_seq(Some(sequence.seq as u32), None, None);
                self.cached[sequence.seq as usize].clear();
                let error = Error::local(ErrorKind::Transport, message.clone());
                ended.push((sequence.job, Err(error)));
            }
            return ended;
        }
        let mut index = 0;
        while index < running.len() {
            match self.sample(&mut running[index]) {
                Went::On => index += 1,
                Went::Done(result) => {
                    let sequence = running.swap_remove(index);
                    record(&sequence.span, &result);
                    ended.push((sequence.job, result));
                }
            }
        }
        ended
    }

    /// A batch with room for a prompt chunk of every sequence the engine serves.
    pub(super) fn new_batch(&self) -> LlamaBatch<'static> {
        let width = self.cached.len().max(1);
        LlamaBatch::new(PROMPT_BATCH * width, width as i32)
    }

    /// Stages every running sequence's next input in `batch`; those whose caller went
    /// away, whose deadline passed or that cannot be staged end, with their error.
    fn stage_all(
        &mut self,
        running: &mut Vec<Sequence>,
        batch: &mut LlamaBatch,
    ) -> Vec<(Job, Result<Completion>)> {
        let mut ended = Vec::new();
        let mut index = 0;
        while index < running.len() {
            let staged =
                check(&running[index].job).and_then(|()| self.stage(&mut running[index], batch));
            match staged {
                Ok(()) => index += 1,
                Err(e) => {
                    let sequence = running.swap_remove(index);
                    ended.push((sequence.job, Err(e)));
                }
            }
        }
        ended
    }

    /// Adds what `sequence` decodes next to `batch`: its next prompt chunk, or its last
    /// token.
    fn stage(&mut self, sequence: &mut Sequence, batch: &mut LlamaBatch) -> Result<()> {
        sequence.logits_at = None;
        let seq = sequence.seq;
        if sequence.decoded < sequence.prompt.len() {
            let start = sequence.decoded;
            let end = ((start / PROMPT_BATCH + 1) * PROMPT_BATCH).min(sequence.prompt.len());
            let last = sequence.prompt.len() - 1;
            for pos in start..end {
                let at = batch.n_tokens();
                batch
                    .add(sequence.prompt[pos], pos as i32, &[seq], pos == last)
                    .map_err(fault)?;
                if pos == last {
                    sequence.logits_at = Some(at);
                }
            }
            self.cached[seq as usize].extend_from_slice(&sequence.prompt[start..end]);
            sequence.decoded = end;
        } else if let Some(token) = sequence.next.take() {
            let pos = sequence.prompt.len() as u32 + sequence.output.tokens - 1;
            sequence.logits_at = Some(batch.n_tokens());
            batch.add(token, pos as i32, &[seq], true).map_err(fault)?;
            self.cached[seq as usize].push(token);
        }
        Ok(())
    }

    /// Samples `sequence`'s next token, when its logits came out of the last decode.
    fn sample(&mut self, sequence: &mut Sequence) -> Went {
        let Some(logits_at) = sequence.logits_at else {
            return Went::On;
        };
        let vocab = self.model.vocab();
        let token = match sequence.sampling.pick(&self.ctx, logits_at) {
            Some(token) if !vocab.is_eog(token) => token,
            _ => return sequence.finish("stop"),
        };
        if let Err(e) = sequence.sampling.accept(token) {
            tracing::warn!(parent: &sequence.span, error = %e, "the grammar refused the sampled token; ending the reply");
            return sequence.finish("stop");
        }
        sequence.output.tokens += 1;
        let piece = vocab.token_to_piece(token, false, None);
        sequence.output.bytes.extend_from_slice(&piece);
        if let Some(pieces) = &sequence.job.pieces
            && let Some(whole) = sequence.text.push(&piece)
        {
            // A caller that stopped reading is seen by the cancel flag, not here.
            let _ = pieces.send(whole);
        }
        if sequence.end.feed(&piece) {
            return sequence.finish("stop");
        }
        if sequence.output.tokens >= sequence.limit {
            return sequence.finish("length");
        }
        sequence.next = Some(token);
        Went::On
    }

    /// The grammar (converted once per schema) and the draw.
    fn sampling(&mut self, job: &Job) -> Result<Sampling> {
        let grammar = match &job.grammar {
            GrammarSource::Schema(schema) => {
                let converted = self
                    .grammars
                    .entry(job.grammar.clone())
                    .or_insert_with(|| convert(schema))
                    .clone();
                let gbnf = converted.map_err(|message| Error::local(ErrorKind::Schema, message))?;
                Some(super::grammar::sampler(self.model, &gbnf)?)
            }
            GrammarSource::None => None,
        };
        let draw = if job.temperature > 0.0 {
            LlamaSampler::chain_simple([
                LlamaSampler::top_p(0.9, 1),
                LlamaSampler::temp(job.temperature),
                LlamaSampler::dist(0),
            ])
        } else {
            LlamaSampler::greedy()
        };
        Ok(Sampling { grammar, draw })
    }
}

/// How a sequence picks its tokens: the grammar that holds it to the schema, if any, and
/// the draw (greedy at temperature 0, else top-p 0.9 at the temperature).
struct Sampling {
    grammar: Option<LlamaSampler>,
    draw: LlamaSampler,
}

impl Sampling {
    /// The next token from the logits at `at`.
    ///
    /// Like llama-server, it draws from the model's own logits first and asks the grammar
    /// about that one token only; the whole vocabulary goes through the grammar only when
    /// the grammar refuses it. Matching every one of the vocabulary's tokens against the
    /// grammar's stacks on every step was most of the time a step took, and with the
    /// grammar holding the reply the model's first choice is allowed nearly always.
    ///
    /// The first draw runs in llama.cpp (`llama_sampler_sample`, which also accepts the
    /// token into the draw): gathering the vocabulary's logits into a candidate array on
    /// the Rust side cost more per token than the draw itself (49,152 entries for
    /// SmolLM2), most of all in an unoptimised build. The draws used here (greedy, top-p,
    /// temperature, a seeded pick) keep no state of past tokens, so a drawn token the
    /// grammar then refuses leaves nothing behind.
    fn pick(&mut self, ctx: &LlamaContext<'_>, at: i32) -> Option<LlamaToken> {
        let drawn = self.draw.sample(ctx, at);
        let Some(grammar) = &mut self.grammar else {
            return Some(drawn);
        };
        let mut one = LlamaTokenDataArray::new(vec![LlamaTokenData::new(drawn, 0.0, 0.0)], false);
        one.apply_sampler(grammar);
        if one.data.first().is_some_and(|t| t.logit().is_finite()) {
            return Some(drawn);
        }
        let mut candidates = LlamaTokenDataArray::from_iter(ctx.candidates_ith(at), false);
        candidates.apply_sampler(grammar);
        candidates.apply_sampler(&mut self.draw);
        candidates.selected_token()
    }

    /// Moves the grammar past `token`; an error when the grammar refuses it. The draw
    /// keeps no state of past tokens (and `llama_sampler_sample` already told it of the
    /// token it drew), so it has nothing to accept.
    fn accept(&mut self, token: LlamaToken) -> std::result::Result<(), SamplerAcceptError> {
        match &mut self.grammar {
            Some(grammar) => grammar.try_accept(token),
            None => Ok(()),
        }
    }
}

/// A sequence's answer, its text read leniently as UTF-8.
fn completion(output: &Output, finish: &'static str, usage: Usage) -> Completion {
    Completion {
        content: Some(String::from_utf8_lossy(&output.bytes).into_owned()),
        refusal: None,
        finish_reason: Some(finish.to_owned()),
        usage: Some(usage),
        node_id: None,
        cached: false,
    }
}

/// The token counts of a finished sequence, on its span.
fn record(span: &tracing::Span, result: &Result<Completion>) {
    if let Ok(Completion {
        usage: Some(usage), ..
    }) = result
    {
        span.record("prompt_tokens", usage.prompt_tokens);
        span.record("completion_tokens", usage.completion_tokens);
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
