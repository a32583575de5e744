#!/bin/bash
# dracut module "flint": Flint's generator, units and stage client, and,
# depending on where Node comes from (FLINT_MODE, see docs/boot.md):
#   sysusr     (the default) nothing more: Node, the bundle and the tools the
#              stages call are the /usr partition's, mounted at /sysusr/usr
#              (systemd's fstab-generator does it for mount.usr=), as Flatcar
#              runs Ignition. Adds about 0.3 MiB to an initramfs.
#   initramfs  Node, the bundle and the tools inside the initramfs, for
#              images without a separate /usr partition (adds about 33 MiB).
# Installed by dracut-module/install.sh as /usr/lib/dracut/modules.d/30flint/
# next to a copy of dist/flint.js.

flint_mode() {
    case ${FLINT_MODE:-sysusr} in
    sysusr | initramfs) echo "${FLINT_MODE:-sysusr}" ;;
    *) return 1 ;;
    esac
}

flint_node() {
    local node
    node=${FLINT_NODE:-$(command -v node)} || return 1
    readlink -f "$node"
}

# What the stages run (agent/system/): the basics are required, the rest only
# if present. In sysusr mode they come from /sysusr/usr at boot instead.
FLINT_REQUIRED_TOOLS="mount umount blkid lsblk sgdisk sfdisk partx wipefs udevadm modprobe
    mkfs.ext4 mkfs.vfat mkswap useradd usermod userdel groupadd groupmod groupdel chpasswd chgpasswd"
FLINT_OPTIONAL_TOOLS="partprobe mkfs.fat mkfs.xfs mkfs.btrfs mke2fs mkfs.ext3 mkfs.ext2
    mdadm cryptsetup getent chroot sync e2label xfs_admin btrfs tune2fs
    fatlabel mtools mdir mdel mcopy mmd vmware-rpctool VBoxControl"
# The ones the initramfs has anyway (systemd, udev, kmod): run from there in
# sysusr mode too.
FLINT_INITRAMFS_TOOLS="mount umount blkid udevadm modprobe"

# called by dracut
check() {
    flint_mode >/dev/null || {
        derror "flint: FLINT_MODE=$FLINT_MODE: use sysusr or initramfs"
        return 1
    }
    if [[ $(flint_mode) == initramfs ]]; then
        flint_node >/dev/null || {
            derror "flint: no node binary (set FLINT_NODE or put node on PATH)"
            return 1
        }
        [[ -r $moddir/flint.js ]] || {
            derror "flint: $moddir/flint.js is missing; run dracut-module/install.sh"
            return 1
        }
    fi
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
    # Read-only /usr filesystems (the demo image's is squashfs).
    hostonly='' instmods squashfs erofs
}

# flint_require TOOL...: installs each, and stops the build naming the first
# one that is not on this machine (dracut itself only warns and goes on).
flint_require() {
    local tool
    for tool; do
        if ! find_binary "$tool" >/dev/null; then
            dfatal "flint: $tool is required but not installed on this machine (see .ci/debian-packages.txt)"
            exit 1
        fi
        inst_multiple "$tool" || {
            dfatal "flint: could not install $tool into the initramfs"
            exit 1
        }
    done
}

# called by dracut
install() {
    local mode unit tool
    mode=$(flint_mode)
    if [[ $mode == initramfs ]]; then
        inst_binary "$(flint_node)" /usr/bin/node
        inst_simple "$moddir/flint.js" /usr/lib/flint/flint.js
        # flint.js runs the CLI, flint-core.js, through the V8 code cache made at
        # build time (by the same node binary, or it is ignored: see agent/loader.ts).
        inst_simple "$moddir/flint-core.js" /usr/lib/flint/flint-core.js
        inst_simple "$moddir/flint-core.v8cache" /usr/lib/flint/flint-core.v8cache
        # Butane (YAML) configs only: flint.js loads it beside itself when it meets one.
        inst_simple "$moddir/flint-yaml.js" /usr/lib/flint/flint-yaml.js
        inst_simple "$moddir/flint-sysinfo.js" /usr/lib/flint/flint-sysinfo.js
        inst_script "$moddir/flint-wrapper.sh" /usr/bin/flint
        # shellcheck disable=SC2086 # word lists
        flint_require $FLINT_REQUIRED_TOOLS
        # shellcheck disable=SC2086
        inst_multiple -o $FLINT_OPTIONAL_TOOLS
        # mdel (quench without mounting the ESP) converts names through code page
        # 850, which glibc loads as a gconv module.
        if find_binary mdel >/dev/null; then
            inst_libdir_file "gconv/gconv-modules.cache" "gconv/IBM850.so"
        fi
    else
        # /usr/bin/flint runs the usr partition's Node and bundle; each tool
        # the stages call is a link to flint-sysusr-exec, which runs the usr
        # partition's program with that partition's own loader and libraries.
        inst_script "$moddir/flint-sysusr.sh" /usr/bin/flint
        inst_script "$moddir/flint-sysusr-exec.sh" /usr/lib/flint/flint-sysusr-exec
        # shellcheck disable=SC2086
        flint_require $FLINT_INITRAMFS_TOOLS
        mkdir -p "$initdir/usr/lib/flint/sysusr"
        # shellcheck disable=SC2086
        for tool in node $FLINT_REQUIRED_TOOLS $FLINT_OPTIONAL_TOOLS; do
            [[ " $(echo $FLINT_INITRAMFS_TOOLS) " == *" $tool "* ]] && continue
            ln -sfn ../flint-sysusr-exec "$initdir/usr/lib/flint/sysusr/$tool"
        done
        # What runs Node (the agent, so every stage; the check-ins) waits for the usr partition.
        for unit in flint-agent.service flint-checkin.service flint-checkin-failed.service; do
            inst_simple "$moddir/flint-agent-sysusr.conf" "$systemdsystemunitdir/$unit.d/10-flint-sysusr.conf"
        done
    fi
    # The stage units' ExecStart: a shell client of the one `flint agent`.
    inst_script "$moddir/flint-client.sh" /usr/lib/flint/flint-client
    inst_multiple mkfifo rm

    # The generator is a shell script: it runs on every boot, Node only on first boots.
    inst_multiple cat mkdir ln tr sh sleep
    inst_script "$moddir/flint-generator" "$systemdutildir/system-generators/flint-generator"

    # Every unit install.sh put here (no list of stages to keep in step:
    # flint-complete.target and the generator say which stages a boot runs).
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
