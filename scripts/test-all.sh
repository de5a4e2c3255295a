#!/usr/bin/env bash
# Installs everything the tests need on a fresh machine and runs every test: lint, types, the
# Node suites (unit, conformance, integration) and the Deno suites. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
REKEY_SYSTEM_PACKAGES="softhsm2-util:softhsm2 chromium:chromium" . scripts/setup.sh

bash scripts/services.sh

pnpm lint
pnpm typecheck
pnpm check:packages
pnpm test
pnpm test:deno
bash scripts/test-runtimes.sh
