#!/usr/bin/env bash
# The main job on an embedded default, with all set-up: see scripts/demo.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."
WALE_TEST_PG_MAJORS="${WALE_TEST_PG_MAJORS:-15}" bash scripts/setup.sh
exec node scripts/demo.mjs "$@"
