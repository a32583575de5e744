#!/usr/bin/env bash
# Builds a Flatcar-like GPT disk image: the placeholder disk GUID
# 00000000-0000-0000-0000-000000000001, EFI-SYSTEM (vfat, with
# flatcar/first_boot), OEM (ext4) and ROOT (ext4, a Debian root with systemd).
#
# usage: scripts/build-image.sh [--size SIZE] [--rootfs TAR] OUT.img
#   --rootfs  the root tarball (default: the cached Debian root, built if missing)
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

size=1536M
rootfs=
while (($#)); do
    case $1 in
    --size) size=$2; shift ;;
    --rootfs) rootfs=$2; shift ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
    shift
done
out=${1:?usage: build-image.sh [--size SIZE] [--rootfs TAR] OUT.img}
if [[ -z $rootfs ]]; then
    rootfs=$FLINT_CACHE/rootfs.tar
    "$FLINT_REPO/scripts/lib/build-rootfs.sh" "$rootfs"
fi

tmp=$(mktemp "$out.XXXXXX")
mnt=$(mktemp -d /tmp/flint-image-mnt.XXXXXX)
loop=
cleanup() {
    if mountpoint -q "$mnt"; then umount "$mnt"; fi
    rmdir "$mnt" 2>/dev/null || :
    if [[ -n $loop ]]; then
        partx -d "$loop" 2>/dev/null || :
        losetup -d "$loop"
    fi
    rm -f "$tmp"
}
trap cleanup EXIT

truncate -s "$size" "$tmp"
sgdisk --zap-all -U 00000000-0000-0000-0000-000000000001 \
    -n 1:2048:+64M -t 1:EF00 -c 1:EFI-SYSTEM \
    -n 6:0:+32M -t 6:8300 -c 6:OEM \
    -n 9:0:0 -t 9:8300 -c 9:ROOT "$tmp" >/dev/null
loop=$(losetup -f --show "$tmp")
partx -a "$loop" 2>/dev/null || partx -u "$loop"
for _ in 1 2 3 4 5 6 7 8 9 10; do [[ -b ${loop}p9 ]] && break; sleep 0.2; done

mkfs.vfat -n EFI-SYSTEM "${loop}p1" >/dev/null
mkfs.ext4 -q -L OEM "${loop}p6"
mkfs.ext4 -q -L ROOT "${loop}p9"

# The host kernel may not mount vfat: the ESP is written with mtools.
: >"$mnt/first_boot.flag"
mmd -i "${loop}p1" ::/flatcar
mcopy -i "${loop}p1" "$mnt/first_boot.flag" ::/flatcar/first_boot
rm -f "$mnt/first_boot.flag"

mount "${loop}p9" "$mnt"
tar -x -C "$mnt" -f "$rootfs"
# The initramfs mounts ROOT read-write (root=LABEL=ROOT rw); keep it so.
printf 'LABEL=ROOT / ext4 rw,relatime 0 1\n' >"$mnt/etc/fstab"
echo flint-demo >"$mnt/etc/hostname"
# Unit output on the serial console: that is how tests and people see it.
mkdir -p "$mnt/etc/systemd/journald.conf.d"
cat >"$mnt/etc/systemd/journald.conf.d/10-flint-console.conf" <<'CONF'
[Journal]
ForwardToConsole=yes
MaxLevelConsole=info
CONF
# Non-interactive runs (vm.sh --check, the boot tests) power off once the
# machine is up; an ordinary boot stays at the login prompt.
cat >"$mnt/etc/systemd/system/flint-test-poweroff.service" <<'UNIT'
[Unit]
Description=Power off after reaching multi-user.target (flint.test.poweroff)
ConditionKernelCommandLine=flint.test.poweroff
After=multi-user.target

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo "flint-test: multi-user.target reached"; systemctl poweroff --no-block'
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
UNIT
# The demo logs in as root on the serial console by itself, so that people can
# look at what the config did (the machine is a throwaway VM).
mkdir -p "$mnt/etc/systemd/system/serial-getty@ttyS0.service.d"
cat >"$mnt/etc/systemd/system/serial-getty@ttyS0.service.d/10-flint-demo-autologin.conf" <<'UNIT'
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --keep-baud 115200,57600,38400,9600 - $TERM
UNIT
mkdir -p "$mnt/etc/systemd/system/multi-user.target.wants"
ln -sf ../flint-test-poweroff.service "$mnt/etc/systemd/system/multi-user.target.wants/flint-test-poweroff.service"
umount "$mnt"

partx -d "$loop" 2>/dev/null || :
losetup -d "$loop"
loop=
mv "$tmp" "$out"
trap - EXIT
rmdir "$mnt"
