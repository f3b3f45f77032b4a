#!/usr/bin/env bash
# The peer benchmark: factum against Python instructor (JSON_SCHEMA, JSON and MD_JSON
# modes) on the local llama-server with SmolLM2-135M, over tests/data/people.jsonl.
# Prints one table: success rate, model calls per success, prompt tokens per call as the
# server counts them, exact-match accuracy per field, wall time.
#
#   scripts/peer-bench.sh
#
# It needs the server (scripts/llama-server.sh start; FACTUM_LLAMA_URL overrides its URL)
# and installs instructor in a venv under ~/.cache/factum/ on first run. A benchmark, not a
# test: CI does not run it.
set -euo pipefail
cd "$(dirname "$0")/.."
url="${FACTUM_LLAMA_URL:-http://127.0.0.1:8089/v1}"
venv="${FACTUM_PEER_VENV:-$HOME/.cache/factum/peer-venv}"
data="tests/data/people.jsonl"

if ! curl -fsS "${url%/v1}/health" >/dev/null; then
  echo "no llama-server answers at $url: run scripts/llama-server.sh start" >&2
  exit 1
fi
# email-validator gives the instructor Person the same email check as factum's.
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import instructor, email_validator' 2>/dev/null; then
  echo "installing instructor and email-validator into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q instructor openai email-validator
fi

results=$(mktemp)
trap 'rm -f "$results"' EXIT
FACTUM_LLAMA_URL="$url" cargo bench -q -p factum-tests --bench peer >>"$results"
for mode in JSON_SCHEMA JSON MD_JSON; do
  "$venv/bin/python" scripts/peer_instructor.py "$mode" "$url" "$data" >>"$results"
done

python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
head = f"{'system':<24}{'success':>8}{'calls/ok':>10}{'prompt/call':>12}{'name':>7}{'age':>7}{'email':>7}{'wall s':>8}"
print(head)
print("-" * len(head))
for r in rows:
    a = r["accuracy"]
    print(f"{r['system'] + ' ' + r['mode']:<24}{r['success_rate']:>8.2f}{r['calls_per_success']:>10.2f}"
          f"{r['prompt_tokens_per_call']:>12.1f}{a['name']:>7.2f}{a['age']:>7.2f}{a['email']:>7.2f}{r['wall_secs']:>8.1f}")
PY
