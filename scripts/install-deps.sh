#!/usr/bin/env bash
# Installs every build and test dependency of Baton from Debian 12 packages, plus the npm
# packages of the end-to-end tests. Idempotent: skips what is already installed, so a warm
# machine pays a second or two. Uses sudo when not run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev            # Asio, Beast, System (header-only parts we use)
  nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libssl-dev
  libre2-dev                  # rule content_regex (linear-time regex engine)
  libsqlite3-dev              # budget spend that survives restarts (state.path)
  libmimalloc-dev             # the baton binary's allocator (Release; see CMakeLists.txt)
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  openssl curl ca-certificates
  nodejs npm                  # end-to-end tests with the official openai npm client
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    # nodejs/npm may come from elsewhere (e.g. NodeSource); accept working binaries.
    if { [ "$p" = nodejs ] && command -v node >/dev/null; } || { [ "$p" = npm ] && command -v npm >/dev/null; }; then
      continue
    fi
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: system packages already installed"
fi

# npm packages for tests/e2e (lockfile committed; npm ci is skipped when node_modules is current)
if [ -f tests/e2e/package-lock.json ]; then
  if [ ! -d tests/e2e/node_modules ] || [ tests/e2e/package-lock.json -nt tests/e2e/node_modules/.package-lock.json ]; then
    echo "install-deps: npm ci in tests/e2e"
    (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
