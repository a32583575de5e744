#!/usr/bin/env bash
# Installs the Flint dracut module, with a freshly built bundle, as
# $DESTDIR/usr/lib/dracut/modules.d/30flint/. Afterwards
#     dracut --add flint ...
# puts Flint into an initramfs: by default its units and client only, Node and
# Flint coming from the /usr partition at boot (FLINT_MODE=initramfs puts
# Node and the bundle inside; see module-setup.sh and docs/boot.md).
#
# usage: dracut-module/install.sh [--no-build] [DESTDIR]
#   FLINT_BUNDLE=FILE installs that flint.js instead of building dist/flint.js
#   (and the files beside it: see scripts/lib/bundle.sh).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=1
if [[ ${1:-} == --no-build ]]; then
    build=0
    shift
fi
destdir=${1:-}
target=$destdir/usr/lib/dracut/modules.d/30flint

me=install.sh
source "$repo/scripts/lib/bundle.sh"

# Replace the module as a whole, so that no stale file survives an upgrade
# (base.d/, where people put base configs, is carried over).
staging=$(mktemp -d "${target%/*}/.30flint.XXXXXX" 2>/dev/null || { mkdir -p "${target%/*}"; mktemp -d "${target%/*}/.30flint.XXXXXX"; })
trap 'rm -rf "$staging"' EXIT
install -m 0755 "$repo/dracut-module/module-setup.sh" "$staging/module-setup.sh"
install -m 0755 "$repo/dracut-module/flint-wrapper.sh" "$staging/flint-wrapper.sh"
install -m 0755 "$repo/dracut-module/flint-client.sh" "$staging/flint-client.sh"
install -m 0755 "$repo/dracut-module/flint-sysusr.sh" "$repo/dracut-module/flint-sysusr-exec.sh" "$staging/"
install -m 0644 "$repo/dracut-module/flint-agent-sysusr.conf" "$staging/flint-agent-sysusr.conf"
install -m 0755 "$repo/units/flint-generator" "$staging/flint-generator"
install -m 0755 "$repo/units/flint-resolv" "$staging/flint-resolv"
install -m 0644 "$repo"/units/flint-*.service "$repo"/units/flint-*.target "$repo"/units/flint-*.path "$repo"/units/*.network "$staging/"
rm -f "$staging/flint-sshkeys@.service" # for the real root, not the initramfs
install -m 0644 "${bundle_files[@]}" "$staging/"
# Base configs someone put there are theirs, not ours: keep them.
if [[ -d $target/base.d ]]; then
    cp -a "$target/base.d" "$staging/base.d"
fi
chmod 0755 "$staging"
rm -rf "$target"
mv "$staging" "$target"
trap - EXIT
echo "installed $target"
