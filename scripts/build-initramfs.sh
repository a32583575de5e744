#!/usr/bin/env bash
# Builds an initramfs with the Flint dracut module for the installed Debian
# kernel: a systemd initramfs, no host-only detection, so it boots any QEMU VM.
# By default Flint runs from the /usr partition ("sysusr", as Flatcar runs
# Ignition): the initramfs has Flint's units, generator and client, and Node,
# the bundle and the stage tools come from /sysusr/usr at boot (the demo
# image, scripts/build-image.sh, has them there).
#
# usage: scripts/build-initramfs.sh [--node-in-initramfs | --without-flint] [--kver KVER] OUT.img
#   --node-in-initramfs  Node, the bundle and the tools inside the initramfs,
#                        for images without a separate /usr (about 33 MiB more)
#   --without-flint      the same image without Flint (to measure what Flint adds)
#   FLINT_INITRAMFS_EXTRA=DIR  a tree of test fixtures copied into the image
# Both kinds also get the demo image's root set-up (scripts/lib/demo-root/).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

with_flint=1
mode=sysusr
kver=
while (($#)); do
    case $1 in
    --without-flint) with_flint=0 ;;
    --node-in-initramfs) mode=initramfs ;;
    --kver) kver=$2; shift ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
    shift
done
out=${1:?usage: build-initramfs.sh [--node-in-initramfs | --without-flint] [--kver KVER] OUT.img}
flint_ensure_initramfs_tools
if [[ $with_flint == 1 && $mode == initramfs ]]; then
    # What the module copies in (it fails naming one that is missing).
    flint_ensure_stage_tools
fi
kver=${kver:-$(flint_kver)}

modules="systemd systemd-initrd systemd-udevd systemd-journald qemu base rootfs-block kernel-modules udev-rules fs-lib shutdown"
args=(--force --no-hostonly --quiet --kver "$kver" -m "$modules")
# zstd: several times faster than dracut's default gzip -9 to build, and to
# unpack at boot, for about the same size.
if command -v zstd >/dev/null; then
    args+=(--compress "zstd -10 -T0")
fi
mkdir -p "$(dirname "$out")"
tmp=$(mktemp "$out.XXXXXX")
# dracut reads its modules from a private copy of /usr/lib/dracut with this
# tree's Flint module in it: builds running at the same time (other work
# trees, other tests) never see each other's module, and the host's
# /usr/lib/dracut is left alone.
base=$(mktemp -d "${TMPDIR:-/tmp}/flint-dracut-base.XXXXXX")
trap 'rm -f "$tmp"; rm -rf "$base"' EXIT
mkdir -p "$base/usr/lib"
cp -a /usr/lib/dracut "$base/usr/lib/dracut"
rm -rf "$base/usr/lib/dracut/modules.d/30flint"
if [[ $with_flint == 1 ]]; then
    "$FLINT_REPO/dracut-module/install.sh" "$base" >&2
    args+=(--add flint)
fi
mkdir -p "$base/usr/lib/dracut/modules.d/90flint-demo-root"
cp "$FLINT_REPO"/scripts/lib/demo-root/* "$base/usr/lib/dracut/modules.d/90flint-demo-root/"
args+=(--add flint-demo-root)
# Tests add their own fixtures (FLINT_INITRAMFS_EXTRA=DIR, copied to /).
if [[ -n ${FLINT_INITRAMFS_EXTRA:-} ]]; then
    args+=(--include "$FLINT_INITRAMFS_EXTRA" / --install "sh ls grep sleep")
fi
FLINT_MODE=$mode dracutbasedir=$base/usr/lib/dracut dracut "${args[@]}" "$tmp"
mv "$tmp" "$out"
