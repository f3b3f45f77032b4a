//! The client-wide pause. After a 429 or 503 that names a delay on any call of
//! the client (or of its clones), no new call starts before the time the server named;
//! calls already under way finish as usual. A call whose deadline comes before the pause
//! ends fails at once.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::Again;
use crate::{Error, Result};

/// "No new call before this instant", shared by every call of one client.
#[derive(Debug, Default)]
pub(crate) struct Pause {
    until: Mutex<Option<Instant>>,
}

impl Pause {
    /// Holds back new calls for `delay` from now, unless a later hold is already set.
    fn hold_for(&self, delay: Duration) {
        let until = Instant::now() + delay;
        let mut held = self
            .until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if held.is_none_or(|held| held < until) {
            *held = Some(until);
        }
    }

    /// When new calls may start again, if a hold is still in force.
    pub(super) fn until(&self) -> Option<Instant> {
        let held = *self
            .until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        held.filter(|until| *until > Instant::now())
    }

    /// Waits until no hold is in force (a hold set while waiting is waited for too), or
    /// fails at once when the hold outlasts `deadline`.
    pub(super) async fn wait(&self, deadline: Option<Instant>) -> Result<()> {
        while let Some(until) = self.until() {
            if deadline.is_some_and(|deadline| until >= deadline) {
                return Err(Error::deadline_reached());
            }
            tokio::time::sleep_until(until).await;
        }
        Ok(())
    }

    /// Sets the hold a fault asks for: a 429 or 503 with a delay.
    pub(super) fn after(&self, error: &Error) {
        if let (Some(429 | 503), Again::After(delay)) = (error.status(), error.again_hint()) {
            self.hold_for(delay);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::ErrorKind;
    use crate::transport::Transport as _;
    use crate::transport::layer::Guarded;
    use crate::transport::scripted::{Scripted, completion, request};

    #[tokio::test(start_paused = true)]
    async fn a_hold_delays_waiters_and_only_grows() {
        let pause = Pause::default();
        let start = Instant::now();
        pause.wait(None).await.unwrap();
        assert_eq!(start.elapsed(), Duration::ZERO, "no hold, no wait");
        pause.hold_for(Duration::from_secs(5));
        pause.hold_for(Duration::from_secs(2));
        pause.wait(None).await.unwrap();
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(5),
            "the shorter hold does not shorten"
        );
        assert_eq!(pause.until(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_with_a_delay_holds_back_the_next_call_and_a_deadline_before_it_fails_at_once() {
        let busy = Error::http(429, "slow down".into(), String::new())
            .again(Again::After(Duration::from_secs(4)));
        let inner = Arc::new(Scripted::new([Err(busy), Ok(completion("{}", 1, 1))]));
        let layer = Guarded::around(Arc::clone(&inner) as _);
        let start = Instant::now();
        assert_eq!(
            layer
                .complete(&request("x"), None)
                .await
                .unwrap_err()
                .status(),
            Some(429)
        );
        let soon = Instant::now() + Duration::from_secs(1);
        let error = layer.complete(&request("x"), Some(soon)).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Deadline);
        assert_eq!(
            inner.call_times().len(),
            1,
            "nothing was sent into the pause"
        );
        layer.complete(&request("x"), None).await.unwrap();
        assert_eq!(inner.call_times()[1] - start, Duration::from_secs(4));
    }
}
