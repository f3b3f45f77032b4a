//! The retry: a call that failed with a fault its transport marked as worth another try is
//! sent again, at most `retries` times, after the delay the server named or an exponential
//! backoff with jitter, and never when the wait would pass the deadline. A stream is sent
//! again only while it has given nothing but the fault: after a delta, the reply has begun.

use std::time::Duration;

use tokio::time::Instant;

use crate::Error;
use crate::error::Again;

/// How long to wait before try `retry + 1` after `error`, with `retries` allowed and
/// `backoff` the first backoff and the longest; `None`: give up with it.
pub(super) fn delay(
    error: &Error,
    retry: u32,
    retries: u32,
    backoff: (Duration, Duration),
    deadline: Option<Instant>,
) -> Option<Duration> {
    let delay = match error.again_hint() {
        Again::Never | Again::Drain => return None,
        _ if retry >= retries => return None,
        Again::Soon => self::backoff(backoff, retry),
        Again::After(delay) => delay,
    };
    if deadline.is_some_and(|deadline| Instant::now() + delay >= deadline) {
        tracing::debug!(
            delay_ms = delay.as_millis() as u64,
            "retry would pass the deadline"
        );
        return None;
    }
    tracing::warn!(
        retry = retry + 1,
        delay_ms = delay.as_millis() as u64,
        error = %error,
        status = error.status(),
        "transport fault; retrying"
    );
    Some(delay)
}

/// Exponential backoff with up to 25% jitter taken off: `initial * 2^retry`, capped.
fn backoff((initial, max): (Duration, Duration), retry: u32) -> Duration {
    let base = initial.saturating_mul(1u32 << retry.min(16)).min(max);
    base.mul_f64(1.0 - fastrand::f64() * 0.25)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use futures_util::StreamExt as _;

    use super::*;
    use crate::transport::layer::Guarded;
    use crate::transport::scripted::{Answer, Scripted, completion, request};
    use crate::transport::{Completion, Delta, Transport as _};
    use crate::{ErrorKind, Result};

    fn fault(again: Again) -> Result<Completion> {
        Err(Error::http(503, "busy".into(), String::new()).again(again))
    }

    /// The layer with `retries` and a first backoff of 100 ms.
    fn layer(inner: &Arc<Scripted>, retries: u32) -> Guarded {
        Guarded::around(Arc::clone(inner) as _).retries(retries)
    }

    #[tokio::test(start_paused = true)]
    async fn faults_worth_another_try_are_sent_again_after_the_named_delay() {
        let after = Again::After(Duration::from_secs(3));
        let inner = Arc::new(Scripted::new([
            fault(after),
            fault(Again::Soon),
            Ok(completion("{}", 1, 1)),
        ]));
        let start = Instant::now();
        let done = layer(&inner, 3)
            .complete(&request("x"), None)
            .await
            .unwrap();
        assert_eq!(done.content.as_deref(), Some("{}"));
        let calls = inner.call_times();
        assert_eq!(calls.len(), 3);
        assert_eq!(
            calls[1] - start,
            Duration::from_secs(3),
            "the server's delay"
        );
        // The second retry backs off 2 × 100 ms, less up to a quarter of jitter.
        let backoff = calls[2] - calls[1];
        assert!(
            backoff >= Duration::from_millis(150) && backoff <= Duration::from_millis(200),
            "{backoff:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_fault_never_worth_another_try_and_the_last_retry_end_the_call() {
        let inner = Arc::new(Scripted::new([fault(Again::Never)]));
        let error = layer(&inner, 3)
            .complete(&request("x"), None)
            .await
            .unwrap_err();
        assert_eq!(
            (error.kind(), inner.call_times().len()),
            (ErrorKind::Http, 1)
        );
        let inner = Arc::new(Scripted::new([fault(Again::Soon), fault(Again::Soon)]));
        let error = layer(&inner, 1)
            .complete(&request("x"), None)
            .await
            .unwrap_err();
        assert_eq!((error.status(), inner.call_times().len()), (Some(503), 2));
    }

    #[tokio::test(start_paused = true)]
    async fn no_retry_waits_past_the_deadline() {
        let inner = Arc::new(Scripted::new([fault(Again::After(Duration::from_secs(
            30,
        )))]));
        let deadline = Instant::now() + Duration::from_secs(10);
        let error = layer(&inner, 3)
            .complete(&request("x"), Some(deadline))
            .await
            .unwrap_err();
        assert_eq!(error.status(), Some(503));
        assert_eq!(inner.call_times().len(), 1);
        assert!(Instant::now() < deadline, "it gave up at once");
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_is_sent_again_only_before_its_first_delta() {
        let inner = Arc::new(Scripted::paced([
            Answer {
                delay: Duration::ZERO,
                result: fault(Again::Soon),
            },
            Answer {
                delay: Duration::ZERO,
                result: Ok(completion("{}", 1, 1)),
            },
        ]));
        let deltas: Vec<_> = Arc::new(layer(&inner, 2))
            .stream(request("x").into(), None)
            .collect()
            .await;
        assert!(deltas.iter().all(Result::is_ok), "{deltas:?}");
        assert_eq!(deltas[0].as_ref().unwrap(), &Delta::Content("{}".into()));
        assert_eq!(inner.call_times().len(), 2);
    }

    #[test]
    fn backoff_doubles_per_retry_up_to_its_cap_less_some_jitter() {
        let policy = (Duration::from_millis(100), Duration::from_secs(1));
        let first = backoff(policy, 0);
        assert!(first >= Duration::from_millis(75) && first <= Duration::from_millis(100));
        let third = backoff(policy, 2);
        assert!(third >= Duration::from_millis(300) && third <= Duration::from_millis(400));
        assert!(backoff(policy, 40) <= Duration::from_secs(1));
    }
}
