//! [`RateLimited`]: a call waits until the rate limits allow it, charged from an estimate
//! of its tokens and settled from the usage its reply reports (for a stream, when the
//! stream ends or is dropped).

use std::sync::Arc;

use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream, StreamExt as _};
use tokio::time::Instant;

use crate::Result;
use crate::batch::limits::Limits;
use crate::transport::{Completion, Delta, Transport};
use crate::wire::{ChatRequest, Usage};

#[derive(Debug)]
pub(crate) struct RateLimited {
    inner: Arc<dyn Transport>,
    limits: Arc<Limits>,
}

impl RateLimited {
    pub(crate) fn new(inner: Arc<dyn Transport>, limits: Arc<Limits>) -> RateLimited {
        RateLimited { inner, limits }
    }
}

impl Transport for RateLimited {
    fn complete<'a>(
        &'a self,
        request: &'a ChatRequest,
        deadline: Option<Instant>,
    ) -> BoxFuture<'a, Result<Completion>> {
        Box::pin(async move {
            let charged = self.limits.acquire(request).await;
            let done = self.inner.complete(request, deadline).await;
            self.limits
                .settle(charged, done.as_ref().ok().and_then(|c| c.usage));
            done
        })
    }

    fn stream(
        self: Arc<Self>,
        request: Arc<ChatRequest>,
        deadline: Option<Instant>,
    ) -> BoxStream<'static, Result<Delta>> {
        let opened = async move {
            let charged = self.limits.acquire(&request).await;
            let mut charge = Charge {
                limits: Arc::clone(&self.limits),
                charged,
                usage: None,
            };
            Arc::clone(&self.inner)
                .stream(request, deadline)
                .inspect(move |delta| charge.saw(delta))
        };
        stream::once(opened).flatten().boxed()
    }

    ask_the_inner_transport!();
}

/// A stream's charge, settled when the stream is dropped, whether it ended or not.
struct Charge {
    limits: Arc<Limits>,
    charged: u64,
    usage: Option<Usage>,
}

impl Charge {
    /// Keeps the usage a stream reports, for the settling.
    fn saw(&mut self, delta: &Result<Delta>) {
        if let Some(usage) = delta.as_ref().ok().and_then(Delta::usage) {
            self.usage = Some(usage);
        }
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.limits.settle(self.charged, self.usage);
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;
    use std::time::Duration;

    use super::*;
    use crate::transport::scripted::{Scripted, completion, request};

    #[tokio::test(start_paused = true)]
    async fn calls_and_streams_share_one_limit() {
        let answers = (0..4).map(|_| Ok(completion("{}", 1, 1)));
        let inner = Arc::new(Scripted::new(answers));
        let limits = Limits::new(NonZeroU32::new(60), None)
            .map(Arc::new)
            .unwrap();
        let layer = Arc::new(RateLimited::new(
            Arc::clone(&inner) as Arc<dyn Transport>,
            limits,
        ));
        let start = Instant::now();
        layer.complete(&request("x"), None).await.unwrap();
        let _: Vec<_> = Arc::clone(&layer)
            .stream(request("x").into(), None)
            .collect()
            .await;
        layer.complete(&request("x"), None).await.unwrap();
        let _: Vec<_> = Arc::clone(&layer)
            .stream(request("x").into(), None)
            .collect()
            .await;
        let calls: Vec<Duration> = inner.call_times().iter().map(|t| *t - start).collect();
        // 60 a minute: a burst of one, then one a second, streams and calls alike.
        assert_eq!(calls, [0, 1, 2, 3].map(Duration::from_secs));
    }
}
