#!/usr/bin/env bash
# bench/run.sh - proxy benchmark: direct-to-mock vs nginx proxy_pass vs Baton (`make bench`).
#
# Builds bench/mock_upstream.c, bench/ttft_client.c and bench/lat_client.c (and Release Baton if
# needed), starts the mock upstream, nginx and Baton on free loopback ports pinned with taskset,
# runs interleaved rounds of wrk / lat_client / ttft_client against the targets and prints ONE
# markdown table of medians.
# Everything it starts is stopped on exit, by PID.  See bench/README.md.
#
# Knobs (environment):
#   ROUNDS=3          rounds; every round runs every scenario against every target
#   DURATION=5        seconds per wrk run, small body at $CONNS connections
#   BIG_DURATION=4    seconds per wrk run, ~$BIG_KB KB body at $CONNS connections
#   LAT_N=10000       1-connection requests per target per round: one lat_client run per round
#                     over all targets, interleaved request by request (plus 200 warm-up each)
#   CONNS=64  BIG_KB=100
#   TTFT_N=100        streaming requests per ttft_client run (after 10 warm-up requests)
#   CHUNKS=20 CHUNK_DELAY_US=500   SSE shape served by the mock
#   TARGETS="direct nginx baton"
#   BATON_BIN=path    use this binary instead of build/release/baton
#   BATON_BUILD=0     never run cmake (by default build/release/baton is brought up to date with an
#                     incremental `cmake --build`, so the table never describes a stale binary)
#   PIN=auto          2 CPUs: wrk/ttft_client on CPU 0, servers (mock and the proxy) on CPU 1.
#                     >=3 CPUs: load 0, mock 1, proxy 2.  1 CPU: nothing is pinned.
#   PIN=isolate       2 CPUs: the proxy alone on CPU 1, wrk + mock on CPU 0 (the mock moves to
#                     CPU 1 for direct).  Only useful with a load generator much cheaper than
#                     the proxy: with wrk on loopback CPU 0 saturates before nginx does.
#   PIN=none          no taskset
#   NICE=0            e.g. NICE=-10 runs servers and load generators at raised priority (root),
#                     which helps on a machine shared with other work
#   BENCH_OUT=file    also write the final table (markdown) to this file
#   BENCH_KEEP=1      keep the scratch directory (logs, configs, raw results)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
BIG_DURATION=${BIG_DURATION:-4}
LAT_N=${LAT_N:-10000}
LAT_WARMUP=200
CONNS=${CONNS:-64}
BIG_KB=${BIG_KB:-100}
TTFT_N=${TTFT_N:-100}
CHUNKS=${CHUNKS:-20}
CHUNK_DELAY_US=${CHUNK_DELAY_US:-500}
TARGETS=${TARGETS:-"direct nginx baton"}
BATON_BIN=${BATON_BIN:-}
BATON_BUILD=${BATON_BUILD:-1}
PIN=${PIN:-auto}
NICE=${NICE:-0}
BENCH_OUT=${BENCH_OUT:-}
BENCH_KEEP=${BENCH_KEEP:-0}

START_TS=$(date +%s)
log() { printf '%s\n' "bench: $*" >&2; }
die() { log "error: $*"; exit 1; }

# ------------------------------------------------------------------ processes & cleanup ----
PIDS=()   # servers we started
FG_PID="" # the client run in progress
WORK=$(mktemp -d "${TMPDIR:-/tmp}/baton-bench.XXXXXX")
chmod 755 "$WORK"

cleanup() {
  local rc=$? pid i
  trap - EXIT INT TERM
  [[ -n $FG_PID ]] && kill -TERM "$FG_PID" 2>/dev/null
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for i in $(seq 30); do
    local alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [[ $alive == 0 ]] && break
    sleep 0.1
  done
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  if [[ $BENCH_KEEP == 1 ]]; then log "scratch directory kept: $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ tools ----
command -v wrk >/dev/null || die "wrk not found (apt-get install -y wrk)"
command -v cc >/dev/null || die "no C compiler (cc) found"
NGINX=$(command -v nginx || true)
[[ -z $NGINX && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
CLK_TCK=$(getconf CLK_TCK)
NCPU=$(nproc)

CPU_LOAD="" CPU_MOCK="" CPU_SERVER=""
if [[ $PIN != none ]] && command -v taskset >/dev/null; then
  if ((NCPU >= 3)); then CPU_LOAD=0 CPU_MOCK=1 CPU_SERVER=2
  elif ((NCPU == 2)) && [[ $PIN == isolate ]]; then CPU_LOAD=0 CPU_MOCK=0 CPU_SERVER=1
  elif ((NCPU == 2)); then CPU_LOAD=0 CPU_MOCK=1 CPU_SERVER=1
  fi
fi
# pin CPU: sets PINCMD=(nice... taskset -c CPU) to prefix a command with.  Background servers
# are started as "${PINCMD[@]}" server... & so that $! is the server's own PID (taskset execs it).
pin() {
  PINCMD=()
  if [[ $NICE != 0 ]]; then PINCMD=(nice -n "$NICE"); fi
  if [[ -n $1 ]]; then PINCMD+=(taskset -c "$1"); fi
}
# run_fg CPU OUTFILE cmd...: a client run (wrk, lat_client, ttft_client). It runs as a background
# job that we `wait` for, so that INT/TERM are handled at once and the cleanup can stop it.
run_fg() {
  local cpu=$1 outf=$2
  shift 2
  pin "$cpu"
  "${PINCMD[@]}" "$@" >"$outf" 2>&1 &
  FG_PID=$!
  wait "$FG_PID" || true
  FG_PID=""
}
if [[ -n $CPU_SERVER ]]; then
  PIN_DESC="server under test on CPU $CPU_SERVER, wrk/lat_client/ttft_client on CPU $CPU_LOAD, mock on CPU $CPU_MOCK"
  [[ $PIN == isolate ]] && ((NCPU == 2)) && PIN_DESC+=" (CPU $CPU_SERVER for direct)"
else
  PIN_DESC="none"
fi
[[ $NICE != 0 ]] && PIN_DESC+=", nice $NICE"
# PIN=isolate with 2 CPUs: the mock is the server under test for "direct" and load-side for
# the proxies, so it moves between the CPUs.
place_mock() {
  [[ $PIN != isolate || -z $CPU_MOCK || $NCPU != 2 ]] && return 0
  local cpu=$CPU_MOCK
  [[ $1 == direct ]] && cpu=$CPU_SERVER
  taskset -apc "$cpu" "$MOCK_PID" >/dev/null
}

# ------------------------------------------------------------------ build ----
log "building mock_upstream, ttft_client and lat_client"
cc -O2 -Wall -Wextra -pthread -o "$WORK/mock_upstream" "$BENCH/mock_upstream.c"
cc -O2 -Wall -Wextra -o "$WORK/ttft_client" "$BENCH/ttft_client.c"
cc -O2 -Wall -Wextra -o "$WORK/lat_client" "$BENCH/lat_client.c"

BATON_SKIP=""
want_target() { [[ " $TARGETS " == *" $1 "* ]]; }
if want_target baton; then
  if [[ -n $BATON_BIN ]]; then
    [[ -x $BATON_BIN ]] || BATON_SKIP="BATON_BIN=$BATON_BIN is not executable"
  else
    BATON_BIN="$ROOT/build/release/baton"
    if [[ $BATON_BUILD == 1 && -f $ROOT/src/app/main.cpp ]]; then
      log "building Release Baton in build/release (log: $WORK/baton-build.log); not part of the timed run"
      if { [[ -f $ROOT/build/release/build.ninja ]] ||
           cmake -S "$ROOT" -B "$ROOT/build/release" -G Ninja -DCMAKE_BUILD_TYPE=Release \
                 -DBATON_BUILD_TESTS=OFF; } >"$WORK/baton-build.log" 2>&1 &&
         cmake --build "$ROOT/build/release" --target baton >>"$WORK/baton-build.log" 2>&1; then
        :
      elif [[ -x $BATON_BIN ]]; then
        tail -n 15 "$WORK/baton-build.log" >&2
        log "WARNING: Baton build failed (tail above); benchmarking the existing, possibly stale binary"
      else
        tail -n 15 "$WORK/baton-build.log" >&2
        BATON_SKIP="Release build failed (see the log tail above)"
      fi
    fi
    if [[ -z $BATON_SKIP && ! -x $BATON_BIN ]]; then
      BATON_SKIP="build/release/baton does not exist"
      [[ -f $ROOT/src/app/main.cpp ]] || BATON_SKIP+=" and src/app/main.cpp is not written yet"
    fi
  fi
  if [[ -z $BATON_SKIP ]]; then
    # recorded now: the binary may be rebuilt while the benchmark runs
    BATON_VERSION=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "unknown rev")
    git -C "$ROOT" diff --quiet HEAD -- src include CMakeLists.txt 2>/dev/null || BATON_VERSION+="+uncommitted"
    BATON_VERSION+=" (binary built $(date -r "$BATON_BIN" '+%Y-%m-%d %H:%M'))"
    log "Baton binary: $BATON_BIN, $BATON_VERSION"
    cp "$BATON_BIN" "$WORK/baton" # run a private copy: a rebuild during the run can't disturb it
    BATON_BIN_RUN="$WORK/baton"
  fi
fi

# ------------------------------------------------------------------ ports & readiness ----
USED_PORTS=" "
pick_port() { # sets PORT (no subshell, so USED_PORTS remembers it)
  local p _
  for _ in $(seq 500); do
    p=$((20000 + RANDOM % 12000)) # below the ephemeral range (32768+) that wrk's sockets use
    [[ $USED_PORTS == *" $p "* ]] && continue
    if ! ss -Htln "sport = :$p" 2>/dev/null | grep -q .; then
      USED_PORTS+="$p "
      PORT=$p
      return 0
    fi
  done
  die "no free port found"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_ready() { # name pid port logfile
  local i
  for i in $(seq 200); do
    kill -0 "$2" 2>/dev/null || { tail -n 20 "$4" >&2; return 1; }
    port_open "$3" && return 0
    sleep 0.05
  done
  tail -n 20 "$4" >&2
  return 1
}

# ------------------------------------------------------------------ /proc helpers ----
cpu_ticks() { # utime+stime of all given pids (all threads), in clock ticks
  local pid s total=0
  for pid in "$@"; do
    s=$(<"/proc/$pid/stat") || return 1
    s=${s##*) }
    read -r -a f <<<"$s"
    total=$((total + f[11] + f[12]))
  done
  echo "$total"
}
mem_kb() { # field (VmHWM|VmRSS) summed over pids
  local field=$1 pid sum=0 v
  shift
  for pid in "$@"; do
    v=$(awk -v f="$field:" '$1 == f { print $2 }' "/proc/$pid/status")
    sum=$((sum + ${v:-0}))
  done
  echo "$sum"
}

# ------------------------------------------------------------------ start servers ----
declare -A URL SRV_PIDS
RESULTS="$WORK/results.tsv"
: >"$RESULTS"
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$RESULTS"; } # round metric target value

pin "$CPU_MOCK"
"${PINCMD[@]}" "$WORK/mock_upstream" --port 0 --chunks "$CHUNKS" --chunk-delay-us "$CHUNK_DELAY_US" \
  >"$WORK/mock.log" 2>&1 &
MOCK_PID=$!
PIDS+=("$MOCK_PID")
MOCK_PORT=""
for _ in $(seq 100); do
  MOCK_PORT=$(sed -n 's#^listening on http://127.0.0.1:\([0-9]*\)$#\1#p' "$WORK/mock.log")
  [[ -n $MOCK_PORT ]] && break
  kill -0 "$MOCK_PID" 2>/dev/null || break
  sleep 0.05
done
[[ -n $MOCK_PORT ]] || { cat "$WORK/mock.log" >&2; die "mock_upstream did not start"; }
URL[direct]="http://127.0.0.1:$MOCK_PORT/v1/chat/completions"
SRV_PIDS[direct]=$MOCK_PID

ACTIVE=()
SKIPPED=()
for t in $TARGETS; do
  case $t in
    direct) ACTIVE+=(direct) ;;
    nginx)
      if [[ -z $NGINX ]]; then SKIPPED+=("nginx: not installed (apt-get install -y nginx-light)"); continue; fi
      pick_port; port=$PORT
      pre="$WORK/nginx"
      mkdir -p "$pre"
      user_directive=""
      [[ $(id -u) == 0 ]] && user_directive="user root root;"
      sed -e "s#@PREFIX@#$pre#g" -e "s#@LISTEN_PORT@#$port#g" -e "s#@UPSTREAM_PORT@#$MOCK_PORT#g" \
          -e "s#@USER_DIRECTIVE@#$user_directive#g" "$BENCH/nginx.conf.template" >"$pre/nginx.conf"
      pin "$CPU_SERVER"
      "${PINCMD[@]}" "$NGINX" -e "$pre/error.log" -c "$pre/nginx.conf" -p "$pre" >"$WORK/nginx.log" 2>&1 &
      pid=$!
      PIDS+=("$pid")
      if ! wait_ready nginx "$pid" "$port" "$pre/error.log"; then
        SKIPPED+=("nginx: failed to start (see above)"); continue
      fi
      workers=$(pgrep -P "$pid" | tr '\n' ' ')
      for w in $workers; do PIDS+=("$w"); done
      URL[nginx]="http://127.0.0.1:$port/v1/chat/completions"
      SRV_PIDS[nginx]="$pid $workers"
      ACTIVE+=(nginx)
      ;;
    baton)
      if [[ -n $BATON_SKIP ]]; then SKIPPED+=("baton: $BATON_SKIP"); continue; fi
      pick_port; port=$PORT
      cat >"$WORK/baton.yaml" <<EOF
server: {listen: 127.0.0.1:$port, threads: 1}
logging: {level: warn, access_log: off}
providers:
  - {name: up, kind: openai, base_url: http://127.0.0.1:$MOCK_PORT/v1, max_connections: 256}
models:
  - {name: bench-model, provider: up, upstream_model: gpt-4o-mini}
EOF
      pin "$CPU_SERVER"
      "${PINCMD[@]}" "$BATON_BIN_RUN" --config "$WORK/baton.yaml" >"$WORK/baton.log" 2>&1 &
      pid=$!
      PIDS+=("$pid")
      if ! wait_ready baton "$pid" "$port" "$WORK/baton.log"; then
        SKIPPED+=("baton: failed to start with $WORK/baton.yaml (log tail above)"); continue
      fi
      URL[baton]="http://127.0.0.1:$port/v1/chat/completions"
      SRV_PIDS[baton]=$pid
      ACTIVE+=(baton)
      ;;
    *) die "unknown target '$t' in TARGETS" ;;
  esac
done

# ------------------------------------------------------------------ sanity & idle RSS ----
sanity() { # target -> 0 if it proxies a JSON and a streaming completion correctly
  local url=${URL[$1]} out
  out=$(curl -sS -m 5 -H 'Content-Type: application/json' \
        -d '{"model":"bench-model","messages":[{"role":"user","content":"hi"}]}' "$url" 2>&1) || true
  [[ $out == *'"object":"chat.completion"'* ]] || { log "$1: unexpected JSON answer: ${out:0:300}"; return 1; }
  out=$(curl -sS -m 5 -N -H 'Content-Type: application/json' \
        -d '{"model":"bench-model","stream":true,"messages":[{"role":"user","content":"hi"}]}' "$url" 2>&1) || true
  [[ $out == *'chat.completion.chunk'*'data: [DONE]'* ]] || { log "$1: unexpected stream answer: ${out:0:300}"; return 1; }
}
declare -A IDLE_KB
OK=()
for t in "${ACTIVE[@]}"; do
  IDLE_KB[$t]=$(mem_kb VmRSS ${SRV_PIDS[$t]})
  if sanity "$t"; then
    OK+=("$t")
  else
    [[ $t == direct ]] && die "the mock upstream does not answer correctly"
    SKIPPED+=("$t: failed the sanity request (see above)")
  fi
done
ACTIVE=("${OK[@]}")
for s in "${SKIPPED[@]}"; do log "SKIPPING $s"; done
log "targets: ${ACTIVE[*]}; pinning: $PIN_DESC"

# ------------------------------------------------------------------ runners ----
WRK_ERRORS=0
run_wrk() { # round scenario target conns duration [chat.lua args...]
  local round=$1 scen=$2 t=$3 conns=$4 dur=$5
  shift 5
  local pids=${SRV_PIDS[$t]} c0 c1 m0 m1 out line kv
  place_mock "$t"
  m0=$(cpu_ticks "$MOCK_PID")
  c0=$(cpu_ticks $pids)
  run_fg "$CPU_LOAD" "$WORK/client.out" wrk -t1 -c"$conns" -d"${dur}s" --timeout 10s -s "$BENCH/chat.lua" "${URL[$t]}" -- "$@"
  out=$(<"$WORK/client.out")
  c1=$(cpu_ticks $pids)
  m1=$(cpu_ticks "$MOCK_PID")
  line=$(grep '^BENCH_RESULT' <<<"$out" || true)
  if [[ -z $line ]]; then
    log "wrk failed for $t/$scen:"; printf '%s\n' "$out" >&2
    WRK_ERRORS=$((WRK_ERRORS + 1))
    record "$round" errors "$t" 1
    return 0
  fi
  declare -A R=()
  for kv in ${line#BENCH_RESULT }; do R[${kv%%=*}]=${kv#*=}; done
  local errs=$((R[err_connect] + R[err_read] + R[err_write] + R[err_status] + R[err_timeout]))
  local cpu_us
  cpu_us=$(awk -v d=$((c1 - c0)) -v hz="$CLK_TCK" -v n="${R[requests]}" 'BEGIN { printf "%.2f", n ? d * 1e6 / hz / n : 0 }')
  record "$round" "${scen}_rps" "$t" "${R[rps]}"
  record "$round" "${scen}_p50" "$t" "${R[p50_us]}"
  record "$round" "${scen}_p99" "$t" "${R[p99_us]}"
  record "$round" "${scen}_cpu" "$t" "$cpu_us"
  # share of one CPU used by the server (and by the mock behind a proxy) during the run: a proxy
  # well below 100% means the load side, not the proxy, limited req/s
  local busy mbusy
  busy=$(awk -v d=$((c1 - c0)) -v hz="$CLK_TCK" -v us="${R[duration_us]}" 'BEGIN { printf "%.0f", us ? d / hz * 1e8 / us : 0 }')
  mbusy=$(awk -v d=$((m1 - m0)) -v hz="$CLK_TCK" -v us="${R[duration_us]}" 'BEGIN { printf "%.0f", us ? d / hz * 1e8 / us : 0 }')
  record "$round" "${scen}_busy" "$t" "$busy"
  [[ $t != direct ]] && record "$round" "${scen}_mock_busy" "$t" "$mbusy"
  record "$round" errors "$t" "$errs"
  local mock_note=""
  [[ $t != direct ]] && mock_note=", mock $mbusy%"
  printf 'bench: [round %d/%d] %-6s %-7s %8.0f req/s  p50 %7.3f ms  p99 %7.3f ms  cpu %6.1f us/req (busy %s%%%s)  errors %d\n' \
    "$round" "$ROUNDS" "$scen" "$t" "${R[rps]}" "$(awk -v v="${R[p50_us]}" 'BEGIN{print v/1000}')" \
    "$(awk -v v="${R[p99_us]}" 'BEGIN{print v/1000}')" "$cpu_us" "$busy" "$mock_note" "$errs" >&2
}

# 1 connection: ONE lat_client run over all the given targets, one keep-alive connection each,
# requests interleaved (every iteration sends one request to each target in turn, rotating the
# first).  Running the targets one after the other put each host hiccup into whichever target
# ran at the time, and p99 swung by +-150 us between runs; interleaved, the noise hits all
# targets in the same time window, so the per-round "added vs direct" differences hold up.
run_lat() { # round target...
  local round=$1 t kv line out port served total=0
  shift
  local -a args=()
  local -A c0=() c1=() N=()
  # PIN=isolate with 2 CPUs: the mock cannot move between CPUs per request, so for the whole run
  # it stays where place_mock puts it for the proxies (CPU_MOCK, next to lat_client), also
  # for the direct requests: direct is then a same-CPU round trip and "added vs direct" includes
  # crossing to the proxy's CPU and back.
  place_mock lat
  for t in "$@"; do
    port=${URL[$t]#http://127.0.0.1:}
    args+=(--target "$t=${port%%/*}")
    c0[$t]=$(cpu_ticks ${SRV_PIDS[$t]})
  done
  run_fg "$CPU_LOAD" "$WORK/client.out" "$WORK/lat_client" -n "$LAT_N" --warmup "$LAT_WARMUP" "${args[@]}"
  for t in "$@"; do c1[$t]=$(cpu_ticks ${SRV_PIDS[$t]}); done
  out=$(<"$WORK/client.out")
  for t in "$@"; do
    line=$(grep "^LAT_RESULT target=$t " <<<"$out" || true)
    local -A R=()
    for kv in ${line#LAT_RESULT }; do R[${kv%%=*}]=${kv#*=}; done
    N[$t]=${R[n]:-0}
    if [[ -z $line || ${R[n]:-0} == 0 ]]; then
      log "lat_client failed for $t:"; printf '%s\n' "$out" >&2
      record "$round" errors "$t" 1
      continue
    fi
    total=$((total + R[n] + LAT_WARMUP))
    record "$round" c1_p50 "$t" "${R[p50_us]}"
    record "$round" c1_p99 "$t" "${R[p99_us]}"
    record "$round" c1_p999 "$t" "${R[p999_us]}"
    record "$round" errors "$t" "${R[errors]}"
    printf 'bench: [round %d/%d] c1     %-7s p50 %7.1f us  p99 %7.1f us  p99.9 %7.1f us  max %8.1f us  errors %d\n' \
      "$round" "$ROUNDS" "$t" "${R[p50_us]}" "${R[p99_us]}" "${R[p999_us]}" "${R[max_us]}" "${R[errors]}" >&2
  done
  # server CPU per request: the ticks over the run / the requests the target served in it (n plus
  # the warm-up).  Every request to any target reaches the mock once, so direct (the mock) is
  # divided by the requests of all targets: the mock's cost per request, as in the wrk runs.
  for t in "$@"; do
    ((N[$t] > 0)) || continue
    served=$((N[$t] + LAT_WARMUP))
    [[ $t == direct ]] && served=$total
    record "$round" c1_cpu "$t" "$(awk -v d=$((c1[$t] - c0[$t])) -v hz="$CLK_TCK" -v n="$served" \
      'BEGIN { printf "%.2f", n ? d * 1e6 / hz / n : 0 }')"
  done
}

run_ttft() { # round target
  local round=$1 t=$2 out line kv port
  place_mock "$t"
  port=${URL[$t]#http://127.0.0.1:}
  port=${port%%/*}
  run_fg "$CPU_LOAD" "$WORK/client.out" "$WORK/ttft_client" --port "$port" -n "$TTFT_N" --warmup 10
  out=$(<"$WORK/client.out")
  line=$(grep '^TTFT_RESULT' <<<"$out" || true)
  declare -A R=()
  for kv in ${line#TTFT_RESULT }; do R[${kv%%=*}]=${kv#*=}; done
  if [[ -z $line || ${R[n]:-0} == 0 ]]; then
    log "ttft_client failed for $t:"; printf '%s\n' "$out" >&2
    record "$round" errors "$t" 1
    return 0
  fi
  record "$round" ttft_p50 "$t" "${R[ttft_p50_us]}"
  record "$round" ttft_p99 "$t" "${R[ttft_p99_us]}"
  record "$round" stream_total_p50 "$t" "${R[total_p50_us]}"
  record "$round" errors "$t" "${R[errors]}"
  printf 'bench: [round %d/%d] %-6s %-7s ttft p50 %7.1f us  p99 %7.1f us  total p50 %8.1f us  errors %d\n' \
    "$round" "$ROUNDS" ttft "$t" "${R[ttft_p50_us]}" "${R[ttft_p99_us]}" "${R[total_p50_us]}" "${R[errors]}" >&2
}

# ------------------------------------------------------------------ warm-up & rounds ----
log "warm-up (1 s per target)"
for t in "${ACTIVE[@]}"; do
  place_mock "$t"
  run_fg "$CPU_LOAD" /dev/null wrk -t1 -c"$CONNS" -d1s -s "$BENCH/chat.lua" "${URL[$t]}"
done

BENCH_START=$(date +%s)
n=${#ACTIVE[@]}
for ((round = 1; round <= ROUNDS; round++)); do
  # rotate the target order every round so no target always runs first / after the same one
  order=()
  for ((i = 0; i < n; i++)); do order+=("${ACTIVE[$(((i + round - 1) % n))]}"); done
  for t in "${order[@]}"; do run_wrk "$round" small "$t" "$CONNS" "$DURATION"; done
  for t in "${order[@]}"; do run_wrk "$round" big "$t" "$CONNS" "$BIG_DURATION" "kb=$BIG_KB"; done
  run_lat "$round" "${order[@]}"
  for t in "${order[@]}"; do run_ttft "$round" "$t"; done
done
BENCH_SECS=$(($(date +%s) - BENCH_START))

declare -A PEAK_KB
for t in "${ACTIVE[@]}"; do PEAK_KB[$t]=$(mem_kb VmHWM ${SRV_PIDS[$t]}); done

# ------------------------------------------------------------------ table ----
# Cells are medians over rounds.  "added vs direct" is computed per round (target - direct in the
# same round) before taking the median, and baton/nginx is the median of the per-round ratios:
# pairing runs from the same round cancels most of the drift of a shared machine's load.
declare -A MED
while IFS=$'\t' read -r key val; do MED[$key]=$val; done < <(
  awk -F'\t' '
    function median(arr, m,    i, j, x) {
      for (i = 2; i <= m; i++) { x = arr[i]; for (j = i - 1; j >= 1 && arr[j] > x; j--) arr[j + 1] = arr[j]; arr[j + 1] = x }
      return (m % 2) ? arr[(m + 1) / 2] : (arr[m / 2] + arr[m / 2 + 1]) / 2
    }
    $2 == "errors" { err[$3] += $4; next }
    { v[$2, $3, $1] = $4 + 0; metric[$2] = 1; target[$3] = 1; if ($1 > rounds) rounds = $1 }
    END {
      added["c1_p50"] = added["c1_p99"] = added["ttft_p50"] = added["ttft_p99"] = 1
      for (mt in metric) {
        for (t in target) {
          n = 0; na = 0
          for (r = 1; r <= rounds; r++) {
            if (!((mt, t, r) in v)) continue
            a[++n] = v[mt, t, r]
            if ((mt in added) && t != "direct" && ((mt, "direct", r) in v)) d[++na] = v[mt, t, r] - v[mt, "direct", r]
          }
          if (n) printf "%s/%s\t%.6f\n", mt, t, median(a, n)
          if (na) printf "%s_added/%s\t%.6f\n", mt, t, median(d, na)
        }
        n = 0
        for (r = 1; r <= rounds; r++)
          if (((mt, "baton", r) in v) && ((mt, "nginx", r) in v) && v[mt, "nginx", r] != 0)
            a[++n] = v[mt, "baton", r] / v[mt, "nginx", r]
        if (n) printf "%s/ratio\t%.6f\n", mt, median(a, n)
      }
      for (t in err) printf "errors/%s\t%d\n", t, err[t]
    }' "$RESULTS")
for t in "${ACTIVE[@]}"; do
  MED[idle_mb/$t]=$(awk -v k="${IDLE_KB[$t]}" 'BEGIN { printf "%.6f", k / 1024 }')
  MED[peak_mb/$t]=$(awk -v k="${PEAK_KB[$t]}" 'BEGIN { printf "%.6f", k / 1024 }')
  MED[errors/$t]=${MED[errors/$t]:-0}
done

fmt() { # value scale decimals
  awk -v v="$1" -v s="$2" -v d="$3" 'BEGIN { printf "%.*f", d, v * s }'
}
row() { # label metric scale decimals
  local label=$1 m=$2 s=$3 d=$4 cells=() t v ratio="n/a"
  for t in direct nginx baton; do
    v=${MED[$m/$t]:-}
    if [[ -n $v ]]; then cells+=("$(fmt "$v" "$s" "$d")")
    elif [[ $t == direct && $m == *_added ]]; then cells+=("-")
    else cells+=("n/a"); fi
  done
  if [[ -n ${MED[$m/ratio]:-} ]]; then
    ratio=$(fmt "${MED[$m/ratio]}" 1 2)
  elif [[ -n ${MED[$m/nginx]:-} && -n ${MED[$m/baton]:-} ]]; then
    ratio=$(awk -v a="${MED[$m/baton]}" -v b="${MED[$m/nginx]}" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }')
  fi
  printf '| %s | %s | %s | %s | %s |\n' "$label" "${cells[0]}" "${cells[1]}" "${cells[2]}" "$ratio"
}

TOTAL_SECS=$(($(date +%s) - START_TS))
VERSIONS="kernel $(uname -r)"
[[ -n ${URL[nginx]:-} ]] && VERSIONS+=", $("$NGINX" -v 2>&1 | sed 's#^nginx version: ##')"
[[ -n ${URL[baton]:-} ]] && VERSIONS+=", baton $BATON_VERSION"
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
TABLE="$WORK/table.md"
{
  echo "Baton proxy benchmark: medians of $ROUNDS interleaved rounds ($(date -u +%Y-%m-%dT%H:%MZ), $NCPU x ${CPU_MODEL:-unknown CPU}, load avg at end $(cut -d' ' -f1-3 /proc/loadavg))"
  echo "small = ~0.5 KB chat request, big = ~$BIG_KB KB request (long user message), $CONNS connections, wrk -t1; 1 conn = lat_client, one keep-alive connection per target, $LAT_N requests each per round interleaved request by request; stream = $CHUNKS SSE events ${CHUNK_DELAY_US} us apart, $TTFT_N sequential requests on one keep-alive connection (ttft_client)."
  echo "pinning: $PIN_DESC"
  echo "versions: $VERSIONS"
  echo
  echo "| measure | direct | nginx | baton | baton/nginx |"
  echo "|---|---:|---:|---:|---:|"
  row "small body, $CONNS conns: req/s" small_rps 1 0
  row "small body, $CONNS conns: p50 latency (ms)" small_p50 0.001 3
  row "small body, $CONNS conns: p99 latency (ms)" small_p99 0.001 3
  row "small body: server CPU per request (us)" small_cpu 1 1
  row "$BIG_KB KB body, $CONNS conns: req/s" big_rps 1 0
  row "$BIG_KB KB body, $CONNS conns: p50 latency (ms)" big_p50 0.001 3
  row "$BIG_KB KB body, $CONNS conns: p99 latency (ms)" big_p99 0.001 3
  row "$BIG_KB KB body: server CPU per request (us)" big_cpu 1 1
  row "1 conn: p50 latency (us)" c1_p50 1 0
  row "1 conn: p99 latency (us)" c1_p99 1 0
  row "1 conn: p50 added vs direct (us)" c1_p50_added 1 0
  row "1 conn: p99 added vs direct (us)" c1_p99_added 1 0
  row "1 conn: server CPU per request (us)" c1_cpu 1 1
  row "stream: TTFT p50 (us)" ttft_p50 1 0
  row "stream: TTFT p99 (us)" ttft_p99 1 0
  row "stream: TTFT p50 added vs direct (us)" ttft_p50_added 1 0
  row "stream: total p50 (us)" stream_total_p50 1 0
  row "peak RSS, VmHWM (MB)" peak_mb 1 1
  row "idle RSS after start (MB)" idle_mb 1 1
  row "errors (non-2xx, socket, stream; all runs)" errors 1 0
  echo
  echo "_req/s: higher is better; every other row: lower is better. Cells are medians over rounds; \"added\" rows and baton/nginx are computed per round (same-round pairs), then the median is taken._"
  echo "_server CPU = utime+stime of the server process(es) during the run / requests (for direct: the mock; nginx: master+worker; RSS likewise summed). 1 conn, direct: the mock's CPU over the interleaved lat_client run / all the requests it served (its own and the proxies')._"
  for s in "${SKIPPED[@]}"; do echo "_skipped: ${s}_"; done
  echo "_measured in ${BENCH_SECS} s (${TOTAL_SECS} s including builds and start-up)._"
} >"$TABLE"

echo
cat "$TABLE"
[[ -n $BENCH_OUT ]] && cp "$TABLE" "$BENCH_OUT"
exit 0
