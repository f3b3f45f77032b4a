//! Rate limits of a batch: requests per minute and tokens per minute, each a GCRA limiter
//! from `governor`, awaited before every model call of every item (re-asks included).
//!
//! Both limits are spread evenly: the burst allowed is one second's worth of the rate
//! (`n / 60`, at least 1), not governor's default of a whole minute's quota.
//!
//! Tokens are charged before a call from an estimate: the request's message text in
//! bytes divided by four, rounded up (about one token per four bytes of English), plus its
//! `max_tokens`. When the reply's usage comes back, the difference between that estimate
//! and the tokens the server counted (prompt and completion) is carried into the next
//! charge: an over-estimate is credited, an under-estimate is charged on top. A call that
//! returns no usage keeps its estimate. A charge larger than the burst is taken in
//! burst-sized steps, so a large request waits its share of the rate and is never refused.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use tokio::time::Instant;

use crate::wire::{ChatRequest, Message, Usage};

/// governor reading tokio's clock, so that limits follow tokio's (possibly paused) time,
/// as every other wait of the crate does.
#[derive(Debug, Clone, Copy)]
struct TokioClock {
    origin: Instant,
}

impl Clock for TokioClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        Nanos::from(self.origin.elapsed())
    }
}

type Limiter = RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Nanos>>;

/// One per-minute limit: its limiter and the largest charge it takes at once.
#[derive(Debug)]
struct PerMinute {
    limiter: Limiter,
    burst: NonZeroU32,
}

impl PerMinute {
    fn new(per_minute: NonZeroU32, clock: TokioClock) -> PerMinute {
        let burst = NonZeroU32::new(per_minute.get() / 60).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        PerMinute {
            limiter: RateLimiter::direct_with_clock(quota, clock),
            burst,
        }
    }

    /// Waits until `n` cells conform, taking them in steps of at most the burst.
    async fn take(&self, clock: &TokioClock, mut n: u64) {
        while n > 0 {
            let step = n.min(u64::from(self.burst.get())) as u32;
            let cells = NonZeroU32::new(step).unwrap_or(NonZeroU32::MIN);
            // `step` never exceeds the burst, so `InsufficientCapacity` cannot happen; it
            // would go on unthrottled rather than wait forever.
            while let Ok(Err(not_until)) = self.limiter.check_n(cells) {
                tokio::time::sleep(not_until.wait_time_from(clock.now())).await;
            }
            n -= u64::from(step);
        }
    }
}

/// A per-minute limit as given: `Some(0)` is taken as 1, so that "no limit" is spelled
/// `None` only.
pub(crate) fn at_least_one(n: u32) -> NonZeroU32 {
    NonZeroU32::MIN.saturating_add(n.saturating_sub(1))
}

/// The limits one batch shares between its items, or one client between its calls.
#[derive(Debug)]
pub(crate) struct Limits {
    clock: TokioClock,
    requests: Option<PerMinute>,
    tokens: Option<PerMinute>,
    /// Tokens used but not yet charged (positive) or charged but not used (negative),
    /// settled at the next charge.
    carry: Mutex<i64>,
}

impl Limits {
    /// The limits, or `None` when neither is set.
    pub(crate) fn new(
        requests_per_minute: Option<NonZeroU32>,
        tokens_per_minute: Option<NonZeroU32>,
    ) -> Option<Limits> {
        if requests_per_minute.is_none() && tokens_per_minute.is_none() {
            return None;
        }
        let clock = TokioClock {
            origin: Instant::now(),
        };
        Some(Limits {
            clock,
            requests: requests_per_minute.map(|n| PerMinute::new(n, clock)),
            tokens: tokens_per_minute.map(|n| PerMinute::new(n, clock)),
            carry: Mutex::new(0),
        })
    }

    /// Waits until `request` may be sent; returns the tokens charged for it from the
    /// estimate, to be settled with [`Limits::settle`].
    pub(crate) async fn acquire(&self, request: &ChatRequest) -> u64 {
        if let Some(requests) = &self.requests {
            requests.take(&self.clock, 1).await;
        }
        let Some(tokens) = &self.tokens else {
            return 0;
        };
        let estimate = estimate(request);
        let charge = {
            let mut carry = self.lock();
            let charge = (estimate as i64).saturating_add(*carry);
            *carry = charge.min(0);
            charge.max(0) as u64
        };
        tokens.take(&self.clock, charge).await;
        estimate
    }

    /// Corrects the estimate `charged` with the usage the server reported.
    pub(crate) fn settle(&self, charged: u64, usage: Option<Usage>) {
        let Some(usage) = usage.filter(|_| self.tokens.is_some()) else {
            return;
        };
        let used = usage.prompt_tokens + usage.completion_tokens;
        let mut carry = self.lock();
        *carry = carry.saturating_add(used as i64 - charged as i64);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, i64> {
        self.carry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Rate limits shared by every extraction they are given to
/// ([`Extraction::rate_limits`](crate::Extraction::rate_limits)): at most so many model calls,
/// and so many tokens, a minute over all of them, re-asks included, charged and spread as
/// [`Batch::requests_per_minute`](crate::Batch::requests_per_minute) and
/// [`Batch::tokens_per_minute`](crate::Batch::tokens_per_minute) are. Clones share one
/// budget. For callers that run extractions concurrently themselves (a query engine's
/// partitions, `join_all`) and want one budget over them without a [`Batch`](crate::Batch).
///
/// ```
/// let limits = factum::RateLimits::new(600, None);
/// assert!(limits.is_limited());
/// assert!(!factum::RateLimits::new(None, None).is_limited());
/// ```
#[derive(Debug, Clone, Default)]
pub struct RateLimits(Option<Arc<Limits>>);

impl RateLimits {
    /// At most `requests_per_minute` model calls and `tokens_per_minute` tokens a minute;
    /// `None` leaves that one unlimited, and a limit is at least 1.
    pub fn new(
        requests_per_minute: impl Into<Option<u32>>,
        tokens_per_minute: impl Into<Option<u32>>,
    ) -> RateLimits {
        RateLimits(
            Limits::new(
                requests_per_minute.into().map(at_least_one),
                tokens_per_minute.into().map(at_least_one),
            )
            .map(Arc::new),
        )
    }

    /// Whether either limit is set.
    pub fn is_limited(&self) -> bool {
        self.0.is_some()
    }

    pub(crate) fn shared(&self) -> Option<&Arc<Limits>> {
        self.0.as_ref()
    }
}

/// The estimated tokens of a call: a quarter of its message text's bytes, rounded up, plus
/// its `max_tokens`.
pub(crate) fn estimate(request: &ChatRequest) -> u64 {
    prompt_tokens(request.messages.iter()) + u64::from(request.max_tokens.unwrap_or(0))
}

/// The estimated tokens of a prompt: a quarter of its message text's bytes, rounded up
/// (images are not counted).
pub(crate) fn prompt_tokens<'m>(messages: impl Iterator<Item = &'m Message>) -> u64 {
    let bytes: usize = messages.map(|m| m.content.byte_len(false)).sum();
    (bytes as u64).div_ceil(4)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn request(text: &str, max_tokens: u32) -> ChatRequest {
        ChatRequest {
            model: "m".into(),
            messages: vec![Message::user(text)].into(),
            max_tokens: Some(max_tokens),
            temperature: None,
            seed: None,
            stream: None,
            stream_options: None,
            timeout_secs: None,
            response_format: None,
            schema_hash: 0,
        }
    }

    fn per_minute(n: u32) -> Option<NonZeroU32> {
        NonZeroU32::new(n)
    }

    #[tokio::test(start_paused = true)]
    async fn requests_are_spread_with_a_one_second_burst() {
        let limits = Limits::new(per_minute(600), None).unwrap();
        let start = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..30 {
            limits.acquire(&request("x", 1)).await;
            starts.push(start.elapsed());
        }
        // Ten at once (one second's worth of 600 a minute), then one every 100 ms.
        assert!(starts[9] < Duration::from_millis(1), "{starts:?}");
        assert!(starts[10] >= Duration::from_millis(99), "{starts:?}");
        assert!(starts[29] >= Duration::from_secs(2), "{starts:?}");
        assert!(starts[29] < Duration::from_millis(2100), "{starts:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn tokens_are_charged_by_estimate_and_settled_by_usage() {
        // 6000 a minute: 100 a second, a burst of 100.
        let limits = Limits::new(None, per_minute(6000)).unwrap();
        let request = request(&"a".repeat(400), 100); // 100 + 100 estimated
        assert_eq!(estimate(&request), 200);
        let start = Instant::now();
        let charged = limits.acquire(&request).await;
        assert_eq!(charged, 200);
        assert!(
            start.elapsed() >= Duration::from_secs(1),
            "200 tokens is two bursts"
        );
        // The server counted only 50: the 150 over-charged are credited to the next call.
        limits.settle(
            charged,
            Some(Usage {
                prompt_tokens: 40,
                completion_tokens: 10,
                total_tokens: 50,
            }),
        );
        let before = Instant::now();
        limits.acquire(&request).await;
        assert!(
            before.elapsed() <= Duration::from_millis(510),
            "only 50 charged: {:?}",
            before.elapsed()
        );
    }
}
