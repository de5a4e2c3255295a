# Sourced by the quick-start and test scripts: installs the system packages, pnpm and the
# workspace's dependencies. Safe to run again; it skips what is already there.

# REKEY_SYSTEM_PACKAGES: "command:package" pairs the caller needs, e.g. "softhsm2-util:softhsm2".
apt_missing=()
for pair in ${REKEY_SYSTEM_PACKAGES:-}; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || apt_missing+=("${pair#*:}")
done
if [ ${#apt_missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${apt_missing[*]} from Debian's packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_missing[@]}" >/dev/null
  else
    echo "setup: please install ${apt_missing[*]} (tests that need them will fail)" >&2
  fi
fi

if ! pnpm --version 2>/dev/null | grep -q '^12\.'; then
  echo "setup: installing pnpm 12"
  npm install -g pnpm@12 >/dev/null
fi

# Native addons (pkcs11js, better-sqlite3) build against the local Node headers when present,
# since prebuilt binaries and header downloads are out of reach on a closed network.
if [ -f /usr/include/node/node.h ]; then export npm_config_nodedir=/usr; fi

export TURBO_TELEMETRY_DISABLED=1

pnpm install --frozen-lockfile
