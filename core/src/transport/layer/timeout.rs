//! [`Timeout`]: a call ends at the per-attempt timeout or at the run's deadline, whichever
//! comes first. For a stream the timeout bounds its opening and every gap between two
//! deltas, and the deadline the whole of it.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream, StreamExt as _};
use tokio::time::Instant;

use crate::error::Again;
use crate::transport::{Completion, Delta, Transport};
use crate::wire::ChatRequest;
use crate::{Error, Result};

#[derive(Debug)]
pub(crate) struct Timeout {
    inner: Arc<dyn Transport>,
    timeout: Option<Duration>,
}

impl Timeout {
    pub(crate) fn new(inner: Arc<dyn Transport>, timeout: Option<Duration>) -> Timeout {
        Timeout { inner, timeout }
    }

    /// When the next wait ends, and what ends it: the deadline (`true`), or the timeout
    /// (worth another try). The error is made only when the wait runs out: a wait is set
    /// up for every delta of every reply, and nearly all of them end in time.
    fn end(&self, deadline: Option<Instant>) -> Option<(Instant, bool)> {
        let attempt_end = self.timeout.map(|t| Instant::now() + t);
        match (attempt_end, deadline) {
            (Some(a), Some(d)) if d <= a => Some((d, true)),
            (Some(a), _) => Some((a, false)),
            (None, Some(d)) => Some((d, true)),
            (None, None) => None,
        }
    }

    /// The error a wait that ran out ends with.
    fn ran_out(&self, deadline: bool) -> Error {
        if deadline {
            Error::deadline_reached()
        } else {
            Error::timeout(self.timeout.unwrap_or_default()).again(Again::Soon)
        }
    }
}

impl Transport for Timeout {
    fn complete<'a>(
        &'a self,
        request: &'a ChatRequest,
        deadline: Option<Instant>,
    ) -> BoxFuture<'a, Result<Completion>> {
        Box::pin(async move {
            let call = self.inner.complete(request, deadline);
            match self.end(deadline) {
                Some((end, by_deadline)) => tokio::time::timeout_at(end, call)
                    .await
                    .unwrap_or_else(|_| Err(self.ran_out(by_deadline))),
                None => call.await,
            }
        })
    }

    fn stream(
        self: Arc<Self>,
        request: Arc<ChatRequest>,
        deadline: Option<Instant>,
    ) -> BoxStream<'static, Result<Delta>> {
        let deltas = Arc::clone(&self.inner).stream(request, deadline);
        let state = (self, deltas, false);
        stream::unfold(state, move |(this, mut deltas, over)| async move {
            if over {
                return None;
            }
            let next = match this.end(deadline) {
                Some((end, by_deadline)) => tokio::time::timeout_at(end, deltas.next())
                    .await
                    .unwrap_or_else(|_| Some(Err(this.ran_out(by_deadline)))),
                None => deltas.next().await,
            }?;
            let over = next.is_err();
            Some((next, (this, deltas, over)))
        })
        .boxed()
    }

    ask_the_inner_transport!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::transport::scripted::{Answer, Scripted, completion, request};

    fn slow(delay: Duration) -> Arc<dyn Transport> {
        Arc::new(Scripted::paced([Answer {
            delay,
            result: Ok(completion("{}", 1, 1)),
        }]))
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_past_the_timeout_ends_as_a_timeout_worth_another_try() {
        let layer = Timeout::new(slow(Duration::from_secs(10)), Some(Duration::from_secs(2)));
        let start = Instant::now();
        let error = layer.complete(&request("x"), None).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Timeout);
        assert_eq!(error.again_hint(), Again::Soon);
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_deadline_before_the_timeout_ends_the_call_as_a_deadline() {
        let layer = Timeout::new(slow(Duration::from_secs(10)), Some(Duration::from_secs(5)));
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
        let layer = Timeout::new(slow(Duration::from_secs(1)), Some(Duration::from_secs(2)));
        let done = layer.complete(&request("x"), None).await.unwrap();
        assert_eq!(done.content.as_deref(), Some("{}"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_is_timed_per_gap_and_ends_at_its_first_error() {
        // Each delta comes 1.5 s after the one before: under a 2 s timeout every gap is
        // in time, though the whole stream takes longer.
        let inner = slow(Duration::from_millis(1500));
        let layer = Arc::new(Timeout::new(inner, Some(Duration::from_secs(2))));
        let deltas: Vec<_> = layer.stream(request("x").into(), None).collect().await;
        assert!(deltas.iter().all(Result::is_ok), "{deltas:?}");
        assert!(deltas.len() >= 3);
        // A 1 s timeout cuts it at the first gap, with one error and nothing after it.
        let inner = slow(Duration::from_millis(1500));
        let layer = Arc::new(Timeout::new(inner, Some(Duration::from_secs(1))));
        let deltas: Vec<_> = layer.stream(request("x").into(), None).collect().await;
        assert_eq!(deltas.len(), 1);
        assert_eq!(deltas[0].as_ref().unwrap_err().kind(), ErrorKind::Timeout);
    }
}
