#!/usr/bin/env bash
# Builds (once) the Debian root filesystem tarball the demo image is made
# from: a minimal bookworm with systemd as init and the tools Flint's stages
# call, which on the Flatcar-shaped image come from its /usr partition (see
# scripts/build-image.sh). Cached: a second call returns at once. Callers name
# the tarball after this file's checksum, so a changed package list builds a
# new one.
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
# devices up after switch-root, passwd has useradd and friends. The rest are
# what Flint's stages run (agent/system/): partitioning (gdisk, fdisk),
# filesystems (dosfstools, e2fsprogs, xfsprogs, btrfs-progs), RAID, LUKS, the
# ESP flag without mounting it (mtools), modules (kmod).
packages=systemd-sysv,udev,passwd,gdisk,fdisk,dosfstools,e2fsprogs,xfsprogs,btrfs-progs
packages+=,mdadm,cryptsetup-bin,mtools,kmod
mmdebstrap --variant=minbase --include="$packages" \
    --aptopt='Acquire::Retries "3"' --aptopt='APT::Install-Recommends "false"' bookworm "$tmp"
mv "$tmp" "$out"
trap - EXIT
