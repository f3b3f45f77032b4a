//! The gate: how many calls a client has in flight toward its server, adapted to what the
//! server can hold (additive increase, multiplicative decrease), and the shared-slot
//! overflow that lowers it.
//!
//! llama-server's slots share one KV cache. When the slots generating together fill it,
//! a decode step fails and the server answers every request in it with a 500 "Context size
//! has been exceeded." That is backpressure, not a verdict on the request: the same
//! request fits once the others finish. So the [`Gate`] halves its limit (once per round
//! of requests, however many failed together), the request that overflowed waits until
//! the calls in flight drain below the new limit, and is sent again; each call that
//! finishes well raises the limit by `1 / limit` (one a round), but not back to the level
//! that overflowed until [`PROBE_AFTER`] calls in a row have finished well (TCP's
//! congestion avoidance, with the last loss as its threshold). A request that overflowed
//! with nothing else in flight overflows alone: that is the request's own truncation, and
//! goes to the pipeline as before.
//!
//! The gate starts without a limit: a client that never sees an overflow is never slowed.
//! It is the client's (every batch, chunk run and call on a `Client` and its clones share
//! it); its limit in effect is what a batch's [`Progress`](crate::Progress) shows.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;

use crate::Error;

/// How many times one request is sent again after a shared-slot overflow before the
/// overflow is raised: with the limit halved each round, eight rounds take any concurrency
/// below to one.
pub(super) const MAX_DRAINS: u32 = 8;

/// Calls that finish well in a row before the limit may climb back to the level that
/// last overflowed.
const PROBE_AFTER: u32 = 16;

/// The client's count of calls in flight and its adaptive limit.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    state: Mutex<State>,
    freed: Notify,
    /// Whether the warning that a batch asks for more than the server's slots was given.
    warned: AtomicBool,
}

#[derive(Debug, Default)]
struct State {
    /// `None` until the first overflow: no limit.
    limit: Option<f64>,
    in_flight: usize,
    /// Calls started so far, to tell whether a call ever had company.
    started: u64,
    /// Bumped at each decrease: a round of requests that failed together halves once.
    round: u64,
    /// After an overflow: the level that overflowed, which the limit stays under, and how
    /// many calls must still finish well before it may be tried again.
    ceiling: Option<(f64, u32)>,
}

/// One call's place in the gate, given back when dropped.
#[derive(Debug)]
pub(crate) struct Permit {
    gate: Arc<Gate>,
    /// `started` when this call started, and whether others were in flight then.
    number: u64,
    company: bool,
    round: u64,
}

impl Gate {
    /// The limit in effect (`None`: none yet).
    pub(crate) fn limit(&self) -> Option<usize> {
        self.lock().limit.map(|l| l.floor() as usize)
    }

    /// Says once per client that `asked` calls at once exceed the server's `slots`.
    pub(crate) fn warn_slots(&self, asked: usize, slots: u32) {
        if asked > slots as usize && !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                concurrency = asked,
                total_slots = slots,
                "the concurrency asked for exceeds the server's slots; the slots share one \
                 context, so requests beyond them wait or overflow it (factum then lowers \
                 its concurrency)"
            );
        }
    }

    /// How many calls are in flight.
    #[cfg(test)]
    pub(crate) fn in_flight(&self) -> usize {
        self.lock().in_flight
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for a free place under the limit.
    pub(crate) async fn enter(self: &Arc<Self>) -> Permit {
        loop {
            let freed = {
                let mut state = self.lock();
                let open = state
                    .limit
                    .is_none_or(|l| (state.in_flight as f64) < l.floor().max(1.0));
                if open {
                    state.in_flight += 1;
                    state.started += 1;
                    return Permit {
                        gate: Arc::clone(self),
                        number: state.started,
                        company: state.in_flight > 1,
                        round: state.round,
                    };
                }
                // Registered before the lock is let go, so no release is missed.
                self.freed.notified()
            };
            freed.await;
        }
    }
}

impl Permit {
    /// Whether another call was in flight at any time during this one.
    pub(crate) fn had_company(&self) -> bool {
        let state = self.gate.lock();
        self.company || state.started > self.number || state.in_flight > 1
    }

    /// The server overflowed its shared context during this call: halve the limit, once
    /// for the round of calls that failed together.
    pub(crate) fn overflowed(&self) {
        let mut state = self.gate.lock();
        if state.round != self.round {
            return;
        }
        let level = state
            .limit
            .unwrap_or(f64::INFINITY)
            .min(state.in_flight as f64);
        let halved = (level / 2.0).floor().max(1.0);
        state.limit = Some(halved);
        state.ceiling = Some((level.floor().max(1.0), PROBE_AFTER));
        state.round += 1;
        tracing::warn!(
            concurrency = halved as usize,
            "the server's shared context is full; lowering concurrency toward it"
        );
    }

    /// The call finished well: one more place a round, below the level that overflowed
    /// until enough calls in a row have finished well.
    pub(crate) fn succeeded(&self) {
        let mut state = self.gate.lock();
        let cap = match &mut state.ceiling {
            Some((level, left)) if *left > 0 => {
                *left -= 1;
                (*level - 1.0).max(1.0)
            }
            _ => {
                state.ceiling = None;
                f64::INFINITY
            }
        };
        if let Some(limit) = &mut state.limit {
            *limit = (*limit + 1.0 / limit.max(1.0)).min(cap.max(*limit));
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.gate.lock().in_flight -= 1;
        self.gate.freed.notify_waiters();
    }
}

/// What a call's fault means to the gate: `true` when the call should be sent again once
/// the others drain. A shared-slot overflow lowers the limit; one that had no company is
/// left to the pipeline, as the request's own overflow.
pub(super) fn drains(permit: &Permit, error: &Error) -> bool {
    if !error.is_slot_overflow() || !permit.had_company() {
        return false;
    }
    permit.overflowed();
    true
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::time::Instant;

    use super::*;
    use crate::Result;
    use crate::transport::layer::Guarded;
    use crate::transport::scripted::{Answer, Scripted, completion, request};
    use crate::transport::{Completion, Transport as _};

    fn overflow() -> Result<Completion> {
        Err(Error::http(
            500,
            "Context size has been exceeded.".into(),
            r#"{"error":{"code":500,"message":"Context size has been exceeded.","type":"server_error"}}"#.into(),
        ))
    }

    #[tokio::test(start_paused = true)]
    async fn an_overflow_with_company_halves_the_limit_and_is_sent_again_after_the_drain() {
        let gate = Arc::new(Gate::default());
        let slow = Arc::new(Scripted::paced([Answer {
            delay: Duration::from_secs(5),
            result: Ok(completion("{}", 1, 1)),
        }]));
        let flaky = Arc::new(Scripted::new([overflow(), Ok(completion("{}", 1, 1))]));
        let slow_layer = Guarded::around(slow.clone()).gate(&gate);
        let flaky_layer = Guarded::around(flaky.clone()).gate(&gate);
        let (x, y) = (request("x"), request("y"));
        let busy = slow_layer.complete(&x, None);
        let start = Instant::now();
        let retried = async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            flaky_layer.complete(&y, None).await
        };
        let (busy, retried) = tokio::join!(busy, retried);
        assert!(busy.is_ok() && retried.is_ok());
        let calls = flaky.call_times();
        assert_eq!(calls.len(), 2, "sent again once");
        assert!(
            calls[1] - start >= Duration::from_secs(5),
            "the second send waited for the call in flight: {:?}",
            calls[1] - start
        );
        // Halved from two in flight to one, and held under two while it proves itself.
        assert_eq!(gate.limit(), Some(1));
    }

    #[tokio::test(start_paused = true)]
    async fn an_overflow_alone_is_the_request_s_own() {
        let gate = Arc::new(Gate::default());
        let inner = Arc::new(Scripted::new([overflow()]));
        let error = Guarded::around(inner.clone())
            .gate(&gate)
            .complete(&request("x"), None)
            .await
            .unwrap_err();
        assert!(error.is_context_overflow());
        assert_eq!(inner.call_times().len(), 1);
        assert_eq!(gate.limit(), None, "no company, no backpressure");
    }

    #[tokio::test(start_paused = true)]
    async fn the_limit_holds_calls_back_and_grows_by_one_a_round() {
        let gate = Arc::new(Gate::default());
        gate.lock().limit = Some(1.0);
        gate.lock().ceiling = Some((4.0, 0));
        let inner = Arc::new(Scripted::paced((0..2).map(|_| Answer {
            delay: Duration::from_secs(1),
            result: Ok(completion("{}", 1, 1)),
        })));
        let layer = Guarded::around(inner.clone()).gate(&gate);
        let start = Instant::now();
        let (a, b) = (request("a"), request("b"));
        let (a, b) = tokio::join!(layer.complete(&a, None), layer.complete(&b, None));
        assert!(a.is_ok() && b.is_ok());
        let calls = inner.call_times();
        assert_eq!(calls[1] - start, Duration::from_secs(1), "one at a time");
        assert_eq!(gate.limit(), Some(2), "1 + 1/1, then 2 + 1/2");
    }

    #[test]
    fn after_an_overflow_the_limit_stays_under_that_level_until_calls_prove_it() {
        let gate = Arc::new(Gate::default());
        let permits: Vec<Permit> = (0..4).map(|_| block_on(gate.enter())).collect();
        permits[0].overflowed();
        permits[1].overflowed();
        assert_eq!(gate.limit(), Some(2), "four in flight halve once to two");
        drop(permits);
        for _ in 0..PROBE_AFTER {
            block_on(gate.enter()).succeeded();
        }
        assert_eq!(gate.limit(), Some(3), "under the four that overflowed");
        for _ in 0..8 {
            block_on(gate.enter()).succeeded();
        }
        assert!(gate.limit() >= Some(4), "{:?}: probing again", gate.limit());
    }

    fn block_on<F: Future>(future: F) -> F::Output {
        futures_util::FutureExt::now_or_never(future).expect("ready at once")
    }
}
