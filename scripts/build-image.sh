#!/usr/bin/env bash
# Builds the demo disk image, laid out as a Flatcar image is: a GPT with the
# placeholder disk GUID 00000000-0000-0000-0000-000000000001 and
#   1 EFI-SYSTEM  vfat, with flatcar/first_boot
#   2 BIOS-BOOT   (empty)
#   3 USR-A       /usr: squashfs, read-only (Flatcar's partition GUID
#                 7130c94a-213a-4e5a-8e26-6cce9662f132, priority 1, successful)
#   4 USR-B       the other /usr slot, empty as on a fresh Flatcar image
#   6 OEM         ext4
#   7 OEM-CONFIG  (empty)
#   9 ROOT        ext4: /etc, /var, /home… and no /usr
# The kernel command line names the usr partition the way systemd's
# fstab-generator and Flatcar's GRUB do (scripts/lib/qemu-boot.sh):
#   mount.usr=PARTUUID=7130c94a-… mount.usrfstype=squashfs mount.usrflags=ro
# The initramfs mounts it at /sysusr/usr and bind-mounts it at /sysroot/usr.
#
# /usr is a Debian bookworm made by mmdebstrap with systemd, the tools Flint's
# stages call, Node (this machine's) as /usr/bin/node, and Flint
# (scripts/install-root.sh: /usr/lib/flint/flint.js…): an initramfs built
# the default way (scripts/build-initramfs.sh) runs Flint from there.
# /usr/share/factory/etc holds the image's /etc, from which the initramfs
# (scripts/lib/demo-root/) fills a ROOT that a config reformatted.
#
# usage: scripts/build-image.sh [--size SIZE] [--rootfs TAR] [--kver KVER] OUT.img
#   --size    the whole disk (default 3200M; ROOT gets what the others leave)
#   --rootfs  the root tarball (default: the cached Debian root, built if missing)
#   --kver    the kernel whose modules the root gets (default: the newest installed)
#   FLINT_BUNDLE=FILE  the flint.js to install (default: dist/flint.js, built)
#   FLINT_NODE=FILE    the node binary to install (default: node on PATH)
# OUT.img is left alone when it was built from the same inputs (OUT.img.sum).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

size=3200M
rootfs=
kver=
while (($#)); do
    case $1 in
    --size) size=$2; shift ;;
    --rootfs) rootfs=$2; shift ;;
    --kver) kver=$2; shift ;;
    -*) echo "build-image.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
    shift
done
out=${1:?usage: build-image.sh [--size SIZE] [--rootfs TAR] [--kver KVER] OUT.img}
[[ $(id -u) == 0 ]] || { echo "build-image.sh: run as root (loop devices, mounts)" >&2; exit 2; }
flint_ensure_image_tools
kver=${kver:-$(flint_kver)}
node_bin=$(readlink -f "${FLINT_NODE:-$(command -v node)}") || { echo "build-image.sh: no node binary (set FLINT_NODE)" >&2; exit 2; }
if [[ -z $rootfs ]]; then
    # Named after the package list, so that a changed list builds a new root.
    rootfs=$FLINT_CACHE/rootfs-$(sha256sum "$FLINT_REPO/scripts/lib/build-rootfs.sh" | cut -c1-12).tar
    "$FLINT_REPO/scripts/lib/build-rootfs.sh" "$rootfs"
fi
repo=$FLINT_REPO build=1 me=build-image.sh
source "$FLINT_REPO/scripts/lib/bundle.sh"

# Everything the image is made of; an image built from the same is reused.
sum=$({
    echo "$size $kver $node_bin"
    sha256sum "$0" "$FLINT_REPO"/scripts/lib/build-rootfs.sh "$FLINT_REPO"/scripts/install-root.sh \
        "$FLINT_REPO"/dracut-module/flint-wrapper.sh "$FLINT_REPO"/units/flint-sshkeys@.service "$rootfs" "$node_bin" |
        sed 's#  .*/#  #'
    # Not the code cache: it differs from build to build of the same code.
    for file in "${bundle_files[@]}"; do [[ $file == *.v8cache ]] || sha256sum "$file" | cut -d' ' -f1; done
} | sha256sum | cut -d' ' -f1)
if [[ -s $out && $(cat "$out.sum" 2>/dev/null) == "$sum" ]]; then
    exit 0
fi

mkdir -p "$(dirname "$out")"
tmp=$(mktemp "$out.XXXXXX")
work=$(mktemp -d "${TMPDIR:-/tmp}/flint-image.XXXXXX")
mnt=$work/root
loop=
cleanup() {
    if mountpoint -q "$mnt"; then umount "$mnt"; fi
    if [[ -n $loop ]]; then
        partx -d "$loop" 2>/dev/null || :
        losetup -d "$loop"
    fi
    rm -rf "$work"
    rm -f "$tmp"
}
trap cleanup EXIT

# Flatcar's partition types: CoreOS usr, CoreOS reserved, CoreOS resizable root.
usr_type=5DFBF5F4-2848-4BAC-AA5E-0D9A20B745A6
reserved_type=C95DC21A-DF0E-4340-8D7B-26CBFA9A03E0
root_type=3884DD41-8582-4404-B9A8-E9B84F2DF50E
truncate -s "$size" "$tmp"
# USR-A: GPT attribute bits 48-51 are the slot's priority, 56 "successful"
# (what GRUB's gptprio reads to choose the slot).
sgdisk --zap-all -U 00000000-0000-0000-0000-000000000001 \
    -n 1:2048:+64M -t 1:EF00 -c 1:EFI-SYSTEM \
    -n 2:0:+2M -t 2:EF02 -c 2:BIOS-BOOT \
    -n 3:0:+1G -t 3:$usr_type -c 3:USR-A -u 3:7130c94a-213a-4e5a-8e26-6cce9662f132 -A 3:set:48 -A 3:set:56 \
    -n 4:0:+1G -t 4:$usr_type -c 4:USR-B -u 4:e03dd35c-7c2d-4a47-b3fe-27f15780a57c \
    -n 6:0:+32M -t 6:8300 -c 6:OEM \
    -n 7:0:+16M -t 7:$reserved_type -c 7:OEM-CONFIG \
    -n 9:0:0 -t 9:$root_type -c 9:ROOT "$tmp" >/dev/null
loop=$(losetup -f --show "$tmp")
partx -a "$loop" 2>/dev/null || partx -u "$loop"
for _ in $(seq 50); do [[ -b ${loop}p9 ]] && break; sleep 0.2; done

mkfs.vfat -n EFI-SYSTEM "${loop}p1" >/dev/null
mkfs.ext4 -q -L OEM "${loop}p6"
mkfs.ext4 -q -L ROOT "${loop}p9"

# The host kernel may not mount vfat: the ESP is written with mtools.
: >"$work/first_boot"
# (Through the image file at the partition's offset: on the loop device mtools
# complains that it has no disk geometry.)
esp="$tmp@@$((2048 * 512))"
mmd -i "$esp" ::/flatcar
mcopy -i "$esp" "$work/first_boot" ::/flatcar/first_boot

# ROOT: the tarball without /usr (an empty directory, where the initramfs
# bind-mounts the usr partition).
mkdir "$mnt"
mount "${loop}p9" "$mnt"
tar -x -C "$mnt" -f "$rootfs" --exclude='./usr/*'
# The initramfs mounts ROOT read-write (root=LABEL=ROOT rw) and /usr from
# the command line; neither is in fstab, as on Flatcar.
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

# USR-A: the tarball's /usr with Node, Flint and kernel modules.
usr=$work/usr-tree
mkdir -p "$usr"
tar -x -C "$usr" -f "$rootfs" ./usr
# The initramfs's demo-setup-root copies this into a ROOT that has no /etc.
mkdir -p "$usr/usr/share/factory"
cp -a "$mnt/etc" "$usr/usr/share/factory/etc"
umount "$mnt"
install -m 0755 "$node_bin" "$usr/usr/bin/node"
FLINT_BUNDLE=$bundle "$FLINT_REPO/scripts/install-root.sh" --no-build "$usr" >/dev/null
# The kernel modules a root mounts filesystems with (vfat with its code
# pages for /boot, binfmt_misc, RAID and device-mapper…), not the drivers.
mods=/lib/modules/$kver
for dir in kernel/fs kernel/lib kernel/crypto kernel/block kernel/arch kernel/drivers/md; do
    [[ -d $mods/$dir ]] || continue
    mkdir -p "$usr/usr/lib/modules/$kver/$(dirname "$dir")"
    cp -a "$mods/$dir" "$usr/usr/lib/modules/$kver/$dir"
done
cp /lib/modules/"$kver"/modules.{order,builtin,builtin.modinfo} "$usr/usr/lib/modules/$kver/" 2>/dev/null || :
depmod -b "$usr/usr" "$kver" 2>/dev/null || depmod -b "$usr" "$kver"
# What Flint's stages run must be there (agent/system/): a missing one fails
# here, with its name, not in a VM.
for tool in node sgdisk sfdisk partx wipefs lsblk blkid mkfs.ext4 mkfs.vfat mkfs.xfs mkfs.btrfs mkswap \
    mdadm cryptsetup useradd usermod groupadd chpasswd mdel mcopy mmd; do
    [[ -x $usr/usr/bin/$tool || -x $usr/usr/sbin/$tool ]] || { echo "build-image.sh: $tool is missing from the image's /usr (scripts/lib/build-rootfs.sh installs it)" >&2; exit 1; }
done
# lz4: cheap to unpack under emulation, where Node's 90 MiB are read at start.
mksquashfs "$usr/usr" "$work/usr.squashfs" -noappend -comp lz4 -quiet -no-progress >/dev/null
usr_bytes=$(stat -c %s "$work/usr.squashfs")
part_bytes=$(blockdev --getsize64 "${loop}p3")
((usr_bytes <= part_bytes)) || { echo "build-image.sh: /usr ($usr_bytes bytes) does not fit USR-A ($part_bytes)" >&2; exit 1; }
dd if="$work/usr.squashfs" of="${loop}p3" bs=4M conv=fsync status=none

partx -d "$loop" 2>/dev/null || :
losetup -d "$loop"
loop=
mv "$tmp" "$out"
echo "$sum" >"$out.sum"
trap - EXIT
rm -rf "$work"
