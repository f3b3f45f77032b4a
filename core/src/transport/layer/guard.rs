//! [`Guarded`]: the retry, the gate, the pause and the timeout around one model call, in
//! one layer. Each is a rule of its own module ([`retry`](super::retry),
//! [`gate`](super::gate), [`pause`](super::pause), [`timeout`](super::timeout)); this layer
//! applies them in their order:
//!
//! ```text
//! loop {                                  retry: a fault worth another try is sent again
//!     enter the gate                      at most the adaptive limit in flight
//!     wait out the pause                  no call into a server's Retry-After
//!     send, timed                         the per-attempt timeout or the deadline
//!     an overflow with company: drain     the gate's limit halves, the call waits its turn
//! }
//! ```
//!
//! They were four layers, each a `Transport` around the next. For a streamed call that made
//! four boxed streams, each polled through the one outside it, for every delta of every
//! reply: on the batch bench those levels cost a hundred instruction-cache and eighty
//! data-cache misses per item each, whatever the layer did (cachegrind). One layer gives a
//! call one opening future and one stream, with the same rules.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::future::{BoxFuture, Either};
use futures_util::stream::{self, BoxStream, Stream, StreamExt as _};
use tokio::time::{Instant, Sleep};

use super::gate::{Gate, MAX_DRAINS, Permit, drains};
use super::pause::Pause;
use super::retry;
use super::timeout::Clock;
use crate::error::Again;
use crate::transport::{Completion, Delta, Transport};
use crate::wire::ChatRequest;
use crate::{Error, Result};

#[derive(Debug)]
pub(crate) struct Guarded {
    inner: Arc<dyn Transport>,
    /// How many times a fault worth another try is sent again.
    retries: u32,
    /// The first backoff and the longest.
    backoff: (Duration, Duration),
    gate: Arc<Gate>,
    /// The client's pause: every call of the client and its clones goes through this layer.
    pause: Pause,
    clock: Clock,
}

impl Guarded {
    /// `inner` with a per-attempt `timeout`, `retries` with `backoff` (the first and the
    /// longest), and the client's `gate`.
    pub(crate) fn new(
        inner: Arc<dyn Transport>,
        timeout: Option<Duration>,
        (retries, backoff): (u32, (Duration, Duration)),
        gate: Arc<Gate>,
    ) -> Guarded {
        Guarded {
            inner,
            retries,
            backoff,
            gate,
            pause: Pause::default(),
            clock: Clock::new(timeout),
        }
    }

    /// Enters the gate, or ends at the deadline.
    async fn enter(&self, deadline: Option<Instant>) -> Result<Permit> {
        match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, self.gate.enter())
                .await
                .map_err(|_| Error::deadline_reached()),
            None => Ok(self.gate.enter().await),
        }
    }

    /// `call`, ended at the per-attempt timeout or the deadline.
    async fn timed<T>(
        &self,
        call: impl Future<Output = T>,
        deadline: Option<Instant>,
        ran_out: impl FnOnce(Error) -> T,
    ) -> T {
        match self.clock.end(Instant::now(), deadline) {
            Some((end, by_deadline)) => match tokio::time::timeout_at(end, call).await {
                Ok(done) => done,
                Err(_) => ran_out(self.clock.ran_out(by_deadline)),
            },
            None => call.await,
        }
    }

    /// A place in the gate once the pause allows a call, or the deadline's error.
    async fn open(&self, deadline: Option<Instant>) -> Result<Permit> {
        let permit = self.enter(deadline).await?;
        self.pause.wait(deadline).await?;
        Ok(permit)
    }

    /// Whether a call that failed with `error` before its reply began is sent again: at
    /// once after the calls in flight drain (a shared-slot overflow), or after the retry's
    /// backoff, slept here with the call's gate place given back. Sets the pause a fault
    /// names.
    async fn again(
        &self,
        tries: &mut Tries,
        permit: Permit,
        error: &Error,
        deadline: Option<Instant>,
    ) -> bool {
        if tries.drained < MAX_DRAINS && drains(&permit, error) {
            tries.drained += 1;
            return true;
        }
        // The place is given back before the backoff, not held through it.
        drop(permit);
        self.pause.after(error);
        let Some(delay) = retry::delay(error, tries.retry, self.retries, self.backoff, deadline)
        else {
            return false;
        };
        tokio::time::sleep(delay).await;
        *tries = Tries {
            retry: tries.retry + 1,
            drained: 0,
        };
        true
    }
}

/// How many times a call was sent again: after a retry's backoff, and (since the last
/// retry) after the calls in flight drained.
#[derive(Default)]
struct Tries {
    retry: u32,
    drained: u32,
}

impl Transport for Guarded {
    fn complete<'a>(
        &'a self,
        request: &'a ChatRequest,
        deadline: Option<Instant>,
    ) -> BoxFuture<'a, Result<Completion>> {
        Box::pin(async move {
            let mut tries = Tries::default();
            loop {
                let permit = self.open(deadline).await?;
                let call = self.inner.complete(request, deadline);
                let error = match self.timed(call, deadline, Err).await {
                    Ok(done) => {
                        permit.succeeded();
                        return Ok(done);
                    }
                    Err(error) => error,
                };
                if !self.again(&mut tries, permit, &error, deadline).await {
                    return Err(error);
                }
            }
        })
    }

    fn stream(
        self: Arc<Self>,
        request: Arc<ChatRequest>,
        deadline: Option<Instant>,
    ) -> BoxStream<'static, Result<Delta>> {
        let opened = async move {
            let mut tries = Tries::default();
            loop {
                let permit = match self.open(deadline).await {
                    Ok(permit) => permit,
                    Err(error) => return Either::Left(stream::iter([Err(error)])),
                };
                let mut deltas = Arc::clone(&self.inner).stream(Arc::clone(&request), deadline);
                let first = self
                    .timed(deltas.next(), deadline, |error| Some(Err(error)))
                    .await;
                let error = match first {
                    Some(Err(error)) => error,
                    // A reply that came whole (a server that answers at once, the cache):
                    // the call is over, and its place is given back now.
                    Some(Ok(delta)) if delta.finishes() => {
                        permit.succeeded();
                        return Either::Left(stream::iter([Ok(delta)]));
                    }
                    first => {
                        return Either::Right(Watched::new(self, deltas, first, permit, deadline));
                    }
                };
                // Nothing but the fault came: the reply has not begun, so it may be sent
                // again.
                drop(deltas);
                if !self.again(&mut tries, permit, &error, deadline).await {
                    return Either::Left(stream::iter([Err(error)]));
                }
            }
        };
        // One box for the whole call: what the opening gives is held as it is.
        stream::once(opened).flatten().boxed()
    }

    ask_the_inner_transport!();
}

/// A reply that began: its deltas, each gap between them timed, the call's place in the
/// gate held until the stream ends or is dropped, and a fault after the first delta seen
/// by the pause and the gate. It ends at its first fault.
struct Watched {
    guard: Arc<Guarded>,
    deltas: BoxStream<'static, Result<Delta>>,
    /// The delta the opening read, not yet handed on.
    first: Option<Result<Delta>>,
    permit: Option<Permit>,
    deadline: Option<Instant>,
    /// Since when the consumer has been waiting for the next delta.
    waiting_since: Option<Instant>,
    /// The timer of the waits, set once and moved on only when it fires for a wait that
    /// has already ended: most deltas come in time, and a timer set for each would be
    /// registered with the runtime each time.
    timer: Option<Pin<Box<Sleep>>>,
}

impl Watched {
    fn new(
        guard: Arc<Guarded>,
        deltas: BoxStream<'static, Result<Delta>>,
        first: Option<Result<Delta>>,
        permit: Permit,
        deadline: Option<Instant>,
    ) -> Watched {
        Watched {
            guard,
            deltas,
            first,
            permit: Some(permit),
            deadline,
            waiting_since: None,
            timer: None,
        }
    }

    /// Whether the wait for the next delta ran out; registers for a wakeup when it has not.
    fn ran_out(&mut self, cx: &mut Context<'_>) -> Option<Error> {
        let since = *self.waiting_since.get_or_insert_with(Instant::now);
        let (end, by_deadline) = self.guard.clock.end(since, self.deadline)?;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(end)));
        loop {
            if timer.as_mut().poll(cx).is_pending() {
                return None;
            }
            if timer.deadline() >= end {
                return Some(self.guard.clock.ran_out(by_deadline));
            }
            // Set for an earlier wait, which ended in time: on to this one's end.
            timer.as_mut().reset(end);
        }
    }

    /// What the gate and the pause make of a delta.
    fn watch(&mut self, delta: Result<Delta>) -> Result<Delta> {
        let Some(permit) = &self.permit else {
            return delta;
        };
        match delta {
            Ok(delta) => {
                // Read on past it: a server may send the usage after the finish.
                if delta.finishes() {
                    permit.succeeded();
                }
                Ok(delta)
            }
            Err(error) => {
                self.guard.pause.after(&error);
                // The reply began, so its text is kept: the pipeline sends it again.
                let error = if drains(permit, &error) {
                    error.again(Again::Drain)
                } else {
                    error
                };
                self.permit = None;
                Err(error)
            }
        }
    }
}

impl Stream for Watched {
    type Item = Result<Delta>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Delta>>> {
        let this = self.get_mut();
        if let Some(first) = this.first.take() {
            return Poll::Ready(Some(this.watch(first)));
        }
        // Ended: at a fault, or when the deltas did.
        if this.permit.is_none() {
            return Poll::Ready(None);
        }
        let next = match this.deltas.poll_next_unpin(cx) {
            Poll::Ready(next) => next,
            Poll::Pending => match this.ran_out(cx) {
                Some(error) => Some(Err(error)),
                None => return Poll::Pending,
            },
        };
        this.waiting_since = None;
        let Some(delta) = next else {
            this.permit = None;
            return Poll::Ready(None);
        };
        Poll::Ready(Some(this.watch(delta)))
    }
}

#[cfg(test)]
impl Guarded {
    /// `inner` with no timeout, no retries and a gate of its own: a test sets what it
    /// tests.
    pub(crate) fn around(inner: Arc<dyn Transport>) -> Guarded {
        let backoff = (Duration::from_millis(100), Duration::from_secs(1));
        Guarded::new(inner, None, (0, backoff), Arc::default())
    }

    pub(crate) fn retries(mut self, retries: u32) -> Guarded {
        self.retries = retries;
        self
    }

    pub(crate) fn timeout(mut self, timeout: Duration) -> Guarded {
        self.clock = Clock::new(Some(timeout));
        self
    }

    pub(crate) fn gate(mut self, gate: &Arc<Gate>) -> Guarded {
        self.gate = Arc::clone(gate);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::scripted::{Answer, Scripted, completion, request};

    #[tokio::test(start_paused = true)]
    async fn a_stream_s_place_in_the_gate_is_held_until_it_ends_and_not_through_a_backoff() {
        let gate = Arc::new(Gate::default());
        let inner = Arc::new(Scripted::paced([
            Answer {
                delay: Duration::ZERO,
                result: Err(Error::http(503, "busy".into(), String::new())
                    .again(Again::After(Duration::from_secs(2)))),
            },
            Answer {
                delay: Duration::from_secs(1),
                result: Ok(completion("{}", 1, 1)),
            },
        ]));
        let layer = Arc::new(Guarded::around(inner.clone()).retries(1).gate(&gate));
        let mut deltas = layer.stream(request("x").into(), None);
        let held = async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            assert_eq!(gate.in_flight(), 0, "given back through the backoff");
            tokio::time::sleep(Duration::from_millis(1500)).await;
            assert_eq!(gate.in_flight(), 1, "held while the reply comes");
        };
        let (first, ()) = tokio::join!(deltas.next(), held);
        assert!(first.unwrap().is_ok());
        while deltas.next().await.is_some() {}
        assert_eq!(gate.in_flight(), 0, "given back at the end");
        assert_eq!(inner.call_times().len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_fault_after_the_reply_began_ends_the_stream_sets_the_pause_and_drains() {
        let layer = Arc::new(Guarded::around(Arc::new(Scripted::default())));
        let watched = |deltas: Vec<Result<Delta>>| {
            let permit = block_on(layer.gate.enter());
            Watched::new(
                Arc::clone(&layer),
                stream::iter(deltas).boxed(),
                None,
                permit,
                None,
            )
        };
        // Cut after the first delta by a 429 that names a delay: the pause is set for the
        // client's next call, and nothing follows the fault.
        let busy = Error::http(429, "slow down".into(), String::new())
            .again(Again::After(Duration::from_secs(3)));
        let text = || Ok(Delta::Content("{".into()));
        let after: Vec<_> = watched(vec![text(), Err(busy), Ok(Delta::Finish(None))])
            .collect()
            .await;
        assert_eq!(after.len(), 2, "{after:?}");
        assert_eq!(after[1].as_ref().unwrap_err().status(), Some(429));
        assert!(layer.pause.until().is_some());
        // A shared-slot overflow while another call is in flight, after the reply began:
        // the limit halves, and the fault is marked for the pipeline to send again.
        let company = block_on(layer.gate.enter());
        let after: Vec<_> = watched(vec![text(), Err(overflow())]).collect().await;
        let error = after[1].as_ref().unwrap_err();
        assert_eq!(error.again_hint(), Again::Drain);
        assert_eq!(layer.gate.limit(), Some(1));
        drop(company);
        assert_eq!(layer.gate.in_flight(), 0);
    }

    /// A transport that answers every call whole, at once (the default `stream`).
    #[derive(Debug)]
    struct AtOnce;

    impl Transport for AtOnce {
        fn complete<'a>(
            &'a self,
            _: &'a ChatRequest,
            _: Option<Instant>,
        ) -> BoxFuture<'a, Result<Completion>> {
            Box::pin(async { Ok(completion("{}", 1, 1)) })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_reply_that_came_whole_gives_its_place_back_before_it_is_read_to_the_end() {
        let gate = Arc::new(Gate::default());
        let layer = Arc::new(Guarded::around(Arc::new(AtOnce)).gate(&gate));
        let mut deltas = layer.stream(request("x").into(), None);
        let whole = deltas.next().await.unwrap().unwrap();
        assert!(matches!(whole, Delta::Whole(_)), "{whole:?}");
        assert_eq!(gate.in_flight(), 0);
        assert!(deltas.next().await.is_none());
    }

    /// Deltas that come 0.5 s, 1.5 s and 3 s apart, watched by `layer` under `deadline`.
    fn gapped(layer: &Arc<Guarded>, deadline: Option<Instant>) -> Watched {
        let gaps = [500, 1500, 3000].map(Duration::from_millis);
        let deltas = stream::iter(gaps).then(|gap| async move {
            tokio::time::sleep(gap).await;
            Ok(Delta::Content("x".into()))
        });
        let permit = block_on(layer.gate.enter());
        Watched::new(Arc::clone(layer), deltas.boxed(), None, permit, deadline)
    }

    #[tokio::test(start_paused = true)]
    async fn each_gap_after_the_first_delta_is_timed_from_when_the_next_is_asked_for() {
        let layer = Guarded::around(Arc::new(Scripted::default()));
        let layer = Arc::new(layer.timeout(Duration::from_secs(2)));
        // The third gap is past the 2 s timeout.
        let start = Instant::now();
        let got: Vec<_> = gapped(&layer, None).collect().await;
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got[..2].iter().all(Result::is_ok));
        assert_eq!(
            got[2].as_ref().unwrap_err().kind(),
            crate::ErrorKind::Timeout
        );
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(4),
            "2 s after the second"
        );
        // A deadline before the timeout ends the wait: the deadline ends it.
        let deadline = Instant::now() + Duration::from_millis(2500);
        let got: Vec<_> = gapped(&layer, Some(deadline)).collect().await;
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(
            got[2].as_ref().unwrap_err().kind(),
            crate::ErrorKind::Deadline
        );
        assert_eq!(Instant::now(), deadline);
    }

    fn overflow() -> Error {
        Error::http(
            500,
            "Context size has been exceeded.".into(),
            r#"{"error":{"code":500,"message":"Context size has been exceeded.","type":"server_error"}}"#.into(),
        )
    }

    fn block_on<F: Future>(future: F) -> F::Output {
        futures_util::FutureExt::now_or_never(future).expect("ready at once")
    }
}
