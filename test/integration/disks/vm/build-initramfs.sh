#!/bin/bash
# Builds a small initramfs that runs Flint's disks stage under a kernel that
# has the md and device-mapper drivers (the Debian kernel in /boot), for the
# RAID and LUKS tests on hosts whose own kernel lacks them.
#   build-initramfs.sh KVER FLINT_JS GUEST_SCRIPT OUT.cpio.gz
set -euo pipefail
kver=$1 flint_js=$2 guest_script=$3 out=$4
work=$(mktemp -d /tmp/flint-vm-initramfs.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,etc,proc,sys,dev,run,tmp,flint}

copy_with_libs() {
  local bin
  for bin in "$@"; do
    local path; path=$(command -v "$bin")
    cp -L "$path" "$work/usr/bin/$(basename "$path")"
    ldd "$path" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
      mkdir -p "$work$(dirname "$lib")"
      [ -e "$work$lib" ] || cp -L "$lib" "$work$lib"
    done
  done
}

cp /bin/busybox "$work/bin/busybox"
copy_with_libs node sgdisk sfdisk lsblk blkid partx wipefs mkfs.ext4 mke2fs mkfs.vfat mdadm cryptsetup losetup
[ -f /etc/mke2fs.conf ] && cp /etc/mke2fs.conf "$work/etc/"

# Kernel modules in dependency order, loaded by /init with insmod.
: > "$work/modules.order"
for m in virtio_pci virtio_blk loop md_mod raid1 dm_mod dm_crypt xts ecb algif_skcipher algif_hash vfat nls_cp437 nls_utf8 nls_ascii; do
  modprobe -S "$kver" --show-depends "$m" | awk '$1 == "insmod" { print $2 }' | while read -r ko; do
    dest="$work/modules/$(basename "$ko")"
    if [ ! -e "$dest" ]; then
      mkdir -p "$work/modules"
      case "$ko" in
        *.xz) xz -dc "$ko" > "${dest%.xz}"; dest=${dest%.xz} ;;
        *.zst) zstd -qdc "$ko" > "${dest%.zst}"; dest=${dest%.zst} ;;
        *) cp "$ko" "$dest" ;;
      esac
      echo "/modules/$(basename "$dest")" >> "$work/modules.order"
    fi
  done
done

cp "$flint_js" "$work/flint/flint.js"
# The libraries build.mjs puts beside the bundle (YAML, the machine dump's systeminformation).
for lib in "$(dirname "$flint_js")"/flint-*; do
  [ -e "$lib" ] && cp "$lib" "$work/flint/"
done
cp "$guest_script" "$work/guest.sh"
cat > "$work/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/usr/bin:/usr/sbin:/bin:/sbin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mount -t tmpfs run /run; mount -t tmpfs tmp /tmp
for m in $(cat /modules.order); do insmod "$m" 2>/dev/null; done
echo "FLINT-VM: ready"
sh /guest.sh 2>&1
echo "FLINT-VM: exit $?"
poweroff -f
INIT
chmod +x "$work/init" "$work/guest.sh"
(cd "$work" && find . | cpio -o -H newc --quiet | gzip -1) > "$out"
