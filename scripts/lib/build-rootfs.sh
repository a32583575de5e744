#!/usr/bin/env bash
# Builds (once) the Debian root filesystem tarball the demo VM and the
# end-to-end boots put on the ROOT partition: a minimal bookworm with systemd
# as init. Cached: a second call returns at once.
#
# usage: build-rootfs.sh OUT.tar
set -euo pipefail

out=${1:?usage: build-rootfs.sh OUT.tar}
if [[ -s $out ]]; then
    exit 0
fi
mkdir -p "$(dirname "$out")"
tmp=$(mktemp "$out.XXXXXX.tar")
trap 'rm -f "$tmp"' EXIT

# minbase keeps it small; systemd-sysv makes systemd the init, udev brings
# devices up after switch-root, passwd lets people log in at the prompt.
mmdebstrap --variant=minbase --include=systemd-sysv,udev,passwd \
    --aptopt='Acquire::Retries "3"' bookworm "$tmp"
mv "$tmp" "$out"
trap - EXIT
