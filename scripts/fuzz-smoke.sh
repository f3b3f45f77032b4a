#!/usr/bin/env bash
# Runs each fuzz target in fuzz/ for a short time (default 20 s), as CI's smoke check that
# no target panics on what it finds quickly. Longer runs are by hand: see CONTRIBUTING.md.
#
#   scripts/fuzz-smoke.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "[fuzz] installing cargo-fuzz from crates.io (first run only)"
  cargo install -q cargo-fuzz --locked
fi
cd fuzz
# cargo-fuzz passes nightly-only flags; RUSTC_BOOTSTRAP lets the stable toolchain take them.
export RUSTC_BOOTSTRAP=1
log=$(mktemp)
for target in $(cargo fuzz list); do
  echo "[fuzz] $target for ${seconds}s"
  # No sanitizer: the crate forbids unsafe code, and the smoke run looks for panics and wrong
  # values, not memory errors; the ASan build cost two more minutes of a CI run.
  if ! cargo fuzz run --sanitizer none "$target" -- -max_total_time="$seconds" -timeout=5 \
    -rss_limit_mb=2048 -max_len=4096 >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "[fuzz] $target failed: a crash, a timeout or a build error (fuzz/artifacts/$target)"
    exit 1
  fi
  grep -E "^#[0-9]+ +DONE|^Done" "$log" || tail -n 2 "$log"
done
rm -f "$log"
