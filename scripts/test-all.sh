#!/usr/bin/env bash
# Installs everything the tests need on a fresh machine and runs every test: lint, types, the
# Node suites (unit, conformance, integration) and the Deno suites. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
REKEY_SYSTEM_PACKAGES="softhsm2-util:softhsm2 chromium:chromium docker-compose:docker-compose" . scripts/setup.sh

bash scripts/services.sh

pnpm lint
# The compose file users start from must stay valid (Debian's docker-compose checks it offline).
docker-compose -f docker-compose.yml config -q
pnpm typecheck
pnpm check:packages
pnpm test
pnpm test:deno
bash scripts/test-runtimes.sh
