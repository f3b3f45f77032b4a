#!/usr/bin/env bash
# The project's test command: starts the local llama-server that the end-to-end tests use
# (building it on first run, about 7 minutes on 2 cores), then runs every test of the core
# crates (the workspace's default members: factum-datafusion has its own command,
# scripts/test-datafusion.sh).
#
#   scripts/test.sh [extra cargo test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/llama-server.sh start
export FACTUM_LLAMA_URL="${FACTUM_LLAMA_URL:-$(scripts/llama-server.sh url)}"
cargo test --all-features "$@"
