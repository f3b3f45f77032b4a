#!/usr/bin/env bash
# The tests of factum-datafusion (datafusion/): the UDF against a loopback stand-in and,
# end to end, against the local llama-server, which this starts first. Kept apart from
# scripts/test.sh so that the core crates' test command never builds DataFusion (about
# 17 minutes cold on 2 cores).
#
#   scripts/test-datafusion.sh [extra cargo test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/llama-server.sh start
export FACTUM_LLAMA_URL="${FACTUM_LLAMA_URL:-$(scripts/llama-server.sh url)}"
cargo test -p factum-datafusion --all-features "$@"
