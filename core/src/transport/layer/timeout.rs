//! The timeout: a call ends at the per-attempt timeout or at the run's deadline, whichever
//! comes first. For a stream the timeout bounds its opening and every gap between two
//! deltas, and the deadline the whole of it.

use std::time::Duration;

use tokio::time::Instant;

use crate::Error;
use crate::error::Again;

/// The per-attempt timeout, with the deadline it yields to.
#[derive(Debug)]
pub(super) struct Clock {
    timeout: Option<Duration>,
}

impl Clock {
    pub(super) fn new(timeout: Option<Duration>) -> Clock {
        Clock { timeout }
    }

    /// When a wait that began at `since` ends, and what ends it: the deadline (`true`), or
    /// the timeout (worth another try). The error is made only when the wait runs out: a
    /// wait is set up for every delta of every reply, and nearly all of them end in time.
    pub(super) fn end(&self, since: Instant, deadline: Option<Instant>) -> Option<(Instant, bool)> {
        let attempt_end = self.timeout.map(|t| since + t);
        match (attempt_end, deadline) {
            (Some(a), Some(d)) if d <= a => Some((d, true)),
            (Some(a), _) => Some((a, false)),
            (None, Some(d)) => Some((d, true)),
            (None, None) => None,
        }
    }

    /// The error a wait that ran out ends with.
    pub(super) fn ran_out(&self, deadline: bool) -> Error {
        if deadline {
            Error::deadline_reached()
        } else {
            Error::timeout(self.timeout.unwrap_or_default()).again(Again::Soon)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use futures_util::StreamExt as _;

    use super::*;
    use crate::ErrorKind;
    use crate::transport::Transport as _;
    use crate::transport::layer::Guarded;
    use crate::transport::scripted::{Answer, Scripted, completion, request};

    /// A layer with `timeout`, around a transport that answers after `delay` (for a stream:
    /// each delta after `delay`).
    fn slow(delay: Duration, timeout: Duration) -> Guarded {
        let inner = Arc::new(Scripted::paced([Answer {
            delay,
            result: Ok(completion("{}", 1, 1)),
        }]));
        Guarded::around(inner).timeout(timeout)
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_past_the_timeout_ends_as_a_timeout_worth_another_try() {
        let layer = slow(Duration::from_secs(10), Duration::from_secs(2));
        let start = Instant::now();
        let error = layer.complete(&request("x"), None).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Timeout);
        assert_eq!(error.again_hint(), Again::Soon);
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_deadline_before_the_timeout_ends_the_call_as_a_deadline() {
        let layer = slow(Duration::from_secs(10), Duration::from_secs(5));
        let deadline = Instant::now() + Duration::from_secs(1);
        let error = layer
            .complete(&request("x"), Some(deadline))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Deadline);
        assert_eq!(error.again_hint(), Again::Never);
        assert_eq!(Instant::now(), deadline);
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_in_time_passes_through() {
        let layer = slow(Duration::from_secs(1), Duration::from_secs(2));
        let done = layer.complete(&request("x"), None).await.unwrap();
        assert_eq!(done.content.as_deref(), Some("{}"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_is_timed_per_gap_and_ends_at_its_first_error() {
        // Each delta comes 1.5 s after the one before: under a 2 s timeout every gap is
        // in time, though the whole stream takes longer.
        let layer = Arc::new(slow(Duration::from_millis(1500), Duration::from_secs(2)));
        let deltas: Vec<_> = layer.stream(request("x").into(), None).collect().await;
        assert!(deltas.iter().all(Result::is_ok), "{deltas:?}");
        assert!(deltas.len() >= 3);
        // A 1 s timeout cuts it at the first gap, with one error and nothing after it.
        let layer = Arc::new(slow(Duration::from_millis(1500), Duration::from_secs(1)));
        let deltas: Vec<_> = layer.stream(request("x").into(), None).collect().await;
        assert_eq!(deltas.len(), 1);
        assert_eq!(deltas[0].as_ref().unwrap_err().kind(), ErrorKind::Timeout);
    }
}
