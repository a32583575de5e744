#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine, as root: installs the
# Debian packages the tests use (only when some are missing), the npm
# packages, then type-checks, builds and runs the unit, integration and
# end-to-end (QEMU) tests in one mocha run.
#   scripts/test.sh            everything (the e2e boots take ~10 min under TCG)
#   FLINT_SKIP_E2E=1 scripts/test.sh   unit and integration tests only
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t packages < <(grep -v '^#' .ci/debian-packages.txt | grep .)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing Debian packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm ci when node_modules is missing or older than the lock file.
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --no-audit --no-fund
fi

if [[ ${FLINT_SKIP_E2E:-0} == 1 ]]; then
    exec npm run test:quick
fi
exec npm test
