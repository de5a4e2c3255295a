#!/usr/bin/env bash
# Installs rekey's workspace and runs the main job on embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

pnpm demo
