#!/usr/bin/env bash
# bench/run.sh - proxy benchmark: direct-to-mock vs nginx proxy_pass vs Baton (`make bench`).
#
# Builds bench/mock_upstream.c, bench/ttft_client.c and bench/lat_client.c (and Release Baton if
# needed), starts the mock upstream, nginx and Baton on free loopback ports pinned with taskset,
# runs interleaved rounds of wrk / lat_client / ttft_client against the targets (plus, per round,
# `model: auto` against a fixed model on two extra Batons measured at the same time), then once:
# 1 vs 2 threads/workers with nothing pinned, 10k idle keep-alive connections and 2,000
# concurrent streams.  Prints a markdown table of medians, a small `model: auto` table and the
# table of the issue #8 targets (met / MISSED).
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
#   AUTO=1            per round: two more 1-thread Batons (same config: `bench-model` and route
#                     `auto` over 10 candidates) on the server CPU, `wrk -t1 -c$AUTO_CONNS` against
#                     each at the same time, CHAT_MODEL=bench-model / auto; AUTO=0 skips it
#   AUTO_DURATION=4 AUTO_CONNS=32
#   SCALE=1           once after the rounds, nothing pinned: Baton threads 1 and 2, nginx workers
#                     1 and 2, `wrk -t2 -c$CONNS` interleaved; SCALE=0 skips it (skipped on 1 CPU)
#   SCALE_ROUNDS=2 SCALE_DURATION=3
#   MEMORY=1          once after the rounds: MEM_CONNS idle keep-alive connections that each
#                     served a request (KiB per connection, Baton target and an nginx instance
#                     with enough worker_connections), then STREAMS concurrent streams through a
#                     separate Baton and mock; MEMORY=0 skips it
#   MEM_CONNS=10000 STREAMS=2000 STREAM_CHUNKS=20 STREAM_DELAY_US=100000
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
# for routing_config: the `auto`-over-10-candidates config that tools/paired.sh and
# tools/auto_vs_fixed.sh use (lib.sh only defines functions; run.sh uses no other of them)
# shellcheck source=bench/tools/lib.sh
source "$BENCH/tools/lib.sh"

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
AUTO=${AUTO:-1}
AUTO_DURATION=${AUTO_DURATION:-4}
AUTO_CONNS=${AUTO_CONNS:-32}
SCALE=${SCALE:-1}
SCALE_ROUNDS=${SCALE_ROUNDS:-2}
SCALE_DURATION=${SCALE_DURATION:-3}
MEMORY=${MEMORY:-1}
MEM_CONNS=${MEM_CONNS:-10000}
STREAMS=${STREAMS:-2000}
STREAM_CHUNKS=${STREAM_CHUNKS:-20}
STREAM_DELAY_US=${STREAM_DELAY_US:-100000}
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
FG_PID="" # the client run(s) in progress (space-separated PIDs)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/baton-bench.XXXXXX")
chmod 755 "$WORK"

cleanup() {
  local rc=$? pid i
  trap - EXIT INT TERM
  # shellcheck disable=SC2086
  [[ -n $FG_PID ]] && { kill -TERM $FG_PID 2>/dev/null || true; }
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

# stop_pids PID...: servers started mid-run and not needed any more: TERM, up to 3 s, KILL; they
# are then forgotten in PIDS (so the exit cleanup never signals a recycled PID)
stop_pids() {
  local pid i alive keep=()
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for i in $(seq 30); do
    alive=0
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [[ $alive == 0 ]] && break
    sleep 0.1
  done
  for pid in "$@"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do [[ " $* " == *" $pid "* ]] || keep+=("$pid"); done
  PIDS=("${keep[@]}")
}

# repin CPULIST PID...: move running processes (all their threads) to CPULIST
repin() {
  local cpus=$1 pid
  shift
  [[ -n $cpus ]] || return 0
  for pid in "$@"; do taskset -apc "$cpus" "$pid" >/dev/null 2>&1 || true; done
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
    v=$(awk -v f="$field:" '$1 == f { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
    sum=$((sum + ${v:-0}))
  done
  echo "$sum"
}

# ------------------------------------------------------------------ start servers ----
declare -A URL SRV_PIDS
RESULTS="$WORK/results.tsv"
: >"$RESULTS"
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$RESULTS"; } # round metric target value

# The memory step holds $MEM_CONNS connections open at once: raise the soft descriptor limit to
# the hard one before any server starts (they inherit it; nginx sets its own, worker_rlimit_nofile).
FD_HARD=$(ulimit -Hn)
[[ $FD_HARD == unlimited ]] && FD_HARD=1048576
ulimit -Sn "$FD_HARD" 2>/dev/null || true
FD_SOFT=$(ulimit -Sn)

# launch_mock NAME CPU [mock args...]: a mock upstream on a free port; sets LAUNCH_PID, LAUNCH_PORT
launch_mock() {
  local name=$1 cpu=$2 pid port="" _
  shift 2
  pin "$cpu"
  "${PINCMD[@]}" "$WORK/mock_upstream" --port 0 "$@" >"$WORK/$name.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  for _ in $(seq 100); do
    port=$(sed -n 's#^listening on http://127.0.0.1:\([0-9]*\)$#\1#p' "$WORK/$name.log")
    [[ -n $port ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  [[ -n $port ]] || { cat "$WORK/$name.log" >&2; return 1; }
  LAUNCH_PID=$pid LAUNCH_PORT=$port
}

# start_nginx NAME CPU UPSTREAM_PORT [sed args...]: nginx from nginx.conf.template on a free port,
# proxying to the mock on UPSTREAM_PORT (extra sed expressions adjust the config); sets URL[NAME]
# and SRV_PIDS[NAME] (master and workers).  Returns 1 if it did not start.
start_nginx() {
  local name=$1 cpu=$2 up=$3 port pre pid w workers="" nworkers user_directive="" _
  shift 3
  pick_port; port=$PORT
  pre="$WORK/$name"
  mkdir -p "$pre"
  [[ $(id -u) == 0 ]] && user_directive="user root root;"
  sed -e "s#@PREFIX@#$pre#g" -e "s#@LISTEN_PORT@#$port#g" -e "s#@UPSTREAM_PORT@#$up#g" \
      -e "s#@USER_DIRECTIVE@#$user_directive#g" "$@" "$BENCH/nginx.conf.template" >"$pre/nginx.conf"
  pin "$cpu"
  "${PINCMD[@]}" "$NGINX" -e "$pre/error.log" -c "$pre/nginx.conf" -p "$pre" >"$WORK/$name.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  wait_ready "$name" "$pid" "$port" "$pre/error.log" || return 1
  # the master listens before it forks the workers: wait until all of them are there
  nworkers=$(awk '$1 == "worker_processes" { sub(";", "", $2); print $2 }' "$pre/nginx.conf")
  for _ in $(seq 100); do
    workers=$(pgrep -P "$pid" | tr '\n' ' ' || true)
    (($(wc -w <<<"$workers") >= ${nworkers:-1})) && break
    sleep 0.02
  done
  for w in $workers; do PIDS+=("$w"); done
  URL[$name]="http://127.0.0.1:$port/v1/chat/completions"
  SRV_PIDS[$name]="$pid $workers"
}

# baton_config PORT THREADS UPSTREAM_PORT PROVIDER_MAX_CONNS SERVER_MAX_CONNS: the plain config
# (one provider in front of a mock, the model bench-model)
baton_config() {
  cat <<EOC
server: {listen: 127.0.0.1:$1, threads: $2, max_connections: $5}
logging: {level: warn, access_log: off}
providers:
  - {name: up, kind: openai, base_url: http://127.0.0.1:$3/v1, max_connections: $4}
models:
  - {name: bench-model, provider: up, upstream_model: gpt-4o-mini}
EOC
}

# start_baton NAME CPU CONFIG PORT: the private Baton copy with CONFIG (listening on PORT); sets
# URL[NAME] and SRV_PIDS[NAME].  Returns 1 if it did not start.
start_baton() {
  local pid
  pin "$2"
  "${PINCMD[@]}" "$BATON_BIN_RUN" --config "$3" >"$WORK/$1.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  wait_ready "$1" "$pid" "$4" "$WORK/$1.log" || return 1
  URL[$1]="http://127.0.0.1:$4/v1/chat/completions"
  SRV_PIDS[$1]=$pid
}

launch_mock mock "$CPU_MOCK" --chunks "$CHUNKS" --chunk-delay-us "$CHUNK_DELAY_US" || die "mock_upstream did not start"
MOCK_PID=$LAUNCH_PID
MOCK_PORT=$LAUNCH_PORT
URL[direct]="http://127.0.0.1:$MOCK_PORT/v1/chat/completions"
SRV_PIDS[direct]=$MOCK_PID

# the baton target's connection cap (default 10,000) must let the memory step's connections in
BATON_MAX_CONNS=$((MEM_CONNS + 1000 > 10000 ? MEM_CONNS + 1000 : 10000))
ACTIVE=()
SKIPPED=()
for t in $TARGETS; do
  case $t in
    direct) ACTIVE+=(direct) ;;
    nginx)
      if [[ -z $NGINX ]]; then SKIPPED+=("nginx: not installed (apt-get install -y nginx-light)"); continue; fi
      if ! start_nginx nginx "$CPU_SERVER" "$MOCK_PORT"; then
        SKIPPED+=("nginx: failed to start (see above)"); continue
      fi
      ACTIVE+=(nginx)
      ;;
    baton)
      if [[ -n $BATON_SKIP ]]; then SKIPPED+=("baton: $BATON_SKIP"); continue; fi
      pick_port
      baton_config "$PORT" 1 "$MOCK_PORT" 256 "$BATON_MAX_CONNS" >"$WORK/baton.yaml"
      if ! start_baton baton "$CPU_SERVER" "$WORK/baton.yaml" "$PORT"; then
        SKIPPED+=("baton: failed to start with $WORK/baton.yaml (log tail above)"); continue
      fi
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
have() { [[ " ${ACTIVE[*]} " == *" $1 "* ]]; }

# `model: auto` vs a fixed model: two more 1-thread Batons, both with routing_config (the fixed
# model bench-model and the route auto over 10 candidates), pinned like the baton target; every
# round loads them at the same time, one with each model (run_auto).
model_sanity() { # target model -> 0 if a JSON completion for that model comes back
  local out
  out=$(curl -sS -m 5 -H 'Content-Type: application/json' \
        -d "{\"model\":\"$2\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" "${URL[$1]}" 2>&1) || true
  [[ $out == *'"object":"chat.completion"'* ]] || { log "$1: unexpected answer for model $2: ${out:0:300}"; return 1; }
}
AUTO_ON=0
if [[ $AUTO == 1 ]] && have baton; then
  AUTO_ON=1
  for m in fixed auto; do
    pick_port
    routing_config "$PORT" >"$WORK/$m.yaml"
    if ! start_baton "$m" "$CPU_SERVER" "$WORK/$m.yaml" "$PORT"; then
      AUTO_ON=0; SKIPPED+=("model: auto step: Baton failed to start with $WORK/$m.yaml (log tail above)"); break
    fi
  done
  if [[ $AUTO_ON == 1 ]] && ! { model_sanity fixed bench-model && model_sanity auto auto; }; then
    AUTO_ON=0; SKIPPED+=("model: auto step: failed the sanity request (see above)")
  fi
elif [[ $AUTO == 1 ]]; then
  SKIPPED+=("model: auto step: needs the baton target")
fi
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

declare -A BR
parse_bench() { # file -> BR[...] from wrk's BENCH_RESULT line (plus BR[errors]); 1 if there is none
  local line kv
  BR=()
  line=$(grep '^BENCH_RESULT' "$1" 2>/dev/null || true)
  [[ -n $line ]] || return 1
  for kv in ${line#BENCH_RESULT }; do BR[${kv%%=*}]=${kv#*=}; done
  BR[errors]=$((BR[err_connect] + BR[err_read] + BR[err_write] + BR[err_status] + BR[err_timeout]))
}

# pair_wrk DURATION: wrk -t1 -c$AUTO_CONNS against the Batons `fixed` (CHAT_MODEL=bench-model) and
# `auto` (CHAT_MODEL=auto) at the same time, both on the load CPU -> $WORK/wrk-{fixed,auto}.out
pair_wrk() {
  local p1 p2
  pin "$CPU_LOAD"
  CHAT_MODEL=bench-model "${PINCMD[@]}" wrk -t1 -c"$AUTO_CONNS" -d"$1s" --timeout 10s -s "$BENCH/chat.lua" \
    "${URL[fixed]}" >"$WORK/wrk-fixed.out" 2>&1 &
  p1=$!
  CHAT_MODEL=auto "${PINCMD[@]}" wrk -t1 -c"$AUTO_CONNS" -d"$1s" --timeout 10s -s "$BENCH/chat.lua" \
    "${URL[auto]}" >"$WORK/wrk-auto.out" 2>&1 &
  p2=$!
  FG_PID="$p1 $p2"
  wait "$p1" || true
  wait "$p2" || true
  FG_PID=""
}

# `model: auto` vs fixed, measured the paired way (tools/paired.sh): both Batons share the server
# CPU and the same window, so host noise hits both alike.  Per round: requests served and Baton
# CPU per request (utime+stime over requests) for each; the table takes medians of the per-round
# auto/fixed ratios.
run_auto() { # round
  local round=$1 m f0 a0 f1 a1 ok=1
  local -A CPU=()
  place_mock auto
  f0=$(cpu_ticks ${SRV_PIDS[fixed]})
  a0=$(cpu_ticks ${SRV_PIDS[auto]})
  pair_wrk "$AUTO_DURATION"
  f1=$(cpu_ticks ${SRV_PIDS[fixed]})
  a1=$(cpu_ticks ${SRV_PIDS[auto]})
  local -A N=() RPS=() E=()
  for m in fixed auto; do
    if ! parse_bench "$WORK/wrk-$m.out" || ((BR[requests] == 0)); then
      log "wrk failed for model $m:"; cat "$WORK/wrk-$m.out" >&2
      record "$round" errors "$m" 1
      ok=0
      continue
    fi
    N[$m]=${BR[requests]} RPS[$m]=${BR[rps]} E[$m]=${BR[errors]}
    record "$round" errors "$m" "${BR[errors]}"
    record "$round" auto_rps "$m" "${BR[rps]}"
    record "$round" auto_req "$m" "${BR[requests]}"
  done
  [[ $ok == 1 ]] || return 0
  CPU[fixed]=$(awk -v d=$((f1 - f0)) -v hz="$CLK_TCK" -v n="${N[fixed]}" 'BEGIN { printf "%.2f", d * 1e6 / hz / n }')
  CPU[auto]=$(awk -v d=$((a1 - a0)) -v hz="$CLK_TCK" -v n="${N[auto]}" 'BEGIN { printf "%.2f", d * 1e6 / hz / n }')
  record "$round" auto_cpu fixed "${CPU[fixed]}"
  record "$round" auto_cpu auto "${CPU[auto]}"
  printf 'bench: [round %d/%d] auto   fixed %8.0f req/s %6.1f us/req | auto %8.0f req/s %6.1f us/req | auto/fixed requests %s, CPU %s  errors %d/%d\n' \
    "$round" "$ROUNDS" "${RPS[fixed]}" "${CPU[fixed]}" "${RPS[auto]}" "${CPU[auto]}" \
    "$(awk -v a="${N[auto]}" -v f="${N[fixed]}" 'BEGIN { printf "%.3f", a / f }')" \
    "$(awk -v a="${CPU[auto]}" -v f="${CPU[fixed]}" 'BEGIN { printf "%.3f", f ? a / f : 0 }')" "${E[fixed]}" "${E[auto]}" >&2
}

# Multi-core curve, once after the rounds: the 1-thread Baton / 1-worker nginx targets (their
# pinning lifted for the step, restored after it) next to a Baton with threads: 2 and an nginx
# with worker_processes 2, all unpinned, like the mock and wrk -t2.  Interleaved nginx, baton,
# nginx2, baton2, SCALE_ROUNDS rounds.  Records scale1_rps / scale2_rps and the per-round gain
# scale_gain = 2/1 for nginx and baton.
SCALE_ON=0
run_scale() {
  [[ $SCALE == 1 ]] || return 0
  if ((NCPU < 2)); then SKIPPED+=("multi-core curve: only 1 CPU"); return 0; fi
  if ! have nginx && ! have baton; then SKIPPED+=("multi-core curve: needs the nginx or baton target"); return 0; fi
  local order=() t r base stop=() n w=()
  local -A RPS=()
  if have nginx; then
    if start_nginx nginx2 "" "$MOCK_PORT" -e "s#^worker_processes 1;#worker_processes 2;#"; then
      read -r -a w <<<"${SRV_PIDS[nginx2]}"
      stop+=("${w[@]}")
    else SKIPPED+=("multi-core curve: nginx with 2 workers failed to start"); fi
  fi
  if have baton; then
    pick_port
    baton_config "$PORT" 2 "$MOCK_PORT" 256 10000 >"$WORK/baton2.yaml"
    if start_baton baton2 "" "$WORK/baton2.yaml" "$PORT"; then
      stop+=("${SRV_PIDS[baton2]}")
    else SKIPPED+=("multi-core curve: Baton with 2 threads failed to start (log tail above)"); fi
  fi
  for t in nginx baton nginx2 baton2; do
    if [[ -n ${SRV_PIDS[$t]:-} ]] && { [[ $t == *2 ]] || have "$t"; }; then order+=("$t"); fi
  done
  if [[ -n $CPU_SERVER ]]; then repin "0-$((NCPU - 1))" ${SRV_PIDS[nginx]:-} ${SRV_PIDS[baton]:-} "$MOCK_PID"; fi
  for t in nginx2 baton2; do # warm-up of the fresh ones
    if [[ -n ${SRV_PIDS[$t]:-} ]]; then run_fg "" /dev/null wrk -t2 -c"$CONNS" -d1s -s "$BENCH/chat.lua" "${URL[$t]}"; fi
  done
  for ((r = 1; r <= SCALE_ROUNDS; r++)); do
    RPS=()
    for t in "${order[@]}"; do
      base=${t%2}
      n=1
      [[ $t == *2 ]] && n=2
      run_fg "" "$WORK/client.out" wrk -t2 -c"$CONNS" -d"${SCALE_DURATION}s" --timeout 10s -s "$BENCH/chat.lua" "${URL[$t]}"
      if ! parse_bench "$WORK/client.out"; then
        log "wrk failed for $t (multi-core curve):"; cat "$WORK/client.out" >&2
        record "$r" errors "$base" 1
        continue
      fi
      RPS[$t]=${BR[rps]}
      record "$r" "scale${n}_rps" "$base" "${BR[rps]}"
      record "$r" errors "$base" "${BR[errors]}"
      printf 'bench: [curve %d/%d] %-6s %d thread(s)/worker(s), unpinned, wrk -t2: %8.0f req/s  errors %d\n' \
        "$r" "$SCALE_ROUNDS" "$base" "$n" "${BR[rps]}" "${BR[errors]}" >&2
    done
    for base in nginx baton; do
      [[ -n ${RPS[$base]:-} && -n ${RPS[${base}2]:-} ]] || continue
      record "$r" scale_gain "$base" "$(awk -v a="${RPS[${base}2]}" -v b="${RPS[$base]}" 'BEGIN { printf "%.4f", b ? a / b : 0 }')"
    done
  done
  if ((${#stop[@]})); then stop_pids "${stop[@]}"; fi
  if [[ -n $CPU_SERVER ]]; then
    repin "$CPU_SERVER" ${SRV_PIDS[nginx]:-} ${SRV_PIDS[baton]:-}
    repin "$CPU_MOCK" "$MOCK_PID"
  fi
  SCALE_ON=1
}

# run_idle NAME PORT PID...: MEM_CONNS keep-alive connections that each served one request, held
# idle by tools/idle_conns.py (on the load CPU); the servers' VmRSS (PIDs summed) is sampled when
# it prints "holding".  Records mem_conn_kib = (RSS holding - RSS before) / connections opened;
# connections that failed count as errors of NAME.
declare -A MEM_OPEN MEM_FAILED MEM_BEFORE MEM_HOLD
run_idle() {
  local name=$1 port=$2 before hold="" line opened=0 failed=$MEM_CONNS kib _
  shift 2
  before=$(mem_kb VmRSS "$@")
  pin "$CPU_LOAD"
  "${PINCMD[@]}" python3 "$BENCH/tools/idle_conns.py" "$MEM_CONNS" "$port" --request --settle 0.5 --hold 0.5 \
    >"$WORK/idle-$name.out" 2>&1 &
  FG_PID=$!
  for _ in $(seq 2400); do # 120 s at most
    if grep -q '^holding' "$WORK/idle-$name.out"; then hold=$(mem_kb VmRSS "$@"); break; fi
    kill -0 "$FG_PID" 2>/dev/null || break
    sleep 0.05
  done
  if [[ -z $hold ]]; then kill -TERM "$FG_PID" 2>/dev/null || true; fi
  wait "$FG_PID" || true
  FG_PID=""
  line=$(grep '^open ' "$WORK/idle-$name.out" || true)
  if [[ -n $line ]]; then read -r _ opened _ failed <<<"$line"; fi
  MEM_OPEN[$name]=$opened MEM_FAILED[$name]=$failed MEM_BEFORE[$name]=$before MEM_HOLD[$name]=${hold:-0}
  record 1 errors "$name" "$failed"
  if [[ -z $hold || $opened == 0 ]]; then
    log "idle_conns.py against $name did not hold its connections:"; cat "$WORK/idle-$name.out" >&2
    return 0
  fi
  ((failed == 0)) || { log "idle_conns.py against $name: $failed connections failed:"; cat "$WORK/idle-$name.out" >&2; }
  kib=$(awk -v a="$before" -v b="$hold" -v n="$opened" 'BEGIN { printf "%.3f", (b - a) / n }')
  record 1 mem_conn_kib "$name" "$kib"
  printf 'bench: [memory] %-6s %d keep-alive connections opened, %d failed: RSS %.1f -> %.1f MB, %.1f KiB per connection\n' \
    "$name" "$opened" "$failed" "$(awk -v k="$before" 'BEGIN { print k / 1024 }')" \
    "$(awk -v k="$hold" 'BEGIN { print k / 1024 }')" "$kib" >&2
}

# Memory at scale, once after the rounds: run_idle against the baton target and against an nginx
# started for it (the template's worker_connections 8192 can't hold MEM_CONNS clients plus the
# upstream pool), then STREAMS concurrent streams (tools/concurrent_streams.py) through a
# separate 1-thread Baton in front of a second mock whose streams last
# (STREAM_CHUNKS - 1) * STREAM_DELAY_US, so that they really are in flight together.
MEM_ON=0 STREAM_ON=0 STREAM_OK=0 STREAM_FAILED=0 STREAM_WALL="" STREAM_PEAK_KB=0
run_memory() {
  [[ $MEMORY == 1 ]] || return 0
  local wc mpid port line
  if ((FD_SOFT < MEM_CONNS + 1000)); then
    log "WARNING: descriptor limit $FD_SOFT (hard $FD_HARD) is low for $MEM_CONNS connections: expect failures"
  fi
  if have baton; then
    port=${URL[baton]#http://127.0.0.1:}
    run_idle baton "${port%%/*}" ${SRV_PIDS[baton]}
    MEM_ON=1
  else SKIPPED+=("memory: needs the baton target"); fi
  if have nginx; then
    wc=$((MEM_CONNS + 1024 > 8192 ? MEM_CONNS + 1024 : 8192))
    if start_nginx nginx_mem "$CPU_SERVER" "$MOCK_PORT" -e "s#worker_connections [0-9]*;#worker_connections $wc;#" \
         -e "s#worker_rlimit_nofile [0-9]*;#worker_rlimit_nofile $((wc + 1024 > 16384 ? wc + 1024 : 16384));#"; then
      port=${URL[nginx_mem]#http://127.0.0.1:}
      run_idle nginx "${port%%/*}" ${SRV_PIDS[nginx_mem]}
      stop_pids ${SRV_PIDS[nginx_mem]}
      MEM_ON=1
    else SKIPPED+=("memory: nginx with worker_connections $wc failed to start"); fi
  fi
  have baton || return 0
  if ! launch_mock mock_stream "$CPU_MOCK" --chunks "$STREAM_CHUNKS" --chunk-delay-us "$STREAM_DELAY_US"; then
    SKIPPED+=("concurrent streams: the second mock did not start"); return 0
  fi
  mpid=$LAUNCH_PID
  pick_port
  port=$PORT
  baton_config "$port" 1 "$LAUNCH_PORT" $((STREAMS * 2)) $((STREAMS + 1000 > 10000 ? STREAMS + 1000 : 10000)) \
    >"$WORK/baton_stream.yaml"
  if ! start_baton baton_stream "$CPU_SERVER" "$WORK/baton_stream.yaml" "$port"; then
    SKIPPED+=("concurrent streams: Baton failed to start with $WORK/baton_stream.yaml (log tail above)")
    stop_pids "$mpid"
    return 0
  fi
  run_fg "$CPU_LOAD" "$WORK/streams.out" python3 "$BENCH/tools/concurrent_streams.py" "$STREAMS" "$port" bench-model
  line=$(grep '^ok ' "$WORK/streams.out" || true)
  if [[ -n $line ]]; then
    read -r _ STREAM_OK _ STREAM_FAILED _ STREAM_WALL <<<"$line"
    STREAM_WALL=${STREAM_WALL%s}
  else
    STREAM_OK=0 STREAM_FAILED=$STREAMS STREAM_WALL=""
  fi
  ((STREAM_FAILED == 0)) || { log "concurrent_streams.py: $STREAM_FAILED streams failed:"; cat "$WORK/streams.out" >&2; }
  record 1 errors baton "$STREAM_FAILED"
  STREAM_PEAK_KB=$(mem_kb VmHWM ${SRV_PIDS[baton_stream]})
  printf 'bench: [memory] %d concurrent streams (%d events %d us apart): %d OK, %d failed, %s s wall; stream Baton peak RSS %.1f MB\n' \
    "$STREAMS" "$STREAM_CHUNKS" "$STREAM_DELAY_US" "$STREAM_OK" "$STREAM_FAILED" "${STREAM_WALL:-?}" \
    "$(awk -v k="$STREAM_PEAK_KB" 'BEGIN { print k / 1024 }')" >&2
  stop_pids ${SRV_PIDS[baton_stream]} "$mpid"
  STREAM_ON=1
}

# ------------------------------------------------------------------ warm-up & rounds ----
log "warm-up (1 s per target)"
for t in "${ACTIVE[@]}"; do
  place_mock "$t"
  run_fg "$CPU_LOAD" /dev/null wrk -t1 -c"$CONNS" -d1s -s "$BENCH/chat.lua" "${URL[$t]}"
done
if [[ $AUTO_ON == 1 ]]; then place_mock auto; pair_wrk 1; fi

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
  if [[ $AUTO_ON == 1 ]]; then run_auto "$round"; fi
done
ROUNDS_SECS=$(($(date +%s) - BENCH_START))

# (peak RSS of the targets: the rounds only, before the memory step's 10k connections)
declare -A PEAK_KB
for t in "${ACTIVE[@]}"; do PEAK_KB[$t]=$(mem_kb VmHWM ${SRV_PIDS[$t]}); done

STEP_START=$(date +%s)
run_scale
SCALE_SECS=$(($(date +%s) - STEP_START))
STEP_START=$(date +%s)
run_memory
MEM_SECS=$(($(date +%s) - STEP_START))
BENCH_SECS=$(($(date +%s) - BENCH_START))
log "measured in $BENCH_SECS s: rounds $ROUNDS_SECS s, multi-core curve $SCALE_SECS s, memory $MEM_SECS s"

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
        # the targets: baton added - nginx added (= baton - nginx) per round
        if (mt in added) {
          n = 0
          for (r = 1; r <= rounds; r++)
            if (((mt, "baton", r) in v) && ((mt, "nginx", r) in v)) a[++n] = v[mt, "baton", r] - v[mt, "nginx", r]
          if (n) printf "%s_diff/baton\t%.6f\n", mt, median(a, n)
        }
        # model: auto vs fixed: per-round auto/fixed
        n = 0
        for (r = 1; r <= rounds; r++)
          if (((mt, "auto", r) in v) && ((mt, "fixed", r) in v) && v[mt, "fixed", r] != 0)
            a[++n] = v[mt, "auto", r] / v[mt, "fixed", r]
        if (n) printf "%s/auto_ratio\t%.6f\n", mt, median(a, n)
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
row() { # label metric scale decimals [direct cell when direct has no value, default n/a]
  local label=$1 m=$2 s=$3 d=$4 nodirect=${5:-n/a} cells=() t v ratio="n/a"
  for t in direct nginx baton; do
    v=${MED[$m/$t]:-}
    if [[ -n $v ]]; then cells+=("$(fmt "$v" "$s" "$d")")
    elif [[ $t == direct && $m == *_added ]]; then cells+=("-")
    elif [[ $t == direct ]]; then cells+=("$nodirect")
    else cells+=("n/a"); fi
  done
  if [[ -n ${MED[$m/ratio]:-} ]]; then
    ratio=$(fmt "${MED[$m/ratio]}" 1 2)
  elif [[ -n ${MED[$m/nginx]:-} && -n ${MED[$m/baton]:-} ]]; then
    ratio=$(awk -v a="${MED[$m/baton]}" -v b="${MED[$m/nginx]}" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }')
  fi
  printf '| %s | %s | %s | %s | %s |\n' "$label" "${cells[0]}" "${cells[1]}" "${cells[2]}" "$ratio"
}

row_raw() { # label direct nginx baton baton/nginx: cells as given
  printf '| %s | %s | %s | %s | %s |\n' "$@"
}
thousands() { sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta' <<<"$1"; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
memcell() { # target -> "RSS before -> holding (MB), opened / failed" of the memory step
  if [[ -n ${MEM_OPEN[$1]:-} ]]; then
    printf '%s → %s, %s / %s' "$(mb "${MEM_BEFORE[$1]}")" "$(mb "${MEM_HOLD[$1]}")" "${MEM_OPEN[$1]}" "${MEM_FAILED[$1]}"
  else echo n/a; fi
}
arow() { # label metric decimals: the model auto table (fixed, auto, median of per-round auto/fixed)
  local label=$1 m=$2 d=$3 fixed=n/a auto=n/a ratio=n/a
  [[ -n ${MED[$m/fixed]:-} ]] && fixed=$(fmt "${MED[$m/fixed]}" 1 "$d")
  [[ -n ${MED[$m/auto]:-} ]] && auto=$(fmt "${MED[$m/auto]}" 1 "$d")
  [[ -n ${MED[$m/auto_ratio]:-} ]] && ratio=$(fmt "${MED[$m/auto_ratio]}" 1 2)
  printf '| %s | %s | %s | %s |\n' "$label" "$fixed" "$auto" "$ratio"
}
opt() { # MED key decimals [sign]: the value formatted, or n/a; sign=+ prints the sign
  local v=${MED[$1]:-}
  if [[ -z $v ]]; then echo n/a
  elif [[ ${3:-} == + ]]; then awk -v v="$v" -v d="$2" 'BEGIN { printf "%+.*f", d, v }'
  else fmt "$v" 1 "$2"; fi
}
verdict() { # value op limit -> met | MISSED | n/a (judged on the value as displayed)
  if [[ -z $1 || $1 == n/a ]]; then echo n/a; return; fi
  awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN { ok = (op == ">=") ? (v + 0 >= l + 0) : (v + 0 <= l + 0); print ok ? "met" : "MISSED" }'
}
unit() { # value unit -> "value unit", or n/a
  if [[ $1 == n/a ]]; then echo n/a; else echo "$1 $2"; fi
}
added_note() { # metric -> "(baton +X, nginx +Y over direct)" when direct ran
  if [[ -n ${MED[${1}_added/baton]:-} && -n ${MED[${1}_added/nginx]:-} ]]; then
    printf ' (baton %s, nginx %s over direct)' "$(opt "${1}_added/baton" 0 +)" "$(opt "${1}_added/nginx" 0 +)"
  fi
}

TOTAL_SECS=$(($(date +%s) - START_TS))
VERSIONS="kernel $(uname -r)"
[[ -n ${URL[nginx]:-} ]] && VERSIONS+=", $("$NGINX" -v 2>&1 | sed 's#^nginx version: ##')"
[[ -n ${URL[baton]:-} ]] && VERSIONS+=", baton $BATON_VERSION"
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
TABLE="$WORK/table.md"
MEM_CONNS_FMT=$(thousands "$MEM_CONNS")
STREAMS_FMT=$(thousands "$STREAMS")
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
  if [[ $SCALE_ON == 1 ]]; then
    row "1 thread/worker, nothing pinned, wrk -t2: req/s" scale1_rps 1 0 -
    row "2 threads/workers, nothing pinned, wrk -t2: req/s" scale2_rps 1 0 -
    row "2 threads/workers, nothing pinned: req/s gain over 1 (2/1)" scale_gain 1 2 -
  fi
  if [[ $MEM_ON == 1 ]]; then
    row "$MEM_CONNS_FMT keep-alive connections (each served a request): KiB per connection" mem_conn_kib 1 1 -
    row_raw "$MEM_CONNS_FMT keep-alive connections: RSS before → holding (MB), opened / failed" - "$(memcell nginx)" "$(memcell baton)" ""
  fi
  if [[ $STREAM_ON == 1 ]]; then
    row_raw "$STREAMS_FMT concurrent streams: OK / failed (wall s)" - - "$STREAM_OK / $STREAM_FAILED (${STREAM_WALL:-?} s)" ""
    row_raw "$STREAMS_FMT concurrent streams: stream Baton's peak RSS, VmHWM (MB)" - - "$(mb "$STREAM_PEAK_KB")" ""
  fi
  row "errors (non-2xx, socket, stream, failed connections; all runs)" errors 1 0
  echo
  echo "_req/s: higher is better; every other row: lower is better. Cells are medians over rounds; \"added\" rows and baton/nginx are computed per round (same-round pairs), then the median is taken._"
  if [[ $SCALE_ON == 1 ]]; then
    echo "_nothing pinned rows: once after the rounds, $SCALE_ROUNDS interleaved rounds of wrk -t2 -c$CONNS -d${SCALE_DURATION}s against nginx with worker_processes 1 and 2 and Baton with threads 1 and 2 (the 1-worker/1-thread ones are the targets above, unpinned for this step); wrk, the mock and the proxy share all $NCPU CPUs, so this is the curve under that contention, not a ceiling. Gain = median of the per-round 2/1 ratios; its last column = baton gain / nginx gain._"
  fi
  if [[ $MEM_ON == 1 || $STREAM_ON == 1 ]]; then
    echo "_memory rows: once after the rounds. tools/idle_conns.py opens $MEM_CONNS_FMT keep-alive connections, each sends one small request and reads the answer, then all stay idle; KiB per connection = (VmRSS while holding - VmRSS just before) / connections opened, against the baton target (after the rounds) and a fresh nginx with worker_connections raised to hold them (the template's 8192 can't; nginx allocates all its worker_connections connection and event structures at start, so they are in its \"before\" and its figure is what a connection costs beyond them). Concurrent streams: tools/concurrent_streams.py, $STREAMS_FMT streams at once through a separate 1-thread Baton (provider max_connections $((STREAMS * 2))) in front of a second mock sending $STREAM_CHUNKS events ${STREAM_DELAY_US} us apart; a wall time close to one stream's length means they were all in flight together._"
  fi
  echo "_server CPU = utime+stime of the server process(es) during the run / requests (for direct: the mock; nginx: master+worker; RSS likewise summed). 1 conn, direct: the mock's CPU over the interleaved lat_client run / all the requests it served (its own and the proxies')._"
  if [[ $AUTO_ON == 1 ]]; then
    echo
    echo "| \`model: auto\` vs fixed: two Batons (same config: \`bench-model\` + route \`auto\` over 10 candidates) on the server CPU, wrk -t1 -c$AUTO_CONNS -d${AUTO_DURATION}s against each at the same time, every round | fixed model | model: auto | auto/fixed |"
    echo "|---|---:|---:|---:|"
    arow "\`model: auto\` over 10 candidates / fixed model, req/s in the same window" auto_rps 0
    arow "\`model: auto\` over 10 candidates / fixed model, Baton CPU per request (us)" auto_cpu 1
    printf '| errors (non-2xx, socket; all rounds) | %s | %s | |\n' "${MED[errors/fixed]:-0}" "${MED[errors/auto]:-0}"
    echo
    echo "_auto/fixed = median of the per-round ratios (requests served in the same window; Baton CPU per request = utime+stime over requests); both Batons see the same host noise, so the ratio holds within ~1% (tools/paired.sh)._"
  fi
  echo
  echo "Targets (issue #8), this run:"
  echo
  echo "| target | measured | limit | verdict |"
  echo "|---|---|---|---|"
  v=$(opt small_rps/ratio 2)
  echo "| non-streaming req/s, $CONNS connections, small body: baton/nginx | $v | ≥ 0.95 | $(verdict "$v" '>=' 0.95) |"
  v=$(opt big_rps/ratio 2)
  echo "| non-streaming req/s, $CONNS connections, ~$BIG_KB KB body: baton/nginx | $v | ≥ 0.95 | $(verdict "$v" '>=' 0.95) |"
  v=$(opt small_cpu/ratio 2)
  echo "| CPU per request, $CONNS connections, small body: baton/nginx | $v | ≤ 1.10 | $(verdict "$v" '<=' 1.10) |"
  v=$(opt big_cpu/ratio 2)
  echo "| CPU per request, $CONNS connections, ~$BIG_KB KB body: baton/nginx | $v | ≤ 1.10 | $(verdict "$v" '<=' 1.10) |"
  v=$(opt c1_p50_diff/baton 1 +)
  echo "| added latency over direct, 1 connection, p50: baton's - nginx's | $(unit "$v" µs)$(added_note c1_p50) | ≤ +10 µs | $(verdict "$v" '<=' 10) |"
  v=$(opt c1_p99_diff/baton 1 +)
  echo "| added latency over direct, 1 connection, p99: baton's - nginx's | $(unit "$v" µs)$(added_note c1_p99) | ≤ +25 µs | $(verdict "$v" '<=' 25) |"
  v=$(opt ttft_p50_diff/baton 1 +)
  echo "| added time to first token, streaming, p50: baton's - nginx's | $(unit "$v" µs)$(added_note ttft_p50) | ≤ +50 µs | $(verdict "$v" '<=' 50) |"
  v=$(opt auto_req/auto_ratio 2)
  verd=$(verdict "$v" '>=' 0.90)
  auto_errs=$((${MED[errors/fixed]:-0} + ${MED[errors/auto]:-0}))
  ((auto_errs == 0)) || verd="MISSED ($auto_errs errors)"
  echo "| \`model: auto\` over 10 candidates / fixed model (requests in the same window) | $v (CPU per request auto/fixed $(opt auto_cpu/auto_ratio 2)) | ≥ 0.90 | $verd |"
  v=$(opt idle_mb/baton 1)
  echo "| memory: idle RSS after start | $v MiB | ≤ 20 MiB | $(verdict "$v" '<=' 20) |"
  v=$(opt mem_conn_kib/baton 1)
  verd=$(verdict "$v" '<=' 16)
  [[ $v == n/a ]] || v+=" KiB"
  if [[ -n ${MEM_OPEN[baton]:-} ]]; then
    ((MEM_FAILED[baton] == 0)) || verd="MISSED (${MEM_FAILED[baton]} failed)"
    v+=" (${MEM_OPEN[baton]} opened, ${MEM_FAILED[baton]} failed; nginx $(opt mem_conn_kib/nginx 1))"
  fi
  echo "| memory: per idle keep-alive connection at $MEM_CONNS_FMT connections (each served a request) | $v | ≤ 16 KiB | $verd |"
  if [[ $STREAM_ON == 1 ]]; then
    verd=met
    ((STREAM_OK == STREAMS && STREAM_FAILED == 0)) || verd=MISSED
    echo "| memory: $STREAMS_FMT concurrent streams | $STREAM_OK OK, $STREAM_FAILED failed, ${STREAM_WALL:-?} s wall, peak RSS $(mb "$STREAM_PEAK_KB") MiB | zero errors | $verd |"
  else
    echo "| memory: $STREAMS_FMT concurrent streams | n/a | zero errors | n/a |"
  fi
  if [[ $SCALE_ON == 1 ]]; then
    v=""
    for t in baton nginx; do
      [[ -n ${MED[scale_gain/$t]:-} ]] || continue
      v+="${v:+, }$t ×$(opt scale_gain/$t 2) ($(opt scale1_rps/$t 0) → $(opt scale2_rps/$t 0) req/s)"
    done
    echo "| multi-core: 2 threads/workers vs 1, nothing pinned, req/s gain | ${v:-n/a} | report the curve | $([[ -n $v ]] && echo reported || echo n/a) |"
  else
    echo "| multi-core: 2 threads/workers vs 1, nothing pinned, req/s | n/a | report the curve | n/a |"
  fi
  echo
  echo "_ratios and differences are medians of per-round values ($ROUNDS rounds$([[ $SCALE_ON == 1 ]] && echo "; the curve $SCALE_ROUNDS")); \"baton's - nginx's\" is (baton - direct) - (nginx - direct) per round, i.e. baton - nginx. Verdicts are judged on the values as shown. n/a: not measured in this run (a target or step skipped)._"
  for s in "${SKIPPED[@]}"; do echo "_skipped: ${s}_"; done
  echo "_measured in ${BENCH_SECS} s (${TOTAL_SECS} s including builds and start-up; rounds ${ROUNDS_SECS} s, multi-core curve ${SCALE_SECS} s, memory ${MEM_SECS} s)._"
} >"$TABLE"

echo
cat "$TABLE"
[[ -n $BENCH_OUT ]] && cp "$TABLE" "$BENCH_OUT"
exit 0
