#!/usr/bin/env bash
# The test command: set-up, then the unit tests on Node.js 24 and the whole suite on the machine's
# Node.js (20), whose summary closes the output. Storage servers are started by the tests that use
# them (scripts/services/, idempotent) and stopped here at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
stop_services() {
  for s in swift s3rver azurite gcs-firebase; do
    if [ -d ".services/$s" ]; then SERVICES_DIR="$PWD/.services" bash "scripts/services/stop-$s.sh" >/dev/null 2>&1 || true; fi
  done
}
trap stop_services EXIT
echo "== unit tests on Node.js $(.cache/node24/node_modules/node/bin/node --version)"
WALE_TEST_SKIP_BUILD=1 .cache/node24/node_modules/node/bin/node scripts/run-tests.mjs unit
echo "== all tests on Node.js $(node --version)"
WALE_TEST_SKIP_BUILD=1 node scripts/run-tests.mjs all
