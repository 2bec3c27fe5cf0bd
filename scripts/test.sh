#!/usr/bin/env bash
# The test command: set-up, then the unit tests on Node.js 24 and the whole suite on the machine's
# Node.js (20), whose summary closes the output.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== unit tests on Node.js $(.cache/node24/node_modules/node/bin/node --version)"
WALE_TEST_SKIP_BUILD=1 .cache/node24/node_modules/node/bin/node scripts/run-tests.mjs unit
echo "== all tests on Node.js $(node --version)"
WALE_TEST_SKIP_BUILD=1 node scripts/run-tests.mjs all
