# bench/tools/lib.sh - sourced by the bench/tools/*.sh scripts (run.sh sources it for
# routing_config only and keeps its own, richer process handling): a work directory and the
# processes started, stopped by PID on exit; free loopback ports; the mock upstream.
#
#   bench_init NAME        WORK=<fresh temp dir>, PIDS=(), cleanup on exit; SERVER_PIN and
#                          CLIENT_PIN: command prefixes that put servers on the last CPU and
#                          the load generator on CPU 0 when there are two or more (else empty)
#   free_port              a free port on 127.0.0.1
#   wait_port PORT         until something accepts on 127.0.0.1:PORT (5 s at most)
#   start_mock [PIN...]    builds bench/mock_upstream.c, starts it (behind the optional command
#                          prefix, e.g. taskset -c 1) and sets MOCK_PORT
#   routing_config PORT    prints a one-worker Baton config on PORT in front of the mock: the
#                          fixed model `bench-model` and route `auto` over 10 candidates with
#                          different prices and qualities
# Expects ROOT (the repository) to be set.

bench_init() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/baton-$1.XXXXXX")
  PIDS=()
  trap bench_cleanup EXIT
  SERVER_PIN=()
  CLIENT_PIN=()
  local ncpu
  ncpu=$(nproc)
  if ((ncpu >= 2)); then SERVER_PIN=(taskset -c $((ncpu - 1))); CLIENT_PIN=(taskset -c 0); fi
}

bench_cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.3
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

start_mock() {
  cc -O2 -o "$WORK/mock" "$ROOT/bench/mock_upstream.c"
  # (exec in its own subshell: $! is the mock's own PID, whatever the prefix)
  (exec "$@" "$WORK/mock" --port 0 >"$WORK/mock.log" 2>&1) &
  PIDS+=($!)
  MOCK_PORT=""
  for _ in $(seq 100); do
    MOCK_PORT=$(sed -n 's#^listening on http://127.0.0.1:\([0-9]*\)$#\1#p' "$WORK/mock.log")
    [[ -n $MOCK_PORT ]] && return 0
    sleep 0.05
  done
  cat "$WORK/mock.log" >&2
  return 1
}

routing_config() {
  cat <<EOF
server: {listen: 127.0.0.1:$1, threads: 1}
logging: {level: warn, access_log: off}
providers:
  - {name: up, kind: openai, base_url: http://127.0.0.1:$MOCK_PORT/v1, max_connections: 256}
models:
  - {name: bench-model, provider: up, upstream_model: gpt-4o-mini, context_window: 128000}
EOF
  local i
  for i in $(seq 0 9); do
    # prices from 0.10 to 4.60 per million input tokens, qualities from 0.50 to 0.95
    echo "  - {name: cand-$i, provider: up, upstream_model: gpt-4o-mini, context_window: 128000," \
         "price: {input: 0.$((10 + i * 5)), output: $((1 + i)).0}, quality: 0.$((50 + i * 5))}"
  done
  echo "routes:"
  echo "  - {name: auto, candidates: [cand-0, cand-1, cand-2, cand-3, cand-4, cand-5, cand-6, cand-7, cand-8, cand-9]}"
}
