#!/usr/bin/env bash
# Applies a config (default examples/demo.ign) to a scratch root directory
# outside any initramfs, then shows what Flint did: the quick look at Flint
# without a VM. The root gets the minimal /etc an image would have (account
# databases for the user the demo creates).
#
# usage: scripts/demo.sh [CONFIG]     (root: $DEMO_ROOT, default /tmp/flint-demo-root)
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-examples/demo.ign}
root=${DEMO_ROOT:-/tmp/flint-demo-root}

[[ -d node_modules ]] || npm ci --no-audit --no-fund
node build.mjs

rm -rf "$root"
mkdir -p "$root/etc" "$root/home"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\nwheel:x:10:\n' >"$root/etc/group"
printf 'root:*:19000:0:99999:7:::\n' >"$root/etc/shadow"
printf 'root:*::\nwheel:*::\n' >"$root/etc/gshadow"
chmod 0640 "$root/etc/shadow" "$root/etc/gshadow"
printf 'USERGROUPS_ENAB yes\nUID_MIN 1000\nGID_MIN 1000\nCREATE_HOME yes\n' >"$root/etc/login.defs"

echo "==> flint plan --config $config --root $root"
node dist/flint.js plan --config "$config" --root "$root"
echo "==> flint apply --config $config --root $root"
node dist/flint.js apply --config "$config" --root "$root"
echo "==> flint report --root $root"
node dist/flint.js report --root "$root"
