#!/usr/bin/env bash
# bench/tools/paired.sh - CPU per request of two Baton setups measured at the same time.
#
#   bench/tools/paired.sh                                   # A/A: the same binary twice (the noise floor)
#   BIN_B=/tmp/baton.new bench/tools/paired.sh              # a change: old binary (A) against new (B)
#   MODEL_B=auto bench/tools/paired.sh                      # what routing costs: fixed model vs `auto`
#
# Two Baton processes (A and B, one worker each, same config: the fixed `bench-model` plus the
# route `auto` over 10 candidates, as auto_vs_fixed.sh) and the mock share the last CPU; two
# `wrk -t1 -c32` (one per Baton, CHAT_MODEL=$MODEL_A / $MODEL_B) run at the same time on CPU 0.
# Both servers see the same host noise, so the per-round ratio of their CPU per request
# (utime + stime from /proc over the requests served) is steady where separate runs swing by
# several percent: A/A rounds agree within ~1%, and session 5 measured its changes this way
# (docs/benchmarks.md). Knobs: ROUNDS=4 DURATION=5 BIN_A BIN_B MODEL_A MODEL_B. Traffic to
# 127.0.0.1 only; every process started is stopped by PID on exit.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ROUNDS=${ROUNDS:-4}
DURATION=${DURATION:-5}
BIN_A=${BIN_A:-$ROOT/build/release/baton}
BIN_B=${BIN_B:-$BIN_A}
MODEL_A=${MODEL_A:-bench-model}
MODEL_B=${MODEL_B:-bench-model}
for b in "$BIN_A" "$BIN_B"; do [[ -x $b ]] || { echo "paired: $b missing (make build)" >&2; exit 1; }; done

# shellcheck source=bench/tools/lib.sh
source "$ROOT/bench/tools/lib.sh"
bench_init paired


start_mock "${SERVER_PIN[@]}" || exit 1

start_baton() {  # binary name -> sets PORT_<name>, PID_<name>
  local port
  port=$(free_port)
  routing_config "$port" >"$WORK/$2.yaml"
  (exec "${SERVER_PIN[@]}" "$1" --config "$WORK/$2.yaml" >"$WORK/$2.log" 2>&1) &
  PIDS+=($!)
  printf -v "PID_$2" '%s' "$!"
  printf -v "PORT_$2" '%s' "$port"
  wait_port "$port" || { cat "$WORK/$2.log" >&2; exit 1; }
}
start_baton "$BIN_A" A
start_baton "$BIN_B" B

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
load() {  # name model port -> BENCH_RESULT line in $WORK/name.out
  CHAT_MODEL=$2 "${CLIENT_PIN[@]}" wrk -t1 -c32 -d"${DURATION}s" -s "$ROOT/bench/chat.lua" \
    "http://127.0.0.1:$3/v1/chat/completions" >"$WORK/$1.out"
}
requests() {
  local line
  line=$(grep BENCH_RESULT "$WORK/$1.out") || { echo "paired: wrk failed for $1" >&2; exit 1; }
  grep -q 'err_status=0 ' <<<"$line" || { echo "paired: errors for $1: $line" >&2; exit 1; }
  sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$line"
}
load A "$MODEL_A" "$PORT_A" >/dev/null; load B "$MODEL_B" "$PORT_B" >/dev/null  # warm-up (1 round, unrecorded)

HZ=$(getconf CLK_TCK)
echo "A: $BIN_A, model $MODEL_A"
echo "B: $BIN_B, model $MODEL_B"
echo
echo "| round | A requests | A CPU us/req | B requests | B CPU us/req | B/A CPU per request | B/A requests |"
echo "|---|---:|---:|---:|---:|---:|---:|"
RATIOS="" SERVED=""
for r in $(seq "$ROUNDS"); do
  a0=$(ticks "$PID_A"); b0=$(ticks "$PID_B")
  load A "$MODEL_A" "$PORT_A" &
  wa=$!
  load B "$MODEL_B" "$PORT_B"
  wait "$wa"
  a1=$(ticks "$PID_A"); b1=$(ticks "$PID_B")
  na=$(requests A); nb=$(requests B)
  row=$(awk -v a=$((a1 - a0)) -v b=$((b1 - b0)) -v na="$na" -v nb="$nb" -v hz="$HZ" 'BEGIN {
    ca = a * 1e6 / hz / na; cb = b * 1e6 / hz / nb
    printf "%.2f %.2f %.3f %.3f", ca, cb, cb / ca, nb / na }')
  read -r ca cb ratio served <<<"$row"
  RATIOS="$RATIOS $ratio"
  SERVED="$SERVED $served"
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$r" "$na" "$ca" "$nb" "$cb" "$ratio" "$served"
done
median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
echo "median B/A CPU per request: $(median "$RATIOS"); median B/A requests served in the same"
echo "window: $(median "$SERVED") ($ROUNDS rounds of ${DURATION} s, both at once; small body)"
