#!/usr/bin/env bash
# Builds an initramfs with the Flint dracut module for the installed Debian
# kernel: a systemd initramfs, no host-only detection, so it boots any QEMU VM.
#
# usage: scripts/build-initramfs.sh [--without-flint] [--kver KVER] OUT.img
#   --without-flint  the same image without Flint (to measure what Flint adds)
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

with_flint=1
kver=
while (($#)); do
    case $1 in
    --without-flint) with_flint=0 ;;
    --kver) kver=$2; shift ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
    shift
done
out=${1:?usage: build-initramfs.sh [--without-flint] [--kver KVER] OUT.img}
kver=${kver:-$(flint_kver)}

modules="systemd systemd-initrd systemd-udevd systemd-journald qemu base rootfs-block kernel-modules udev-rules fs-lib shutdown"
args=(--force --no-hostonly --quiet --kver "$kver" -m "$modules")
# zstd: several times faster than dracut's default gzip -9 to build, and to
# unpack at boot, for about the same size.
if command -v zstd >/dev/null; then
    args+=(--compress "zstd -10 -T0")
fi
if [[ $with_flint == 1 ]]; then
    "$FLINT_REPO/dracut-module/install.sh" >&2
    args+=(--add flint)
fi
mkdir -p "$(dirname "$out")"
tmp=$(mktemp "$out.XXXXXX")
trap 'rm -f "$tmp"' EXIT
dracut "${args[@]}" "$tmp"
mv "$tmp" "$out"
trap - EXIT
