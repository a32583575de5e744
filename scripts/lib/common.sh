# Shared by the boot scripts: where things are cached, which kernel, and the
# Debian packages a fresh machine may lack.

FLINT_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FLINT_CACHE=${FLINT_CACHE:-$FLINT_REPO/.cache/boot}

# The newest installed Debian kernel that has a modules directory (the running
# kernel of a container host usually has none).
flint_kver() {
    local v best=
    for v in /boot/vmlinuz-*; do
        [[ -e $v ]] || continue
        v=${v#/boot/vmlinuz-}
        [[ -d /lib/modules/$v/kernel ]] || continue
        if [[ -z $best ]] || dpkg --compare-versions "$v" gt "$best" 2>/dev/null; then best=$v; fi
    done
    [[ -n $best ]] || { echo "no kernel with modules in /boot and /lib/modules; apt-get install linux-image-amd64" >&2; return 1; }
    echo "$best"
}

# Installs, from Debian packages, whichever of the given commands are missing.
# Arguments are COMMAND:PACKAGE pairs.
flint_ensure_tools() {
    local pair missing=()
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
    done
    if ((${#missing[@]})); then
        echo "installing missing packages: ${missing[*]}" >&2
        DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
    fi
}

# What Flint's stages run (agent/system/), for an initramfs with Node inside.
flint_ensure_stage_tools() {
    flint_ensure_tools sgdisk:gdisk sfdisk:fdisk partx:util-linux wipefs:util-linux \
        mkfs.vfat:dosfstools mcopy:mtools mkfs.ext4:e2fsprogs mkfs.xfs:xfsprogs \
        mkfs.btrfs:btrfs-progs mdadm:mdadm cryptsetup:cryptsetup useradd:passwd
}

# What scripts/build-initramfs.sh runs: dracut with its networkd module, zstd,
# and a kernel with modules.
flint_ensure_initramfs_tools() {
    flint_ensure_tools dracut:dracut-core zstd:zstd cpio:cpio
    [[ -d /usr/lib/dracut/modules.d/01systemd-networkd ]] || flint_ensure_tools __none__:dracut-network
    # A container host's own kernel has no modules directory: dracut needs one.
    flint_kver >/dev/null 2>&1 || flint_ensure_tools __none__:linux-image-amd64
}

# What scripts/build-image.sh runs.
flint_ensure_image_tools() {
    flint_ensure_tools sgdisk:gdisk mkfs.vfat:dosfstools mmd:mtools mkfs.ext4:e2fsprogs \
        mksquashfs:squashfs-tools mmdebstrap:mmdebstrap partx:util-linux depmod:kmod
}

# Everything the demo VM needs: QEMU, and what builds its initramfs and disk.
flint_ensure_boot_tools() {
    flint_ensure_tools qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils
    flint_ensure_initramfs_tools
    flint_ensure_image_tools
}
