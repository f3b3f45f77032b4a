//! What the benches share: the timing every figure is read from.

use std::time::{Duration, Instant};

/// The fastest of `runs` timings of `f`: on a shared machine the minimum is the least
/// noisy estimate.
pub(crate) fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}
