#!/usr/bin/env bash
# Installs Flint into a root filesystem (an image being built, not the
# initramfs): the bundle with the libraries beside it, /usr/bin/flint, and
# the SSH key refresh unit flint-sshkeys@.service. A first boot then enables
# flint-sshkeys@core.service on platforms with metadata keys, and every later
# boot refreshes ~core/.ssh/authorized_keys.d/flint-metadata. The root needs Node 20 or
# newer as /usr/bin/node; this script does not install it.
#
# usage: scripts/install-root.sh [--no-build] ROOT
#   FLINT_BUNDLE=FILE installs that flint.js (and the files beside it, see
#   scripts/lib/bundle.sh) instead of building dist/flint.js.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=1
if [[ ${1:-} == --no-build ]]; then
    build=0
    shift
fi
root=${1:?usage: install-root.sh [--no-build] ROOT}
[[ -d $root && $(cd "$root" && pwd -P) != / ]] || { echo "install-root.sh: $root is not a root directory (and never /)" >&2; exit 2; }

me=install-root.sh
source "$repo/scripts/lib/bundle.sh"

install -d -m 0755 "$root/usr/lib/flint"
install -m 0644 "${bundle_files[@]}" "$root/usr/lib/flint/"
install -D -m 0755 "$repo/dracut-module/flint-wrapper.sh" "$root/usr/bin/flint"
install -D -m 0644 "$repo/units/flint-sshkeys@.service" "$root/usr/lib/systemd/system/flint-sshkeys@.service"
[[ -x $root/usr/bin/node ]] || echo "install-root.sh: note: $root/usr/bin/node is missing; flint needs Node 20 or newer there" >&2
echo "installed Flint into $root"
