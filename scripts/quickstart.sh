#!/usr/bin/env bash
# Installs rekey's workspace and runs the main job on embedded defaults: `pnpm demo` builds a
# demo under .rekey-demo/ (reset on every run), starts the worker, the dashboard and a first
# rotation, and prints the dashboard's URL and tokens. Arguments go to the demo, e.g.
# `bash scripts/quickstart.sh --no-serve` (rotate, verify, summarise, exit).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

pnpm --silent demo "$@"
