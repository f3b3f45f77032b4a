//! The client-wide pause: after a 429 or 503 with `Retry-After` on any request, no new
//! request of the client (or of any of its clones) starts before the time the server
//! named. Requests already sent finish as usual; only starts wait.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// "No new request before this instant", shared by every request of one transport.
#[derive(Debug, Default)]
pub(crate) struct Pause {
    until: Mutex<Option<Instant>>,
}

impl Pause {
    /// Holds back new requests for `delay` from now, unless a later hold is already set.
    pub(crate) fn hold_for(&self, delay: Duration) {
        let until = Instant::now() + delay;
        let mut held = self
            .until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if held.is_none_or(|held| held < until) {
            *held = Some(until);
        }
    }

    /// When new requests may start again, if a hold is still in force.
    pub(crate) fn until(&self) -> Option<Instant> {
        let held = *self
            .until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        held.filter(|until| *until > Instant::now())
    }

    /// Waits until no hold is in force. A hold set while waiting is waited for too.
    pub(crate) async fn wait(&self) {
        while let Some(until) = self.until() {
            tokio::time::sleep_until(until).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_hold_delays_waiters_and_only_grows() {
        let pause = Pause::default();
        let start = Instant::now();
        pause.wait().await;
        assert_eq!(start.elapsed(), Duration::ZERO, "no hold, no wait");
        pause.hold_for(Duration::from_secs(5));
        pause.hold_for(Duration::from_secs(2));
        pause.wait().await;
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(5),
            "the shorter hold does not shorten"
        );
        assert_eq!(pause.until(), None);
    }
}
