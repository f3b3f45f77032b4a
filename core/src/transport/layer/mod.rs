//! The policies around one model call, in layers that are each a [`Transport`] wrapping a
//! [`Transport`]:
//!
//! ```text
//! RateLimited (a batch's) → RateLimited (the client's) → Guarded → HTTP | local
//! ```
//!
//! - [`RateLimited`]: waits until the rate limits allow the call, charged from an
//!   estimate, settled from the usage reported;
//! - [`Guarded`]: the rules every call goes through, applied in this order by one layer:
//!   - the retry ([`retry`]): sends a call again after a fault its transport marked as
//!     worth another try ([`Again`](crate::error::Again)), with exponential backoff and
//!     jitter or the delay the server named, never past the deadline;
//!   - the gate ([`gate`]): at most the client's adaptive limit of calls in flight; a
//!     shared-slot overflow (llama-server's 500 "Context size has been exceeded.") lowers
//!     it and is sent again once the calls in flight drain;
//!   - the pause ([`pause`]): no call starts while the client-wide pause after a 429 or
//!     503 with `Retry-After` is in force, and such a reply sets it;
//!   - the timeout ([`timeout`]): a call (for a stream: its opening and every gap between
//!     deltas) ends at the per-attempt timeout or at the deadline, whichever comes first.
//!
//! The rules that say *what* is worth another try (the statuses, `x-should-retry`,
//! `retry-after-ms`, the fatal list) stay with the transport that read the reply; the
//! layers only act on its verdict. The deadline is the run's: a layer that reaches it
//! ends the call with [`Error::deadline_reached`](crate::Error), and the run names its
//! length.
//!
//! Why not tower: tower's `Service` models one request and one response, with
//! `poll_ready` back-pressure. A model call here is a whole completion *or* a stream of
//! deltas, and a transport also answers `models` and `context_window`; so each layer is a
//! `Transport` around a `Transport`, which is tower's `Layer` idea without the parts
//! nothing here would use.

use std::sync::Arc;
use std::time::Duration;

use super::Transport;
use crate::batch::limits::Limits;

/// The questions a layer does not change (the served models, the context window, the
/// slots), passed
/// to the transport it wraps, in `impl Transport for` a layer with an `inner` field.
macro_rules! ask_the_inner_transport {
    () => {
        fn models(&self) -> ::futures_util::future::BoxFuture<'_, Option<Vec<String>>> {
            self.inner.models()
        }

        fn context_window<'a>(
            &'a self,
            model: &'a str,
        ) -> ::futures_util::future::BoxFuture<'a, Option<u32>> {
            self.inner.context_window(model)
        }

        fn slots(&self) -> ::futures_util::future::BoxFuture<'_, Option<u32>> {
            self.inner.slots()
        }
    };
}

mod gate;
mod guard;
mod limit;
mod pause;
mod retry;
mod timeout;

pub(crate) use gate::Gate;
pub(crate) use guard::Guarded;
pub(crate) use limit::RateLimited;

/// What wraps a client's transport.
pub(crate) struct Policies {
    pub(crate) timeout: Option<Duration>,
    pub(crate) retries: u32,
    pub(crate) backoff: (Duration, Duration),
    pub(crate) limits: Option<Arc<Limits>>,
    pub(crate) gate: Arc<Gate>,
}

/// `transport` inside the client's layers, outermost first: rate limits, then the retry,
/// the gate, the pause and the timeout. (The gate is inside the retry, so a call sent again
/// enters it again, and outside the timeout, so waiting for a place is not counted against
/// an attempt.)
pub(crate) fn stack(transport: Arc<dyn Transport>, policies: Policies) -> Arc<dyn Transport> {
    let retries = (policies.retries, policies.backoff);
    let guarded: Arc<dyn Transport> = Arc::new(Guarded::new(
        transport,
        policies.timeout,
        retries,
        policies.gate,
    ));
    match policies.limits {
        Some(limits) => Arc::new(RateLimited::new(guarded, limits)),
        None => guarded,
    }
}
