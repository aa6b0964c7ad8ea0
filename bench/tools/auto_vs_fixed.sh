#!/usr/bin/env bash
# bench/tools/auto_vs_fixed.sh - req/s of `model: auto` (a route over 10 candidates with
# different prices and qualities) against a directly named model, same Baton, same mock.
#
#   bench/tools/auto_vs_fixed.sh           # ROUNDS=3 DURATION=4 CONNS=64
#
# One worker thread; Baton and the mock upstream on the last CPU, wrk on CPU 0 when there are
# two or more (as in run.sh). The difference is what routing costs per request: the feature
# scan of the prompt, policy::plan over 10 candidates and the decision headers. Uses
# build/release/baton and bench/mock_upstream.c; traffic to 127.0.0.1 only; every process
# started is stopped by PID on exit. Target (issue #8): auto >= 0.9x fixed.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-4}
CONNS=${CONNS:-64}
BATON_BIN=${BATON_BIN:-$ROOT/build/release/baton}
[[ -x $BATON_BIN ]] || { echo "auto_vs_fixed: $BATON_BIN missing (make build, or make bench once)" >&2; exit 1; }

# shellcheck source=bench/tools/lib.sh
source "$ROOT/bench/tools/lib.sh"
bench_init auto

# (servers are started through `exec` in their own subshell, so that $! is the server's PID)
pin_client() { "${CLIENT_PIN[@]}" "$@"; }

start_mock "${SERVER_PIN[@]}" || exit 1

port=$(free_port)
routing_config "$port" >"$WORK/baton.yaml"
"$BATON_BIN" --check "$WORK/baton.yaml" >/dev/null || { "$BATON_BIN" --check "$WORK/baton.yaml"; exit 1; }
(exec "${SERVER_PIN[@]}" "$BATON_BIN" --config "$WORK/baton.yaml" >"$WORK/baton.log" 2>&1) &
PIDS+=($!)
wait_port "$port" || { cat "$WORK/baton.log" >&2; exit 1; }
URL="http://127.0.0.1:$port/v1/chat/completions"

BATON_PID=${PIDS[-1]}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$BATON_PID/stat"; }  # utime + stime
run() {  # model -> "rps cpu_us_per_request" (and a check that every response was a 200)
  local out c0 c1
  c0=$(cpu_ticks)
  out=$(CHAT_MODEL="$1" pin_client wrk -t1 -c"$CONNS" -d"${DURATION}s" -s "$ROOT/bench/chat.lua" "$URL" | grep BENCH_RESULT)
  c1=$(cpu_ticks)
  if ! grep -q 'err_status=0 ' <<<"$out"; then echo "auto_vs_fixed: errors with model $1: $out" >&2; exit 1; fi
  awk -v line="$out" -v d=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" 'BEGIN {
    match(line, /rps=[0-9.]+/); rps = substr(line, RSTART + 4, RLENGTH - 4)
    match(line, /requests=[0-9]+/); n = substr(line, RSTART + 9, RLENGTH - 9)
    printf "%s %.2f\n", rps, n ? d * 1e6 / hz / n : 0 }'
}
CHAT_MODEL=auto pin_client wrk -t1 -c"$CONNS" -d1s -s "$ROOT/bench/chat.lua" "$URL" >/dev/null  # warm-up

echo "| round | fixed req/s | \`auto\` req/s | ratio | fixed CPU us/req | \`auto\` CPU us/req | CPU ratio (fixed/auto) |"
echo "|---|---:|---:|---:|---:|---:|---:|"
RATIOS="" CPU_RATIOS=""
for r in $(seq "$ROUNDS"); do
  read -r fixed fixed_cpu < <(run bench-model)
  read -r auto auto_cpu < <(run auto)
  ratio=$(awk -v a="$auto" -v f="$fixed" 'BEGIN{printf "%.2f", a/f}')
  cpu_ratio=$(awk -v a="$auto_cpu" -v f="$fixed_cpu" 'BEGIN{printf "%.2f", (a > 0) ? f / a : 0}')
  RATIOS="$RATIOS $ratio"
  CPU_RATIOS="$CPU_RATIOS $cpu_ratio"
  printf '| %s | %.0f | %.0f | %s | %s | %s | %s |\n' "$r" "$fixed" "$auto" "$ratio" "$fixed_cpu" "$auto_cpu" "$cpu_ratio"
done
median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
echo "median ratio: $(median "$RATIOS") (target >= 0.9); Baton CPU per request, fixed/auto: $(median "$CPU_RATIOS")"
echo "small body, wrk -t1 -c$CONNS -d${DURATION}s, $ROUNDS interleaved rounds. The mock shares Baton's CPU, so"
echo "req/s counts its time too; the CPU ratio is Baton's own (user + system time from /proc)."
