#!/usr/bin/env bash
# `make docker-test`: builds docker/Dockerfile with podman (no Docker engine needed) and proves the
# image works: it serves /healthz and /readyz, answers a chat completion through the built-in mock
# provider, passes its own HEALTHCHECK, reloads its config on SIGHUP, drains and exits 0 on
# SIGTERM, runs as a non-root user, and stays small.
#
# Steps (each one timed; a summary is printed at the end):
#   1. tools       podman, buildah, runc, debootstrap from Debian (skipped when installed)
#   2. podman conf a private containers.conf (runc, cgroupfs, ulimits within the host's limits)
#   3. base image  debian:bookworm-slim (and debian:bookworm) in podman's store; when missing,
#                  made once with debootstrap from the host's Debian mirror and cached
#   4. build       podman build --format docker --pull=never -f docker/Dockerfile -t baton .
#   5. inspect     user, HEALTHCHECK, STOPSIGNAL, EXPOSE, BATON_LISTEN, entrypoint, size
#   6. run         the container with the image's defaults (0.0.0.0:8080) in its own network
#                  namespace (so no host port can clash; requests are sent from inside it),
#                  config/ mounted from the host, read-only root, no capabilities
#   7. checks      /healthz, /readyz, chat completion, HEALTHCHECK, non-root, SIGHUP reload of
#                  an edited config
#   8. stop        podman stop -t 40 (SIGTERM): exit code 0 well within the drain time
#
# Environment:
#   DOCKER_TEST_IMAGE       image tag to build (default: baton)
#   DOCKER_TEST_DIR         work folder (default: build/docker-test)
#   DOCKER_TEST_REBUILD_BASE=1   debootstrap the base image again even if one is cached
#   DOCKER_TEST_MAX_MB      fail when the image is larger (default: 100)
#   DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR   override the mirrors read from the host's apt sources
#
# Exit codes: 0 all checks passed, 1 a check failed, 2 a step could not run on this machine.
set -euo pipefail
# `... | grep -q X` under pipefail fails at random: grep exits at the first match and the
# writer dies of SIGPIPE. contains reads all of its input.
contains() { local n; n=$(grep -c -- "$1" || true); [ "${n:-0}" -gt 0 ]; }
cd "$(dirname "$0")/.."
ROOT="$PWD"

IMAGE="${DOCKER_TEST_IMAGE:-baton}"
WORK="${DOCKER_TEST_DIR:-$ROOT/build/docker-test}"
MAX_MB="${DOCKER_TEST_MAX_MB:-100}"
SUITE=bookworm
BASE_SLIM="debian:$SUITE-slim"
BASE_FULL="debian:$SUITE"
CONTAINER="baton-docker-test-$$"
DRAIN_S=30            # server.timeouts.drain in config/baton.yaml
STOP_TIMEOUT_S=40     # podman stop -t: SIGKILL only after this

# ---- output helpers -----------------------------------------------------------------------
T_START=$(date +%s)
STEP_NAME="" STEP_T0=0
SUMMARY=()
now() { date +%s; }
log() { printf 'docker-test: %s\n' "$*"; }
end_step() {
  if [ -n "$STEP_NAME" ]; then
    local dt=$(( $(now) - STEP_T0 ))
    SUMMARY+=("$(printf '%-12s %4ss' "$STEP_NAME" "$dt")")
    log "   ($STEP_NAME: ${dt}s)"
  fi
  STEP_NAME=""
}
step() {
  end_step
  STEP_NAME="$1" STEP_T0=$(now)
  printf '\n==> [%4ss] %s: %s\n' "$(( $(now) - T_START ))" "$1" "$2"
}
fail() {
  local why="$*" state
  # A check that fails because baton died says so.
  if [ -n "${CONTAINER_STARTED:-}" ] \
     && state=$(podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$CONTAINER" 2>/dev/null) \
     && [ "${state%% *}" != running ]; then
    why="$why [baton is no longer running: ${state%% *}, exit code ${state##* }]"
  fi
  printf '\ndocker-test: FAIL (%s): %s\n' "${STEP_NAME:-setup}" "$why" >&2
  exit 1
}
cannot() { printf '\ndocker-test: CANNOT RUN (%s): %s\n' "${STEP_NAME:-setup}" "$*" >&2; exit 2; }
ok() { log "ok: $*"; }

# ---- cleanup ------------------------------------------------------------------------------
ROOTFS="" BUILD_PID="" CONTAINER_STARTED=""
cleanup() {
  local rc=$?
  if [ -n "$BUILD_PID" ] && kill -0 "$BUILD_PID" 2>/dev/null; then kill "$BUILD_PID" 2>/dev/null || true; fi
  if [ "$rc" -ne 0 ] && command -v podman >/dev/null && podman container exists "$CONTAINER" 2>/dev/null; then
    echo "---- last lines of the container log ----" >&2
    podman logs --tail 40 "$CONTAINER" >&2 2>&1 || true
  fi
  if command -v podman >/dev/null; then podman rm -f -t 0 "$CONTAINER" >/dev/null 2>&1 || true; fi
  if [ -n "$ROOTFS" ] && [ -d "$ROOTFS" ]; then rm -rf "$ROOTFS"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 0. privileges ------------------------------------------------------------------------
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then
    log "not root: re-running with sudo (podman, debootstrap and apt-get need root here)"
    exec sudo --preserve-env=DOCKER_TEST_IMAGE,DOCKER_TEST_DIR,DOCKER_TEST_REBUILD_BASE,DOCKER_TEST_MAX_MB,DEBIAN_MIRROR,DEBIAN_SECURITY_MIRROR "$0" "$@"
  fi
  cannot "needs root (rootful podman, debootstrap, apt-get) and sudo is not installed"
fi
mkdir -p "$WORK"

# ---- 1. tools -----------------------------------------------------------------------------
step tools "podman, buildah, runc, debootstrap, curl from Debian"
TOOLS=(podman buildah runc debootstrap debian-archive-keyring curl ca-certificates util-linux)
missing=()
for p in "${TOOLS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | contains "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || cannot "apt-get update failed (is a Debian mirror reachable?)"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$WORK/apt-tools.log" 2>&1 \
    || { tail -20 "$WORK/apt-tools.log" >&2; cannot "apt-get install ${missing[*]} failed"; }
else
  log "already installed"
fi
log "$(podman --version), $(runc --version | head -1)"

# ---- 2. podman configuration --------------------------------------------------------------
step config "containers.conf for this machine"
# crun and podman's default ulimits (nofile/nproc above the host's hard limits, which root cannot
# raise here: no CAP_SYS_RESOURCE) fail: use runc and the host's own hard limits. systemd is not
# PID 1: cgroupfs, and events and logs in files.
hard_nofile=$(ulimit -Hn); [ "$hard_nofile" = unlimited ] && hard_nofile=1048576
hard_nproc=$(ulimit -Hu); [ "$hard_nproc" = unlimited ] && hard_nproc=32768
# podman lowers its own (and so conmon's and runc's) nproc hard limit to 32768: above that, runc
# fails with "error setting rlimit type 6" too.
[ "$hard_nproc" -gt 32768 ] && hard_nproc=32768
export CONTAINERS_CONF="$WORK/containers.conf"
cat >"$CONTAINERS_CONF" <<EOF
# Written by scripts/docker-test.sh; used through CONTAINERS_CONF, the system's file is untouched.
[containers]
default_ulimits = ["nofile=$hard_nofile:$hard_nofile", "nproc=$hard_nproc:$hard_nproc"]
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
log "CONTAINERS_CONF=$CONTAINERS_CONF (nofile=$hard_nofile, nproc=$hard_nproc)"
podman info >"$WORK/podman-info.txt" 2>&1 \
  || { tail -20 "$WORK/podman-info.txt" >&2; cannot "podman info failed: podman does not work on this machine"; }
log "storage driver: $(podman info --format '{{.Store.GraphDriverName}}'), runtime: $(podman info --format '{{.Host.OCIRuntime.Name}}')"

# ---- 3. base image ------------------------------------------------------------------------
step base "$BASE_SLIM in podman's store"
# The Debian archive and security URIs this machine's apt uses (deb822 .sources and .list files).
host_apt_uris() {
  {
    cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^[[:space:]]*URIs:[[:space:]]*//p' | tr ' ' '\n'
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
      | sed -n -E 's/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/p'
  } | sed 's:/*$::' | grep -v '^$' || true
}
make_base_image() {
  local mirror security
  mirror="${DEBIAN_MIRROR:-$(host_apt_uris | grep -E '/debian$' | head -1)}"
  security="${DEBIAN_SECURITY_MIRROR:-$(host_apt_uris | grep -E '/debian-security$' | head -1)}"
  mirror="${mirror:-http://deb.debian.org/debian}"
  security="${security:-http://deb.debian.org/debian-security}"
  log "no $BASE_SLIM image: making one with debootstrap --variant=minbase $SUITE from $mirror"
  ROOTFS="$WORK/rootfs"
  rm -rf "$ROOTFS"
  debootstrap --variant=minbase "$SUITE" "$ROOTFS" "$mirror" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log" >&2; cannot "debootstrap failed (log: $WORK/debootstrap.log)"; }

  # apt inside the image uses the same mirrors as this machine, with the same validity settings
  # (a snapshot mirror's Release files may be past Valid-Until) and proxy, if any.
  rm -f "$ROOTFS/etc/apt/sources.list"
  cat >"$ROOTFS/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  apt-config dump 2>/dev/null \
    | grep -E '^Acquire::(Check-Valid-Until|Check-Date|https?::Proxy|ftp::Proxy) ' \
    >"$ROOTFS/etc/apt/apt.conf.d/90host-mirror" || true

  # Slim it like Debian's official -slim images: no docs, man pages, locales; no apt caches.
  cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  printf 'Dir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n' >"$ROOTFS/etc/apt/apt.conf.d/docker-clean"
  printf 'Acquire::GzipIndexes "true";\n' >"$ROOTFS/etc/apt/apt.conf.d/docker-gzip-indexes"
  printf 'Acquire::Languages "none";\n' >"$ROOTFS/etc/apt/apt.conf.d/docker-no-languages"
  printf 'Apt::AutoRemove::SuggestsImportant "false";\n' >"$ROOTFS/etc/apt/apt.conf.d/docker-autoremove-suggests"
  find "$ROOTFS/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$ROOTFS/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$ROOTFS"/usr/share/{man,groff,info,lintian,linda}/*
  find "$ROOTFS/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/* "$ROOTFS"/var/cache/debconf/*-old \
         "$ROOTFS"/var/lib/dpkg/*-old "$ROOTFS"/var/log/* "$ROOTFS"/tmp/* "$ROOTFS"/root/.cache
  : >"$ROOTFS/etc/resolv.conf"    # filled in by the container runtime
  : >"$ROOTFS/etc/hostname"

  tar --numeric-owner --xattrs -C "$ROOTFS" -c . \
    | podman import --change 'CMD ["bash"]' \
        --change "LABEL org.opencontainers.image.description=debian:$SUITE-slim made by scripts/docker-test.sh with debootstrap" \
        - "$BASE_SLIM" >"$WORK/import.log" 2>&1 \
    || { cat "$WORK/import.log" >&2; cannot "podman import of the debootstrapped root failed"; }
  rm -rf "$ROOTFS"; ROOTFS=""
  log "made $BASE_SLIM ($(podman image inspect --format '{{.Size}}' "$BASE_SLIM" | awk '{printf "%.1f MB", $1/1e6}'))"
}
if [ "${DOCKER_TEST_REBUILD_BASE:-0}" = 1 ]; then
  log "DOCKER_TEST_REBUILD_BASE=1: removing the cached base images"
  podman rmi -f "$BASE_SLIM" "$BASE_FULL" >/dev/null 2>&1 || true
fi
if podman image exists "$BASE_SLIM"; then
  log "cached: $BASE_SLIM ($(podman image inspect --format '{{.Id}}' "$BASE_SLIM" | cut -c1-12))"
else
  make_base_image
fi
if ! podman image exists "$BASE_FULL"; then
  # The build stage only needs apt and a shell: the slim base serves for both stages.
  podman tag "$BASE_SLIM" "$BASE_FULL"
  log "tagged $BASE_SLIM as $BASE_FULL for the build stage"
fi

# ---- 4. build -----------------------------------------------------------------------------
step build "podman build --format docker --pull=never -f docker/Dockerfile -t $IMAGE ."
# --format docker: the OCI format has no HEALTHCHECK. --network host: RUN steps reach the Debian
# mirror without a container network (none is configured here). --ulimit: RUN steps otherwise ask
# for limits above the host's hard limits, which root cannot raise here (no CAP_SYS_RESOURCE).
set +e
: >"$WORK/build.log"
podman build --format docker --pull=never --network host \
  --ulimit "nofile=$hard_nofile:$hard_nofile" --ulimit "nproc=$hard_nproc:$hard_nproc" \
  -f docker/Dockerfile -t "$IMAGE" . \
  >"$WORK/build.log" 2>&1 &
build_pid=$! BUILD_PID=$!
# Show the Dockerfile steps as they start (the full log is in $WORK/build.log).
tail -n +1 -f --pid=$build_pid "$WORK/build.log" | grep --line-buffered -E '^(\[[0-9]+/[0-9]+\] )?(STEP [0-9]+|runtime packages:|COMMIT|baton [0-9])' &
wait $build_pid; build_rc=$? BUILD_PID=""
sleep 0.5
set -e
if [ $build_rc -ne 0 ]; then
  echo "---- last lines of $WORK/build.log ----" >&2
  tail -40 "$WORK/build.log" >&2
  fail "podman build exited $build_rc"
fi
ok "built $IMAGE"

# ---- 5. inspect ---------------------------------------------------------------------------
step inspect "image configuration and size"
insp() { podman image inspect --format "$1" "$IMAGE"; }
user=$(insp '{{.Config.User}}')
case "${user%%:*}" in ""|0|root) fail "image runs as root (Config.User='$user')";; esac
ok "Config.User=$user"
hc=$(insp '{{json .Config.Healthcheck}}')
grep -q '"baton","--probe","http://127.0.0.1:8080/readyz"' <<<"$hc" \
  || fail "HEALTHCHECK missing or unexpected (did the build use --format docker?): $hc"
ok "HEALTHCHECK $hc"
[ "$(insp '{{.Config.StopSignal}}')" = SIGTERM ] || fail "STOPSIGNAL is '$(insp '{{.Config.StopSignal}}')', not SIGTERM"
ok "STOPSIGNAL SIGTERM"
insp '{{json .Config.ExposedPorts}}' | contains '"8080/tcp"' || fail "port 8080 not exposed"
ok "EXPOSE 8080"
insp '{{json .Config.Env}}' | contains '"BATON_LISTEN=0.0.0.0:8080"' || fail "BATON_LISTEN=0.0.0.0:8080 not set"
ok "ENV BATON_LISTEN=0.0.0.0:8080"
ep=$(insp '{{json .Config.Entrypoint}}')
[ "$ep" = '["baton","--config","/etc/baton/baton.yaml"]' ] || fail "unexpected ENTRYPOINT $ep"
ok "ENTRYPOINT $ep"
size_b=$(insp '{{.Size}}')
SIZE_MB=$(awk -v b="$size_b" 'BEGIN {printf "%.1f", b/1e6}')
log "image size: $SIZE_MB MB ($size_b bytes; base $BASE_SLIM: $(podman image inspect --format '{{.Size}}' "$BASE_SLIM" | awk '{printf "%.1f MB", $1/1e6}'))"
awk -v s="$SIZE_MB" -v m="$MAX_MB" 'BEGIN {exit !(s <= m)}' || fail "image is $SIZE_MB MB, over DOCKER_TEST_MAX_MB=$MAX_MB"

# ---- 6. run -------------------------------------------------------------------------------
step run "container with the image's defaults in its own network namespace, hardened"
# --network none: a private network namespace with only loopback, so the image's own settings
# (BATON_LISTEN=0.0.0.0:8080, HEALTHCHECK on 127.0.0.1:8080) are used as shipped and no host port
# can clash with anything else on this machine. Requests are sent from inside that namespace
# with the host's curl (nsenter --net).
# Without systemd, podman cannot schedule the periodic health check (it logs "unable to get
# systemd connection"; harmless): `podman healthcheck run` below runs it on demand.
# The hardening of docker/compose.yaml (read-only root, no capabilities, no-new-privileges) is
# applied too, so the compose example is known to work.
# config/ is mounted from the host as the docs show (-v ./config:/etc/baton), from a copy that the
# SIGHUP check edits.
rm -rf "$WORK/config" && mkdir -p "$WORK/config"
cp config/baton.yaml "$WORK/config/baton.yaml"
chmod 755 "$WORK/config" && chmod 644 "$WORK/config/baton.yaml"
podman run -d --name "$CONTAINER" --network none -v "$WORK/config:/etc/baton:ro" \
  --read-only --cap-drop ALL --security-opt no-new-privileges "$IMAGE" >"$WORK/run.log" 2>&1 \
  || { grep -v 'systemd connection' "$WORK/run.log" >&2; fail "podman run failed"; }
CONTAINER_STARTED=1
pid=$(podman inspect --format '{{.State.Pid}}' "$CONTAINER")
[ -n "$pid" ] && [ "$pid" != 0 ] || fail "container is not running (state: $(podman inspect --format '{{.State.Status}}' "$CONTAINER"))"
incurl() { nsenter --target "$pid" --net curl -sS --max-time 10 "$@"; }
ready=""
for _ in $(seq 1 100); do
  if incurl -o /dev/null http://127.0.0.1:8080/healthz 2>/dev/null; then ready=1; break; fi
  [ "$(podman inspect --format '{{.State.Running}}' "$CONTAINER")" = true ] || fail "baton exited: $(podman logs "$CONTAINER" 2>&1 | tail -5)"
  sleep 0.1
done
[ -n "$ready" ] || fail "baton did not answer on 127.0.0.1:8080 within 10s"
podman logs "$CONTAINER" 2>&1 | contains 'listening on http://0.0.0.0:8080' \
  || fail "baton is not listening on 0.0.0.0:8080: $(podman logs "$CONTAINER" 2>&1 | grep -m1 listening)"
ok "listening on 0.0.0.0:8080 after $(( $(now) - STEP_T0 ))s"

# ---- 7. checks ----------------------------------------------------------------------------
step checks "health, chat completion, health check, SIGHUP reload, non-root"
code=$(incurl -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/healthz) || fail "GET /healthz: curl failed"
[ "$code" = 200 ] || fail "GET /healthz answered $code"
ok "GET /healthz 200"
code=$(incurl -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/readyz) || fail "GET /readyz: curl failed"
[ "$code" = 200 ] || fail "GET /readyz answered $code"
ok "GET /readyz 200"

body=$(incurl -H 'Content-Type: application/json' http://127.0.0.1:8080/v1/chat/completions \
  -d '{"model":"demo-small","messages":[{"role":"user","content":"hi"}]}') || fail "chat completion: curl failed"
grep -q '"object"[[:space:]]*:[[:space:]]*"chat.completion"' <<<"$body" || fail "not a chat.completion: $body"
grep -q '"content"' <<<"$body" || fail "chat.completion without content: $body"
ok "POST /v1/chat/completions (demo-small, mock provider): chat.completion"

podman exec "$CONTAINER" baton --probe http://127.0.0.1:8080/readyz >/dev/null \
  || fail "baton --probe http://127.0.0.1:8080/readyz failed inside the container"
ok "podman exec baton --probe http://127.0.0.1:8080/readyz: exit 0"
hc_out=$(podman healthcheck run "$CONTAINER" 2>&1) || fail "podman healthcheck run: $hc_out"
hc_status=$(podman inspect --format '{{.State.Health.Status}}' "$CONTAINER")
[ "$hc_status" = healthy ] || fail "health status '$hc_status' after podman healthcheck run"
ok "podman healthcheck run (the image's HEALTHCHECK): $hc_status"

uid=$(podman exec "$CONTAINER" id -u) || fail "podman exec id -u failed"
[ "$uid" != 0 ] || fail "process runs as root inside the container"
host_uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
[ "$host_uid" != 0 ] || fail "baton (host pid $pid) runs as uid 0"
ok "runs as uid $uid (host pid $pid: uid $host_uid)"

# Reload: add a model to the mounted config, send SIGHUP, and expect it to be served.
incurl http://127.0.0.1:8080/v1/models | contains '"demo-reloaded"' && fail "demo-reloaded served before the reload"
sed -i 's/^models:$/models:\
  - name: demo-reloaded\
    provider: demo\
    context_window: 8000\
    max_output_tokens: 1024\
    capabilities: [streaming]\
    price: {input: 0.0, output: 0.0}\
    quality: 0.1\
    tags: [local]/' "$WORK/config/baton.yaml"
grep -q 'demo-reloaded' "$WORK/config/baton.yaml" || fail "could not add a model to $WORK/config/baton.yaml"
podman kill -s HUP "$CONTAINER" >/dev/null || fail "podman kill -s HUP failed"
reloaded=""
for _ in $(seq 1 100); do
  if podman logs "$CONTAINER" 2>&1 | contains 'config reloaded'; then reloaded=1; break; fi
  podman logs "$CONTAINER" 2>&1 | contains 'reload rejected' \
    && fail "reload rejected: $(podman logs "$CONTAINER" 2>&1 | grep -B3 'reload rejected' | tail -4)"
  sleep 0.1
done
[ -n "$reloaded" ] || fail "no 'config reloaded' in the log within 10s of SIGHUP"
ok "SIGHUP: $(podman logs "$CONTAINER" 2>&1 | grep -m1 'config reloaded' | sed 's/^.*info //')"
body=$(incurl -H 'Content-Type: application/json' http://127.0.0.1:8080/v1/chat/completions \
  -d '{"model":"demo-reloaded","messages":[{"role":"user","content":"hi"}]}') || fail "chat completion after reload: curl failed"
grep -q '"object"[[:space:]]*:[[:space:]]*"chat.completion"' <<<"$body" \
  || fail "the model added before SIGHUP is not served: $body"
ok "model added to the mounted config is served after the reload"
code=$(incurl -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/readyz) || fail "GET /readyz after reload: curl failed"
[ "$code" = 200 ] || fail "GET /readyz after reload answered $code"
ok "still ready after the reload"

# ---- 8. stop ------------------------------------------------------------------------------
step stop "podman stop -t $STOP_TIMEOUT_S (SIGTERM, drain up to ${DRAIN_S}s)"
t0=$(date +%s.%N)
podman stop -t "$STOP_TIMEOUT_S" "$CONTAINER" >/dev/null 2>"$WORK/stop.log" \
  || { grep -v 'systemd connection' "$WORK/stop.log" >&2; fail "podman stop failed"; }
stop_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b-a}')
exit_code=$(podman inspect --format '{{.State.ExitCode}}' "$CONTAINER")
[ "$exit_code" = 0 ] || fail "exit code $exit_code after SIGTERM (137 means it was killed)"
awk -v s="$stop_s" -v d="$DRAIN_S" 'BEGIN {exit !(s < d)}' || fail "stop took ${stop_s}s, not within the ${DRAIN_S}s drain time"
podman logs "$CONTAINER" 2>&1 | contains 'SIGTERM: draining' || fail "no 'SIGTERM: draining' in the log"
ok "SIGTERM: drained and exited 0 in ${stop_s}s"

end_step
echo
echo "docker-test: PASS  image $IMAGE: $SIZE_MB MB, total $(( $(now) - T_START ))s"
printf '  %s\n' "${SUMMARY[@]}"
