#!/usr/bin/env bash
# Everything the tests and the demo need on a fresh Debian 12 machine: system packages (when root),
# npm dependencies and the build, PostgreSQL majors for the integration tests, and Node.js 24 for the
# second test run. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(lzop daemontools postgresql-15 gnupg util-linux ca-certificates)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: please install these Debian packages first: ${missing[*]}" >&2
    exit 1
  fi
fi

# PostgreSQL refuses to run as root; the tests run servers as this unprivileged user.
id postgres >/dev/null 2>&1 || { [ "$(id -u)" = 0 ] && useradd --system --create-home postgres; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
node scripts/build.mjs

node scripts/install-postgres.mjs ${WALE_TEST_PG_MAJORS:-12 15 18}

if [ ! -x .cache/node24/node_modules/node/bin/node ]; then
  npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error --prefix .cache/node24 node@24.21.0
fi
