#!/bin/bash
# dracut module "flint": Node, the Flint bundle, its generator and units, and
# the tools the stages call. Installed by dracut-module/install.sh as
# /usr/lib/dracut/modules.d/30flint/ next to a copy of dist/flint.js.

flint_node() {
    local node
    node=${FLINT_NODE:-$(command -v node)} || return 1
    readlink -f "$node"
}

# called by dracut
check() {
    flint_node >/dev/null || {
        derror "flint: no node binary (set FLINT_NODE or put node on PATH)"
        return 1
    }
    [[ -r $moddir/flint.js ]] || {
        derror "flint: $moddir/flint.js is missing; run dracut-module/install.sh"
        return 1
    }
    # Only when asked for (dracut --add flint), never by host-only detection.
    return 255
}

# called by dracut
depends() {
    # qemu: fw_cfg and virtio drivers; systemd-networkd: DHCP on first boot;
    # dracut-systemd: emergency.service with rd.emergency= and rd.shell=.
    echo systemd systemd-udevd dracut-systemd systemd-networkd qemu qemu-net fs-lib
    return 0
}

# called by dracut
installkernel() {
    hostonly='' instmods qemu_fw_cfg virtio_blk virtio_pci virtio_net \
        failover net_failover vfat nls_cp437 nls_iso8859_1 nls_utf8 \
        ext4 xfs btrfs raid0 raid1 raid10 raid456 dm_crypt dm_mod loop
    # CD-ROMs and their filesystems: Azure's provisioning media (UDF or ISO
    # 9660) and OpenStack's iso9660 config drive.
    hostonly='' instmods ata_piix ahci sr_mod cdrom udf isofs
}

# called by dracut
install() {
    local node
    node=$(flint_node)
    inst_binary "$node" /usr/bin/node
    inst_simple "$moddir/flint.js" /usr/lib/flint/flint.js
    # flint.js runs the CLI, flint-core.js, through the V8 code cache made at
    # build time (by the same node binary, or it is ignored: see agent/loader.ts).
    inst_simple "$moddir/flint-core.js" /usr/lib/flint/flint-core.js
    inst_simple "$moddir/flint-core.v8cache" /usr/lib/flint/flint-core.v8cache
    # Butane (YAML) configs only: flint.js loads it beside itself when it meets one.
    inst_simple "$moddir/flint-yaml.js" /usr/lib/flint/flint-yaml.js
    inst_simple "$moddir/flint-sysinfo.js" /usr/lib/flint/flint-sysinfo.js
    inst_script "$moddir/flint-wrapper.sh" /usr/bin/flint
    # The stage units' ExecStart: a shell client of the one `flint agent`.
    inst_script "$moddir/flint-client.sh" /usr/lib/flint/flint-client
    inst_multiple mkfifo rm

    # The generator is a shell script: it runs on every boot, Node only on first boots.
    inst_multiple cat mkdir ln tr sh sleep
    inst_script "$moddir/flint-generator" "$systemdutildir/system-generators/flint-generator"

    # Every unit install.sh put here (no list of stages to keep in step:
    # flint-complete.target and the generator say which stages a boot runs).
    local unit
    for unit in "$moddir"/flint-*.service "$moddir"/flint-*.target; do
        inst_simple "$unit" "$systemdsystemunitdir/${unit##*/}"
    done
    inst_simple "$moddir/10-flint-dhcp.network" "$systemdnetwork/10-flint-dhcp.network"
    # Linked into /run/systemd/network by the generator on platforms that need it.
    inst_simple "$moddir/05-flint-linklocal.network" /usr/lib/flint/network/05-flint-linklocal.network
    # /etc/resolv.conf from the DHCP lease (no systemd-resolved in the initramfs).
    inst_multiple mv
    inst_script "$moddir/flint-resolv" /usr/lib/flint/flint-resolv
    inst_simple "$moddir/flint-resolv.path" "$systemdsystemunitdir/flint-resolv.path"

    # The network is for first boots only: the generator starts systemd-networkd
    # then, so undo the systemd-networkd module's unconditional enablement.
    $SYSTEMCTL -q --root "$initdir" disable systemd-networkd.service \
        systemd-networkd.socket systemd-networkd-wait-online.service 2>/dev/null || :

    # What the stages call. The basics are required; the rest only if present.
    inst_multiple mount umount blkid lsblk sgdisk sfdisk partx wipefs udevadm modprobe \
        mkfs.ext4 mkfs.vfat mkswap useradd usermod userdel groupadd groupmod groupdel \
        chpasswd chgpasswd
    inst_multiple -o partprobe mkfs.fat mkfs.xfs mkfs.btrfs mke2fs mkfs.ext3 mkfs.ext2 \
        mdadm cryptsetup getent chroot sync e2label xfs_admin btrfs tune2fs \
        fatlabel mtools mdir mdel mcopy mmd vmware-rpctool VBoxControl
    # mdel (quench without mounting the ESP) converts names through code page
    # 850, which glibc loads as a gconv module.
    if command -v mdel >/dev/null; then
        inst_libdir_file "gconv/gconv-modules.cache" "gconv/IBM850.so"
    fi
    # useradd and friends read these on the host side of --root.
    inst_multiple -o /etc/login.defs /etc/default/useradd

    # TLS for https:// configs: the system's CA bundle.
    inst_multiple -o /etc/ssl/certs/ca-certificates.crt
    # Base configs merged under every machine's config (see docs/boot.md).
    local base
    for base in "$moddir"/base.d/*.ign; do
        [[ -e $base ]] && inst_simple "$base" "/usr/lib/flint/base.d/${base##*/}"
    done
    return 0
}
