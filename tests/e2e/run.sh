#!/usr/bin/env bash
# End-to-end tests: starts the gateway on an ephemeral port with a mock-only config, runs the
# node:test suites (official `openai` npm client) against it, then stops it with SIGTERM.
# A second gateway with the same config plus server.tls (a throwaway CA made with the openssl
# CLI) serves tls.test.mjs over HTTPS. providers.test.mjs starts its own gateway (BATON_BIN, exported
# below) in front of in-process fake OpenAI- and Anthropic-format upstreams, and also uses the
# official `@anthropic-ai/sdk` client.
#
#   BATON_BIN=build/asan/baton ./tests/e2e/run.sh      # from the repository root (make test)
#
# Exits non-zero when a test fails, the gateway does not come up, or the gateway exits non-zero
# (which includes sanitizer reports at shutdown). ASAN_OPTIONS/UBSAN_OPTIONS are passed through.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
E2E="$ROOT/tests/e2e"

BIN="${BATON_BIN:-build/asan/baton}"
# BATON_BIN is relative to the caller's directory (normally the repo root); fall back to ROOT.
if [[ "$BIN" != /* ]]; then
  if [[ -e "$PWD/$BIN" ]]; then BIN="$PWD/$BIN"; else BIN="$ROOT/$BIN"; fi
fi
if [[ ! -x "$BIN" ]]; then
  echo "e2e: gateway binary not found or not executable: $BIN (set BATON_BIN)" >&2
  exit 1
fi

START_TIMEOUT_S=15   # gateway must print its listening line within this
STOP_TIMEOUT_S=35    # SIGTERM drain (server.timeouts.drain defaults to 30 s) plus slack
TEST_TIMEOUT_S=300   # whole node --test run

# ---- npm dependencies (scripts/install-deps.sh normally did this already) ------------------
if [[ ! -d "$E2E/node_modules/openai" || ! -d "$E2E/node_modules/@anthropic-ai/sdk" ]]; then
  echo "e2e: installing npm packages (npm ci)" >&2
  (cd "$E2E" && npm ci --no-audit --no-fund --loglevel=error)
fi

# ---- temp dir, config, cleanup ---------------------------------------------------------------
TMP="$(mktemp -d "${TMPDIR:-/tmp}/baton-e2e.XXXXXX")"
CONFIG="$TMP/baton.yaml"
GW_OUT="$TMP/gateway.stdout"
GW_ERR="$TMP/gateway.stderr"
GW_PID=""
# A second gateway with server.tls for tls.test.mjs (its certificates are made below).
TLS_DIR="$TMP/tls"
TLS_CONFIG="$TMP/baton-tls.yaml"
TLS_ERR="$TMP/gateway-tls.stderr"
TLS_PID=""
FAILED=1   # cleared only on full success

cat >"$CONFIG" <<'YAML'
server: {listen: 127.0.0.1:0, threads: 2}
logging: {level: info, access_log: off}
providers:
  - {name: demo, kind: mock, mock: {latency: 5ms, tokens: 12, chunk_delay: 2ms}}
  - {name: broken, kind: mock, mock: {error_rate: 1.0, error_statuses: [503]}}
models:
  - {name: demo-small, provider: demo}
  - {name: always-fails, provider: broken}
YAML

dump_gateway_output() {
  echo "---- gateway stderr ($GW_ERR) ----" >&2
  cat "$GW_ERR" >&2 2>/dev/null || true
  if [[ -s "$GW_OUT" ]]; then
    echo "---- gateway stdout ----" >&2
    cat "$GW_OUT" >&2 2>/dev/null || true
  fi
  echo "---- end of gateway output ----" >&2
}

cleanup() {
  local rc=$?
  set +e
  if [[ -n "$TLS_PID" ]] && kill -0 "$TLS_PID" 2>/dev/null; then
    kill -KILL "$TLS_PID" 2>/dev/null
    wait "$TLS_PID" 2>/dev/null
  fi
  if [[ -n "$GW_PID" ]] && kill -0 "$GW_PID" 2>/dev/null; then
    kill -TERM "$GW_PID" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$GW_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$GW_PID" 2>/dev/null
    wait "$GW_PID" 2>/dev/null
  fi
  if [[ $rc -ne 0 || $FAILED -ne 0 ]]; then
    dump_gateway_output
    echo "---- TLS gateway stderr ($TLS_ERR) ----" >&2
    cat "$TLS_ERR" >&2 2>/dev/null || true
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- start the gateway -----------------------------------------------------------------------
cd "$ROOT"
"$BIN" --config "$CONFIG" >"$GW_OUT" 2>"$GW_ERR" &
GW_PID=$!

PORT=""
deadline=$(( $(date +%s) + START_TIMEOUT_S ))
while :; do
  line="$(grep -aoE 'listening on http://127\.0\.0\.1:[0-9]+' "$GW_ERR" 2>/dev/null | head -n1 || true)"
  if [[ -n "$line" ]]; then
    PORT="${line##*:}"
    break
  fi
  if ! kill -0 "$GW_PID" 2>/dev/null; then
    set +e; wait "$GW_PID"; gw_rc=$?; set -e
    GW_PID=""
    echo "e2e: gateway exited with status $gw_rc before it was listening" >&2
    exit 1
  fi
  if (( $(date +%s) >= deadline )); then
    echo "e2e: gateway did not print 'listening on http://127.0.0.1:<port>' within ${START_TIMEOUT_S}s" >&2
    exit 1
  fi
  sleep 0.1
done
if [[ -z "$PORT" || "$PORT" == 0 ]]; then
  echo "e2e: gateway reported an invalid port '$PORT'" >&2
  exit 1
fi

export BATON_URL="http://127.0.0.1:$PORT/v1"
echo "e2e: gateway pid $GW_PID listening on $BATON_URL" >&2

# ---- the HTTPS gateway (tls.test.mjs): a throwaway CA and a server certificate for 127.0.0.1 --
mkdir -p "$TLS_DIR"
(
  cd "$TLS_DIR"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=Baton e2e CA" -keyout ca.key -out ca.pem \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout server.key -out server.csr 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n' >server.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile server.ext -out server.pem 2>/dev/null
) || { echo "e2e: openssl could not make the TLS test certificates" >&2; exit 1; }
sed 's#^server: {listen: 127.0.0.1:0, threads: 2}$#server: {listen: 127.0.0.1:0, threads: 2, tls: {cert_file: tls/server.pem, key_file: tls/server.key}}#' \
  "$CONFIG" >"$TLS_CONFIG"
grep -q 'tls: {cert_file' "$TLS_CONFIG" || { echo "e2e: could not derive the TLS config" >&2; exit 1; }
"$BIN" --config "$TLS_CONFIG" >/dev/null 2>"$TLS_ERR" &
TLS_PID=$!
TLS_PORT=""
deadline=$(( $(date +%s) + START_TIMEOUT_S ))
while [[ -z "$TLS_PORT" ]]; do
  line="$(grep -aoE 'listening on https://127\.0\.0\.1:[0-9]+' "$TLS_ERR" 2>/dev/null | head -n1 || true)"
  [[ -n "$line" ]] && TLS_PORT="${line##*:}"
  if [[ -z "$TLS_PORT" ]] && { ! kill -0 "$TLS_PID" 2>/dev/null || (( $(date +%s) >= deadline )); }; then
    echo "e2e: the TLS gateway did not print 'listening on https://127.0.0.1:<port>'" >&2
    exit 1
  fi
  [[ -n "$TLS_PORT" ]] || sleep 0.1
done
export BATON_TLS_URL="https://127.0.0.1:$TLS_PORT/v1"
export BATON_TLS_CA="$TLS_DIR/ca.pem"
# The openai SDK uses Node's fetch, which trusts NODE_EXTRA_CA_CERTS (read at node start).
export NODE_EXTRA_CA_CERTS="$BATON_TLS_CA"
echo "e2e: TLS gateway pid $TLS_PID listening on $BATON_TLS_URL" >&2

# ---- run the tests ---------------------------------------------------------------------------
# providers.test.mjs spawns its own gateway from this binary (absolute path).
export BATON_BIN="$BIN"
shopt -s nullglob
TEST_FILES=("$E2E"/*.test.mjs)
shopt -u nullglob
if [[ ${#TEST_FILES[@]} -eq 0 ]]; then
  echo "e2e: no tests/e2e/*.test.mjs files" >&2
  exit 1
fi

TIMEOUT_CMD=()
if command -v timeout >/dev/null; then TIMEOUT_CMD=(timeout --kill-after=10 "$TEST_TIMEOUT_S"); fi

set +e
"${TIMEOUT_CMD[@]}" node --test --test-reporter=spec "${TEST_FILES[@]}"
test_rc=$?
set -e
if [[ $test_rc -ne 0 ]]; then
  echo "e2e: node --test failed (status $test_rc)" >&2
fi

# ---- stop the gateway ------------------------------------------------------------------------
gw_rc=0
if kill -0 "$GW_PID" 2>/dev/null; then
  kill -TERM "$GW_PID"
  stopped=0
  for _ in $(seq 1 $(( STOP_TIMEOUT_S * 10 ))); do
    if ! kill -0 "$GW_PID" 2>/dev/null; then stopped=1; break; fi
    sleep 0.1
  done
  if [[ $stopped -eq 0 ]]; then
    echo "e2e: gateway did not exit within ${STOP_TIMEOUT_S}s of SIGTERM; killing it" >&2
    kill -KILL "$GW_PID" 2>/dev/null || true
  fi
  set +e; wait "$GW_PID"; gw_rc=$?; set -e
  [[ $stopped -eq 1 ]] || gw_rc=1
else
  echo "e2e: gateway died during the tests" >&2
  set +e; wait "$GW_PID"; gw_rc=$?; set -e
  [[ $gw_rc -ne 0 ]] || gw_rc=1
fi
GW_PID=""
if [[ $gw_rc -ne 0 ]]; then
  echo "e2e: gateway exited with status $gw_rc" >&2
fi
# The TLS gateway: same SIGTERM drain and exit status check.
if kill -0 "$TLS_PID" 2>/dev/null; then
  kill -TERM "$TLS_PID"
  for _ in $(seq 1 $(( STOP_TIMEOUT_S * 10 ))); do kill -0 "$TLS_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$TLS_PID" 2>/dev/null || true
fi
set +e; wait "$TLS_PID"; tls_rc=$?; set -e
TLS_PID=""
if [[ $tls_rc -ne 0 ]]; then
  echo "e2e: TLS gateway exited with status $tls_rc" >&2
  gw_rc=1
fi

if [[ $test_rc -ne 0 || $gw_rc -ne 0 ]]; then
  exit 1
fi
FAILED=0
echo "e2e: all tests passed, gateway exited cleanly" >&2
