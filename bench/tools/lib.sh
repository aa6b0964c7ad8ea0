# bench/tools/lib.sh - sourced by the bench/tools/*.sh scripts (run.sh keeps its own, richer
# process handling): a work directory and the processes started, stopped by PID on exit; free
# loopback ports; the mock upstream.
#
#   bench_init NAME        WORK=<fresh temp dir>, PIDS=(), cleanup on exit
#   free_port              a free port on 127.0.0.1
#   wait_port PORT         until something accepts on 127.0.0.1:PORT (5 s at most)
#   start_mock [PIN...]    builds bench/mock_upstream.c, starts it (behind the optional command
#                          prefix, e.g. taskset -c 1) and sets MOCK_PORT
# Expects ROOT (the repository) to be set.

bench_init() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/baton-$1.XXXXXX")
  PIDS=()
  trap bench_cleanup EXIT
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
