#!/usr/bin/env bash
# bench/tools/scaling.sh - req/s of Baton (server.threads = 1, 2, ...) and nginx
# (worker_processes = 1, 2, ...) on the small-body scenario, nothing pinned.
#
#   bench/tools/scaling.sh                 # THREADS="1 2" ROUNDS=3 DURATION=5 CONNS=64
#
# On a 2-core machine the load generator (wrk -t2) and the mock upstream share the cores with
# the proxy, so this shows how the proxy scales when it competes for the CPU with its load, not
# its ceiling. Uses build/release/baton, bench/mock_upstream.c and nginx-light like run.sh;
# traffic to 127.0.0.1 only; every process started is stopped by PID on exit.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
THREADS=${THREADS:-"1 2"}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CONNS=${CONNS:-64}
BATON_BIN=${BATON_BIN:-$ROOT/build/release/baton}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x $BATON_BIN ]] || { echo "scaling: $BATON_BIN missing (make build, or make bench once)" >&2; exit 1; }
[[ -x $NGINX ]] || { echo "scaling: nginx missing (apt-get install -y nginx-light)" >&2; exit 1; }

# shellcheck source=bench/tools/lib.sh
source "$ROOT/bench/tools/lib.sh"
bench_init scaling
start_mock || exit 1

declare -A URL
for n in $THREADS; do
  port=$(free_port)
  cat >"$WORK/baton$n.yaml" <<EOF
server: {listen: 127.0.0.1:$port, threads: $n}
logging: {level: warn, access_log: off}
providers:
  - {name: up, kind: openai, base_url: http://127.0.0.1:$MOCK_PORT/v1, max_connections: 256}
models:
  - {name: bench-model, provider: up, upstream_model: gpt-4o-mini}
EOF
  "$BATON_BIN" --config "$WORK/baton$n.yaml" >"$WORK/baton$n.log" 2>&1 &
  PIDS+=($!)
  wait_port "$port" || { cat "$WORK/baton$n.log" >&2; exit 1; }
  URL[baton$n]="http://127.0.0.1:$port/v1/chat/completions"

  port=$(free_port)
  pre="$WORK/nginx$n"
  mkdir -p "$pre"
  user=""
  [[ $(id -u) == 0 ]] && user="user root root;"
  sed -e "s#@PREFIX@#$pre#g" -e "s#@LISTEN_PORT@#$port#g" -e "s#@UPSTREAM_PORT@#$MOCK_PORT#g" \
      -e "s#@USER_DIRECTIVE@#$user#g" -e "s#worker_processes 1;#worker_processes $n;#" \
      "$ROOT/bench/nginx.conf.template" >"$pre/nginx.conf"
  "$NGINX" -e "$pre/error.log" -c "$pre/nginx.conf" -p "$pre" >/dev/null 2>&1 &
  PIDS+=($!)
  wait_port "$port" || { cat "$pre/error.log" >&2; exit 1; }
  URL[nginx$n]="http://127.0.0.1:$port/v1/chat/completions"
done

declare -A SUM
for r in $(seq "$ROUNDS"); do
  for n in $THREADS; do
    for t in nginx baton; do
      out=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" -s "$ROOT/bench/chat.lua" "${URL[$t$n]}" | grep BENCH_RESULT)
      rps=$(sed -E 's/.*rps=([0-9.]+).*/\1/' <<<"$out")
      echo "scaling: round $r $t threads=$n rps=$rps" >&2
      SUM[$t$n]="${SUM[$t$n]:-} $rps"
    done
  done
done

median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "| threads / workers | nginx req/s | baton req/s | baton/nginx |"
echo "|---:|---:|---:|---:|"
for n in $THREADS; do
  a=$(median "${SUM[nginx$n]}")
  b=$(median "${SUM[baton$n]}")
  printf '| %s | %.0f | %.0f | %.2f |\n' "$n" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN{print b/a}')"
done
echo
echo "_small body, wrk -t2 -c$CONNS -d${DURATION}s, medians of $ROUNDS rounds, nothing pinned ($(nproc) CPUs shared by wrk, the mock and the proxy)._"
